"""Fault: Redis stops (and loses its queue) while patients are saving entries.

200 PUTs through the API, from 40 patients at trial day 42 (5 entries each, today's last);
Redis is killed after the 60th and started again, empty, after the 140th. The web side and the
worker use that one Redis as broker and cache, as in production. Promises:

- every PUT answers 201/200 (the entry is saved) or an error the phone retries (5xx); a row for
  every success, none silently lost;
- once Redis is back and a real worker runs the relays (as beat would each minute), every alert
  that the rules say should exist exists, and each high alert reaches the webhook exactly once.
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from rehab.evaluation import episode_progress
from rehab.models import (
    Alert,
    AlertStatus,
    Channel,
    DailyEntry,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    Episode,
    InboxMessage,
)
from rehab.notify.endpoints import webhook_endpoint_create
from rehab.notify.tasks import relay_deliveries
from rehab.tasks import relay_evaluations
from tests.factories import ClinicAdminFactory, ClinicFactory, TherapistFactory
from tests.integration.helpers import (
    Celery,
    Receiver,
    RedisServer,
    put_entry,
    referral_alerts,
    tipping_course,
    verify_standard_webhook,
    wait_for,
)

pytestmark = pytest.mark.broker

PATIENTS = 40
# Trial days of each patient's PUTs, today (day 42) last. Days 1-7 exist already (baseline 7);
# the 4th entry of the last week is today's, so today's PUT is the one that lets the rules judge
# the current pain. Before it, the last week has too few entries (a LOGGING_GAP warning).
PUT_DAYS = (30, 39, 40, 41, 42)
STOP_AFTER = 60  # Redis is killed after this many PUTs...
START_AFTER = 140  # ...and started again (empty) after this many,
MIN_OUTAGE_SECONDS = 5.0  # but no sooner: the worker goes through more than one reconnect.
ALERT_SEVERITIES = {"warning", "high", "critical"}


@dataclass
class Put:
    course: int
    trial_day: int
    pain: int
    status: int
    seconds: float
    redis_down: bool


class _Counted(logging.Handler):
    """Counts a logger's records instead of printing them: each PUT during the outage logs a
    warning with the broker's traceback, which would bury the figures printed with -s."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())

    def count(self, prefix: str) -> int:
        return sum(1 for m in self.messages if m.startswith(prefix))

    @contextlib.contextmanager
    def instead_of_console(self, name: str) -> Iterator[None]:
        logger = logging.getLogger(name)
        propagate = logger.propagate
        logger.addHandler(self)
        logger.propagate = False
        try:
            yield
        finally:
            logger.propagate = propagate
            logger.removeHandler(self)


def _pain(course: int, trial_day: int) -> int:
    # Every 4th patient improves (pain 3: an important improvement, no alert); the others stay
    # at 6 against a baseline of 7, which calls for a referral at day 42.
    return 3 if course % 4 == 3 else 6


