"""Celery shells for notifications: take ids, call one function in this package.

``deliver`` is safe to run any number of times for the same id: the sender's claim lets exactly
one run send a pending, due row, and any other run (a redelivered message after a worker was
lost, the relay queuing it again) finds nothing to do.
"""

from __future__ import annotations

from celery import shared_task

from rehab.notify import relay
from rehab.notify.sender import RETRY, send_delivery


# Time limits well inside the relay's lease (10 min by default), so a row is only taken back
# from a worker that is really gone.
@shared_task(acks_late=True, ignore_result=True, soft_time_limit=120, time_limit=150)
def deliver(delivery_id: int) -> str:
    outcome = send_delivery(int(delivery_id))
    if outcome.result == RETRY and outcome.next_attempt_at is not None:
        relay.queue_delivery(outcome.delivery_id, eta=outcome.next_attempt_at)
    return outcome.result


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
