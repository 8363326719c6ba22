"""Celery shells for notifications: take ids, call one function in this package.

``deliver`` is safe to run any number of times for the same id: the sender's claim lets exactly
one run send a pending, due row, and any other run (a redelivered message after a worker was
lost, the relay queuing it again) finds nothing to do. ``deliver_batch`` does the same for a few
rows in one message (a night's evaluation writes hundreds at once, and a Celery message costs
more to build and publish than the row it carries); each row is still claimed, sent, recorded
and retried on its own.
"""

from __future__ import annotations

from collections import Counter

from celery import shared_task

from rehab.notify import relay
from rehab.notify.sender import RETRY, send_delivery


def _send_and_schedule(delivery_id: int) -> str:
    outcome = send_delivery(int(delivery_id))
    if outcome.result == RETRY and outcome.next_attempt_at is not None:
        relay.queue_delivery(outcome.delivery_id, eta=outcome.next_attempt_at)
    return outcome.result


# Time limits well inside the relay's lease (10 min by default), so a row is only taken back
# from a worker that is really gone.
@shared_task(acks_late=True, ignore_result=True, soft_time_limit=120, time_limit=150)
def deliver(delivery_id: int) -> str:
    return _send_and_schedule(delivery_id)


# At most relay.BATCH_SIZE rows, each bounded by its channel's timeout (10 s for a webhook), so
# even a batch of hanging receivers ends well inside the lease. If the limit hits mid-batch the
# rows not yet sent stay pending and the relay queues them again after the lease.
@shared_task(acks_late=True, ignore_result=True, soft_time_limit=240, time_limit=270)
def deliver_batch(delivery_ids: list[int]) -> dict[str, int]:
    return dict(Counter(_send_and_schedule(delivery_id) for delivery_id in delivery_ids))


@shared_task(
    name="rehab.notify.tasks.relay_deliveries",
    acks_late=True,
    ignore_result=True,
    soft_time_limit=240,
    time_limit=300,
)
def relay_deliveries() -> dict[str, int]:
    outcome = relay.relay_deliveries()
    return {"reclaimed": outcome.reclaimed, "queued": outcome.queued}
