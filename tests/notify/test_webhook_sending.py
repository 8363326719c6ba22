"""Sending webhook deliveries to a real local HTTP receiver: signature, retries, 410, 429."""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import socket

import pytest
import time_machine

from accounts.models import AuditEvent
from rehab.models import DeliveryAttempt, WebhookEndpoint
from rehab.notify.sender import backoff_delay, send_delivery
from rehab.notify.tasks import deliver
from tests.notify.helpers import (
    SECRET,
    make_alert,
    make_endpoint,
    notify,
    reload,
    verify_signature,
    webhook_delivery,
)
from tests.notify.receiver import Reply

pytestmark = pytest.mark.django_db

# A moment after the rows are written (they are due from their creation on), to the second.
T0 = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).replace(microsecond=0)


@pytest.fixture
def setup(cast, receiver):
    endpoint = make_endpoint(cast.clinic, receiver.url)
    alert = make_alert(cast.episode_a)
    return endpoint, alert, webhook_delivery(alert, endpoint)


def test_a_delivery_is_a_signed_standard_webhook(cast, receiver, setup):
    _endpoint, alert, delivery = setup
    with time_machine.travel(T0, tick=False):
        outcome = send_delivery(delivery.pk)

    assert outcome.result == "delivered"
    (request,) = receiver.requests
    assert request.path == "/hooks/pais"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["webhook-id"].startswith("msg_")
    assert request.headers["webhook-timestamp"] == str(int(T0.timestamp()))
    assert verify_signature(secret=SECRET, headers=request.headers, body=request.body)
    assert not verify_signature(
        secret="whsec_" + "A" * 32, headers=request.headers, body=request.body
    )
    payload = json.loads(request.body)
    assert payload["type"] == "alert.raised"
    assert payload["data"]["alert"] == {
        "id": alert.pk,
        "code": "REFERRAL_CONSIDER",
        "severity": "high",
        "status": "open",
        "ruleset": "pais-2026.1",
    }
    assert payload["data"]["episode"] == {"id": cast.episode_a.pk}
    assert payload["data"]["patient"] == {"id": cast.patient_a.pk}
    assert payload["data"]["url"] == f"http://testserver/episodes/{cast.episode_a.pk}/"
    # References and a link only: no scores, no evidence, no names, no notes.
    text = request.body.decode()
    for leaked in ("7.0", "6.0", "evidence", "message", "note", "private matter"):
        assert leaked not in text
    user = cast.patient_a.user
    assert user.first_name not in text and user.last_name not in text and user.email not in text

    delivery = reload(delivery)
    assert delivery.status == "delivered" and delivery.delivered_at == T0
    assert delivery.attempts == 1
    (attempt,) = DeliveryAttempt.objects.filter(delivery=delivery)
    assert (attempt.outcome, attempt.status_code, attempt.error) == ("delivered", 200, "")


def test_the_webhook_id_is_stable_across_retries(receiver, setup):
    _endpoint, _alert, delivery = setup
    receiver.answer(Reply(503))
    with time_machine.travel(T0, tick=False) as traveller:
        assert send_delivery(delivery.pk).result == "retry"
        traveller.shift(dt.timedelta(hours=1))
        assert send_delivery(delivery.pk).result == "delivered"
    first, second = receiver.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert first.body == second.body
    assert first.headers["webhook-timestamp"] != second.headers["webhook-timestamp"]
    assert verify_signature(secret=SECRET, headers=second.headers, body=second.body)


def test_the_claim_stops_a_second_send(receiver, setup):
    _endpoint, _alert, delivery = setup
    assert send_delivery(delivery.pk).result == "delivered"
    assert send_delivery(delivery.pk).result == "skipped"
    assert deliver.apply(args=[delivery.pk]).get() == "skipped"
    assert len(receiver.requests) == 1
    assert reload(delivery).attempts == 1
    assert DeliveryAttempt.objects.filter(delivery=delivery).count() == 1


