"""Fault: two beat processes at once, and the nightly job run again while it is running.

Two real ``celery beat`` processes (a second deploy left running, a failover that overlapped)
queue the nightly evaluation and both relays every second, to two real workers, for 30
episodes whose data calls for a referral. Then the nightly job and the delivery relay are queued
twice more by hand (somebody re-ran them). Promises: one alert per episode, one set of
notifications per alert, one webhook request per notification. What holds it: the episode row
lock in ``evaluate_episode``, the partial unique constraint on unresolved alerts, and the
sender's conditional claim of each Delivery row.
"""

from __future__ import annotations

import re
import time
import uuid
from collections import Counter

import pytest

from rehab.models import Alert, Channel, Delivery, DeliveryAttempt, DeliveryStatus
from rehab.notify.endpoints import webhook_endpoint_create
from rehab.notify.tasks import relay_deliveries
from rehab.tasks import evaluate_all_active
from tests.factories import ClinicAdminFactory, ClinicFactory, TherapistFactory
from tests.integration.helpers import (
    Celery,
    Receiver,
    RedisServer,
    Worker,
    stop_all,
    tipping_course,
    verify_standard_webhook,
    wait_for,
)

pytestmark = pytest.mark.broker

EPISODES = 30
RUNS_PER_BEAT = 3  # nightly runs each beat must have queued before it is stopped
NIGHTLY_SENT = "Sending due task nightly-evaluation"


def _raised(workers: list[Worker]) -> int:
    """Alerts raised by all the nightly chunks, from the workers' logs."""
    total = 0
    for worker in workers:
        for line in worker.log_text().splitlines():
            if "Nightly chunk:" in line:
                match = re.search(r"(\d+) alerts? raised", line)
                assert match, line
                total += int(match.group(1))
    return total


def test_two_beats_and_a_rerun_nightly_raise_and_send_each_alert_once(
    on_own_redis: RedisServer, receiver: Receiver, celery: Celery
) -> None:
    clinic = ClinicFactory(name="Faults Physio", slug=f"faults-{uuid.uuid4().hex[:8]}")
    admin = ClinicAdminFactory(email="admin@faults.test", clinic=clinic)
    therapist = TherapistFactory(email="therapist@faults.test", clinic=clinic)
    secret = webhook_endpoint_create(actor=admin, url=receiver.url).secret
    # Today's entry is already there (no PUT, so no evaluation queued): only the nightly job
    # finds that these episodes call for a referral.
    courses = [
        tipping_course(therapist, f"p{i}@faults.test", days=(*range(1, 8), 39, 40, 41, 42))
        for i in range(EPISODES)
    ]
    episode_ids = {c.episode.pk for c in courses}
    workers = [
        celery.worker(on_own_redis.url, name="worker-1"),
        celery.worker(on_own_redis.url, name="worker-2"),
    ]
    beats = [
        celery.beat(on_own_redis.url, name="beat-1"),
        celery.beat(on_own_redis.url, name="beat-2"),
    ]
    wait_for(
        f"each beat to queue the nightly job {RUNS_PER_BEAT} times",
        lambda: all(b.log_text().count(NIGHTLY_SENT) >= RUNS_PER_BEAT for b in beats),
        workers=[*workers, *beats],
    )
    stop_all(beats)
    nightly_runs = sum(b.log_text().count(NIGHTLY_SENT) for b in beats)
    relay_runs = sum(b.log_text().count("Sending due task delivery-relay") for b in beats)
    # Somebody re-runs the nightly job and the relay, twice at once, while things settle.
    rerun = [
        evaluate_all_active.delay(),
        evaluate_all_active.delay(),
        relay_deliveries.delay(),
        relay_deliveries.delay(),
    ]

    queue = on_own_redis.client()

    def drained() -> bool:
        return (
            queue.llen("celery") == 0
            and all(any(w.task_log(r.id) for w in workers) for r in rerun)
            and not any(w.unfinished() for w in workers)
            and not Delivery.objects.exclude(status=DeliveryStatus.DELIVERED).exists()
        )

    wait_for("the queue to drain", drained, workers=workers)
    time.sleep(1)  # anything still in flight arrives, or the next check would fail
    assert drained()
    queue.close()

    # One alert per episode, raised once in all those runs.
    alerts = list(Alert.objects.filter(episode_id__in=episode_ids))
    assert Counter((a.episode_id, a.code) for a in alerts) == {
        (pk, "REFERRAL_CONSIDER"): 1 for pk in episode_ids
    }
    chunks = sum(len(w.task_ids("rehab.tasks.evaluate_chunk")) for w in workers)
    assert chunks == nightly_runs + 2  # every run (one chunk each) evaluated every episode
    raised = _raised(workers)
    assert raised == EPISODES
    # One set of notifications per alert, each sent once.
    for alert in alerts:
        by_channel = Counter(Delivery.objects.filter(alert=alert).values_list("channel", flat=True))
        assert by_channel == {Channel.EMAIL: 1, Channel.INBOX: 1, Channel.WEBHOOK: 1}, by_channel
    deliveries = Delivery.objects.filter(alert__in=alerts)
    assert DeliveryAttempt.objects.filter(delivery__in=deliveries).count() == deliveries.count()
    per_id = receiver.per_webhook_id()
    duplicates = sum(n - 1 for n in per_id.values())
    assert duplicates == 0, per_id
    sent_alerts = sorted(
        verify_standard_webhook(r, secret)["data"]["alert"]["id"] for r in receiver.snapshot()
    )
    assert sent_alerts == sorted(a.pk for a in alerts)
    print(
        f"\nFAULT two-beats: 2 beats + 2 workers, {nightly_runs} nightly runs from the beats "
        f"+ 2 re-runs, {chunks} chunks of {EPISODES} episodes evaluated "
        f"({chunks * EPISODES} evaluations), {relay_runs} + 2 delivery relays; "
        f"{raised} alerts raised for {EPISODES} episodes (0 duplicate alerts), "
        f"{deliveries.count()} notification rows ({len(alerts)} webhooks), "
        f"{len(receiver.snapshot())} webhook requests, {duplicates} duplicate deliveries"
    )
