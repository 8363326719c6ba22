"""Sending one Delivery row: claim it, hand it to its channel, record the attempt, decide what next.

The claim is a conditional UPDATE (pending and due -> sending) that acts only if it changed exactly
one row, so two workers given the same id (a re-queued task, the relay, a redelivered message)
never both send it, and a delivered row is never sent again. A worker that dies mid-send leaves
the row "sending"; the relay hands it back after a lease (``PAIS_DELIVERY_LEASE_SECONDS``). The
receiver may then see the message twice, with the same ``webhook-id``: at-least-once delivery.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.audit import audit_record
from rehab.models import Delivery, DeliveryAttempt, DeliveryStatus, WebhookEndpoint
from rehab.notify.channels import channel_for
from rehab.notify.errors import DeliveryError, EndpointGone, PermanentError, TransientError
from rehab.notify.push import subscription_forget_gone

logger = logging.getLogger(__name__)

DELIVERED = "delivered"
RETRY = "retry"
FAILED = "failed"
DISABLED = "disabled"
SKIPPED = "skipped"

_random = secrets.SystemRandom()
_ERROR_LENGTH = 500  # Delivery.last_error and DeliveryAttempt.error


@dataclass(frozen=True)
class SendOutcome:
    delivery_id: int
    result: str  # delivered | retry | failed | disabled | skipped
    next_attempt_at: dt.datetime | None = None


def backoff_delay(attempt: int) -> dt.timedelta:
    """The wait after failed attempt number ``attempt`` (1-based): exponential, capped, jittered.

    base × 2^(attempt−1), at most the cap, then ±20% so that many deliveries failing together
    (a receiver's outage) do not all come back in the same second.
    """
    base = float(settings.PAIS_DELIVERY_BACKOFF_BASE_SECONDS)
    cap = float(settings.PAIS_DELIVERY_BACKOFF_MAX_SECONDS)
    delay = min(base * 2 ** max(attempt - 1, 0), cap)
    return dt.timedelta(seconds=min(delay * _random.uniform(0.8, 1.2), cap))


def retry_delay(attempt: int, retry_after: float | None) -> dt.timedelta:
    if retry_after is None:
        return backoff_delay(attempt)
    # The receiver said when to come back (429/503 Retry-After): do as asked, within our cap and
    # never in a tight loop.
    cap = float(settings.PAIS_DELIVERY_BACKOFF_MAX_SECONDS)
    return dt.timedelta(seconds=min(max(retry_after, 1.0), cap))


def claim(delivery_id: int, *, now: dt.datetime) -> bool:
    """Take the row for this worker; True only if this call changed it from pending to sending.

    The attempt is counted here, not after the send, so a row whose worker keeps dying while
    sending still runs out of attempts.
    """
    changed = Delivery.objects.filter(
        pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now
    ).update(status=DeliveryStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    return changed == 1


def send_delivery(delivery_id: int) -> SendOutcome:
    """Send one delivery if it is pending and due; otherwise do nothing (``skipped``)."""
    claimed_at = timezone.now()
    if not claim(delivery_id, now=claimed_at):
        return SendOutcome(delivery_id, SKIPPED)
    delivery = (
        Delivery.objects.select_related(
            "alert__episode__patient__user", "endpoint", "recipient", "push_subscription"
        )
        .filter(pk=delivery_id)
        .first()
    )
    if delivery is None:  # deleted with its endpoint or alert in the meantime
        return SendOutcome(delivery_id, SKIPPED)

    started = time.monotonic()
    error: DeliveryError | None = None
    status_code: int | None = None
    try:
        status_code = channel_for(delivery.channel).send(delivery)
    except DeliveryError as exc:
        error = exc
        status_code = exc.status_code
    except Exception as exc:
        # A bug or an unexpected library error must not lose the notification: retry it. The
        # attempt records only the exception's type, since its message could quote anything;
        # the log keeps the traceback for whoever fixes the bug.
        logger.exception("Delivery %s failed unexpectedly", delivery_id)
        error = TransientError(f"Unexpected error: {type(exc).__name__}.")
    duration_ms = int((time.monotonic() - started) * 1000)
    return _record(delivery, claimed_at, error, status_code, duration_ms)


def _record(
    delivery: Delivery,
    claimed_at: dt.datetime,
    error: DeliveryError | None,
    status_code: int | None,
    duration_ms: int,
) -> SendOutcome:
    now = timezone.now()
    message = str(error)[:_ERROR_LENGTH] if error is not None else ""
    next_attempt_at: dt.datetime | None = None
    max_attempts = int(settings.PAIS_DELIVERY_MAX_ATTEMPTS)
    changes: dict[str, object]
    if error is None:
        result = DELIVERED
        changes = {"status": DeliveryStatus.DELIVERED, "delivered_at": now, "last_error": ""}
    elif isinstance(error, EndpointGone):
        result = DISABLED
        changes = {"status": DeliveryStatus.FAILED, "last_error": message}
    elif isinstance(error, PermanentError):
        result = FAILED
        changes = {"status": DeliveryStatus.FAILED, "last_error": message}
    elif delivery.attempts >= max_attempts:
        result = FAILED
        message = f"Gave up after {delivery.attempts} attempts. {message}"[:_ERROR_LENGTH]
        changes = {"status": DeliveryStatus.FAILED, "last_error": message}
    else:
        assert isinstance(error, TransientError)
        result = RETRY
        next_attempt_at = now + retry_delay(delivery.attempts, error.retry_after)
        changes = {
            "status": DeliveryStatus.PENDING,
            "next_attempt_at": next_attempt_at,
            "last_error": message,
        }

    with transaction.atomic():
        # Locked, so that deleting the endpoint (and with it this row) waits for this record.
        locked = Delivery.objects.select_for_update().filter(pk=delivery.pk)
        if not list(locked.values_list("pk", flat=True)):
            return SendOutcome(delivery.pk, SKIPPED)
        DeliveryAttempt.objects.create(
            delivery=delivery,
            started_at=claimed_at,
            duration_ms=duration_ms,
            status_code=status_code,
            outcome=result,
            error=message,
        )
        # Only if the row is still ours: after a lease ran out the relay may have handed it to
        # another worker, whose result then stands.
        Delivery.objects.filter(
            pk=delivery.pk, status=DeliveryStatus.SENDING, claimed_at=claimed_at
        ).update(**changes)
        if result == DISABLED and delivery.endpoint is not None:
            endpoint_disable_gone(endpoint=delivery.endpoint, when=now)
        if result == DISABLED and delivery.push_subscription_id is not None:
            # Deletes this row and its attempts too: nothing is left to send to that device.
            subscription_forget_gone(subscription_id=delivery.push_subscription_id)
    return SendOutcome(delivery.pk, result, next_attempt_at)


def endpoint_disable_gone(*, endpoint: WebhookEndpoint, when: dt.datetime) -> None:
    """The receiver answered 410 Gone: stop sending there until an admin turns it back on."""
    changed = WebhookEndpoint.objects.filter(pk=endpoint.pk, is_active=True).update(
        is_active=False,
        disabled_reason=f"The endpoint answered 410 Gone on {when:%Y-%m-%d %H:%M} UTC.",
    )
    if changed:
        audit_record(
            actor=None, action="webhook.disabled_gone", obj=endpoint, clinic_id=endpoint.clinic_id
        )
