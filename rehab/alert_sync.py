"""Reading the live alerts and writing the changes ``rehab.alert_diff`` decided, for many episodes.

One episode (after a saved entry) and a nightly chunk of 500 take the same path: one locking read
of the unresolved alerts, the pure diff per episode, then one statement per kind of change for
all of them (``write_alert_changes``) and the notifications of the raised and reopened high and
critical alerts as Delivery rows (an outbox ``rehab.notify`` sends after commit).

The alerts read are the unresolved ones and those resolved by hand that still hold back their
code (``suppressing``): the diff keeps or lifts those suppressions.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from django.db.models import Case, Q, TextField, Value, When

from rehab import alert_diff
from rehab.bulk import any_of, insert_rows, update_rows
from rehab.models import Alert, AlertStatus
from rehab.notify.outbox import alerts_notifications_write

_REFRESHED_FIELDS = [
    "severity",
    "message",
    "message_phrase",
    "evidence",
    "last_found_on",
    "updated_at",
]
# A reopened alert's escalation clock restarts at the end of its snooze (docs/alerts.md).
_REOPENED_FIELDS = [
    *_REFRESHED_FIELDS,
    "status",
    "snoozed_until",
    "escalated_at",
    "escalation_clock_from",
]


def read_live_alerts(episode_ids: Sequence[int]) -> dict[int, dict[int, Alert]]:
    """The unresolved and the suppressing alerts of these episodes, locked: episode id ->
    {alert id: alert}; ``diff_inputs`` tells them apart.

    Only the columns the diff decides on (and the notifications read) are loaded; the text and
    JSON the writer overwrites need not be read, or parsed. The model's own order (newest
    first), the order the resolves are listed in.
    """
    live: dict[int, dict[int, Alert]] = defaultdict(dict)
    for alert in (
        Alert.objects.select_for_update()
        .filter(any_of("episode_id", episode_ids))
        .filter(~Q(status=AlertStatus.RESOLVED) | Q(suppressing=True))
        .only(
            "pk",
            "episode_id",
            "code",
            "status",
            "snoozed_until",
            "last_found_on",
            "ruleset",
            "suppressing",
        )
    ):
        live[alert.episode_id][alert.pk] = alert
    return live


def live_alert(alert: Alert) -> alert_diff.LiveAlert:
    return alert_diff.LiveAlert(
        id=alert.pk,
        code=alert.code,
        status=alert.status,
        snoozed_until=alert.snoozed_until,
        last_found_on=alert.last_found_on,
    )


def diff_inputs(
    alerts: Iterable[Alert],
) -> tuple[list[alert_diff.LiveAlert], list[alert_diff.Suppression]]:
    """One episode's alerts from ``read_live_alerts`` as the diff's two inputs."""
    live: list[alert_diff.LiveAlert] = []
    suppressed: list[alert_diff.Suppression] = []
    for alert in alerts:
        if alert.status == AlertStatus.RESOLVED:
            suppressed.append(
                alert_diff.Suppression(
                    id=alert.pk, code=alert.code, last_found_on=alert.last_found_on
                )
            )
        else:
            live.append(live_alert(alert))
    return live, suppressed


@dataclass(frozen=True, slots=True)
class EpisodeChanges:
    """One episode's changes, with what a raised alert records beside the finding."""

    episode_id: int
    changes: Sequence[alert_diff.AlertChange]
    ruleset: str
    thresholds: Mapping[str, object]


@dataclass
class WrittenChanges:
    """The alert ids each kind of change touched, and the deliveries written."""

    raised: list[int] = field(default_factory=list)
    refreshed: list[int] = field(default_factory=list)
    reopened: list[int] = field(default_factory=list)
    resolved: list[int] = field(default_factory=list)
    # Codes held back by an alert resolved by hand while they still fired: kept, lifted.
    suppressed: list[int] = field(default_factory=list)
    lifted: list[int] = field(default_factory=list)
    deliveries: list[int] = field(default_factory=list)


