"""Two-factor sign-in (TOTP) for therapists and clinic admins: enrolment, the second step after
the password, recovery codes, the code lockout, the token endpoint, and a clinic requiring it."""

from __future__ import annotations

import datetime as dt
import re
from base64 import b32encode

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from accounts.models import ApiToken, AuditEvent, Clinic
from accounts.services import api_token_issue
from tests.conftest import PASSWORD
from tests.security.helpers import (
    LOGIN,
    LOGOUT,
    SETUP,
    TOKEN,
    VERIFY,
    enrol,
    sign_in,
    totp_at,
    wrong_code,
)

pytestmark = pytest.mark.django_db

STAFF_PAGES = ["/", "/patients/", "/alerts/", "/settings/thresholds/", "/accounts/security/"]


@pytest.fixture
def clock():
    start = timezone.now().replace(microsecond=0)
    with time_machine.travel(start, tick=False) as traveller:
        yield traveller


def _next_step(clock) -> None:
    """Move past the current TOTP step: each code is accepted once, so the next sign-in needs the
    next code (and django-otp's growing delay after a wrong code has passed)."""
    clock.shift(dt.timedelta(seconds=31))


@pytest.fixture
def enrolled(cast, clock):
    """The therapist with a confirmed authenticator; returns (device, recovery codes)."""
    browser = Client()
    browser.force_login(cast.therapist)
    device, codes = enrol(browser, cast.therapist)
    _next_step(clock)
    return device, codes


def _password_step(email: str) -> tuple[Client, str]:
    client = Client()
    response = sign_in(client, email)
    assert response.status_code == 302
    return client, response["Location"]


# --- Enrolment -----------------------------------------------------------------------------------


