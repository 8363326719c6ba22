"""Fault: the worker is killed (SIGKILL) while it is sending a webhook.

The receiver holds the request open, so the worker is inside the send when it dies. What
"exactly once" means here, precisely: the Delivery row ends ``delivered`` with exactly one
attempt whose outcome is ``delivered`` (a 2xx answer that the app recorded); the receiver sees
the killed worker's request too (it arrived, but was never answered, because nobody was left
to read the answer), with the same ``webhook-id``, so a receiver that de-duplicates on it acts
once. That second request is the price of at-least-once delivery, and the figure is printed.

Two ways to die:

- the whole worker (main process and pool children) is killed and another one started: the
  message stays unacknowledged in Redis until the visibility timeout (an hour), so it is the
  relay that takes the row back once the lease (``PAIS_DELIVERY_LEASE_SECONDS``, 3 s here) is
  over, and queues it again;
- only the pool child doing the send is killed (the kernel's OOM killer): the worker's main
  process notices, and ``acks_late`` + ``task_reject_on_worker_lost`` put the message back on the
  queue at once; the redelivered task finds the row still "sending" and leaves it (no second
  send while the first might still be running), and the relay completes it after the lease.
"""

from __future__ import annotations

import os
import signal
import time
import uuid

import pytest

from rehab.models import Channel, Delivery, DeliveryStatus
from rehab.notify.endpoints import webhook_endpoint_create
from rehab.notify.tasks import deliver, relay_deliveries
from tests.factories import ClinicAdminFactory, ClinicFactory, TherapistFactory
from tests.integration.helpers import (
    Celery,
    Receiver,
    RedisServer,
    Reply,
    Worker,
    pid_alive,
    put_entry,
    referral_alerts,
    tipping_course,
    verify_standard_webhook,
    wait_for,
)

pytestmark = pytest.mark.broker

LEASE_SECONDS = 3
WORKER_ENV = {
    "PAIS_DELIVERY_LEASE_SECONDS": str(LEASE_SECONDS),
    # Longer than the test: the send only ends when the worker dies.
    "PAIS_WEBHOOK_TIMEOUT_SECONDS": "120",
}


def _hanging_webhook(receiver: Receiver, worker: Worker) -> tuple[Delivery, str]:
    """A tipping entry whose webhook request the receiver holds open; returns the row (now
    "sending") and the endpoint's secret."""
    clinic = ClinicFactory(name="Faults Physio", slug=f"faults-{uuid.uuid4().hex[:8]}")
    admin = ClinicAdminFactory(email="admin@faults.test", clinic=clinic)
    therapist = TherapistFactory(email="therapist@faults.test", clinic=clinic)
    secret = webhook_endpoint_create(actor=admin, url=receiver.url).secret
    course = tipping_course(therapist, "killed@faults.test")
    receiver.answer(Reply(hang=True))
    assert put_entry(course).status_code == 201

    def inside_the_send() -> bool:
        return (
            len(receiver.snapshot()) == 1
            and Delivery.objects.filter(
                channel=Channel.WEBHOOK, status=DeliveryStatus.SENDING
            ).exists()
        )

    wait_for("the worker to be inside the webhook send", inside_the_send, workers=[worker])
    (alert,) = referral_alerts(course)
    return Delivery.objects.get(channel=Channel.WEBHOOK, alert=alert), secret


def _assert_delivered_once(
    receiver: Receiver, row: Delivery, secret: str, killed_at: float
) -> tuple[int, int]:
    """The row is delivered by exactly one recorded 2xx; returns (receiver requests, answered)."""
    row.refresh_from_db()
    assert row.status == DeliveryStatus.DELIVERED
    attempts = list(row.attempt_log.order_by("started_at", "pk"))
    assert [a.outcome for a in attempts] == ["retry", "delivered"], attempts
    lost, sent = attempts
    assert "worker stopped while sending" in lost.error
    assert lost.status_code is None
    # Taken back only after the lease: never from a worker that might still be sending.
    assert lost.duration_ms >= LEASE_SECONDS * 1000
    assert sent.status_code == 204
    assert row.attempts == 2

    requests = receiver.snapshot()
    assert len(requests) == 2
    first, second = requests
    assert first.webhook_id == second.webhook_id  # the receiver can tell it is one message
    assert first.reply.hang and not first.answered
    assert second.answered and second.at > killed_at
    assert verify_standard_webhook(first, secret) == verify_standard_webhook(second, secret)
    return len(requests), sum(1 for r in requests if r.answered)


