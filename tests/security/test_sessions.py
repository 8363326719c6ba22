"""Sessions: a new key at sign-in, gone at sign-out, an idle timeout for staff (30 minutes) and
an absolute lifetime (12 hours for staff, 30 days for patients)."""

from __future__ import annotations

import datetime as dt
from importlib import import_module

import pytest
import time_machine
from django.conf import settings as django_settings
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone

from tests.security.helpers import LOGIN, LOGOUT, sign_in

pytestmark = pytest.mark.django_db

SESSION_COOKIE = django_settings.SESSION_COOKIE_NAME


def _store():
    return import_module(django_settings.SESSION_ENGINE).SessionStore()


@pytest.fixture
def clock():
    start = timezone.now().replace(microsecond=0)
    with time_machine.travel(start, tick=False) as traveller:
        yield traveller


def _signed_in(client: Client, email: str) -> Client:
    response = sign_in(client, email)
    assert response.status_code == 302, response
    return client


def _replay(cookie_value: str) -> Client:
    """A second browser holding a copy of the session cookie (as a thief would)."""
    thief = Client()
    thief.cookies[SESSION_COOKIE] = cookie_value
    return thief


def test_the_documented_figures_are_the_defaults():
    assert django_settings.PAIS_STAFF_IDLE_TIMEOUT_SECONDS == 30 * 60
    assert django_settings.PAIS_STAFF_SESSION_LIFETIME_SECONDS == 12 * 3600
    assert django_settings.PAIS_PATIENT_SESSION_LIFETIME_SECONDS == 30 * 86400
    assert django_settings.SESSION_COOKIE_AGE == 30 * 86400
    assert django_settings.SESSION_COOKIE_HTTPONLY is True


# --- A new session at sign-in, none after sign-out -----------------------------------------------


def test_signing_in_gives_a_new_session_key(cast):
    client = Client()
    planted = client.session  # a session that existed before signing in (e.g. planted)
    planted["probe"] = "before"
    planted.save()
    before = planted.session_key
    assert client.cookies[SESSION_COOKIE].value == before

    _signed_in(client, cast.therapist.email)
    after = client.cookies[SESSION_COOKIE].value
    assert after != before
    assert not _store().exists(before)
    assert client.get("/").status_code == 200
    # The key somebody planted before sign-in does not carry the signed-in session.
    assert _replay(before).get("/").status_code == 302


def test_sign_out_ends_the_session_on_the_server(cast):
    client = _signed_in(Client(), cast.therapist.email)
    cookie = client.cookies[SESSION_COOKIE].value
    copy = _replay(cookie)
    assert copy.get("/").status_code == 200  # the copied cookie works while signed in

    assert client.post(LOGOUT).status_code == 302
    assert not _store().exists(cookie)
    response = copy.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
    assert copy.get("/api/v1/patients/").status_code in {401, 403}


def test_staff_cookie_lasts_twelve_hours_and_patient_cookie_thirty_days(cast):
    staff = sign_in(Client(), cast.therapist.email)
    assert int(staff.cookies[SESSION_COOKIE]["max-age"]) == 12 * 3600
    assert staff.cookies[SESSION_COOKIE]["httponly"]
    patient = sign_in(Client(), cast.patient_a.user.email)
    assert int(patient.cookies[SESSION_COOKIE]["max-age"]) == 30 * 86400


# --- Idle timeout --------------------------------------------------------------------------------


def test_staff_idle_for_29_minutes_stay_signed_in(cast, clock):
    client = _signed_in(Client(), cast.therapist.email)
    clock.shift(dt.timedelta(minutes=29))
    assert client.get("/").status_code == 200
    # Each request restarts the idle clock: 29 more minutes are fine again.
    clock.shift(dt.timedelta(minutes=29))
    assert client.get("/patients/").status_code == 200


def test_staff_idle_for_31_minutes_are_signed_out_with_a_message(cast, clock):
    client = _signed_in(Client(), cast.admin.email)
    cookie = client.cookies[SESSION_COOKIE].value
    clock.shift(dt.timedelta(minutes=31))
    response = client.get("/patients/")
    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN}?next=/patients/"
    assert not _store().exists(cookie)
    login_page = client.get(response["Location"])
    assert "signed out after 30 minutes without activity" in login_page.content.decode()
    assert client.get("/").status_code == 302


def test_staff_idle_api_session_is_signed_out(cast, clock):
    client = _signed_in(Client(), cast.therapist.email)
    assert client.get("/api/v1/patients/").status_code == 200
    clock.shift(dt.timedelta(minutes=31))
    assert client.get("/api/v1/patients/").status_code in {401, 403}
    assert client.get("/").status_code == 302


def test_patients_have_no_idle_timeout(cast, clock):
    client = _signed_in(Client(), cast.patient_a.user.email)
    clock.shift(dt.timedelta(hours=20))
    assert client.get("/").status_code == 200
    clock.shift(dt.timedelta(days=6))
    assert client.get("/").status_code == 200


# --- Absolute lifetime ---------------------------------------------------------------------------


def test_staff_session_ends_twelve_hours_after_sign_in_however_active(cast, clock):
    client = _signed_in(Client(), cast.therapist.email)
    for _ in range(35):  # a request every 20 minutes for 11 h 40 min
        clock.shift(dt.timedelta(minutes=20))
        assert client.get("/").status_code == 200
    clock.shift(dt.timedelta(minutes=21))  # 12 h 1 min after signing in
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert messages == [
        "For your security, sessions end 12 hours after signing in. Please sign in again."
    ]


def test_patient_session_ends_thirty_days_after_sign_in(cast, clock):
    client = _signed_in(Client(), cast.patient_a.user.email)
    for _ in range(29):
        clock.shift(dt.timedelta(days=1))
        assert client.get("/").status_code == 200
    clock.shift(dt.timedelta(days=1, minutes=1))
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


def test_signing_in_again_starts_a_fresh_lifetime(cast, clock):
    client = _signed_in(Client(), cast.therapist.email)
    clock.shift(dt.timedelta(hours=11, minutes=50))
    client.post(LOGOUT)
    _signed_in(client, cast.therapist.email)
    clock.shift(dt.timedelta(minutes=20))
    assert client.get("/").status_code == 200


def test_the_timeouts_follow_the_settings(cast, clock, settings):
    settings.PAIS_STAFF_IDLE_TIMEOUT_SECONDS = 5 * 60
    client = _signed_in(Client(), cast.therapist.email)
    clock.shift(dt.timedelta(minutes=4))
    assert client.get("/").status_code == 200
    clock.shift(dt.timedelta(minutes=6))
    response = client.get("/")
    assert response.status_code == 302
    assert "signed out after 5 minutes without activity" in client.get(LOGIN).content.decode()