def test_enrolment_shows_a_qr_code_and_the_secret_then_confirms_with_a_code(cast, clock):
    browser = Client()
    browser.force_login(cast.therapist)
    page = browser.get(SETUP)
    assert page.status_code == 200
    device = TOTPDevice.objects.get(user=cast.therapist)
    assert device.confirmed is False
    html = page.content.decode()
    assert re.search(r"<svg[^>]*class=\"segno\"", html)
    assert "<script" not in html.split("<main", 1)[1]
    secret = b32encode(device.bin_key).decode().rstrip("=")
    assert page.context["secret"].replace(" ", "") == secret
    assert "otpauth://totp/PAIS%20rehab%3Atherapist%40riverside.test" in device.config_url
    assert f"secret={secret}" in device.config_url
    # Reloading keeps the same secret (the QR code may already be scanned).
    assert browser.get(SETUP).context["secret"] == page.context["secret"]

    wrong = browser.post(SETUP, {"code": wrong_code(device)})
    assert wrong.status_code == 200
    assert "did not match" in wrong.content.decode()
    device.refresh_from_db()
    assert device.confirmed is False

    _next_step(clock)
    done = browser.post(SETUP, {"code": totp_at(device)})
    assert done.status_code == 200
    codes = done.context["codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    for code in codes:
        assert code in done.content.decode()
    assert "no-store" in done["Cache-Control"]
    device.refresh_from_db()
    assert device.confirmed is True
    assert StaticToken.objects.filter(device__user=cast.therapist).count() == 10
    assert AuditEvent.objects.filter(action="two_factor.enabled", actor=cast.therapist).exists()
    # Enrolling verified this session, and the account page now says "on".
    assert browser.get("/").status_code == 200
    assert browser.get("/accounts/security/").context["has_two_factor"] is True
    # The codes are not shown again: the setup page now goes to the account page.
    assert browser.get(SETUP)["Location"] == "/accounts/security/"


def test_patients_are_never_asked_and_cannot_enrol(cast):
    browser = Client()
    assert sign_in(browser, cast.patient_a.user.email)["Location"] == "/"
    assert browser.get(SETUP).status_code == 403
    assert browser.get("/").status_code == 200
    patient_token = APIClient().post(
        TOKEN, {"email": cast.patient_a.user.email, "password": PASSWORD}, format="json"
    )
    assert patient_token.status_code == 200


# --- The second step after the password ----------------------------------------------------------


def test_sign_in_asks_for_the_code_and_nothing_opens_before_it(cast, enrolled, clock):
    device, _ = enrolled
    client, location = _password_step(cast.therapist.email)
    assert location == f"{VERIFY}?next=%2F"
    for page in STAFF_PAGES:
        response = client.get(page)
        assert response.status_code == 302, page
        assert response["Location"].startswith(VERIFY)
    api = client.get("/api/v1/patients/")
    assert api.status_code == 403
    assert "Two-factor" in api.json()["detail"]

    key_before = client.cookies["sessionid"].value
    response = client.post(f"{VERIFY}?next=/patients/", {"code": totp_at(device)})
    assert response.status_code == 302
    assert response["Location"] == "/patients/"
    assert client.cookies["sessionid"].value != key_before  # a new key for the verified session
    for page in STAFF_PAGES:
        assert client.get(page).status_code == 200, page
    assert client.get("/api/v1/patients/").status_code == 200


def test_a_wrong_code_is_refused(cast, enrolled):
    device, _ = enrolled
    client, _ = _password_step(cast.therapist.email)
    response = client.post(VERIFY, {"code": wrong_code(device)})
    assert response.status_code == 200
    assert "wrong or has expired" in response.content.decode()
    assert client.get("/").status_code == 302


def test_a_code_is_accepted_once(cast, enrolled):
    device, _ = enrolled
    code = totp_at(device)
    first, _ = _password_step(cast.therapist.email)
    assert first.post(VERIFY, {"code": code}).status_code == 302
    second, _ = _password_step(cast.therapist.email)
    replay = second.post(VERIFY, {"code": code})
    assert replay.status_code == 200
    assert second.get("/").status_code == 302


def test_a_recovery_code_works_once(cast, enrolled, clock):
    _, codes = enrolled
    first, _ = _password_step(cast.therapist.email)
    # As people type them: capitals and a space.
    typed = f"{codes[3][:4].upper()} {codes[3][4:]}"
    assert first.post(VERIFY, {"code": typed})["Location"] == "/"
    assert first.get("/").status_code == 200
    assert StaticToken.objects.filter(device__user=cast.therapist).count() == 9

    first.post(LOGOUT)
    second, _ = _password_step(cast.therapist.email)
    again = second.post(VERIFY, {"code": codes[3]})
    assert again.status_code == 200
    assert "wrong or has expired" in again.content.decode()
    _next_step(clock)
    assert second.post(VERIFY, {"code": codes[4]}).status_code == 302


def test_five_wrong_codes_lock_code_entry_for_fifteen_minutes(cast, enrolled, clock):
    device, _ = enrolled
    client, _ = _password_step(cast.therapist.email)
    for _ in range(5):
        clock.shift(dt.timedelta(seconds=20))  # past django-otp's own growing delay
        assert client.post(VERIFY, {"code": wrong_code(device)}).status_code == 200
    clock.shift(dt.timedelta(seconds=20))
    locked = client.post(VERIFY, {"code": totp_at(device)})
    assert locked.status_code == 429
    assert "Too many wrong codes" in locked.content.decode()
    assert client.get("/").status_code == 302
    clock.shift(dt.timedelta(minutes=15))
    assert client.post(VERIFY, {"code": totp_at(device)}).status_code == 302
    assert client.get("/").status_code == 200


def test_a_code_right_after_a_wrong_one_waits_for_django_otps_delay(cast, enrolled, clock):
    device, _ = enrolled
    client, _ = _password_step(cast.therapist.email)
    client.post(VERIFY, {"code": wrong_code(device)})
    too_soon = client.post(VERIFY, {"code": totp_at(device)})
    assert too_soon.status_code == 429
    assert "wait a few seconds" in too_soon.content.decode()
    clock.shift(dt.timedelta(seconds=2))
    assert client.post(VERIFY, {"code": totp_at(device)}).status_code == 302


def test_turning_off_needs_a_current_code(cast, enrolled, clock):
    device, _ = enrolled
    client, _ = _password_step(cast.therapist.email)
    client.post(VERIFY, {"code": totp_at(device)})
    _next_step(clock)
    refused = client.post("/accounts/two-factor/disable/", {"code": wrong_code(device)})
    assert refused.status_code == 200
    assert TOTPDevice.objects.filter(user=cast.therapist).exists()
    _next_step(clock)
    done = client.post("/accounts/two-factor/disable/", {"code": totp_at(device)})
    assert done["Location"] == "/accounts/security/"
    assert not TOTPDevice.objects.filter(user=cast.therapist).exists()
    assert not StaticToken.objects.filter(device__user=cast.therapist).exists()
    assert AuditEvent.objects.filter(action="two_factor.disabled", actor=cast.therapist).exists()
    # Next sign-in: the password is enough again.
    assert sign_in(Client(), cast.therapist.email)["Location"] == "/"


def test_new_recovery_codes_replace_the_old_ones(cast, enrolled, clock):
    device, old_codes = enrolled
    client, _ = _password_step(cast.therapist.email)
    client.post(VERIFY, {"code": totp_at(device)})
    _next_step(clock)
    response = client.post("/accounts/two-factor/recovery-codes/", {"code": totp_at(device)})
    assert response.status_code == 200
    new_codes = response.context["codes"]
    assert len(new_codes) == 10 and not set(new_codes) & set(old_codes)
    other, _ = _password_step(cast.therapist.email)
    assert other.post(VERIFY, {"code": old_codes[0]}).status_code == 200
    _next_step(clock)
    assert other.post(VERIFY, {"code": new_codes[0]}).status_code == 302


def test_enrolling_cannot_replace_an_authenticator_without_its_code(cast, enrolled):
    # A session that passed the password only must not swap in an authenticator of its own.
    client, _ = _password_step(cast.therapist.email)
    response = client.get(SETUP)
    assert response.status_code == 302
    assert TOTPDevice.objects.filter(user=cast.therapist).count() == 1


# --- The token endpoint --------------------------------------------------------------------------


def _obtain(email: str, **extra: str):
    return APIClient().post(TOKEN, {"email": email, "password": PASSWORD, **extra}, format="json")


def test_token_endpoint_requires_otp_for_enrolled_staff(cast, enrolled, clock):
    device, codes = enrolled
    missing = _obtain(cast.therapist.email)
    assert missing.status_code == 400
    assert list(missing.json()) == ["otp"]
    wrong = _obtain(cast.therapist.email, otp=wrong_code(device))
    assert wrong.status_code == 400
    assert list(wrong.json()) == ["otp"]
    assert not ApiToken.objects.exists()

    clock.shift(dt.timedelta(seconds=2))
    right = _obtain(cast.therapist.email, otp=totp_at(device))
    assert right.status_code == 200
    assert set(right.json()) == {"token"}
    # A recovery code works too, once.
    assert _obtain(cast.therapist.email, otp=codes[0]).status_code == 200
    assert _obtain(cast.therapist.email, otp=codes[0]).status_code == 400
    # Staff without an authenticator (clinic not requiring it) need no code.
    assert _obtain(cast.therapist_2.email).status_code == 200


def test_token_endpoint_bad_password_is_still_a_plain_400(cast, enrolled, clock):
    device, _ = enrolled
    response = APIClient().post(
        TOKEN,
        {"email": cast.therapist.email, "password": "wrong-password-1", "otp": totp_at(device)},
        format="json",
    )
    assert response.status_code == 400
    assert list(response.json()) == ["non_field_errors"]


def test_token_endpoint_code_lockout_is_429(cast, enrolled, clock):
    device, _ = enrolled
    for _ in range(5):
        clock.shift(dt.timedelta(seconds=20))
        assert _obtain(cast.therapist.email, otp=wrong_code(device)).status_code == 400
    clock.shift(dt.timedelta(seconds=20))
    locked = _obtain(cast.therapist.email, otp=totp_at(device))
    assert locked.status_code == 429
    assert int(locked["Retry-After"]) > 0


# --- A clinic that requires two-factor -----------------------------------------------------------


def _require(cast) -> None:
    admin = Client()
    admin.force_login(cast.admin)
    response = admin.post("/settings/security/", {"require_two_factor": "on"})
    assert response.status_code == 302


def test_required_two_factor_blocks_staff_until_enrolled(cast, clock):
    _require(cast)
    client, location = _password_step(cast.therapist.email)
    assert location == f"{SETUP}?next=%2F"
    for page in STAFF_PAGES:
        response = client.get(page)
        assert response.status_code == 302, page
        assert response["Location"].startswith(SETUP)
    assert client.get("/api/v1/episodes/").status_code == 403
    assert client.get(SETUP).status_code == 200

    device, codes = enrol(client, cast.therapist)
    assert len(codes) == 10
    for page in STAFF_PAGES:
        assert client.get(page).status_code == 200, page
    assert client.get("/api/v1/episodes/").status_code == 200
    # Next time: password, then code.
    _next_step(clock)
    again, location = _password_step(cast.therapist.email)
    assert location.startswith(VERIFY)
    assert again.post(VERIFY, {"code": totp_at(device)}).status_code == 302
    assert again.get("/").status_code == 200


def test_required_two_factor_refuses_tokens_until_enrolled(cast, api):
    phone = api(cast.therapist_2)
    assert phone.get("/api/v1/episodes/").status_code == 200
    patient_app = api(cast.patient_a.user)
    _require(cast)
    # Tokens got with a password alone stop working; patients' do not.
    assert phone.get("/api/v1/episodes/").status_code == 401
    assert patient_app.get("/api/v1/episodes/").status_code == 200
    refused = _obtain(cast.therapist_2.email)
    assert refused.status_code == 400
    assert list(refused.json()) == ["otp"]
    assert "requires two-factor" in refused.json()["otp"][0]
    assert _obtain(cast.patient_a.user.email).status_code == 200
    # Another clinic is not affected.
    assert _obtain(cast.other_therapist.email).status_code == 200


def test_only_the_clinic_admin_changes_the_requirement(cast):
    therapist = Client()
    therapist.force_login(cast.therapist)
    page = therapist.get("/settings/security/")
    assert page.status_code == 200
    assert "optional" in page.content.decode()
    assert therapist.post("/settings/security/", {"require_two_factor": "on"}).status_code == 403
    patient = Client()
    patient.force_login(cast.patient_a.user)
    assert patient.get("/settings/security/").status_code == 403
    assert Clinic.objects.get(pk=cast.clinic.pk).require_two_factor is False

    _require(cast)
    assert Clinic.objects.get(pk=cast.clinic.pk).require_two_factor is True
    assert Clinic.objects.get(pk=cast.other_clinic.pk).require_two_factor is False
    assert AuditEvent.objects.filter(
        action="clinic.two_factor_required", actor=cast.admin, clinic=cast.clinic
    ).exists()


def test_the_requirement_is_editable_in_the_django_admin(cast, clock):
    key = api_token_issue(user=cast.therapist)
    operator = Client()
    from accounts.models import User

    operator.force_login(User.objects.create_superuser("root@example.test", "correct-horse-1"))
    created = cast.clinic.created_at
    response = operator.post(
        f"/admin/accounts/clinic/{cast.clinic.pk}/change/",
        {
            "name": cast.clinic.name,
            "slug": cast.clinic.slug,
            "require_two_factor": "on",
            "created_at_0": created.strftime("%Y-%m-%d"),
            "created_at_1": created.strftime("%H:%M:%S"),
        },
    )
    assert response.status_code == 302
    assert Clinic.objects.get(pk=cast.clinic.pk).require_two_factor is True
    assert ApiToken.objects.get(user=cast.therapist).revoked_at is not None
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/episodes/").status_code == 401


def test_sign_out_stays_open_while_the_second_step_is_pending(cast, enrolled):
    client, _ = _password_step(cast.therapist.email)
    assert client.post(LOGOUT).status_code == 302
    assert client.get(LOGIN).status_code == 200
    assert "_auth_user_id" not in client.session