def _nothing_more_is_sent(receiver: Receiver, worker: Worker, row: Delivery) -> None:
    """The tasks once more (a late redelivery, the next relay): no further request."""
    for result in (deliver.delay(row.pk), relay_deliveries.delay()):
        worker.wait_done(result.id)
    time.sleep(0.5)
    assert len(receiver.snapshot()) == 2
    row.refresh_from_db()
    assert row.attempts == 2 and row.attempt_log.count() == 2


def test_a_worker_killed_mid_delivery_delivers_once_after_restart(
    on_own_redis: RedisServer, receiver: Receiver, celery: Celery
) -> None:
    first = celery.worker(on_own_redis.url, name="worker-1", env=WORKER_ENV)
    row, secret = _hanging_webhook(receiver, first)

    processes = [first.process.pid, *first.pool_pids()]
    assert len(processes) == 3  # the main process and its two pool children
    killed_at = time.time()
    first.kill()
    # SIGKILL reaches every process of the group; the children take a moment to be gone.
    wait_for(
        "the worker's processes to die",
        lambda: not any(pid_alive(pid) for pid in processes),
        seconds=5,
    )
    row.refresh_from_db()
    assert row.status == DeliveryStatus.SENDING  # nobody finished it

    second = celery.worker(on_own_redis.url, name="worker-2", env=WORKER_ENV)
    restarted_at = time.time()
    # Beat queues the relay every minute; here every second.
    waited = wait_for(
        "the delivery to complete after the restart",
        lambda: Delivery.objects.filter(pk=row.pk, status=DeliveryStatus.DELIVERED).exists(),
        workers=[second],
        every=lambda: relay_deliveries.delay(),
    )
    received, answered = _assert_delivered_once(receiver, row, secret, killed_at)
    _nothing_more_is_sent(receiver, second, row)
    row.refresh_from_db()
    assert row.delivered_at is not None
    delivered_after = row.delivered_at.timestamp() - killed_at
    print(
        f"\nFAULT worker-killed: SIGKILL of the worker ({len(processes)} processes) inside the "
        f"send; restarted in {restarted_at - killed_at:.1f} s; delivered "
        f"{delivered_after:.1f} s "
        f"after the kill (lease {LEASE_SECONDS} s, relay wait {waited:.1f} s); "
        f"1 recorded 2xx, {received} receiver requests ({answered} answered, 1 from the killed "
        f"worker, same webhook-id), 0 lost, 0 duplicate deliveries"
    )


def test_a_pool_child_killed_mid_delivery_is_redelivered_and_completed_once(
    on_own_redis: RedisServer, receiver: Receiver, celery: Celery
) -> None:
    # One pool child, so the child inside the send is the only one.
    worker = celery.worker(on_own_redis.url, concurrency=1, env=WORKER_ENV)
    row, secret = _hanging_webhook(receiver, worker)
    (child,) = worker.pool_pids()
    (task_id,) = [
        t
        # The evaluation queues its rows in one batch message (a lone row goes as "deliver").
        for name in ("rehab.notify.tasks.deliver", "rehab.notify.tasks.deliver_batch")
        for t in worker.task_ids(name)
        if not any("succeeded" in line for line in worker.task_log(t))
    ]

    killed_at = time.time()
    os.kill(child, signal.SIGKILL)
    # The main process puts the message back (reject_on_worker_lost); a new child runs it and
    # finds the row still "sending": it leaves it to the relay rather than send it a second
    # time while the first send might, for all it knows, still be running.
    wait_for(
        "the redelivered task to run",
        lambda: any(
            "succeeded" in line and "'skipped'" in line for line in worker.task_log(task_id)
        ),
        workers=[worker],
    )
    assert "WorkerLostError" in worker.log_text() or "signal 9" in worker.log_text()
    assert sum("received" in line for line in worker.task_log(task_id)) == 2
    row.refresh_from_db()
    assert row.status == DeliveryStatus.SENDING
    assert len(receiver.snapshot()) == 1

    waited = wait_for(
        "the relay to complete the delivery",
        lambda: Delivery.objects.filter(pk=row.pk, status=DeliveryStatus.DELIVERED).exists(),
        workers=[worker],
        every=lambda: relay_deliveries.delay(),
    )
    received, answered = _assert_delivered_once(receiver, row, secret, killed_at)
    _nothing_more_is_sent(receiver, worker, row)
    print(
        f"\nFAULT pool-child-killed: SIGKILL of the pool child inside the send; message "
        f"redelivered at once (acks_late + reject_on_worker_lost) and skipped (row still "
        f"sending); relay completed it after the {LEASE_SECONDS} s lease (wait {waited:.1f} s); "
        f"1 recorded 2xx, {received} receiver requests ({answered} answered), 0 lost, "
        f"0 duplicate deliveries"
    )
