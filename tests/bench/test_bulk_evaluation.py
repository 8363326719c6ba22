"""The nightly job evaluates a chunk of episodes in bulk: the same alerts and notifications, to
the letter, as evaluating each episode on its own, and a number of queries that does not grow
with the chunk.

Each comparison runs the one-by-one evaluation inside a transaction that is rolled back, then the
bulk evaluation of the same episodes from the same state.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts.models import Patient
from rehab import nightly
from rehab.alert_diff import AlertRecord, Raise, Reopen, apply_changes, diff_alerts
from rehab.evaluation import episode_progress, evaluate_episode, evaluate_episodes_bulk
from rehab.models import (
    Alert,
    AlertStatus,
    Delivery,
    Episode,
    EpisodeStatus,
)
from tests.bench import world
from tests.bench.world import AS_OF, NEAR_MIDNIGHT

pytestmark = pytest.mark.django_db


def _state() -> dict[str, Any]:
    """Every alert and delivery, without ids and clocks (they differ between two runs)."""
    alerts = sorted(
        (
            a.episode_id,
            a.code,
            a.severity,
            a.status,
            a.message,
            json.dumps(a.evidence, sort_keys=True),
            a.ruleset,
            json.dumps(a.thresholds, sort_keys=True),
            a.first_found_on,
            a.last_found_on,
            a.snoozed_until,
            a.resolution_reason,
            a.resolved_at is not None,
        )
        for a in Alert.objects.all()
    )
    deliveries = []
    for d in Delivery.objects.select_related("alert"):
        payload = json.loads(json.dumps(d.payload))
        payload.pop("timestamp")
        payload["data"]["alert"].pop("id")
        deliveries.append(
            (
                d.alert.episode_id,
                d.alert.code,
                d.channel,
                d.event_type,
                d.recipient_id,
                d.endpoint_id,
                d.status,
                json.dumps(payload, sort_keys=True),
            )
        )
    requested = sorted(
        Episode.objects.filter(evaluation_requested_at__isnull=False).values_list("pk", flat=True)
    )
    return {"alerts": alerts, "deliveries": sorted(deliveries), "requested": requested}


def _comparable(episode_id: int, alert: Alert | AlertRecord) -> tuple[Any, ...]:
    return (
        episode_id,
        alert.code,
        alert.severity,
        alert.status,
        alert.message,
        json.dumps(alert.evidence, sort_keys=True),
        alert.first_found_on,
        alert.last_found_on,
        alert.snoozed_until,
        alert.resolution_reason,
    )


def _record(alert: Alert) -> AlertRecord:
    return AlertRecord(
        id=alert.pk,
        code=alert.code,
        severity=alert.severity,
        status=alert.status,
        message=alert.message,
        evidence=alert.evidence,
        first_found_on=alert.first_found_on,
        last_found_on=alert.last_found_on,
        snoozed_until=alert.snoozed_until,
        resolution_reason=alert.resolution_reason,
    )


def _pure_diff_oracle(ids: list[int], as_of: dt.date | None) -> tuple[list[Any], set[Any]]:
    """What the pure diff says an evaluation of these episodes leaves: every alert, and the
    (episode, code, event) of every notification it sends.

    Independent of the writer and of the bulk reader: each active episode's findings come from
    ``episode_progress`` (one episode's own read), its alerts from the ORM, and the changes are
    applied on plain values (``rehab.alert_diff.apply_changes``).
    """
    alerts: list[Any] = []
    notified: set[Any] = set()
    for episode in Episode.objects.filter(pk__in=ids).select_related("patient__user"):
        records = [_record(a) for a in Alert.objects.filter(episode=episode).order_by("pk")]
        if episode.status == EpisodeStatus.ACTIVE:
            day = as_of or Patient(timezone=episode.patient.timezone).local_today()
            findings = episode_progress(episode=episode, as_of=day).findings
            # As stored: the evidence goes through JSON.
            changes = diff_alerts(
                live=[r.live() for r in records if r.status != AlertStatus.RESOLVED],
                findings=[
                    dataclasses.replace(f, evidence=json.loads(json.dumps(f.evidence)))
                    for f in findings
                ],
                as_of=day,
            )
            code_of = {r.id: r.code for r in records}
            notified |= {
                (episode.pk, c.code, "alert.raised")
                for c in changes
                if isinstance(c, Raise) and c.notify
            }
            notified |= {
                (episode.pk, code_of[c.alert_id], "alert.reopened")
                for c in changes
                if isinstance(c, Reopen) and c.notify
            }
            records = apply_changes(records, changes)
        alerts += [_comparable(episode.pk, r) for r in records]
    return sorted(alerts), notified


def _check_against_the_pure_diff(
    expected: tuple[list[Any], set[Any]], deliveries_before: set[int]
) -> None:
    alerts, notified = expected
    assert sorted(_comparable(a.episode_id, a) for a in Alert.objects.all()) == alerts
    sent = {
        (d.alert.episode_id, d.alert.code, d.event_type)
        for d in Delivery.objects.exclude(pk__in=deliveries_before).select_related("alert")
    }
    # Every notification sent is one the diff asked for (an alert with nobody to tell sends
    # none), and the diff's are sent where anyone is there to receive them.
    assert sent <= notified
    assert sent, "the world should notify someone"


def _one_by_one(ids: list[int], as_of: dt.date | None) -> tuple[dict[str, Any], list[Any]]:
    """Evaluate each episode in its own call, note the result, and undo it all."""
    with transaction.atomic():
        outcomes = []
        for episode in Episode.objects.filter(pk__in=ids).select_related("patient"):
            day = as_of or Patient(timezone=episode.patient.timezone).local_today()
            outcome = evaluate_episode(episode_id=episode.pk, as_of=day)
            outcomes.append((episode.pk, day if outcome.evaluated else None, _counts(outcome)))
        state = _state()
        transaction.set_rollback(True)
    return state, sorted(outcomes)


def _bulk(ids: list[int], as_of: dt.date | None) -> tuple[dict[str, Any], list[Any]]:
    result = evaluate_episodes_bulk(episode_ids=ids, as_of=as_of)
    outcomes = [(outcome.episode_id, day, _counts(outcome)) for outcome, day in result.outcomes]
    return _state(), sorted(outcomes)


def _counts(outcome: Any) -> tuple[Any, ...]:
    return (
        outcome.evaluated,
        outcome.recommendation,
        len(outcome.raised),
        len(outcome.updated),
        len(outcome.reopened),
        len(outcome.resolved),
        len(outcome.deliveries),
    )


def test_bulk_and_one_by_one_evaluation_write_the_same_alerts_and_notifications(time_machine):
    time_machine.move_to(NEAR_MIDNIGHT, tick=False)
    w = world.build(42, as_of=AS_OF)
    ids = [*w.ids, 987654321]  # and one that does not exist

    # Night 1, explicit date: every alert new.
    expected, expected_outcomes = _one_by_one(ids, AS_OF)
    oracle = _pure_diff_oracle(ids, AS_OF)
    before = set(Delivery.objects.values_list("pk", flat=True))
    got, got_outcomes = _bulk(ids, AS_OF)
    assert got == expected
    assert got_outcomes == expected_outcomes
    _check_against_the_pure_diff(oracle, before)
    codes = {alert[1] for alert in got["alerts"]}
    channels = {delivery[2] for delivery in got["deliveries"]}
    assert {"REFERRAL_CONSIDER", "LOGGING_GAP", "IMMOBILIZATION_PROLONGED"} <= codes
    assert channels == {"email", "inbox", "webhook"}

    # The alerts agree with what the rules say about each episode, read one by one.
    for episode in Episode.objects.filter(pk__in=w.ids, status=EpisodeStatus.ACTIVE):
        found = {
            f.code for f in episode_progress(episode=episode, as_of=AS_OF).findings if f.is_alert
        }
        live = set(
            Alert.objects.filter(episode=episode)
            .exclude(status=AlertStatus.RESOLVED)
            .values_list("code", flat=True)
        )
        assert live == found, episode.pk

    # Night 2, as of each patient's own today: updates, reopens, auto-resolves, new alerts.
    world.touch_between_nights(w)
    expected, expected_outcomes = _one_by_one(ids, None)
    oracle = _pure_diff_oracle(ids, None)
    before = set(Delivery.objects.values_list("pk", flat=True))
    got, got_outcomes = _bulk(ids, None)
    assert got == expected
    assert got_outcomes == expected_outcomes
    _check_against_the_pure_diff(oracle, before)
    days = {day for _, day, _ in got_outcomes if day is not None}
    assert days == {AS_OF, AS_OF + dt.timedelta(days=1)}  # zones on both sides of midnight
    statuses = {alert[3] for alert in got["alerts"]}
    assert statuses >= {"open", "snoozed", "acknowledged", "resolved"}
    assert any(delivery[3] == "alert.reopened" for delivery in got["deliveries"])
    # Requests seen by the evaluation are cleared, in both ways of evaluating.
    assert got["requested"] == []


def test_the_nightly_loop_takes_the_bulk_path_and_falls_back_one_by_one(
    time_machine, caplog, monkeypatch
):
    time_machine.move_to(NEAR_MIDNIGHT, tick=False)
    w = world.build(12, as_of=AS_OF)
    with CaptureQueriesContext(connection) as bulk_queries:
        summary = nightly.evaluate_episodes(w.ids, AS_OF)
    assert summary.failed == [] and summary.evaluated + summary.skipped == 12
    assert summary.raised > 0
    assert len(bulk_queries) <= 20  # a chunk's worth, not an episode's worth each
    bulk_state = _state()

    # If the chunk's transaction fails, none of it stays, and its episodes are evaluated again
    # one by one: the same result in the end.
    Alert.objects.all().delete()
    Delivery.objects.all().delete()
    real = nightly.evaluate_episodes_bulk
    chunks: list[int] = []

    def fails_after_writing(*, episode_ids: list[int], as_of: dt.date | None) -> Any:
        chunks.append(len(episode_ids))
        with transaction.atomic():
            real(episode_ids=episode_ids, as_of=as_of)
            raise RuntimeError("connection lost")

    monkeypatch.setattr(nightly, "evaluate_episodes_bulk", fails_after_writing)
    again = nightly.evaluate_episodes(w.ids, AS_OF)
    assert "evaluating them one by one" in caplog.text
    assert chunks == [12]
    assert (again.evaluated, again.skipped, again.raised, again.failed) == (
        summary.evaluated,
        summary.skipped,
        summary.raised,
        [],
    )
    assert _state() == bulk_state
