"""Set-up helpers for the notification tests: alerts, endpoints, signatures.

The episode that tips over (``referral_course``) lives in ``tests/courses.py``."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import Clinic
from rehab.models import Alert, Delivery, Episode, WebhookEndpoint
from rehab.notify.outbox import alert_notifications_write, webhook_payload
from tests.courses import day

# The spec's worked example 1 (tests/courses.py, referral_course): day 42 is 2026-02-15.
DAY_42 = day(42)
SECRET = "whsec_" + base64.b64encode(b"0123456789abcdefghijklmn").decode()


def make_alert(episode: Episode, **fields: Any) -> Alert:
    values: dict[str, Any] = {
        "code": "REFERRAL_CONSIDER",
        "severity": "high",
        "message": "Pain 7.0 -> 6.0 after 42 days; consider referral.",
        "evidence": {"pain_baseline": 7.0, "pain_current": 6.0, "adherence_pct": 100.0},
        "ruleset": "pais-2026.1",
        "first_found_on": DAY_42,
        "last_found_on": DAY_42,
        "note": "Patient mentioned a private matter",
    }
    values.update(fields)
    return Alert.objects.create(episode=episode, **values)


def make_endpoint(clinic: Clinic, url: str, **fields: Any) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(
        clinic=clinic, url=url, secret=fields.pop("secret", SECRET), **fields
    )


def notify(alert: Alert, event_type: str = "alert.raised") -> list[Delivery]:
    """Write the alert's deliveries as the evaluation would (queued only after commit)."""
    with transaction.atomic():
        ids = alert_notifications_write(alert=alert, event_type=event_type)
    return list(Delivery.objects.filter(pk__in=ids).order_by("pk"))


def webhook_delivery(alert: Alert, endpoint: WebhookEndpoint) -> Delivery:
    """One webhook row, as the outbox writes it, and no email or inbox rows beside it."""
    return Delivery.objects.create(
        alert=alert,
        clinic_id=endpoint.clinic_id,
        channel="webhook",
        event_type="alert.raised",
        endpoint=endpoint,
        payload=webhook_payload(alert, "alert.raised"),
    )


def verify_signature(*, secret: str, headers: dict[str, str], body: bytes) -> bool:
    """An independent Standard Webhooks check, written from the spec, as a receiver would."""
    key = base64.b64decode(secret.split("_", 1)[1])
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    offered = [s.split(",", 1)[1] for s in headers["webhook-signature"].split() if "," in s]
    return any(hmac.compare_digest(expected, sig) for sig in offered)


def reload(delivery: Delivery) -> Delivery:
    return Delivery.objects.get(pk=delivery.pk)


def now() -> dt.datetime:
    return timezone.now()
