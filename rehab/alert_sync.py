"""Reading the live alerts and writing the changes ``rehab.alert_diff`` decided, for many episodes.

One episode (after a saved entry) and a nightly chunk of 500 take the same path: one locking read
of the unresolved alerts, the pure diff per episode, then one statement per kind of change for
all of them (``write_alert_changes``) and the notifications of the raised and reopened high and
critical alerts as Delivery rows (an outbox ``rehab.notify`` sends after commit).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from django.db.models import Case, TextField, Value, When

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
_REOPENED_FIELDS = [*_REFRESHED_FIELDS, "status", "snoozed_until"]


def read_live_alerts(episode_ids: Sequence[int]) -> dict[int, dict[int, Alert]]:
    """The unresolved alerts of these episodes, locked: episode id -> {alert id: alert}.

    Only the columns the diff decides on (and the notifications read) are loaded; the text and
    JSON the writer overwrites need not be read, or parsed. The model's own order (newest
    first), the order the resolves are listed in.
    """
    live: dict[int, dict[int, Alert]] = defaultdict(dict)
    for alert in (
        Alert.objects.select_for_update()
        .filter(any_of("episode_id", episode_ids))
        .exclude(status=AlertStatus.RESOLVED)
        .only("pk", "episode_id", "code", "status", "snoozed_until", "last_found_on", "ruleset")
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
                )
                raised.append((alert, done))
                if change.notify:
                    notices.append((alert, "alert.raised", done))
            elif isinstance(change, alert_diff.Resolve):
                resolved[change.reason].append(change.alert_id)
                done.resolved.append(change.alert_id)
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
