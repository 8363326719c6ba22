"""Fault: the clinic's webhook receiver misbehaves, seen end to end through a real worker.

The worker runs with short backoff settings (base 1 s, so waits of about 1, 2, 4 s instead of
30, 60, 120 s) and a 1 s request timeout; the schedule itself is the production code's.
Promises:

- 500, a timeout and 429 are retried, each after the backoff (±20% jitter) or the Retry-After
  the receiver asked for, and the delivery then succeeds once;
- 410 Gone fails the delivery and turns the endpoint off: later alerts send it nothing;
- with ``PAIS_WEBHOOK_ALLOW_PRIVATE`` off (production), a private or loopback address is refused
  when an admin saves it, and refused again at send time (an address that resolved publicly
  when it was saved), without a connection being made.
"""

from __future__ import annotations

import datetime as dt
import itertools
import time
import uuid
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import AuditEvent, User
from accounts.services import api_token_issue
from rehab.models import Alert, Channel, Delivery, DeliveryStatus, WebhookEndpoint
from rehab.notify.endpoints import webhook_endpoint_create
from rehab.notify.tasks import relay_deliveries
from tests.factories import ClinicAdminFactory, ClinicFactory, TherapistFactory
from tests.integration.helpers import (
    Celery,
    Course,
    Receiver,
    RedisServer,
    Reply,
    Worker,
    put_entry,
    referral_alerts,
    tipping_course,
    verify_standard_webhook,
    wait_for,
)

pytestmark = pytest.mark.broker

BACKOFF_BASE = 1
TIMEOUT = 1
FAST_RETRIES = {
    "PAIS_DELIVERY_BACKOFF_BASE_SECONDS": str(BACKOFF_BASE),
    "PAIS_DELIVERY_BACKOFF_MAX_SECONDS": "30",
    "PAIS_WEBHOOK_TIMEOUT_SECONDS": str(TIMEOUT),
    # Longer than any wait here, so each retry goes to the broker with its ETA (the path a
    # retry takes in production) rather than waiting for the relay.
    "PAIS_DELIVERY_LEASE_SECONDS": "60",
}
JITTER = 0.2
LATE = 2.5  # how late a retry may run after it is due (ETA timer, claim, a busy machine)


def _clinic() -> tuple[User, User]:
    clinic = ClinicFactory(name="Faults Physio", slug=f"faults-{uuid.uuid4().hex[:8]}")
    admin = ClinicAdminFactory(email="admin@faults.test", clinic=clinic)
    therapist = TherapistFactory(email="therapist@faults.test", clinic=clinic)
    return admin, therapist


def _admin_api(admin: User) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(user=admin)}")
    return client


def _tip(course: Course, worker: Worker) -> Alert:
    """Save the tipping entry; wait for the alert and for all its deliveries to be settled."""
    assert put_entry(course).status_code == 201

    def settled() -> bool:
        return bool(referral_alerts(course)) and not (
            Delivery.objects.filter(alert__episode=course.episode)
            .exclude(status__in=[DeliveryStatus.DELIVERED, DeliveryStatus.FAILED])
            .exists()
        )

    wait_for("the alert's deliveries to settle", settled, workers=[worker])
    (alert,) = referral_alerts(course)
    return alert


def test_500_timeout_and_429_are_retried_on_schedule_then_delivered_once(
    on_own_redis: RedisServer, receiver: Receiver, celery: Celery
) -> None:
    worker = celery.worker(on_own_redis.url, env=FAST_RETRIES)
    admin, therapist = _clinic()
    secret = webhook_endpoint_create(actor=admin, url=receiver.url).secret
    receiver.answer(
        Reply(status=500),
        Reply(delay=TIMEOUT + 2),  # answers after the sender has given up
        Reply(status=429, headers={"Retry-After": "2"}),
        Reply(status=204),
    )
    alert = _tip(tipping_course(therapist, "retried@faults.test"), worker)

    row = Delivery.objects.get(alert=alert, channel=Channel.WEBHOOK)
    assert row.status == DeliveryStatus.DELIVERED
    attempts = list(row.attempt_log.order_by("started_at", "pk"))
    assert [(a.outcome, a.status_code) for a in attempts] == [
        ("retry", 500),
        ("retry", None),
        ("retry", 429),
        ("delivered", 204),
    ]
    assert attempts[0].error.startswith("HTTP 500")
    assert attempts[1].error == f"No answer within {TIMEOUT} s."
    assert attempts[2].error.startswith("HTTP 429")
    assert row.attempts == 4

    # Each wait: from the end of one attempt to the start of the next.
    expected = [
        (BACKOFF_BASE * (1 - JITTER), BACKOFF_BASE * (1 + JITTER)),  # after 1 failure
        (2 * BACKOFF_BASE * (1 - JITTER), 2 * BACKOFF_BASE * (1 + JITTER)),  # after 2
        (2.0, 2.0),  # as the 429's Retry-After asked, no jitter
    ]
    waits = [
        (
            later.started_at - (earlier.started_at + dt.timedelta(milliseconds=earlier.duration_ms))
        ).total_seconds()
        for earlier, later in itertools.pairwise(attempts)
    ]
    for wait, (low, high) in zip(waits, expected, strict=True):
        assert low - 0.05 <= wait <= high + LATE, (waits, expected)
    assert attempts[1].duration_ms >= TIMEOUT * 1000  # it did wait for the timeout

    requests = receiver.snapshot()
    assert len(requests) == 4
    assert len({r.webhook_id for r in requests}) == 1  # one message, retried
    for request in requests:
        assert verify_standard_webhook(request, secret)["data"]["alert"]["id"] == alert.pk
    gaps = [later.at - earlier.at for earlier, later in itertools.pairwise(requests)]
    # The receiver's view: the wait, plus the timeout for the request that timed out.
    assert gaps[1] >= TIMEOUT + expected[1][0] - 0.05
    assert gaps[2] >= expected[2][0] - 0.05

    # The relay finds nothing more to do: no fifth request.
    worker.wait_done(relay_deliveries.delay().id)
    time.sleep(0.5)
    assert len(receiver.snapshot()) == 4
    print(
        "\nFAULT webhook-retries: 500 -> timeout -> 429 (Retry-After 2) -> 204 through a real "
        f"worker (backoff base {BACKOFF_BASE} s): 4 attempts, waits "
        + ", ".join(f"{w:.2f} s" for w in waits)
        + f" (expected {BACKOFF_BASE * 0.8:.1f}-{BACKOFF_BASE * 1.2:.1f}, "
        f"{2 * BACKOFF_BASE * 0.8:.1f}-{2 * BACKOFF_BASE * 1.2:.1f}, 2.0 s); "
        f"receiver requests at +"
        + ", +".join(f"{r.at - requests[0].at:.2f}" for r in requests[1:])
        + " s; 1 recorded 2xx, 1 webhook-id, 0 lost"
    )