def test_redis_down_while_entries_are_written_loses_nothing(
    on_own_redis: RedisServer,
    receiver: Receiver,
    celery: Celery,
) -> None:
    redis_server = on_own_redis
    # A short lease: messages lost with Redis are re-queued by the relay seconds later, not 10
    # minutes later.
    worker = celery.worker(redis_server.url, env={"PAIS_DELIVERY_LEASE_SECONDS": "3"})
    clinic = ClinicFactory(name="Faults Physio", slug=f"faults-{uuid.uuid4().hex[:8]}")
    admin = ClinicAdminFactory(email="admin@faults.test", clinic=clinic)
    therapist = TherapistFactory(email="therapist@faults.test", clinic=clinic)
    secret = webhook_endpoint_create(actor=admin, url=receiver.url).secret
    courses = [
        tipping_course(therapist, f"p{i}@faults.test", days=range(1, 8)) for i in range(PATIENTS)
    ]

    # --- 200 PUTs, Redis down for the middle 80 -----------------------------------------------
    plan = [(i, day) for i in range(PATIENTS) for day in PUT_DAYS]
    puts: list[Put] = []
    stopped_at = outage = 0.0
    warnings = _Counted()
    with warnings.instead_of_console("rehab.tasks"):
        for n, (i, day) in enumerate(plan, start=1):
            if n == STOP_AFTER + 1:
                redis_server.stop()
                stopped_at = time.monotonic()
            if n == START_AFTER + 1:
                time.sleep(max(0.0, MIN_OUTAGE_SECONDS - (time.monotonic() - stopped_at)))
                outage = time.monotonic() - stopped_at
                redis_server.start()
            course = courses[i]
            started = time.monotonic()
            response = put_entry(course, course.day(day), pain=_pain(i, day), raise_errors=False)
            puts.append(
                Put(
                    course=i,
                    trial_day=day,
                    pain=_pain(i, day),
                    status=response.status_code,
                    seconds=time.monotonic() - started,
                    redis_down=STOP_AFTER < n <= START_AFTER,
                )
            )
            assert response.status_code in (200, 201) or response.status_code >= 500, (
                f"PUT {n} answered {response.status_code}: {response.content!r}"
            )
    not_queued = warnings.count("Could not queue the evaluation")

    # The phone retries what was not answered with success, now that Redis is back.
    retried = [p for p in puts if p.status >= 500]
    for p in retried:
        course = courses[p.course]
        response = put_entry(course, course.day(p.trial_day), pain=p.pain)
        assert response.status_code in (200, 201), response.content

    # Every success is a row with what was sent; nothing is missing.
    saved = 0
    for p in puts:
        course = courses[p.course]
        entry = DailyEntry.objects.filter(
            episode=course.episode, date=course.day(p.trial_day)
        ).first()
        assert entry is not None, f"lost: patient {p.course}, day {p.trial_day} ({p.status})"
        assert entry.pain_activity == p.pain
        saved += 1
    lost = len(plan) - saved
    slowest_down = max(p.seconds for p in puts if p.redis_down)

    # --- Redis is back: the worker reconnects, the relays run (beat would, each minute) -----
    episode_ids = [c.episode.pk for c in courses]
    referrals = sum(1 for i in range(PATIENTS) if _pain(i, 42) == 6)

    def queue_relays() -> None:
        relay_evaluations.delay(min_age_seconds=0)
        relay_deliveries.delay()

    def settled() -> bool:
        return (
            not Episode.objects.filter(
                pk__in=episode_ids, evaluation_requested_at__isnull=False
            ).exists()
            and not Delivery.objects.exclude(status=DeliveryStatus.DELIVERED).exists()
            and len(receiver.per_webhook_id()) >= referrals
        )

    waited = wait_for("every alert to be delivered", settled, workers=[worker], every=queue_relays)
    # The relays once more, and time for anything still in flight to arrive.
    for result in (relay_evaluations.delay(min_age_seconds=0), relay_deliveries.delay()):
        worker.wait_done(result.id)
    time.sleep(1)

    # --- Every alert that should exist exists, and reached the clinic exactly once -----------
    today = courses[0].patient.local_today()
    for i, course in enumerate(courses):
        expected = {
            f.code
            for f in episode_progress(episode=course.episode, as_of=today).findings
            if f.severity in ALERT_SEVERITIES
        }
        unresolved = set(
            Alert.objects.filter(episode=course.episode)
            .exclude(status=AlertStatus.RESOLVED)
            .values_list("code", flat=True)
        )
        assert unresolved == expected, (i, unresolved, expected)
        assert expected == ({"REFERRAL_CONSIDER"} if _pain(i, 42) == 6 else set()), (i, expected)
    high = list(Alert.objects.filter(episode_id__in=episode_ids, severity__in=["high", "critical"]))
    assert len(high) == referrals
    # A raised alert is never raised twice for the same episode (no resolved twin either).
    assert Counter(a.episode_id for a in high).most_common(1)[0][1] == 1
    for alert in high:
        by_channel = Counter(Delivery.objects.filter(alert=alert).values_list("channel", flat=True))
        assert by_channel == {Channel.EMAIL: 1, Channel.INBOX: 1, Channel.WEBHOOK: 1}, by_channel
        assert InboxMessage.objects.filter(alert=alert).count() == 1
    # Warnings (the logging gap before today's entry) show on the dashboard but notify nobody.
    assert not Delivery.objects.exclude(alert__severity__in=["high", "critical"]).exists()
    webhooks = Delivery.objects.filter(channel=Channel.WEBHOOK)
    assert webhooks.count() == referrals
    assert (
        DeliveryAttempt.objects.filter(delivery__in=webhooks, outcome="delivered").count()
        == referrals
    )

    requests = receiver.snapshot()
    per_id = receiver.per_webhook_id()
    duplicates = sum(count - 1 for count in per_id.values())
    assert duplicates == 0, per_id
    delivered_alerts = sorted(
        verify_standard_webhook(r, secret)["data"]["alert"]["id"] for r in requests
    )
    assert delivered_alerts == sorted(a.pk for a in high)
    assert all(r.answered for r in requests)

    assert lost == 0
    assert not_queued >= START_AFTER - STOP_AFTER  # the outage really hit the evaluations
    tipped_while_down = sum(
        1 for p in puts if p.redis_down and p.trial_day == 42 and _pain(p.course, 42) == 6
    )
    assert tipped_while_down > 0
    assert slowest_down < 5, f"a PUT took {slowest_down:.1f} s with Redis down"
    print(
        f"\nFAULT redis-down: {len(plan)} PUTs, {START_AFTER - STOP_AFTER} of them during a "
        f"{outage:.1f} s Redis outage (killed, restarted empty), "
        f"{sum(1 for p in puts if p.status in (200, 201))} saved at once, "
        f"{len(retried)} answered 5xx and retried, {lost} lost; "
        f"slowest PUT with Redis down {slowest_down * 1000:.0f} ms; "
        f"{not_queued} evaluations not queued (left to the relay); "
        f"{len(high)} referral alerts ({tipped_while_down} tipped while Redis was down), "
        f"{len(requests)} webhook requests, {duplicates} duplicate deliveries; "
        f"all delivered {waited:.1f} s after the last PUT"
    )


