"""Web Push end to end: the patient's browser subscribes through the API, the reminder job runs,
and a push service on 127.0.0.1 receives a message it can authenticate (VAPID, RFC 8292) and
the browser can decrypt (RFC 8291). A push service answering 404/410 makes us forget the device;
other failures are retried; an endpoint that is not https or not public is never called."""

from __future__ import annotations

import datetime as dt
import socket

import pytest

from accounts.models import AuditEvent, Patient
from rehab.models import Channel, Delivery, DeliveryStatus, PushSubscription, ReminderLog
from rehab.notify.sender import send_delivery
from rehab.tasks import send_reminders
from tests.factories import DailyEntryFactory, EpisodeFactory, PatientFactory
from tests.reminders.pushservice import BrowserSubscription, PushService, vapid_claims

pytestmark = pytest.mark.django_db


def _due_patient(cast) -> Patient:
    """A patient whose reminder is due whenever the test runs: 00:00 UTC, nothing logged."""
    patient = PatientFactory(therapist=cast.therapist, user__email="phone@riverside.test")
    EpisodeFactory(patient=patient, start_date=dt.date.today() - dt.timedelta(days=10))
    patient.reminder_time = dt.time(0, 0)
    patient.reminder_by_email = False
    patient.save()
    # The cast's patients keep the default 19:00 reminder, due too when the suite runs in the
    # evening (UTC): only this patient is to be reminded here.
    Patient.objects.exclude(pk=patient.pk).update(reminders_enabled=False)
    return patient


def _subscribe(api, patient: Patient, browser: BrowserSubscription) -> None:
    response = api(patient.user).post(
        "/api/v1/me/push-subscriptions/", browser.to_json(), format="json"
    )
    assert response.status_code == 201, response.content


def _run_job(capture) -> int:
    with capture(execute=True):
        return send_reminders.delay().get()


def test_a_reminder_reaches_the_phone_signed_and_encrypted(
    cast, api, vapid, push_service: PushService, django_capture_on_commit_callbacks
) -> None:
    public_key, _private = vapid
    patient = _due_patient(cast)
    browser = BrowserSubscription.create(push_service.endpoint("device-1"))
    _subscribe(api, patient, browser)

    assert _run_job(django_capture_on_commit_callbacks) == 1

    (message,) = push_service.received
    assert message.path == "/push/device-1"
    assert message.headers["content-encoding"] == "aes128gcm"
    assert int(message.headers["ttl"]) > 0
    claims = vapid_claims(
        message.headers["authorization"], public_key=public_key, audience=push_service.origin
    )
    assert claims["sub"] == "mailto:ops@riverside.test"
    payload = browser.decrypt(message.body)
    assert payload == {
        "title": "Rehab diary",
        "body": "A minute for today's diary? Tap to fill it in.",
        "url": "/",
    }
    # No name, no health data on a lock screen.
    assert patient.user.first_name not in str(payload)
    delivery = Delivery.objects.get(channel=Channel.PUSH)
    assert delivery.status == DeliveryStatus.DELIVERED
    assert PushSubscription.objects.get().last_used_at is not None

    # Once a day: the next run sends nothing more.
    assert _run_job(django_capture_on_commit_callbacks) == 0
    assert len(push_service.received) == 1


def test_every_subscribed_device_gets_one(
    cast, api, vapid, push_service: PushService, django_capture_on_commit_callbacks
) -> None:
    patient = _due_patient(cast)
    phone = BrowserSubscription.create(push_service.endpoint("phone"))
    tablet = BrowserSubscription.create(push_service.endpoint("tablet"))
    _subscribe(api, patient, phone)
    _subscribe(api, patient, tablet)

    _run_job(django_capture_on_commit_callbacks)

    by_path = {message.path: message for message in push_service.received}
    assert set(by_path) == {"/push/phone", "/push/tablet"}
    assert phone.decrypt(by_path["/push/phone"].body)["url"] == "/"
    assert tablet.decrypt(by_path["/push/tablet"].body)["url"] == "/"


def test_no_push_when_the_day_is_logged(
    cast, api, vapid, push_service: PushService, django_capture_on_commit_callbacks
) -> None:
    patient = _due_patient(cast)
    _subscribe(api, patient, BrowserSubscription.create(push_service.endpoint("d")))
    DailyEntryFactory(episode=patient.episodes.get(), date=patient.local_today())

    assert _run_job(django_capture_on_commit_callbacks) == 0
    assert push_service.received == []