def test_running_the_task_twice_sends_once(receiver, setup):
    _endpoint, _alert, delivery = setup
    assert deliver.apply(args=[delivery.pk]).get() == "delivered"
    assert deliver.apply(args=[delivery.pk]).get() == "skipped"
    assert len(receiver.requests) == 1


def test_a_row_claimed_by_another_worker_is_left_alone(receiver, setup):
    _endpoint, _alert, delivery = setup
    type(delivery).objects.filter(pk=delivery.pk).update(status="sending", claimed_at=T0)
    assert send_delivery(delivery.pk).result == "skipped"
    assert receiver.requests == []
    assert reload(delivery).status == "sending"


def test_a_server_error_is_retried_with_exponential_backoff(receiver, setup, settings):
    _endpoint, _alert, delivery = setup
    receiver.answer(Reply(500), Reply(502))
    with time_machine.travel(T0, tick=False) as traveller:
        assert send_delivery(delivery.pk).result == "retry"
        first = reload(delivery)
        assert first.status == "pending" and first.attempts == 1
        assert first.last_error.startswith("HTTP 500")
        # 30 s ± 20%.
        wait = first.next_attempt_at - T0
        assert dt.timedelta(seconds=24) <= wait <= dt.timedelta(seconds=36)

        # Not due yet: nothing happens.
        assert send_delivery(delivery.pk).result == "skipped"
        assert len(receiver.requests) == 1

        traveller.move_to(first.next_attempt_at)
        assert send_delivery(delivery.pk).result == "retry"
        second = reload(delivery)
        wait = second.next_attempt_at - first.next_attempt_at
        assert dt.timedelta(seconds=48) <= wait <= dt.timedelta(seconds=72)

        traveller.move_to(second.next_attempt_at)
        assert send_delivery(delivery.pk).result == "delivered"
    outcomes = list(
        DeliveryAttempt.objects.filter(delivery=delivery).values_list("outcome", "status_code")
    )
    assert outcomes == [("retry", 500), ("retry", 502), ("delivered", 200)]


def test_backoff_grows_is_jittered_and_capped(settings):
    settings.PAIS_DELIVERY_BACKOFF_BASE_SECONDS = 30
    settings.PAIS_DELIVERY_BACKOFF_MAX_SECONDS = 6 * 3600
    waits = [backoff_delay(3).total_seconds() for _ in range(40)]
    assert all(96 <= w <= 144 for w in waits)  # 120 s ± 20%
    assert len(set(waits)) > 1
    capped = [backoff_delay(30).total_seconds() for _ in range(40)]
    assert all(0.8 * 6 * 3600 <= w <= 6 * 3600 for w in capped)


def test_it_gives_up_after_the_maximum_number_of_attempts(receiver, setup, settings):
    settings.PAIS_DELIVERY_MAX_ATTEMPTS = 3
    _endpoint, _alert, delivery = setup
    receiver.answer(*[Reply(500)] * 5)
    with time_machine.travel(T0, tick=False) as traveller:
        results = []
        for _ in range(3):
            results.append(send_delivery(delivery.pk).result)
            traveller.move_to(reload(delivery).next_attempt_at)
        traveller.shift(dt.timedelta(days=1))
        results.append(send_delivery(delivery.pk).result)
    assert results == ["retry", "retry", "failed", "skipped"]
    delivery = reload(delivery)
    assert delivery.status == "failed" and delivery.attempts == 3
    assert delivery.last_error.startswith("Gave up after 3 attempts")
    assert len(receiver.requests) == 3


def test_a_timeout_is_transient(receiver, setup, settings):
    settings.PAIS_WEBHOOK_TIMEOUT_SECONDS = 0.3
    _endpoint, _alert, delivery = setup
    receiver.answer(Reply(200, delay=1.5))
    assert send_delivery(delivery.pk).result == "retry"
    delivery = reload(delivery)
    assert delivery.status == "pending"
    assert "No answer within 0.3 s" in delivery.last_error
    (attempt,) = DeliveryAttempt.objects.filter(delivery=delivery)
    assert attempt.outcome == "retry" and attempt.status_code is None


