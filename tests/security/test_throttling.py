"""Sign-in throttles: per-account lockout after failed passwords, per-address rate limits.

Figures (config/settings.py, docs/security.md): 10 failed passwords for one address within
15 minutes lock it for 15 minutes; each sign-in endpoint takes 30 requests a minute per address.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken, AuditEvent
from tests.conftest import PASSWORD
from tests.security.helpers import TOKEN, sign_in

pytestmark = pytest.mark.django_db

WRONG = "not-the-password-1"


@pytest.fixture
def clock():
    start = timezone.now().replace(microsecond=0)
    with time_machine.travel(start, tick=False) as traveller:
        yield traveller


def _locked_message(response) -> str:
    assert response.status_code == 200
    errors = response.context["form"].non_field_errors()
    assert len(errors) == 1
    return str(errors[0])


def _fail_n(client: Client, email: str, n: int) -> None:
    for _ in range(n):
        response = sign_in(client, email, WRONG)
        assert response.status_code == 200
        assert "_auth_user_id" not in client.session


def test_the_documented_figures_are_the_defaults():
    assert django_settings.PAIS_LOGIN_FAILURE_LIMIT == 10
    assert django_settings.PAIS_LOGIN_FAILURE_WINDOW_SECONDS == 15 * 60
    assert django_settings.PAIS_LOGIN_LOCKOUT_SECONDS == 15 * 60
    assert django_settings.PAIS_AUTH_RATE_PER_MINUTE == 30
    assert django_settings.PAIS_OTP_FAILURE_LIMIT == 5


# --- Lockout on the login page -------------------------------------------------------------------


def test_ten_failures_lock_the_account_and_the_right_password_gets_the_same_answer(cast, clock):
    email = cast.therapist.email
    client = Client()
    _fail_n(client, email, 9)
    ninth_more = sign_in(client, email, WRONG)  # the 10th failure locks
    locked_wrong = _locked_message(ninth_more)
    assert "locked" in locked_wrong and "15 minutes" in locked_wrong

    locked_right = sign_in(client, email, PASSWORD)
    assert _locked_message(locked_right) == locked_wrong
    assert "_auth_user_id" not in client.session
    # Also from a fresh browser, and whatever the case of the address.
    assert _locked_message(sign_in(Client(), email.upper(), PASSWORD)) == locked_wrong

    # Exactly one audit row says the account was locked (nobody is named: we do not know who).
    locked = AuditEvent.objects.filter(action="auth.locked_out", object_id=str(cast.therapist.pk))
    assert locked.count() == 1
    assert locked.get().actor is None and locked.get().clinic_id == cast.clinic.pk


def test_the_lock_ends_after_fifteen_minutes(cast, clock):
    email = cast.patient_a.user.email
    _fail_n(Client(), email, 10)
    clock.shift(dt.timedelta(minutes=14, seconds=50))
    assert "locked" in _locked_message(sign_in(Client(), email, PASSWORD))
    clock.shift(dt.timedelta(seconds=15))
    response = sign_in(Client(), email, PASSWORD)
    assert response.status_code == 302


def test_a_successful_sign_in_resets_the_count(cast, clock):
    email = cast.therapist.email
    _fail_n(Client(), email, 9)
    assert sign_in(Client(), email, PASSWORD).status_code == 302
    _fail_n(Client(), email, 9)
    # 18 failures in all, but never 10 since the last success: not locked.
    assert sign_in(Client(), email, PASSWORD).status_code == 302


def test_failures_older_than_the_window_do_not_count(cast, clock):
    email = cast.therapist.email
    _fail_n(Client(), email, 9)
    clock.shift(dt.timedelta(minutes=16))
    _fail_n(Client(), email, 9)
    assert sign_in(Client(), email, PASSWORD).status_code == 302


def test_unknown_addresses_lock_like_known_ones(db, clock):
    # Otherwise the lockout itself would tell which addresses have accounts.
    client = Client()
    _fail_n(client, "nobody@riverside.test", 9)
    message = _locked_message(sign_in(client, "nobody@riverside.test", WRONG))
    assert "locked" in message


def test_one_locked_account_leaves_the_others_alone(cast, clock):
    _fail_n(Client(), cast.therapist.email, 10)
    assert sign_in(Client(), cast.therapist_2.email, PASSWORD).status_code == 302


# --- Lockout on the token endpoint ---------------------------------------------------------------


def _obtain(email: str, password: str, **extra: str):
    return APIClient().post(TOKEN, {"email": email, "password": password}, format="json", **extra)


def test_token_endpoint_ordinary_failures_are_400_then_the_lock_is_429(cast, clock):
    email = cast.therapist.email
    for _ in range(9):
        response = _obtain(email, WRONG)
        assert response.status_code == 400
        assert "non_field_errors" in response.json()
    tenth = _obtain(email, WRONG)
    assert tenth.status_code == 429
    assert int(tenth["Retry-After"]) == 15 * 60
    right = _obtain(email, PASSWORD)
    assert right.status_code == 429
    assert right.json() == tenth.json()
    assert 0 < int(right["Retry-After"]) <= 15 * 60
    assert not ApiToken.objects.exists()


def test_the_page_and_the_api_share_one_count(cast, clock):
    email = cast.therapist.email
    _fail_n(Client(), email, 5)
    for _ in range(4):
        assert _obtain(email, WRONG).status_code == 400
    assert _obtain(email, WRONG).status_code == 429
    assert "locked" in _locked_message(sign_in(Client(), email, PASSWORD))


def test_client_login_is_locked_too(cast, clock):
    # Every password check goes through the backend, so no path gets around the lockout.
    _fail_n(Client(), cast.therapist.email, 10)
    assert Client().login(username=cast.therapist.email, password=PASSWORD) is False


# --- Per-address rate ----------------------------------------------------------------------------


def test_token_endpoint_takes_thirty_requests_a_minute_per_address(cast, clock):
    answers = [
        _obtain(f"guess{i}@riverside.test", WRONG, REMOTE_ADDR="203.0.113.7").status_code
        for i in range(30)
    ]
    assert answers == [400] * 30
    throttled = _obtain(cast.therapist.email, PASSWORD, REMOTE_ADDR="203.0.113.7")
    assert throttled.status_code == 429
    assert 1 <= int(throttled["Retry-After"]) <= 60
    assert not ApiToken.objects.exists()
    # Another address is not affected ...
    assert _obtain(cast.therapist.email, PASSWORD, REMOTE_ADDR="203.0.113.8").status_code == 200
    # ... and the next minute the first one may try again.
    clock.shift(dt.timedelta(seconds=61))
    assert _obtain(cast.therapist.email, PASSWORD, REMOTE_ADDR="203.0.113.7").status_code == 200


def test_login_page_is_rate_limited_per_address(cast, clock):
    client = Client(REMOTE_ADDR="198.51.100.4")
    for i in range(30):
        assert sign_in(client, f"guess{i}@riverside.test", WRONG).status_code == 200
    response = sign_in(client, cast.patient_a.user.email, PASSWORD)
    assert response.status_code == 429
    assert response["Retry-After"]
    assert "Too many attempts from your network" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_login_page_and_the_token_endpoint_share_the_address_count(cast, clock):
    client = Client(REMOTE_ADDR="198.51.100.5")
    for i in range(20):
        sign_in(client, f"guess{i}@riverside.test", WRONG)
    for i in range(10):
        response = _obtain(f"more{i}@riverside.test", WRONG, REMOTE_ADDR="198.51.100.5")
        assert response.status_code == 400
    assert _obtain(cast.therapist.email, PASSWORD, REMOTE_ADDR="198.51.100.5").status_code == 429


def test_invitation_accept_is_rate_limited_per_address(db, clock):
    for _ in range(30):
        response = APIClient().post(
            "/api/v1/auth/invitations/accept/",
            {"token": "guessed-token", "password": "ankle-diary-spring-2026"},
            format="json",
            REMOTE_ADDR="192.0.2.9",
        )
        assert response.status_code == 400
    response = APIClient().post(
        "/api/v1/auth/invitations/accept/",
        {"token": "guessed-token", "password": "ankle-diary-spring-2026"},
        format="json",
        REMOTE_ADDR="192.0.2.9",
    )
    assert response.status_code == 429
    page = Client(REMOTE_ADDR="192.0.2.9").get("/invite/guessed-token/")
    assert page.status_code == 429
    assert Client(REMOTE_ADDR="192.0.2.10").get("/invite/guessed-token/").status_code == 404


def test_behind_a_trusted_proxy_the_forwarded_address_counts(cast, clock, settings):
    settings.PAIS_TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.1"
    for i in range(30):
        _obtain(
            f"guess{i}@riverside.test",
            WRONG,
            REMOTE_ADDR=proxy,
            HTTP_X_FORWARDED_FOR="203.0.113.50",
        )
    blocked = _obtain(
        cast.therapist.email, PASSWORD, REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="203.0.113.50"
    )
    assert blocked.status_code == 429
    # Another client behind the same proxy is a different address. A client cannot escape by
    # writing its own X-Forwarded-For: only the entry our proxy appended (the last) counts.
    other = _obtain(
        cast.therapist.email,
        PASSWORD,
        REMOTE_ADDR=proxy,
        HTTP_X_FORWARDED_FOR="203.0.113.50, 203.0.113.51",
    )
    assert other.status_code == 200
    spoofed = _obtain(
        cast.therapist.email,
        PASSWORD,
        REMOTE_ADDR=proxy,
        HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.50",
    )
    assert spoofed.status_code == 429


def test_sign_in_still_works_when_the_throttle_cache_is_unreachable(cast, settings, caplog):
    # Nothing listens on port 1: every cache call fails at once, as in a Redis outage.
    settings.CACHES = {
        **settings.CACHES,
        "throttle": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        },
    }
    # (Changing CACHES through the settings fixture makes Django rebuild its cache handlers.)
    wrong = _obtain(cast.therapist.email, WRONG)
    right = _obtain(cast.therapist.email, PASSWORD)
    page = Client().post(
        "/accounts/login/", {"username": cast.therapist.email, "password": PASSWORD}
    )
    assert wrong.status_code == 400
    assert right.status_code == 200 and "token" in right.json()
    assert page.status_code == 302
    assert "Throttle cache unreachable" in caplog.text