@pytest.mark.parametrize("status", [404, 410])
def test_a_gone_subscription_is_deleted(
    cast, api, vapid, push_service: PushService, django_capture_on_commit_callbacks, status
) -> None:
    patient = _due_patient(cast)
    _subscribe(api, patient, BrowserSubscription.create(push_service.endpoint("gone")))
    push_service.status = status

    _run_job(django_capture_on_commit_callbacks)

    assert len(push_service.received) == 1
    assert not PushSubscription.objects.exists()
    assert not Delivery.objects.filter(channel=Channel.PUSH).exists()
    assert AuditEvent.objects.filter(action="push_subscription.gone").count() == 1
    # The day counts as reminded (the ReminderLog stays); tomorrow there is no device to call.
    assert ReminderLog.objects.filter(patient=patient).count() == 1


def test_a_failing_push_service_is_retried_and_the_retry_delivers(
    cast, api, vapid, push_service: PushService, django_capture_on_commit_callbacks
) -> None:
    patient = _due_patient(cast)
    browser = BrowserSubscription.create(push_service.endpoint("busy"))
    _subscribe(api, patient, browser)
    push_service.status = 503

    _run_job(django_capture_on_commit_callbacks)

    delivery = Delivery.objects.get(channel=Channel.PUSH)
    assert delivery.status == DeliveryStatus.PENDING  # waiting for its retry
    assert delivery.attempts == 1
    assert PushSubscription.objects.exists()

    push_service.status = 201
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=delivery.created_at)
    assert send_delivery(delivery.pk).result == "delivered"
    assert send_delivery(delivery.pk).result == "skipped"  # never twice
    assert len(push_service.received) == 2
    assert browser.decrypt(push_service.received[-1].body)["title"] == "Rehab diary"


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://127.0.0.1:9/push/x",
        "https://10.0.0.7/push/x",
        "https://169.254.169.254/latest/",
        "https://[::1]/push/x",
        "https://push.internal.test/x",  # resolves to a private address below
    ],
)
def test_private_endpoints_are_never_called_without_the_override(
    cast, vapid, monkeypatch, django_capture_on_commit_callbacks, endpoint
) -> None:
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host == "push.internal.test":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.1.2.3", port))]
        return real(host, port, *args, **kwargs)

    connections: list[object] = []
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: connections.append(a))
    patient = _due_patient(cast)
    browser = BrowserSubscription.create(endpoint)
    # Stored as the browser gave it (https passes the API's cheap check) ...
    PushSubscription.objects.create(
        patient=patient,
        endpoint=endpoint,
        p256dh=browser.to_json()["keys"]["p256dh"],
        auth=browser.to_json()["keys"]["auth"],
    )
    patient.reminder_by_push = True
    patient.save()

    _run_job(django_capture_on_commit_callbacks)

    # ... but refused at the send, for good, without a connection.
    delivery = Delivery.objects.get(channel=Channel.PUSH)
    assert delivery.status == DeliveryStatus.FAILED
    assert "address" in delivery.last_error
    assert connections == []


def test_plain_http_endpoints_are_refused_without_the_override(cast, api, vapid) -> None:
    patient = _due_patient(cast)
    browser = BrowserSubscription.create("http://push.example.com/x")

    response = api(patient.user).post(
        "/api/v1/me/push-subscriptions/", browser.to_json(), format="json"
    )

    assert response.status_code == 400
    assert "endpoint" in response.json()


def test_an_http_endpoint_stored_earlier_is_not_called(
    cast, vapid, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    connections: list[object] = []
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: connections.append(a))
    patient = _due_patient(cast)
    keys = BrowserSubscription.create("x").to_json()["keys"]
    PushSubscription.objects.create(
        patient=patient,
        endpoint="http://93.184.215.14/push",
        p256dh=keys["p256dh"],
        auth=keys["auth"],
    )
    patient.reminder_by_push = True
    patient.save()

    _run_job(django_capture_on_commit_callbacks)

    delivery = Delivery.objects.get(channel=Channel.PUSH)
    assert delivery.status == DeliveryStatus.FAILED
    assert "https" in delivery.last_error
    assert connections == []
