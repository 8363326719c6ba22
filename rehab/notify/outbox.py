"""The outbox: notifications are rows first, written in the transaction that causes them.

A Delivery row is one message to one recipient on one channel. It is created together with the
alert it announces, so a notification exists exactly when its alert does; after commit each row
is handed to the ``deliver`` task. If the broker is down at that moment, nothing is lost: the
periodic relay picks up rows that were never queued (``queued_at`` is empty) or whose claim
lapsed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import Role, User
from rehab.models import Alert, Channel, Delivery, WebhookEndpoint

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


def _email_recipients(alert: Alert, clinic_id: int) -> list[User]:
    """The treating therapist; the clinic's admins when the patient has none."""
    patient = alert.episode.patient
    if patient.therapist is not None and patient.therapist.is_active:
        return [patient.therapist]
    return list(User.objects.filter(clinic_id=clinic_id, role=Role.CLINIC_ADMIN, is_active=True))


def alert_notifications_write(*, alert: Alert, event_type: str) -> list[int]:
    """Write the Delivery rows that announce ``alert``: email, in-app inbox and webhooks.

    Must run inside the transaction that raised the alert; queues them after commit.
    """
    clinic_id = alert.episode.patient.user.clinic_id
    assert clinic_id is not None
    payload = webhook_payload(alert, event_type)
    rows = [
        Delivery(
            alert=alert,
            clinic_id=clinic_id,
            channel=Channel.EMAIL,
            event_type=event_type,
            recipient=user,
            payload=payload,
        )
        for user in _email_recipients(alert, clinic_id)
    ]
    rows.append(
        Delivery(
            alert=alert,
            clinic_id=clinic_id,
            channel=Channel.INBOX,
            event_type=event_type,
            payload=payload,
        )
    )
    rows += _webhook_rows(alert=alert, clinic_id=clinic_id, event_type=event_type, payload=payload)
    return deliveries_create(rows)


def escalation_notifications_write(*, alert: Alert, admins: Iterable[User]) -> list[int]:
    """A critical alert nobody acknowledged: email the clinic's admins, tell the webhooks.

    Must run inside the transaction that marks the alert escalated; queues them after commit.
    """
    clinic_id = alert.episode.patient.user.clinic_id
    assert clinic_id is not None
    event_type = "alert.escalated"
    payload = webhook_payload(alert, event_type)
    rows = [
        Delivery(
            alert=alert,
            clinic_id=clinic_id,
            channel=Channel.EMAIL,
            event_type=event_type,
            recipient=admin,
            payload=payload,
        )
        for admin in admins
    ]
    rows += _webhook_rows(alert=alert, clinic_id=clinic_id, event_type=event_type, payload=payload)
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


def _webhook_rows(
    *, alert: Alert, clinic_id: int, event_type: str, payload: dict[str, Any]
) -> list[Delivery]:
    return [
        Delivery(
            alert=alert,
            clinic_id=clinic_id,
            channel=Channel.WEBHOOK,
            event_type=event_type,
            endpoint=endpoint,
            payload=payload,
        )
        for endpoint in WebhookEndpoint.objects.filter(clinic_id=clinic_id, is_active=True)
    ]


def deliveries_create(rows: list[Delivery]) -> list[int]:
    if not rows:
        return []
    # One INSERT per row keeps primary keys available on every database (SQLite included).
    for row in rows:
        row.save()
    ids = [row.pk for row in rows]
    transaction.on_commit(lambda: enqueue_deliveries(ids))
    return ids


def enqueue_deliveries(delivery_ids: Iterable[int]) -> None:
    """Hand rows to the broker; a broker outage is logged and left to the relay."""
    from rehab.notify.relay import queue_deliveries

    queue_deliveries(delivery_ids)