def write_alert_changes(
    episodes: Sequence[EpisodeChanges], live: Mapping[int, Mapping[int, Alert]], now: dt.datetime
) -> dict[int, WrittenChanges]:
    """Write the changes of many episodes, a statement per kind of change for all of them.

    ``live`` is what ``read_live_alerts`` returned (the changes name its alerts by id).
    Notifications are written in the order of the changes: episode by episode, finding by
    finding, as one-by-one evaluation would write them.
    """
    written: dict[int, WrittenChanges] = {}
    raised: list[tuple[Alert, WrittenChanges]] = []
    refreshed: list[Alert] = []
    reopened: list[Alert] = []
    resolved: dict[str, list[int]] = defaultdict(list)  # reason -> alert ids
    kept_suppressed: list[Alert] = []
    lifted: list[int] = []
    notices: list[tuple[Alert, str, WrittenChanges]] = []
    for episode in episodes:
        done = written[episode.episode_id] = WrittenChanges()
        alerts = live.get(episode.episode_id, {})
        for change in episode.changes:
            if isinstance(change, alert_diff.Raise):
                alert = Alert(
                    episode_id=episode.episode_id,
                    code=change.code,
                    severity=change.severity,
                    message=change.message,
                    message_phrase=change.message_phrase,
                    evidence=change.evidence,
                    ruleset=episode.ruleset,
                    thresholds=dict(episode.thresholds),
                    first_found_on=change.found_on,
                    last_found_on=change.found_on,
                    created_at=now,
                    updated_at=now,
                    escalation_clock_from=now,
                )
                raised.append((alert, done))
                if change.notify:
                    notices.append((alert, "alert.raised", done))
            elif isinstance(change, alert_diff.Resolve):
                resolved[change.reason].append(change.alert_id)
                done.resolved.append(change.alert_id)
            elif isinstance(change, alert_diff.KeepSuppressed):
                alert = alerts[change.alert_id]
                alert.last_found_on = change.last_found_on
                kept_suppressed.append(alert)
                done.suppressed.append(alert.pk)
            elif isinstance(change, alert_diff.Lift):
                lifted.append(change.alert_id)
                done.lifted.append(change.alert_id)
            else:
                alert = alerts[change.alert_id]
                alert.severity = change.severity
                alert.message = change.message
                alert.message_phrase = change.message_phrase
                alert.evidence = change.evidence
                alert.last_found_on = change.last_found_on
                alert.updated_at = now
                if isinstance(change, alert_diff.Reopen):
                    alert.status = AlertStatus.OPEN
                    alert.snoozed_until = None
                    # Re-armed: escalated again if nobody acknowledges it in time.
                    alert.escalated_at = None
                    alert.escalation_clock_from = now
                    reopened.append(alert)
                    done.reopened.append(alert.pk)
                    if change.notify:
                        notices.append((alert, "alert.reopened", done))
                else:
                    refreshed.append(alert)
                    done.refreshed.append(alert.pk)

    if raised:
        # One INSERT ... RETURNING for all; the ids come back in order.
        insert_rows(Alert, [alert for alert, _ in raised])
        for alert, done in raised:
            done.raised.append(alert.pk)
    update_rows(Alert, refreshed, _REFRESHED_FIELDS)
    update_rows(Alert, reopened, _REOPENED_FIELDS)
    update_rows(Alert, kept_suppressed, ["last_found_on"])
    if lifted:
        Alert.objects.filter(any_of("pk", lifted)).update(suppressing=False)
    if resolved:
        # One statement; each alert gets its own reason (it names the date evaluated as of).
        Alert.objects.filter(any_of("pk", [pk for ids in resolved.values() for pk in ids])).update(
            status=AlertStatus.RESOLVED,
            resolved_at=now,
            resolution_reason=Case(
                *(When(pk__in=ids, then=Value(reason)) for reason, ids in resolved.items()),
                output_field=TextField(),
            ),
            updated_at=now,
        )
    if notices:
        deliveries = alerts_notifications_write([(alert, event) for alert, event, _ in notices])
        for (_, _, done), delivery_ids in zip(notices, deliveries, strict=True):
            done.deliveries += delivery_ids
    return written
