"""API tokens: a user lists and revokes their own; a new password or a deactivated account
revokes them all."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

from accounts.management.commands.changepassword import Command as ChangePassword
from accounts.models import ApiToken, AuditEvent, User
from accounts.services import api_token_issue
from tests.conftest import PASSWORD
from tests.security.helpers import admin_user_form, sign_in, token_client, token_works

pytestmark = pytest.mark.django_db

TOKENS = "/api/v1/auth/tokens/"
NEW_PASSWORD = "ankle-diary-autumn-2026"


def _token_id(key: str) -> int:
    from accounts.tokens import digest

    return ApiToken.objects.values_list("pk", flat=True).get(key_digest=digest(key))


# --- The API -------------------------------------------------------------------------------------


def test_list_shows_the_callers_live_tokens_only(cast):
    mine, other_mine, revoked = (api_token_issue(user=cast.therapist) for _ in range(3))
    theirs = api_token_issue(user=cast.therapist_2)
    assert token_client(revoked).post("/api/v1/auth/token/revoke/").status_code == 204

    response = token_client(mine).get(TOKENS)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    listed = {item["id"]: item for item in body["results"]}
    assert set(listed) == {_token_id(mine), _token_id(other_mine)}
    assert _token_id(theirs) not in listed
    assert listed[_token_id(mine)]["current"] is True
    assert listed[_token_id(other_mine)]["current"] is False
    assert set(listed[_token_id(mine)]) == {
        "id",
        "created_at",
        "expires_at",
        "last_used_at",
        "current",
    }
    assert "no-store" in response["Cache-Control"]


def test_delete_revokes_one_token(cast):
    phone, laptop = (
        api_token_issue(user=cast.patient_a.user),
        api_token_issue(user=cast.patient_a.user),
    )
    response = token_client(laptop).delete(f"{TOKENS}{_token_id(phone)}/")
    assert response.status_code == 204
    assert not token_works(phone)
    assert token_works(laptop)
    assert AuditEvent.objects.filter(
        action="api_token.revoked", actor=cast.patient_a.user, object_id=str(_token_id(phone))
    ).exists()
    # Gone from the list; a second delete finds nothing.
    assert token_client(laptop).get(TOKENS).json()["count"] == 1
    assert token_client(laptop).delete(f"{TOKENS}{_token_id(phone)}/").status_code == 404


def test_nobody_revokes_somebody_elses_token(cast):
    theirs = api_token_issue(user=cast.therapist_2)
    for user in (cast.therapist, cast.admin, cast.patient_a.user, cast.other_therapist):
        key = api_token_issue(user=user)
        assert token_client(key).delete(f"{TOKENS}{_token_id(theirs)}/").status_code == 404
    assert token_works(theirs)
    assert APIClient().get(TOKENS).status_code == 401


def test_a_session_can_list_and_revoke_too(cast):
    key = api_token_issue(user=cast.therapist)
    browser = Client()
    browser.force_login(cast.therapist)
    listed = browser.get(TOKENS).json()["results"]
    assert [(item["id"], item["current"]) for item in listed] == [(_token_id(key), False)]
    assert browser.delete(f"{TOKENS}{_token_id(key)}/").status_code == 204
    assert not token_works(key)


# --- The account page ----------------------------------------------------------------------------


def test_account_page_lists_tokens_and_revokes_one(cast):
    keep, drop = api_token_issue(user=cast.therapist), api_token_issue(user=cast.therapist)
    api_token_issue(user=cast.therapist_2)
    browser = Client()
    browser.force_login(cast.therapist)
    page = browser.get("/accounts/security/")
    assert page.status_code == 200
    assert {t.pk for t in page.context["tokens"]} == {_token_id(keep), _token_id(drop)}
    html = page.content.decode()
    assert f'action="/accounts/security/tokens/{_token_id(drop)}/revoke/"' in html

    response = browser.post(f"/accounts/security/tokens/{_token_id(drop)}/revoke/")
    assert response.status_code == 302
    assert not token_works(drop)
    assert token_works(keep)
    assert browser.get(f"/accounts/security/tokens/{_token_id(drop)}/revoke/").status_code == 405


def test_account_page_cannot_revoke_another_users_token(cast):
    theirs = api_token_issue(user=cast.therapist_2)
    browser = Client()
    browser.force_login(cast.admin)
    response = browser.post(f"/accounts/security/tokens/{_token_id(theirs)}/revoke/")
    assert response.status_code == 404
    assert token_works(theirs)


# --- Password changes and deactivation -----------------------------------------------------------


def test_changing_the_password_revokes_every_token_and_other_sessions(cast):
    user = cast.patient_a.user
    phone, tablet = api_token_issue(user=user), api_token_issue(user=user)
    other_browser = Client()
    assert sign_in(other_browser, user.email).status_code == 302
    browser = Client()
    assert sign_in(browser, user.email).status_code == 302

    response = browser.post(
        "/accounts/password/",
        {
            "old_password": PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302
    assert not token_works(phone) and not token_works(tablet)
    assert ApiToken.objects.filter(user=user, revoked_at__isnull=True).count() == 0
    # This browser stays signed in; the other one is signed out.
    assert browser.get("/").status_code == 200
    assert other_browser.get("/").status_code == 302
    assert AuditEvent.objects.filter(action="password.changed", object_id=str(user.pk)).exists()
    assert (
        AuditEvent.objects.filter(action="api_token.revoked.password_changed", actor=user).count()
        == 2
    )
    # The new password signs in; the old one no longer does.
    assert sign_in(Client(), user.email, NEW_PASSWORD).status_code == 302
    assert sign_in(Client(), user.email, PASSWORD).status_code == 200


@pytest.mark.parametrize(
    ("new", "complaint"),
    [
        ("short1", "too short"),
        ("1234567890123", "entirely numeric"),
        ("password1234", "too common"),
    ],
)
def test_a_new_password_goes_through_the_validators(cast, new, complaint):
    key = api_token_issue(user=cast.therapist)
    browser = Client()
    browser.force_login(cast.therapist)
    response = browser.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert response.status_code == 200
    assert complaint in response.content.decode()
    assert token_works(key)
    assert User.objects.get(pk=cast.therapist.pk).check_password(PASSWORD)


def test_a_wrong_current_password_changes_nothing(cast):
    key = api_token_issue(user=cast.therapist)
    browser = Client()
    browser.force_login(cast.therapist)
    response = browser.post(
        "/accounts/password/",
        {
            "old_password": "not-it-at-all",
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )
    assert response.status_code == 200
    assert token_works(key)


@pytest.fixture
def operator() -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("root@example.test", "correct-horse-1"))
    return client


def test_deactivating_a_user_in_the_admin_revokes_their_tokens(cast, operator):
    key = api_token_issue(user=cast.therapist_2)
    form = admin_user_form(cast.therapist_2)
    del form["is_active"]  # the unticked box
    response = operator.post(f"/admin/accounts/user/{cast.therapist_2.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert User.objects.get(pk=cast.therapist_2.pk).is_active is False
    assert ApiToken.objects.get(user=cast.therapist_2).revoked_at is not None
    assert AuditEvent.objects.filter(
        action="user.deactivated", object_id=str(cast.therapist_2.pk)
    ).exists()
    # Re-activating does not bring the old token back.
    response = operator.post(
        f"/admin/accounts/user/{cast.therapist_2.pk}/change/", admin_user_form(cast.therapist_2)
    )
    assert response.status_code == 302
    assert User.objects.get(pk=cast.therapist_2.pk).is_active is True
    assert not token_works(key)


def test_setting_a_password_in_the_admin_revokes_tokens_and_validates(cast, operator):
    key = api_token_issue(user=cast.therapist)
    page = f"/admin/accounts/user/{cast.therapist.pk}/password/"
    weak = operator.post(
        page, {"password1": "12345", "password2": "12345", "usable_password": "true"}
    )
    assert weak.status_code == 200
    assert token_works(key)
    strong = operator.post(
        page, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"}
    )
    assert strong.status_code == 302
    assert not token_works(key)
    assert User.objects.get(pk=cast.therapist.pk).check_password(NEW_PASSWORD)


def test_the_admins_login_form_sends_operators_to_the_login_page(db):
    response = Client().get("/admin/login/?next=/admin/accounts/clinic/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/admin/accounts/clinic/"
    User.objects.create_superuser("root@example.test", PASSWORD)
    client = Client()
    assert sign_in(client, "root@example.test").status_code == 302
    assert client.get("/admin/").status_code == 200


def test_manage_py_changepassword_revokes_tokens_too(cast, monkeypatch):
    key = api_token_issue(user=cast.therapist)
    monkeypatch.setattr(ChangePassword, "_get_pass", lambda self, prompt="": NEW_PASSWORD)
    call_command("changepassword", cast.therapist.email, stdout=io.StringIO())

    assert User.objects.get(pk=cast.therapist.pk).check_password(NEW_PASSWORD)
    assert not token_works(key)
    assert AuditEvent.objects.filter(
        action="password.changed", object_id=str(cast.therapist.pk), actor=None
    ).exists()
    assert AuditEvent.objects.filter(action="api_token.revoked.password_changed").count() == 1


def test_manage_py_changepassword_finds_the_account_however_the_address_is_typed(cast, monkeypatch):
    monkeypatch.setattr(ChangePassword, "_get_pass", lambda self, prompt="": NEW_PASSWORD)
    call_command("changepassword", "  Therapist@Riverside.TEST ", stdout=io.StringIO())
    assert User.objects.get(pk=cast.therapist.pk).check_password(NEW_PASSWORD)
