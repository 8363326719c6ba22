"""Handing Delivery rows to the broker, and the periodic relay that makes sure none is forgotten.

The broker is only a way to get a row sent soon; the row itself is what guarantees it is sent.
``relay_deliveries`` runs every minute or so (Celery beat) and queues:

- pending rows that are due and were never queued (the broker was down after commit) or whose
  message has had a lease's time to run and evidently did not (a lost message, a retry whose
  wait was too long to leave to the broker);
- rows stuck in "sending" past the lease (their worker was killed mid-send), after putting them
  back to pending.

Queuing a row twice is harmless: the sender's claim lets only one task send it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from rehab.models import Delivery, DeliveryAttempt, DeliveryStatus

logger = logging.getLogger(__name__)


def lease() -> dt.timedelta:
    return dt.timedelta(seconds=int(settings.PAIS_DELIVERY_LEASE_SECONDS))


def queue_delivery(delivery_id: int, *, eta: dt.datetime | None = None) -> bool:
    """Queue the ``deliver`` task for a row; False (and logged) if the broker refused it.

    A wait longer than the lease is not given to the broker at all: Redis would redeliver such a
    long-delayed message after its visibility timeout anyway, and the relay picks the row up as
    soon as it is due (its ``queued_at`` is cleared so the relay does not wait a lease more).
    """
    from rehab.notify.tasks import deliver

    now = timezone.now()
    if eta is not None and eta - now > lease():
        Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING).update(
            queued_at=None
        )
        return True
    try:
        if eta is None:
            deliver.delay(delivery_id)
        else:
            deliver.apply_async((delivery_id,), eta=eta)
    except Exception:  # the broker is down: the row stays for the relay
        logger.warning("Could not queue delivery %s; the relay will retry", delivery_id)
        return False
    Delivery.objects.filter(pk=delivery_id).update(queued_at=now)
    return True


# Rows per ``deliver_batch`` message. Small, so one slow receiver delays few others, and a batch
# of them all timing out (10 s each) still ends inside the task's time limit.
BATCH_SIZE = 10


def queue_deliveries(delivery_ids: Iterable[int]) -> int:
    """Queue many rows at once: one message per batch of rows (a single row goes as itself),
    then one UPDATE for every row the broker took. A night that raises thousands of alerts must
    pay neither a message nor a commit per row."""
    from rehab.notify.tasks import deliver, deliver_batch

    now = timezone.now()
    ids = list(delivery_ids)
    queued: list[int] = []
    for start in range(0, len(ids), BATCH_SIZE):
        batch = ids[start : start + BATCH_SIZE]
        try:
            if len(batch) == 1:
                deliver.delay(batch[0])
            else:
                deliver_batch.delay(batch)
        except Exception:  # the broker is down: the rows stay for the relay
            logger.warning("Could not queue deliveries %s; the relay will retry", batch)
            continue
        queued += batch
    if queued:
        Delivery.objects.filter(pk__in=queued).update(queued_at=now)
    return len(queued)


@dataclass(frozen=True)
class RelayOutcome:
    reclaimed: int
    queued: int


def reclaim_stuck(*, now: dt.datetime, limit: int) -> list[int]:
    """Put rows whose worker died mid-send back to pending, recording the lost attempt."""
    stale = now - lease()
    reclaimed: list[int] = []
    candidates = list(
        Delivery.objects.filter(status=DeliveryStatus.SENDING, claimed_at__lt=stale)
        .order_by("claimed_at", "pk")
        .values_list("pk", "claimed_at")[:limit]
    )
    max_attempts = int(settings.PAIS_DELIVERY_MAX_ATTEMPTS)
    for delivery_id, claimed_at in candidates:
        assert claimed_at is not None  # filtered on claimed_at__lt
        with transaction.atomic():
            # Conditional on the claim we saw: a worker that finishes right now keeps its result.
            row = Delivery.objects.filter(
                pk=delivery_id, status=DeliveryStatus.SENDING, claimed_at=claimed_at
            )
            error = "The worker stopped while sending; taken back after the lease ran out."
            spent = row.filter(attempts__gte=max_attempts).update(
                status=DeliveryStatus.FAILED,
                last_error=f"Gave up after {max_attempts} attempts. {error}",
            )
            if not spent and not row.update(
                status=DeliveryStatus.PENDING,
                next_attempt_at=now,
                queued_at=None,
                last_error=error,
            ):
                continue
            DeliveryAttempt.objects.create(
                delivery_id=delivery_id,
                started_at=claimed_at,
                duration_ms=int((now - claimed_at).total_seconds() * 1000),
                outcome="failed" if spent else "retry",
                error=error,
            )
            if not spent:
                reclaimed.append(delivery_id)
    return reclaimed


def relay_deliveries(*, batch: int | None = None) -> RelayOutcome:
    now = timezone.now()
    limit = int(batch if batch is not None else settings.PAIS_DELIVERY_RELAY_BATCH)
    reclaimed = reclaim_stuck(now=now, limit=limit)
    due = list(
        Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        .filter(Q(queued_at__isnull=True) | Q(queued_at__lt=now - lease()))
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    queued = queue_deliveries(due)
    if reclaimed or due:
        logger.info(
            "Delivery relay: %s reclaimed, %s of %s due rows queued",
            len(reclaimed),
            queued,
            len(due),
        )
    return RelayOutcome(reclaimed=len(reclaimed), queued=queued)
