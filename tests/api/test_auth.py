"""Tokens and invitations: the only endpoints that answer the anonymous."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken, AuditEvent, Invitation
from tests.api.helpers import errors, url
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "ankle-diary-spring-2026"


def invite(api, cast, email: str = "new@riverside.test") -> tuple[int, str]:
    response = api(cast.therapist).post(
        url("api-patient-list"),
        {"email": email, "first_name": "Nia", "last_name": "Okafor"},
        format="json",
    )
    assert response.status_code == 201, response.content
    invite_url = response.json()["invite_url"]
    assert invite_url.startswith("http://testserver/invite/") and invite_url.endswith("/")
    return response.json()["id"], invite_url.rstrip("/").rsplit("/", 1)[-1]


def accept(token: str, password: str = NEW_PASSWORD):
    return APIClient().post(
        url("api-auth-invitation-accept"), {"token": token, "password": password}, format="json"
    )


def obtain(email: str, password: str):
    return APIClient().post(
        url("api-auth-token"), {"email": email, "password": password}, format="json"
    )


# --- Tokens ------------------------------------------------------------------------------------


def test_token_obtain_then_use(cast):
    response = obtain("Therapist@Riverside.test", PASSWORD)
    assert response.status_code == 200
    assert set(response.json()) == {"token"}
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    assert client.get(url("api-episode-list")).status_code == 200
    token = ApiToken.objects.get(user=cast.therapist)
    assert token.key_digest != response.json()["token"]  # only the digest is stored
    assert AuditEvent.objects.filter(
        action="api_token.issued", actor=cast.therapist, object_id=str(token.pk)
    ).exists()


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("therapist@riverside.test", "wrong-password-123"),
        ("nobody@riverside.test", PASSWORD),
        ("therapist@riverside.test", ""),
    ],
)
def test_bad_credentials_are_400_and_issue_nothing(cast, email, password):
    body = errors(obtain(email, password))
    assert set(body) <= {"non_field_errors", "password"}
    assert not ApiToken.objects.exists()


def test_inactive_user_gets_no_token(cast):
    cast.therapist.is_active = False
    cast.therapist.save()
    assert "non_field_errors" in errors(obtain("therapist@riverside.test", PASSWORD))


def test_login_ignores_a_stale_token_header(cast):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token no-longer-valid")
    response = client.post(
        url("api-auth-token"),
        {"email": "therapist@riverside.test", "password": PASSWORD},
        format="json",
    )
    assert response.status_code == 200


def test_bad_token_is_401(cast):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert client.get(url("api-episode-list")).status_code == 401


def test_anonymous_is_401(cast):
    response = APIClient().get(url("api-episode-list"))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_expired_token_is_401(cast, api, settings):
    client = api(cast.therapist)
    assert client.get(url("api-episode-list")).status_code == 200
    lifetime = dt.timedelta(days=settings.API_TOKEN_LIFETIME_DAYS)
    with time_machine.travel(timezone.now() + lifetime - dt.timedelta(minutes=5)):
        assert client.get(url("api-episode-list")).status_code == 200
    with time_machine.travel(timezone.now() + lifetime + dt.timedelta(minutes=1)):
        assert client.get(url("api-episode-list")).status_code == 401


def test_revoke_ends_the_calling_token_only(cast, api):
    client, other = api(cast.therapist), api(cast.therapist)
    assert client.post(url("api-auth-token-revoke")).status_code == 204
    assert client.get(url("api-episode-list")).status_code == 401
    assert other.get(url("api-episode-list")).status_code == 200
    revoked = ApiToken.objects.get(revoked_at__isnull=False)
    assert AuditEvent.objects.filter(
        action="api_token.revoked", actor=cast.therapist, object_id=str(revoked.pk)
    ).exists()


def test_revoke_without_a_token_is_400(cast):
    client = APIClient()
    client.force_authenticate(cast.therapist)
    assert "non_field_errors" in errors(client.post(url("api-auth-token-revoke")))


# --- Invitations -------------------------------------------------------------------------------


def test_invitation_accept_sets_the_password(cast, api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        patient_id, token = invite(api, cast)
    assert len(mail.outbox) == 1 and token in mail.outbox[0].body
    assert obtain("new@riverside.test", NEW_PASSWORD).status_code == 400

    response = accept(token)
    assert response.status_code == 200
    assert response.json() == {"email": "new@riverside.test"}
    login = obtain("new@riverside.test", NEW_PASSWORD)
    assert login.status_code == 200
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {login.json()['token']}")
    assert {p["id"] for p in client.get(url("api-patient-list")).json()["results"]} == {patient_id}
    invitation = Invitation.objects.get()
    assert invitation.used_at is not None
    assert AuditEvent.objects.filter(
        action="invitation.accepted", object_id=str(invitation.pk), patient_id=patient_id
    ).exists()
    # An accepted invitation shows on the patient record.
    assert api(cast.therapist).get(url("api-patient-detail", pk=patient_id)).json()["activated"]


def test_invitation_cannot_be_used_twice(cast, api):
    _, token = invite(api, cast)
    assert accept(token).status_code == 200
    assert "token" in errors(accept(token, "another-strong-pass-99"))
    assert obtain("new@riverside.test", "another-strong-pass-99").status_code == 400
    assert obtain("new@riverside.test", NEW_PASSWORD).status_code == 200


def test_unknown_invitation_token_is_400(cast):
    assert "token" in errors(accept("made-up-token"))


@pytest.mark.parametrize("password", ["short1", "password123", "12345678901", "new@riverside"])
def test_weak_password_is_400_and_keeps_the_invitation_usable(cast, api, password):
    _, token = invite(api, cast)
    assert "password" in errors(accept(token, password))
    invitation = Invitation.objects.get()
    assert invitation.used_at is None
    assert not invitation.user.has_usable_password()
    assert accept(token).status_code == 200


def test_invitation_expires_after_its_lifetime(cast, api, settings):
    _, token = invite(api, cast)
    lifetime = dt.timedelta(days=settings.INVITATION_LIFETIME_DAYS)
    with time_machine.travel(timezone.now() + lifetime + dt.timedelta(minutes=1)):
        assert "token" in errors(accept(token))
    assert Invitation.objects.get().used_at is None


def test_invitation_still_works_just_before_expiry(cast, api, settings):
    _, token = invite(api, cast)
    lifetime = dt.timedelta(days=settings.INVITATION_LIFETIME_DAYS)
    with time_machine.travel(timezone.now() + lifetime - dt.timedelta(minutes=5)):
        assert accept(token).status_code == 200


def test_reissued_invitation_replaces_the_old_link(cast, api):
    patient_id, old_token = invite(api, cast)
    response = api(cast.therapist).post(url("api-patient-invitation", pk=patient_id))
    assert response.status_code == 200
    new_token = response.json()["invite_url"].rstrip("/").rsplit("/", 1)[-1]
    assert new_token != old_token
    assert "token" in errors(accept(old_token))
    assert accept(new_token).status_code == 200
    assert AuditEvent.objects.filter(action="invitation.issued", patient_id=patient_id).count() == 2
