"""The outbox: notifications are rows first, written in the transaction that causes them.

A Delivery row is one message to one recipient on one channel. It is created together with the
alert it announces, so a notification exists exactly when its alert does; after commit each row
is handed to the ``deliver`` task. If the broker is down at that moment, nothing is lost: the
periodic relay picks up rows that were never queued (``queued_at`` is empty) or whose claim
lapsed.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import Role, User
from accounts.scoping import cover_today
from accounts.staff_selectors import covering_therapists
from rehab.models import Alert, Channel, Delivery, Episode, WebhookEndpoint

logger = logging.getLogger(__name__)


def alert_link(alert: Alert) -> str:
    return f"{settings.SITE_URL}/episodes/{alert.episode_id}/"


def webhook_payload(alert: Alert, event_type: str) -> dict[str, Any]:
    """What a clinic's webhook receives: references and a link, never health values or names."""
    episode = alert.episode
    return {
        "type": event_type,
        "timestamp": timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "data": {
            "alert": {
                "id": alert.pk,
                "code": alert.code,
                "severity": alert.severity,
                "status": alert.status,
                "ruleset": alert.ruleset,
            },
            "episode": {"id": episode.pk},
            "patient": {"id": episode.patient_id},
            "clinic": {"id": episode.patient.user.clinic_id},
            "url": alert_link(alert),
        },
    }


def alert_notifications_write(*, alert: Alert, event_type: str) -> list[int]:
    """Write the Delivery rows that announce ``alert``: email, in-app inbox and webhooks.

    Must run inside the transaction that raised the alert; queues them after commit.
    """
    return alerts_notifications_write([(alert, event_type)])[0]


def alerts_notifications_write(notices: Sequence[tuple[Alert, str]]) -> list[list[int]]:
    """``alert_notifications_write`` for many alerts at once (the nightly evaluation's chunks).

    Five queries whatever the number of alerts: their episodes with patient and therapist, the
    clinics' admins, the clinics' webhooks, the covers in force, one INSERT of every row.
    Returns each notice's delivery ids, in the order of ``notices``; the rows are queued after
    commit, once.
    """
    if not notices:
        return []
    episodes = Episode.objects.select_related("patient__user", "patient__therapist").in_bulk(
        {alert.episode_id for alert, _ in notices}
    )
    for alert, _ in notices:
        alert.episode = episodes[alert.episode_id]
    clinics = {_clinic_id(alert) for alert, _ in notices}
    admins: dict[int, list[User]] = defaultdict(list)
    without_therapist = {
        _clinic_id(alert) for alert, _ in notices if not _has_active_therapist(alert)
    }
    if without_therapist:
        for admin in User.objects.filter(
            clinic_id__in=without_therapist, role=Role.CLINIC_ADMIN, is_active=True
        ):
            admins[admin.clinic_id].append(admin)  # type: ignore[index]
    endpoints: dict[int, list[WebhookEndpoint]] = defaultdict(list)
    for endpoint in WebhookEndpoint.objects.filter(clinic_id__in=clinics, is_active=True):
        endpoints[endpoint.clinic_id].append(endpoint)
    # Whoever covers an absent treating therapist today gets the email too (accounts.Cover).
    covers = covering_therapists(
        {t.pk for alert, _ in notices if (t := alert.episode.patient.therapist) is not None},
        on=cover_today(),
    )

    rows: list[Delivery] = []
    counts: list[int] = []
    for alert, event_type in notices:
        clinic_id = _clinic_id(alert)
        therapist = alert.episode.patient.therapist
        recipients = (
            [therapist]
            if therapist is not None and therapist.is_active
            else admins.get(clinic_id, [])
        )
        if therapist is not None:
            recipients = recipients + covers.get(therapist.pk, [])
        alert_rows = _alert_rows(
            alert,
            clinic_id=clinic_id,
            event_type=event_type,
            emails=recipients,
            inbox=True,
            endpoints=endpoints.get(clinic_id, []),
        )
        rows += alert_rows
        counts.append(len(alert_rows))
    ids = deliveries_create(rows)
    written: list[list[int]] = []
    start = 0
    for n in counts:
        written.append(ids[start : start + n])
        start += n
    return written


def _clinic_id(alert: Alert) -> int:
    clinic_id = alert.episode.patient.user.clinic_id
    assert clinic_id is not None
    return clinic_id


def _has_active_therapist(alert: Alert) -> bool:
    therapist = alert.episode.patient.therapist
    return therapist is not None and therapist.is_active


def escalation_notifications_write(*, alert: Alert, admins: Iterable[User]) -> list[int]:
    """A critical alert nobody acknowledged: email the clinic's admins, tell the webhooks.

    Must run inside the transaction that marks the alert escalated; queues them after commit.
    """
    clinic_id = _clinic_id(alert)
    rows = _alert_rows(
        alert,
        clinic_id=clinic_id,
        event_type="alert.escalated",
        emails=admins,
        inbox=False,
        endpoints=WebhookEndpoint.objects.filter(clinic_id=clinic_id, is_active=True),
    )
    return deliveries_create(rows)


def webhook_test_write(*, endpoint: WebhookEndpoint) -> int:
    """A "webhook.test" event for one endpoint, through the same outbox as real alerts."""
    payload = {
        "type": "webhook.test",
        "timestamp": timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "data": {
            "clinic": {"id": endpoint.clinic_id},
            "endpoint": {"id": endpoint.pk},
            "url": f"{settings.SITE_URL}/settings/webhooks/{endpoint.pk}/",
        },
    }
    (delivery_id,) = deliveries_create(
        [
            Delivery(
                clinic_id=endpoint.clinic_id,
                channel=Channel.WEBHOOK,
                event_type="webhook.test",
                endpoint=endpoint,
                payload=payload,
            )
        ]
    )
    return delivery_id


def _alert_rows(
    alert: Alert,
    *,
    clinic_id: int,
    event_type: str,
    emails: Iterable[User],
    inbox: bool,
    endpoints: Iterable[WebhookEndpoint],
) -> list[Delivery]:
    """The Delivery rows of one alert event, in the order they are sent: the emails, the clinic's
    inbox, then each webhook; all carry the same payload."""
    payload = webhook_payload(alert, event_type)
    common = {"alert": alert, "clinic_id": clinic_id, "event_type": event_type, "payload": payload}
    rows = [Delivery(channel=Channel.EMAIL, recipient=user, **common) for user in emails]
    if inbox:
        rows.append(Delivery(channel=Channel.INBOX, **common))
    rows += [Delivery(channel=Channel.WEBHOOK, endpoint=e, **common) for e in endpoints]
    return rows


def deliveries_create(rows: list[Delivery]) -> list[int]:
    if not rows:
        return []
    # One INSERT for all rows; PostgreSQL and SQLite (3.35+) return the primary keys in order.
    Delivery.objects.bulk_create(rows)
    ids = [row.pk for row in rows]
    transaction.on_commit(lambda: enqueue_deliveries(ids))
    return ids


def enqueue_deliveries(delivery_ids: Iterable[int]) -> None:
    """Hand rows to the broker; a broker outage is logged and left to the relay."""
    from rehab.notify.relay import queue_deliveries

    queue_deliveries(delivery_ids)