def test_a_refused_connection_is_transient(cast, allow_private):
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    endpoint = make_endpoint(cast.clinic, f"http://127.0.0.1:{port}/closed")
    delivery = webhook_delivery(make_alert(cast.episode_a), endpoint)
    assert send_delivery(delivery.pk).result == "retry"
    assert "Could not reach the endpoint" in reload(delivery).last_error


def test_429_honours_retry_after_seconds(receiver, setup):
    _endpoint, _alert, delivery = setup
    receiver.answer(Reply(429, headers={"Retry-After": "120"}))
    with time_machine.travel(T0, tick=False):
        outcome = send_delivery(delivery.pk)
    assert outcome.result == "retry"
    assert reload(delivery).next_attempt_at == T0 + dt.timedelta(seconds=120)
    attempt = DeliveryAttempt.objects.get(delivery=delivery)
    assert attempt.status_code == 429


def test_429_honours_retry_after_as_an_http_date(receiver, setup):
    _endpoint, _alert, delivery = setup
    when = T0 + dt.timedelta(minutes=7)
    receiver.answer(Reply(429, headers={"Retry-After": email.utils.format_datetime(when, True)}))
    with time_machine.travel(T0, tick=False):
        send_delivery(delivery.pk)
    assert reload(delivery).next_attempt_at == when


def test_410_disables_the_endpoint(cast, receiver, setup):
    endpoint, _alert, delivery = setup
    earlier = webhook_delivery(make_alert(cast.episode_b), endpoint)
    receiver.answer(Reply(410))
    assert send_delivery(delivery.pk).result == "disabled"
    delivery = reload(delivery)
    assert delivery.status == "failed" and delivery.last_error.startswith("HTTP 410")
    endpoint.refresh_from_db()
    assert not endpoint.is_active
    assert "410 Gone" in endpoint.disabled_reason
    assert AuditEvent.objects.filter(
        action="webhook.disabled_gone", object_id=str(endpoint.pk), clinic=cast.clinic
    ).exists()
    assert DeliveryAttempt.objects.get(delivery=delivery).outcome == "disabled"

    # A row written before the 410 is not sent, and the next alert writes nothing for it.
    assert send_delivery(earlier.pk).result == "failed"
    assert "disabled" in reload(earlier).last_error
    assert len(receiver.requests) == 1
    later = notify(make_alert(cast.episode_a, code="PAIN_WORSENING"))
    assert not any(d.endpoint_id == endpoint.pk for d in later)


@pytest.mark.parametrize("status", [400, 401, 404, 422])
def test_other_client_errors_fail_at_once(receiver, setup, status):
    _endpoint, _alert, delivery = setup
    receiver.answer(Reply(status))
    assert send_delivery(delivery.pk).result == "failed"
    delivery = reload(delivery)
    assert delivery.status == "failed" and delivery.attempts == 1
    assert delivery.last_error.startswith(f"HTTP {status}")
    assert WebhookEndpoint.objects.get(pk=delivery.endpoint_id).is_active


def test_redirects_are_not_followed(receiver, setup):
    _endpoint, _alert, delivery = setup
    receiver.answer(Reply(302, headers={"Location": "http://169.254.169.254/latest/meta-data/"}))
    assert send_delivery(delivery.pk).result == "failed"
    assert "redirects are not followed" in reload(delivery).last_error
    assert len(receiver.requests) == 1


def test_a_rotated_secret_signs_the_next_delivery(cast, receiver, setup):
    endpoint, _alert, delivery = setup
    new_secret = "whsec_" + "B" * 32
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(secret=new_secret)
    send_delivery(delivery.pk)
    (request,) = receiver.requests
    assert verify_signature(secret=new_secret, headers=request.headers, body=request.body)
    assert not verify_signature(secret=SECRET, headers=request.headers, body=request.body)
