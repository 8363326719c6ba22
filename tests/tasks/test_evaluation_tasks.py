"""Evaluation jobs: on saving an entry, the relay for lost requests, and the nightly fan-out."""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Any

import pytest
import time_machine

import rehab.nightly
import rehab.tasks
from rehab.models import Alert, Delivery, Episode, EpisodeStatus, Prescription
from rehab.tasks import (
    evaluate_all_active,
    evaluate_episode_task,
    queue_evaluation,
    relay_evaluations,
)
from tests.conftest import Cast
from tests.courses import stalled_course
from tests.factories import EpisodeFactory, PatientFactory
from tests.tasks.helpers import DEAD_BROKER_URL, broker_at

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)
TODAY = NOW.date()


def _tipping_episode(cast: Cast, *, zone: str = "UTC", today: dt.date = TODAY) -> Episode:
    """Day 42 today, baseline 7, recent 6, every set done; only 3 entries in the last week, so
    the current pain is unknown until today's entry makes the week usable."""
    patient = PatientFactory(therapist=cast.therapist, timezone=zone)
    episode = EpisodeFactory(patient=patient, start_date=today - dt.timedelta(days=41))
    stalled_course(episode, days=[*range(1, 8), 39, 40, 41])
    return episode


def _put_today(api: Any, cast: Cast, episode: Episode) -> Any:
    prescription = Prescription.objects.get(episode=episode)
    return api(cast.therapist).put(
        f"/api/v1/episodes/{episode.pk}/entries/{TODAY.isoformat()}/",
        {
            "pain_activity": 6,
            "exercises": [{"prescription": prescription.pk, "sets_completed": 3}],
        },
        format="json",
    )


def _codes(episode: Episode) -> list[str]:
    return sorted(
        Alert.objects.filter(episode=episode)
        .exclude(status="resolved")
        .values_list("code", flat=True)
    )


