"""/api/v1/me/reminders/, /api/v1/push/key/ and /api/v1/me/push-subscriptions/ (api-contract.md,
"Reminders and push"): the patient's own, 404 for everybody else, 400 naming the field."""

from __future__ import annotations

import pytest

from accounts.models import AuditEvent, Patient
from rehab.models import PushSubscription
from tests.reminders.pushservice import BrowserSubscription

pytestmark = pytest.mark.django_db

REMINDERS = "/api/v1/me/reminders/"
DEVICES = "/api/v1/me/push-subscriptions/"
KEY = "/api/v1/push/key/"
VALID = {"enabled": True, "time": "07:30", "channels": ["email"], "timezone": "Europe/Madrid"}


def _device(name: str = "a") -> dict:
    return BrowserSubscription.create(f"https://fcm.googleapis.com/fcm/send/{name}").to_json()


def test_defaults_are_on_at_1900_by_email_in_the_clinics_zone(cast, api) -> None:
    cast.patient_a.timezone = "Europe/London"
    cast.patient_a.save()

    response = api(cast.patient_a.user).get(REMINDERS)

    assert response.status_code == 200
    assert response.json() == {
        "enabled": True,
        "time": "19:00",
        "channels": ["email"],
        "timezone": "Europe/London",
    }


def test_the_patient_changes_their_reminder(cast, api) -> None:
    client = api(cast.patient_a.user)

    response = client.put(
        REMINDERS, {**VALID, "channels": ["email", "push"], "enabled": False}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json() == {
        "enabled": False,
        "time": "07:30",
        "channels": ["push", "email"],
        "timezone": "Europe/Madrid",
    }
    assert client.get(REMINDERS).json() == response.json()
    patient = Patient.objects.get(pk=cast.patient_a.pk)
    assert patient.timezone_confirmed
    event = AuditEvent.objects.get(action="reminders.updated")
    assert (event.actor_id, event.patient_id) == (cast.patient_a.user.pk, cast.patient_a.pk)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("timezone", "Mars/Olympus_Mons"),
        ("timezone", "../../etc/passwd"),
        ("timezone", ""),
        ("time", "25:00"),
        ("time", "7:30"),
        ("time", "19:00:00"),
        ("time", 1900),
        ("channels", ["sms"]),
        ("channels", "email"),
        ("enabled", "perhaps"),
    ],
)
def test_bad_values_are_refused_naming_the_field(cast, api, field, value) -> None:
    response = api(cast.patient_a.user).put(REMINDERS, {**VALID, field: value}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert Patient.objects.get(pk=cast.patient_a.pk).timezone == "UTC"


@pytest.mark.parametrize("persona", ["therapist", "admin", "other_therapist"])
def test_staff_have_no_reminders_here(cast, api, persona) -> None:
    client = api(getattr(cast, persona))

    assert client.get(REMINDERS).status_code == 404
    assert client.put(REMINDERS, VALID, format="json").status_code == 404
    assert client.get(DEVICES).status_code == 404
    assert client.post(DEVICES, _device(), format="json").status_code == 404
    assert not PushSubscription.objects.exists()


def test_anonymous_gets_401(api) -> None:
    for path in (REMINDERS, DEVICES, KEY):
        assert api(None).get(path).status_code == 401


def test_each_patient_sees_and_changes_only_their_own(cast, api) -> None:
    api(cast.patient_a.user).put(REMINDERS, VALID, format="json")

    assert api(cast.patient_b.user).get(REMINDERS).json()["time"] == "19:00"


def test_the_push_key_is_the_configured_public_key(cast, api, vapid) -> None:
    public_key, _ = vapid

    response = api(cast.patient_a.user).get(KEY)

    assert response.status_code == 200
    assert response.json() == {"public_key": public_key}
    assert "=" not in public_key and len(public_key) == 87  # base64url of 65 bytes


def test_without_keys_in_production_push_is_off(cast, api, settings) -> None:
    settings.DEBUG = False
    settings.PAIS_VAPID_PUBLIC_KEY = ""
    settings.PAIS_VAPID_PRIVATE_KEY = ""

    assert api(cast.patient_a.user).get(KEY).status_code == 404


def test_subscribe_is_201_then_200_and_turns_push_on(cast, api) -> None:
    client = api(cast.patient_a.user)
    device = _device()

    first = client.post(DEVICES, device, format="json")
    again = client.post(DEVICES, device, format="json")

    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["endpoint"] == device["endpoint"]
    assert PushSubscription.objects.get().patient == cast.patient_a
    assert client.get(REMINDERS).json()["channels"] == ["push", "email"]
    assert client.get(DEVICES).json()["count"] == 1
    assert AuditEvent.objects.filter(action="push_subscription.added").count() == 1


def test_new_keys_for_a_known_endpoint_replace_the_old_ones(cast, api) -> None:
    client = api(cast.patient_a.user)
    device = _device()
    client.post(DEVICES, device, format="json")
    renewed = {**device, "keys": _device()["keys"]}

    assert client.post(DEVICES, renewed, format="json").status_code == 200

    assert PushSubscription.objects.get().p256dh == renewed["keys"]["p256dh"]


def test_a_shared_phone_belongs_to_who_subscribed_last(cast, api) -> None:
    device = _device()
    api(cast.patient_a.user).post(DEVICES, device, format="json")

    api(cast.patient_b.user).post(DEVICES, device, format="json")

    assert PushSubscription.objects.get().patient == cast.patient_b
    assert api(cast.patient_a.user).get(DEVICES).json()["count"] == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"endpoint": "not a url"}, "endpoint"),
        ({"endpoint": "http://push.example.com/x"}, "endpoint"),
        ({"keys": {"p256dh": "a b c", "auth": "x"}}, "keys"),
        ({"keys": {"auth": "abc"}}, "keys"),
    ],
)
def test_bad_subscriptions_are_refused(cast, api, change, field) -> None:
    response = api(cast.patient_a.user).post(DEVICES, {**_device(), **change}, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not PushSubscription.objects.exists()


def test_delete_by_endpoint_is_204_and_only_for_ones_own(cast, api) -> None:
    device = _device()
    api(cast.patient_a.user).post(DEVICES, device, format="json")
    query = {"endpoint": device["endpoint"]}

    assert api(cast.patient_b.user).delete(DEVICES, QUERY_STRING=_qs(query)).status_code == 404
    assert PushSubscription.objects.exists()
    response = api(cast.patient_a.user).delete(DEVICES, QUERY_STRING=_qs(query))

    assert response.status_code == 204
    assert not PushSubscription.objects.exists()
    # The last device gone: push is off again.
    assert api(cast.patient_a.user).get(REMINDERS).json()["channels"] == ["email"]
    assert api(cast.patient_a.user).delete(DEVICES, QUERY_STRING=_qs(query)).status_code == 404
    missing = api(cast.patient_a.user).delete(DEVICES)
    assert missing.status_code == 400 and "endpoint" in missing.json()


def _qs(params: dict[str, str]) -> str:
    from urllib.parse import urlencode

    return urlencode(params)
