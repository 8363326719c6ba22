"""Attacks on the second step of sign-in, from the outside (issue 10, finding 1 and 11).

The attack that got through: a staff member with an authenticator signs in with the password
only, then sends every request with an ``Authorization`` header of any kind (``x``, ``Bogus x``,
``Bearer x``). The two-factor gate used to step aside for any such header, and DRF, finding no
token it knew, fell back on the session: pages, the PDF report, the API and page form POSTs all
answered as if the code had been entered. A session that owes its second step now reaches only
the verify and enrolment pages, whatever it sends; an API request gets through only when a valid
token authenticates it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client, override_settings
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from accounts.checks import check_two_factor_gate
from accounts.models import ApiToken, AuditEvent, User
from accounts.services import api_token_issue
from rehab.models import EpisodeStatus
from tests.conftest import PASSWORD
from tests.factories import UserFactory
from tests.security.helpers import SETUP, TOKEN, VERIFY, enrol, sign_in, totp_at

pytestmark = pytest.mark.django_db

# Every header the attack used, and a few more a client might send: none of them is a token.
FAKE_AUTHORIZATION = ["x", "Bogus x", "Bearer x", "Token x", "Basic dGhlcmFwaXN0OnB3", "Token"]


def _pages(cast) -> list[str]:
    episode = cast.episode_a.pk
    return [
        "/",
        "/patients/",
        f"/patients/{cast.patient_a.pk}/",
        "/alerts/",
        f"/episodes/{episode}/",
        f"/episodes/{episode}/report/",
        f"/episodes/{episode}/report.pdf",
        "/accounts/security/",
        "/settings/audit/",
        "/admin/",
        "/admin/login/",
        "/admin/accounts/user/",
    ]


def _api(cast) -> list[str]:
    episode = cast.episode_a.pk
    return [
        "/api/v1/patients/",
        f"/api/v1/patients/{cast.patient_a.pk}/",
        f"/api/v1/episodes/{episode}/",
        f"/api/v1/episodes/{episode}/entries/",
        "/api/v1/alerts/",
        "/api/v1/auth/tokens/",
    ]


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    start = timezone.now().replace(microsecond=0)
    with time_machine.travel(start, tick=False) as traveller:
        yield traveller


@pytest.fixture
def device(cast, clock) -> TOTPDevice:
    """The therapist has an authenticator (and the attacker has only the password)."""
    browser = Client()
    browser.force_login(cast.therapist)
    enrolled, _ = enrol(browser, cast.therapist)
    clock.shift(dt.timedelta(seconds=31))
    return enrolled


def _password_only(email: str, expected_step: str) -> Client:
    client = Client()
    response = sign_in(client, email)
    assert response.status_code == 302
    assert response["Location"].startswith(expected_step)
    return client


def _assert_nothing_reached(response, cast, step_page: str) -> None:
    """A page answers with a redirect to the second step; the API with 403; neither shows data."""
    body = response.content.decode(errors="replace")
    for private in (cast.patient_a.user.email, cast.patient_a.user.last_name, "%PDF"):
        assert private not in body
    if response.status_code == 302:
        assert response["Location"].startswith(step_page), response["Location"]
    else:
        assert response.status_code == 403, (response.status_code, body[:300])


@pytest.mark.parametrize("authorization", FAKE_AUTHORIZATION)
def test_a_password_alone_opens_no_page_or_api_call_whatever_the_header(
    cast, device, authorization
):
    client = _password_only(cast.therapist.email, VERIFY)
    for path in _pages(cast):
        response = client.get(path, HTTP_AUTHORIZATION=authorization)
        assert response.status_code == 302, (path, response.status_code)
        _assert_nothing_reached(response, cast, VERIFY)
    for path in _api(cast):
        response = client.get(path, HTTP_AUTHORIZATION=authorization)
        assert response.status_code in (401, 403), (path, response.status_code)
        _assert_nothing_reached(response, cast, VERIFY)


@pytest.mark.parametrize("authorization", ["x", "Bogus x", "Bearer x"])
def test_form_posts_and_api_writes_change_nothing_without_the_code(cast, device, authorization):
    client = _password_only(cast.therapist.email, VERIFY)
    users_before = User.objects.count()
    new_patient = {"email": "new@riverside.test", "first_name": "New", "last_name": "Person"}

    page = client.post("/patients/new/", new_patient, HTTP_AUTHORIZATION=authorization)
    _assert_nothing_reached(page, cast, VERIFY)
    referral = client.post(
        f"/episodes/{cast.episode_a.pk}/referral/",
        {"date": dt.date.today().isoformat(), "referred_to": "Surgeon"},
        HTTP_AUTHORIZATION=authorization,
    )
    _assert_nothing_reached(referral, cast, VERIFY)
    api = client.post(
        "/api/v1/patients/",
        json.dumps(new_patient),
        content_type="application/json",
        HTTP_AUTHORIZATION=authorization,
    )
    assert api.status_code == 403
    admin = client.post(
        f"/admin/accounts/user/{cast.patient_a.user.pk}/change/",
        {"email": "taken@evil.test"},
        HTTP_AUTHORIZATION=authorization,
    )
    _assert_nothing_reached(admin, cast, VERIFY)

    assert User.objects.count() == users_before
    cast.episode_a.refresh_from_db()
    assert cast.episode_a.status == EpisodeStatus.ACTIVE
    assert User.objects.filter(email="taken@evil.test").count() == 0


def test_the_code_opens_what_the_password_alone_did_not(cast, device):
    client = _password_only(cast.therapist.email, VERIFY)
    assert client.post(VERIFY, {"code": totp_at(device)}).status_code == 302
    assert client.get("/patients/").status_code == 200
    assert client.get(f"/episodes/{cast.episode_a.pk}/report.pdf").status_code == 200
    assert client.get("/api/v1/patients/").status_code == 200


def test_a_valid_token_is_its_own_credential_beside_a_half_signed_in_session(cast, device, clock):
    """The token endpoint asks for the code, so a real token passes; the request runs as the
    token's user, not the session's."""
    client = _password_only(cast.therapist.email, VERIFY)
    clock.shift(dt.timedelta(seconds=31))
    issued = APIClient().post(
        TOKEN,
        {"email": cast.therapist.email, "password": PASSWORD, "otp": totp_at(device)},
        format="json",
    )
    assert issued.status_code == 200
    token = issued.json()["token"]
    answer = client.get("/api/v1/patients/", HTTP_AUTHORIZATION=f"Token {token}")
    assert answer.status_code == 200
    assert answer.json()["count"] == 2
    # A patient's token beside the therapist's half-open session reads the patient's reach only.
    patient_token = api_token_issue(user=cast.patient_a.user)
    mine = client.get("/api/v1/episodes/", HTTP_AUTHORIZATION=f"Token {patient_token}")
    assert mine.status_code == 200
    assert [e["id"] for e in mine.json()["results"]] == [cast.episode_a.pk]
    # A revoked token is no credential at all.
    ApiToken.objects.filter(user=cast.patient_a.user).update(revoked_at=timezone.now())
    revoked = client.get("/api/v1/episodes/", HTTP_AUTHORIZATION=f"Token {patient_token}")
    assert revoked.status_code == 403


@pytest.mark.parametrize("authorization", ["x", "Bearer x"])
def test_a_clinic_requiring_two_factor_holds_back_staff_without_one_whatever_the_header(
    cast, authorization
):
    cast.clinic.require_two_factor = True
    cast.clinic.save()
    client = _password_only(cast.admin.email, SETUP)
    for path in _pages(cast):
        _assert_nothing_reached(client.get(path, HTTP_AUTHORIZATION=authorization), cast, SETUP)
    for path in _api(cast):
        response = client.get(path, HTTP_AUTHORIZATION=authorization)
        assert response.status_code == 403, path
    posted = client.post(
        "/settings/security/", {"require_two_factor": ""}, HTTP_AUTHORIZATION=authorization
    )
    _assert_nothing_reached(posted, cast, SETUP)
    cast.clinic.refresh_from_db()
    assert cast.clinic.require_two_factor is True


def test_an_operator_with_an_authenticator_reaches_no_admin_page_on_the_password(clock):
    operator = UserFactory(
        email="ops@installation.test", is_staff=True, is_superuser=True, role="", clinic=None
    )
    browser = Client()
    browser.force_login(operator)
    device, _ = enrol(browser, operator)
    clock.shift(dt.timedelta(seconds=31))
    client = _password_only(operator.email, VERIFY)
    for path in ("/admin/", "/admin/login/", "/admin/accounts/user/", "/admin/rehab/episode/"):
        for authorization in ("x", "Bearer x"):
            response = client.get(path, HTTP_AUTHORIZATION=authorization)
            assert response.status_code == 302, path
            assert response["Location"].startswith(VERIFY), response["Location"]
    assert client.post(VERIFY, {"code": totp_at(device)}).status_code == 302
    assert client.get("/admin/").status_code == 200


def test_enrolling_revokes_the_tokens_issued_on_the_password_alone(cast, clock):
    """Finding 11: a token from before enrolment would skip the code the account now has."""
    key = api_token_issue(user=cast.therapist)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/v1/patients/").status_code == 200

    browser = Client()
    browser.force_login(cast.therapist)
    enrol(browser, cast.therapist)

    assert api.get("/api/v1/patients/").status_code == 401
    token = ApiToken.objects.get(user=cast.therapist)
    assert token.revoked_at is not None
    assert AuditEvent.objects.filter(
        action="api_token.revoked.two_factor_enabled", object_id=str(token.pk)
    ).exists()


def test_the_system_check_refuses_settings_without_the_gate():
    from django.conf import settings

    without = [m for m in settings.MIDDLEWARE if not m.endswith("TwoFactorMiddleware")]
    with override_settings(MIDDLEWARE=without):
        assert [e.id for e in check_two_factor_gate()] == ["pais.E003"]
    before_otp = [m for m in without if not m.endswith("OTPMiddleware")]
    reordered = [*before_otp[:3], "accounts.middleware.TwoFactorMiddleware", *before_otp[3:]]
    with override_settings(MIDDLEWARE=[*reordered, "django_otp.middleware.OTPMiddleware"]):
        assert [e.id for e in check_two_factor_gate()] == ["pais.E003"]
    assert check_two_factor_gate() == []
    call_command("check")  # the project's own settings pass