def test_saving_an_entry_evaluates_the_episode_after_commit(
    cast: Cast, api, django_capture_on_commit_callbacks
) -> None:
    episode = _tipping_episode(cast)
    with time_machine.travel(NOW, tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            response = _put_today(api, cast, episode)
        assert response.status_code == 201, response.content

    assert _codes(episode) == ["REFERRAL_CONSIDER"]
    episode.refresh_from_db()
    assert episode.evaluation_requested_at is None


def test_evaluating_twice_raises_and_notifies_once(
    cast: Cast, django_capture_on_commit_callbacks
) -> None:
    episode = _tipping_episode(cast)
    stalled_course(episode, days=[42])
    with time_machine.travel(NOW, tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            evaluate_episode_task.delay(episode.pk, TODAY.isoformat())
        deliveries = Delivery.objects.count()
        assert deliveries > 0
        with django_capture_on_commit_callbacks(execute=True):
            evaluate_episode_task.delay(episode.pk, TODAY.isoformat())
    assert Alert.objects.filter(episode=episode, code="REFERRAL_CONSIDER").count() == 1
    assert Delivery.objects.count() == deliveries


def test_without_a_date_the_task_uses_the_patients_local_today(cast: Cast) -> None:
    # 12:00 UTC on the 10th is already the 11th in Auckland (UTC+13): day 42 there, day 41 in
    # UTC, and worked example 1 says only day 42 considers referral.
    auckland_today = TODAY + dt.timedelta(days=1)
    episode = _tipping_episode(cast, zone="Pacific/Auckland", today=auckland_today)
    stalled_course(episode, days=[36, 37, 38, 42])
    with time_machine.travel(NOW, tick=False):
        evaluate_episode_task.delay(episode.pk, (auckland_today - dt.timedelta(days=1)).isoformat())
        assert _codes(episode) == []
        evaluate_episode_task.delay(episode.pk)
    assert _codes(episode) == ["REFERRAL_CONSIDER"]
    assert Alert.objects.get(episode=episode).first_found_on == auckland_today


def test_a_deleted_episode_is_nothing_to_evaluate(cast: Cast) -> None:
    episode_id = cast.episode_a.pk
    cast.episode_a.delete()
    assert evaluate_episode_task.delay(episode_id).get() is None


def test_queue_evaluation_survives_an_unreachable_broker(
    cast: Cast, settings, caplog: pytest.LogCaptureFixture
) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = False
    with broker_at(DEAD_BROKER_URL), caplog.at_level(logging.WARNING, logger="rehab.tasks"):
        started = time.monotonic()
        assert queue_evaluation(cast.episode_a.pk) is None
        elapsed = time.monotonic() - started
    assert elapsed < 3, f"a phone's PUT would hang {elapsed:.1f} s"
    assert f"Could not queue the evaluation of episode {cast.episode_a.pk}" in caplog.text


def test_an_entry_saved_while_the_broker_is_down_is_evaluated_by_the_relay(
    cast: Cast, api, settings, django_capture_on_commit_callbacks
) -> None:
    episode = _tipping_episode(cast)
    settings.CELERY_TASK_ALWAYS_EAGER = False
    with (
        time_machine.travel(NOW, tick=False),
        broker_at(DEAD_BROKER_URL),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = _put_today(api, cast, episode)
    assert response.status_code == 201, response.content
    episode.refresh_from_db()
    assert episode.evaluation_requested_at == NOW
    assert _codes(episode) == []

    settings.CELERY_TASK_ALWAYS_EAGER = True  # the broker is back (and the test runs tasks inline)
    # Too early: the entry's own task may still be on its way.
    with time_machine.travel(NOW + dt.timedelta(seconds=30), tick=False):
        assert relay_evaluations.delay().get()["evaluated"] == 0
    assert _codes(episode) == []

    with (
        time_machine.travel(NOW + dt.timedelta(minutes=2), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert relay_evaluations.delay().get()["evaluated"] == 1
    assert _codes(episode) == ["REFERRAL_CONSIDER"]
    episode.refresh_from_db()
    assert episode.evaluation_requested_at is None
    # The therapist's email and the clinic's inbox (this clinic has no webhook endpoint).
    assert Delivery.objects.filter(alert__episode=episode).count() == 2

    # Once done, the next runs find nothing to do and notify nobody again.
    with time_machine.travel(NOW + dt.timedelta(minutes=3), tick=False):
        assert relay_evaluations.delay().get()["evaluated"] == 0
    assert Delivery.objects.filter(alert__episode=episode).count() == 2


def test_the_relay_takes_the_oldest_requests_first_in_bounded_batches(cast: Cast) -> None:
    episodes = [EpisodeFactory(patient=cast.patient_a) for _ in range(3)]
    for minutes, episode in zip((5, 9, 7), episodes, strict=True):
        Episode.objects.filter(pk=episode.pk).update(
            evaluation_requested_at=NOW - dt.timedelta(minutes=minutes)
        )
    from rehab.jobs import evaluation_relay

    with time_machine.travel(NOW, tick=False):
        first = evaluation_relay(limit=2)
    assert first.evaluated == 2
    waiting = list(
        Episode.objects.filter(evaluation_requested_at__isnull=False).values_list("pk", flat=True)
    )
    assert waiting == [episodes[0].pk]  # requested 5 minutes ago: the newest waits its turn


def test_nightly_fans_out_in_chunks_and_evaluates_every_active_episode_once(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    stalled = _tipping_episode(cast)
    stalled_course(stalled, days=[42])
    closed = EpisodeFactory(patient=cast.patient_b, status=EpisodeStatus.CLOSED)
    referred = EpisodeFactory(patient=cast.patient_b, status=EpisodeStatus.REFERRED)
    active = sorted(
        Episode.objects.filter(status=EpisodeStatus.ACTIVE).values_list("pk", flat=True)
    )
    assert len(active) == 4  # the cast's three and the stalled one

    chunks: list[list[int]] = []
    evaluated: list[tuple[int, dt.date]] = []
    real_chunk, real_bulk = rehab.tasks.evaluate_episodes, rehab.nightly.evaluate_episodes_bulk

    def spy_chunk(ids: list[int], as_of: dt.date | None) -> Any:
        chunks.append(list(ids))
        return real_chunk(ids, as_of)

    def spy_bulk(*, episode_ids: list[int], as_of: dt.date | None) -> Any:
        result = real_bulk(episode_ids=episode_ids, as_of=as_of)
        evaluated.extend(
            (outcome.episode_id, day) for outcome, day in result.outcomes if outcome.evaluated
        )
        return result

    monkeypatch.setattr(rehab.tasks, "NIGHTLY_CHUNK_SIZE", 3)
    monkeypatch.setattr(rehab.tasks, "evaluate_episodes", spy_chunk)
    monkeypatch.setattr(rehab.nightly, "evaluate_episodes_bulk", spy_bulk)

    with time_machine.travel(NOW.replace(hour=2), tick=False):
        assert evaluate_all_active.delay().get() == 2

    assert chunks == [active[:3], active[3:]]
    assert sorted(episode_id for episode_id, _ in evaluated) == active
    assert {as_of for _, as_of in evaluated} == {TODAY}  # every patient here lives in UTC
    assert closed.pk not in dict(evaluated) and referred.pk not in dict(evaluated)
    assert _codes(stalled) == ["REFERRAL_CONSIDER"]


def test_nightly_with_an_explicit_date_passes_it_to_every_chunk(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    dates: list[dt.date | None] = []
    real_chunk = rehab.tasks.evaluate_episodes

    def spy_chunk(ids: list[int], as_of: dt.date | None) -> Any:
        dates.append(as_of)
        return real_chunk(ids, as_of)

    monkeypatch.setattr(rehab.tasks, "NIGHTLY_CHUNK_SIZE", 1)
    monkeypatch.setattr(rehab.tasks, "evaluate_episodes", spy_chunk)

    assert evaluate_all_active.delay("2026-03-01").get() == 3
    assert dates == [dt.date(2026, 3, 1)] * 3