def test_410_gone_disables_the_endpoint_and_later_alerts_send_it_nothing(
    on_own_redis: RedisServer, receiver: Receiver, celery: Celery
) -> None:
    worker = celery.worker(on_own_redis.url, env=FAST_RETRIES)
    admin, therapist = _clinic()
    endpoint = webhook_endpoint_create(actor=admin, url=receiver.url).endpoint
    receiver.answer(Reply(status=410))
    first = _tip(tipping_course(therapist, "gone-1@faults.test"), worker)

    row = Delivery.objects.get(alert=first, channel=Channel.WEBHOOK)
    assert row.status == DeliveryStatus.FAILED and row.attempts == 1
    (attempt,) = row.attempt_log.all()
    assert (attempt.outcome, attempt.status_code) == ("disabled", 410)
    endpoint.refresh_from_db()
    assert not endpoint.is_active
    assert "410 Gone" in endpoint.disabled_reason
    assert AuditEvent.objects.filter(
        action="webhook.disabled_gone", object_id=str(endpoint.pk), actor=None
    ).exists()
    shown = _admin_api(admin).get(f"/api/v1/webhooks/{endpoint.pk}/").json()
    assert shown["is_active"] is False and "410" in shown["disabled_reason"], shown

    # The next alert still reaches the therapist and the inbox, but not the endpoint.
    second = _tip(tipping_course(therapist, "gone-2@faults.test"), worker)
    channels = sorted(
        Delivery.objects.filter(alert=second, status=DeliveryStatus.DELIVERED).values_list(
            "channel", flat=True
        )
    )
    assert channels == [Channel.EMAIL, Channel.INBOX]
    assert not Delivery.objects.filter(alert=second, channel=Channel.WEBHOOK).exists()
    worker.wait_done(relay_deliveries.delay().id)
    time.sleep(0.5)
    assert len(receiver.snapshot()) == 1
    print(
        "\nFAULT webhook-410: 1 request answered 410 -> delivery failed after 1 attempt, "
        "endpoint turned off (audited); next alert: 0 webhook rows, 0 requests "
        f"({len(receiver.snapshot())} in all), email and inbox delivered"
    )


PRIVATE_URLS = [
    "https://127.0.0.1:{port}/hooks/pais",
    "https://localhost:{port}/hooks/pais",
    "https://[::1]:{port}/hooks/pais",
    "https://10.0.0.8/hooks/pais",
    "https://169.254.169.254/latest/meta-data/",
]


def test_private_addresses_are_refused_when_saved_and_when_sent(
    on_own_redis: RedisServer, receiver: Receiver, celery: Celery, settings: Any
) -> None:
    settings.PAIS_WEBHOOK_ALLOW_PRIVATE = False  # production
    worker = celery.worker(
        on_own_redis.url, env={**FAST_RETRIES, "PAIS_WEBHOOK_ALLOW_PRIVATE": "0"}
    )
    admin, therapist = _clinic()
    api = _admin_api(admin)
    for template in PRIVATE_URLS:
        url = template.format(port=receiver.port)
        response = api.post("/api/v1/webhooks/", {"url": url}, format="json")
        assert response.status_code == 400, (url, response.content)
        assert "public addresses only" in response.json()["url"][0], response.json()
    assert not WebhookEndpoint.objects.exists()

    # Saved when its name pointed at a public address; by the time of the send it points at
    # this machine (DNS rebinding). The address is checked again at the send.
    rebound = WebhookEndpoint.objects.create(
        clinic_id=admin.clinic_id,
        url=f"https://localhost:{receiver.port}/hooks/pais",
        secret="whsec_" + "A" * 32,
    )
    alert = _tip(tipping_course(therapist, "private@faults.test"), worker)
    row = Delivery.objects.get(alert=alert, channel=Channel.WEBHOOK, endpoint=rebound)
    assert row.status == DeliveryStatus.FAILED and row.attempts == 1  # permanent: no retry
    (attempt,) = row.attempt_log.all()
    assert attempt.outcome == "failed" and attempt.status_code is None
    assert "public addresses only" in attempt.error
    assert receiver.connections == 0 and receiver.snapshot() == []
    print(
        f"\nFAULT webhook-private: {len(PRIVATE_URLS)} private/loopback/link-local URLs refused "
        "by the API (400); a saved endpoint now resolving to 127.0.0.1 refused at send "
        f"(1 attempt, failed, no retry); {receiver.connections} connections made"
    )