FROZEN_PUTS = 2
PUT_DEADLINE_SECONDS = 10.0


def test_a_frozen_redis_neither_hangs_a_put_nor_loses_its_alert(
    on_own_redis: RedisServer, receiver: Receiver, celery: Celery
) -> None:
    """Redis stops answering without closing its connections (SIGSTOP: a hung server, a
    failover, a network path that drops packets). Connecting still succeeds, so only a read
    timeout on the broker connection keeps the phone's PUT from waiting forever."""
    worker = celery.worker(on_own_redis.url, env={"PAIS_DELIVERY_LEASE_SECONDS": "3"})
    clinic = ClinicFactory(name="Faults Physio", slug=f"faults-{uuid.uuid4().hex[:8]}")
    admin = ClinicAdminFactory(email="admin@faults.test", clinic=clinic)
    therapist = TherapistFactory(email="therapist@faults.test", clinic=clinic)
    secret = webhook_endpoint_create(actor=admin, url=receiver.url).secret
    courses = [tipping_course(therapist, f"frozen{i}@faults.test") for i in range(FROZEN_PUTS)]

    warnings = _Counted()
    timings: list[float] = []
    on_own_redis.freeze()
    try:
        with warnings.instead_of_console("rehab.tasks"):
            for course in courses:
                started = time.monotonic()
                response = put_entry(course, raise_errors=False)
                timings.append(time.monotonic() - started)
                assert response.status_code == 201, response.content
    finally:
        on_own_redis.thaw()
    assert max(timings) < PUT_DEADLINE_SECONDS, timings
    today = courses[0].patient.local_today()
    for course in courses:
        assert DailyEntry.objects.filter(episode=course.episode, date=today).exists()
    not_queued = warnings.count("Could not queue the evaluation")
    assert not_queued == FROZEN_PUTS

    def queue_relays() -> None:
        relay_evaluations.delay(min_age_seconds=0)
        relay_deliveries.delay()

    def settled() -> bool:
        return (
            len(receiver.per_webhook_id()) >= FROZEN_PUTS
            and not Delivery.objects.exclude(status=DeliveryStatus.DELIVERED).exists()
        )

    wait_for("every alert to be delivered", settled, workers=[worker], every=queue_relays)
    for result in (relay_evaluations.delay(min_age_seconds=0), relay_deliveries.delay()):
        worker.wait_done(result.id)
    time.sleep(1)
    alerts = [a for course in courses for a in referral_alerts(course)]
    assert len(alerts) == FROZEN_PUTS
    per_id = receiver.per_webhook_id()
    duplicates = sum(n - 1 for n in per_id.values())
    assert duplicates == 0, per_id
    sent = sorted(
        verify_standard_webhook(r, secret)["data"]["alert"]["id"] for r in receiver.snapshot()
    )
    assert sent == sorted(a.pk for a in alerts)
    print(
        f"\nFAULT redis-frozen: {FROZEN_PUTS} tipping PUTs while Redis hung (SIGSTOP), each "
        f"answered 201 in at most {max(timings):.1f} s (broker read timeout 2 s), 0 lost; "
        f"{len(alerts)} alerts, {len(receiver.snapshot())} webhook requests, "
        f"{duplicates} duplicate deliveries once Redis answered again"
    )
