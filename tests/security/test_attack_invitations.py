"""Issue 10, finding 2: staff taking over an active patient's account through an invitation link,
and what stops it: invitations only for patients who never set a password, password-reset emails
that go to the patient only, and one service behind every new password (validated, API tokens
revoked, other sessions ended, audited, the user told).

Every attack runs from the outside, through the API and the pages."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.management.commands.changepassword import Command as ChangePassword
from accounts.models import AuditEvent, Invitation, User
from accounts.services import api_token_issue, patient_create
from accounts.tokens import digest, new_secret
from tests.conftest import PASSWORD
from tests.security.helpers import token_works

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "staff-chose-this-2026"
RESET_LINK = re.compile(r"http://testserver(/accounts/password/reset/[^/\s]+/[^/\s]+/)")


def _signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    assert client.get("/").status_code == 200
    return client


def _still_signed_in(client: Client) -> bool:
    response = client.get("/")
    return response.status_code == 200 and "_auth_user_id" in client.session


def _reset_link(message: mail.EmailMessage) -> str:
    found = RESET_LINK.search(str(message.body))
    assert found, message.body
    return found.group(1)


# --- Invitations only for patients who never signed in -------------------------------------------


def test_staff_cannot_invite_a_patient_who_has_a_password_through_the_api(cast, api):
    patient = cast.patient_a
    patient_key = api_token_issue(user=patient.user)

    response = api(cast.therapist).post(f"/api/v1/patients/{patient.pk}/invitation/")

    assert response.status_code in {400, 409}
    body = response.content.decode()
    assert "password-reset" in body or "password reset" in body
    assert "/invite/" not in body
    assert not Invitation.objects.filter(user=patient.user).exists()
    assert not AuditEvent.objects.filter(action="invitation.issued").exists()
    assert token_works(patient_key)
    assert User.objects.get(pk=patient.user.pk).check_password(PASSWORD)


def test_staff_cannot_reinvite_a_patient_who_has_a_password_from_the_patient_page(cast):
    patient = cast.patient_a
    therapist = _signed_in(cast.therapist)

    response = therapist.post(f"/patients/{patient.pk}/invite/", follow=True)

    html = response.content.decode()
    assert "/invite/" not in html.replace(f"/patients/{patient.pk}/invite/", "")
    assert "password-reset email" in html
    assert not Invitation.objects.filter(user=patient.user).exists()
    assert (
        "Make a new invitation link"
        not in therapist.get(f"/patients/{patient.pk}/").content.decode()
    )


def test_a_link_issued_before_the_patient_set_a_password_cannot_be_accepted_after(cast, api):
    created = patient_create(
        actor=cast.therapist, email="late@riverside.test", first_name="Lena", last_name="Roe"
    )
    user = created.patient.user
    early_token = created.invitation.token
    # The patient set a password since (here: through a second link); the first link was issued
    # before, by an older version that did not void it, so it is still a row in the table.
    Invitation.objects.filter(pk=created.invitation.invitation.pk).update(
        expires_at=timezone.now() + dt.timedelta(days=7)
    )
    second = new_secret()
    Invitation.objects.create(
        user=user,
        token_digest=digest(second),
        created_by=cast.therapist,
        expires_at=timezone.now() + dt.timedelta(days=7),
    )
    accepted = APIClient().post(
        "/api/v1/auth/invitations/accept/",
        {"token": second, "password": "patients-own-choice-1"},
        format="json",
    )
    assert accepted.status_code == 200
    patient_key = api_token_issue(user=user)

    attack = APIClient().post(
        "/api/v1/auth/invitations/accept/",
        {"token": early_token, "password": NEW_PASSWORD},
        format="json",
    )
    assert attack.status_code == 400
    assert "token" in attack.json()
    assert Client().get(f"/invite/{early_token}/").status_code == 404
    page = Client().post(
        f"/invite/{early_token}/", {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    assert page.status_code == 404
    user.refresh_from_db()
    assert user.check_password("patients-own-choice-1")
    assert token_works(patient_key)


def test_an_invitation_row_for_an_active_patient_is_refused_too(cast):
    # A row an older version issued for a patient who had long signed in.
    token = new_secret()
    Invitation.objects.create(
        user=cast.patient_a.user,
        token_digest=digest(token),
        created_by=cast.therapist,
        expires_at=timezone.now() + dt.timedelta(days=7),
    )
    patient_key = api_token_issue(user=cast.patient_a.user)
    attack = APIClient().post(
        "/api/v1/auth/invitations/accept/",
        {"token": token, "password": NEW_PASSWORD},
        format="json",
    )
    assert attack.status_code == 400
    assert User.objects.get(pk=cast.patient_a.user.pk).check_password(PASSWORD)
    assert token_works(patient_key)
    assert not AuditEvent.objects.filter(action="invitation.accepted").exists()


# --- Staff trigger a password-reset email; the link never reaches them ---------------------------


def test_staff_trigger_a_reset_email_and_never_see_the_link(
    cast, api, django_capture_on_commit_callbacks
):
    patient = cast.patient_a
    with django_capture_on_commit_callbacks(execute=True):
        response = api(cast.therapist).post(f"/api/v1/patients/{patient.pk}/password-reset/")

    assert response.status_code == 202
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [patient.user.email]
    link = _reset_link(message)
    body = response.content.decode()
    token = link.rstrip("/").split("/")[-1]
    assert token not in body and "/reset/" not in body and "http" not in body
    assert AuditEvent.objects.filter(
        action="password.reset_requested", actor=cast.therapist, patient_id=patient.pk
    ).exists()


def test_the_reset_email_button_on_the_patient_page(cast, django_capture_on_commit_callbacks):
    patient = cast.patient_a
    admin = _signed_in(cast.admin)
    page = admin.get(f"/patients/{patient.pk}/").content.decode()
    assert f'action="/patients/{patient.pk}/password-reset/"' in page

    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(f"/patients/{patient.pk}/password-reset/", follow=True)

    assert response.status_code == 200
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [patient.user.email]
    _, token = _reset_link(mail.outbox[0]).rstrip("/").split("/")[-2:]
    assert token not in response.content.decode()
    assert "password-reset email" in response.content.decode()


@pytest.mark.parametrize("persona", ["therapist_2", "other_therapist"])
def test_reset_for_a_patient_out_of_reach_is_404(cast, api, persona):
    response = api(getattr(cast, persona)).post(
        f"/api/v1/patients/{cast.patient_a.pk}/password-reset/"
    )
    assert response.status_code == 404
    assert mail.outbox == []
    page = _signed_in(getattr(cast, persona)).post(f"/patients/{cast.patient_a.pk}/password-reset/")
    assert page.status_code == 404
    assert mail.outbox == []


def test_a_patient_cannot_trigger_resets_through_the_staff_endpoint(cast, api):
    response = api(cast.patient_a.user).post(
        f"/api/v1/patients/{cast.patient_a.pk}/password-reset/"
    )
    assert response.status_code == 403
    assert mail.outbox == []


def test_the_reset_link_sets_the_password_and_ends_every_other_access(
    cast, api, django_capture_on_commit_callbacks
):
    patient = cast.patient_a.user
    patient_key = api_token_issue(user=patient)
    phone = _signed_in(patient)
    with django_capture_on_commit_callbacks(execute=True):
        api(cast.therapist).post(f"/api/v1/patients/{cast.patient_a.pk}/password-reset/")
    link = _reset_link(mail.outbox[0])

    browser = Client()
    opened = browser.get(link)
    # The token leaves the address at once (as Django's view does it).
    assert opened.status_code == 302
    assert opened["Location"].endswith("/set-password/")
    form = browser.get(opened["Location"])
    assert form.status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        done = browser.post(
            opened["Location"], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
        )
    assert done.status_code == 302

    patient.refresh_from_db()
    assert patient.check_password(NEW_PASSWORD)
    assert not token_works(patient_key)
    assert not _still_signed_in(phone)
    assert AuditEvent.objects.filter(action="password.changed", object_id=str(patient.pk)).exists()
    # The patient is told, so a change they did not make does not go unnoticed.
    changed = [m for m in mail.outbox[1:] if m.to == [patient.email]]
    assert len(changed) == 1 and "password" in changed[0].subject.lower()
    # The link works once.
    assert Client().get(link).status_code in {200, 302}
    again = Client()
    again_page = again.get(link, follow=True)
    assert "new_password1" not in again_page.content.decode()


def test_a_reset_link_refuses_a_weak_password(cast, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        Client().post("/accounts/password/reset/", {"email": cast.patient_a.user.email})
    link = _reset_link(mail.outbox[0])
    browser = Client()
    form_url = browser.get(link)["Location"]
    response = browser.post(form_url, {"new_password1": "12345", "new_password2": "12345"})
    assert response.status_code == 200
    assert "too short" in response.content.decode()
    assert User.objects.get(pk=cast.patient_a.user.pk).check_password(PASSWORD)


# --- The public reset request ---------------------------------------------------------------------


def test_a_reset_request_does_not_tell_whether_the_address_has_an_account(
    cast, django_capture_on_commit_callbacks
):
    answers = []
    for email in (cast.patient_a.user.email, "nobody@riverside.test"):
        with django_capture_on_commit_callbacks(execute=True):
            response = Client().post("/accounts/password/reset/", {"email": email}, follow=True)
        answers.append(
            (
                response.status_code,
                response.redirect_chain,
                re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode()),
            )
        )
    assert answers[0] == answers[1]
    assert answers[0][1] == [("/accounts/password/reset/sent/", 302)]
    assert [m.to for m in mail.outbox] == [[cast.patient_a.user.email]]


def test_the_login_page_links_to_the_reset_request(db):
    html = Client().get("/accounts/login/").content.decode()
    assert 'href="/accounts/password/reset/"' in html
    assert "Forgot your password?" in html


def test_nobody_can_email_bomb_a_patient(cast, settings, django_capture_on_commit_callbacks):
    limit = settings.PAIS_PASSWORD_RESET_EMAILS_PER_HOUR
    for n in range(limit + 5):
        with django_capture_on_commit_callbacks(execute=True):
            response = Client(REMOTE_ADDR=f"198.51.100.{n + 1}").post(
                "/accounts/password/reset/", {"email": cast.patient_a.user.email}
            )
        # Silently: the answer stays the same.
        assert response.status_code == 302
    assert len(mail.outbox) == limit


def test_reset_requests_are_rate_limited_per_address(db, settings):
    settings.PAIS_AUTH_RATE_PER_MINUTE = 3
    client = Client(REMOTE_ADDR="192.0.2.50")
    for _ in range(3):
        assert client.post("/accounts/password/reset/", {"email": "x@y.test"}).status_code == 302
    throttled = client.post("/accounts/password/reset/", {"email": "x@y.test"})
    assert throttled.status_code == 429
    assert "Retry-After" in throttled


# --- Every way of setting a password has the same consequences -----------------------------------


def test_changing_the_password_on_the_page_tells_the_user_by_email(
    cast, django_capture_on_commit_callbacks
):
    browser = _signed_in(cast.patient_a.user)
    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post(
            "/accounts/password/",
            {
                "old_password": PASSWORD,
                "new_password1": NEW_PASSWORD,
                "new_password2": NEW_PASSWORD,
            },
        )
    assert response.status_code == 302
    assert [m.to for m in mail.outbox] == [[cast.patient_a.user.email]]
    assert "changed" in mail.outbox[0].subject.lower()


def test_a_first_password_ends_sessions_made_without_one(cast, monkeypatch):
    # A session that exists while the account has no usable password (an operator disabled
    # password sign-in; the session was made before) must not outlive the new password either.
    user = cast.patient_a.user
    user.set_unusable_password()
    user.save(update_fields=["password"])
    earlier = _signed_in(user)
    monkeypatch.setattr(ChangePassword, "_get_pass", lambda self, prompt="": NEW_PASSWORD)
    call_command("changepassword", user.email, stdout=io.StringIO())
    assert not _still_signed_in(earlier)
    assert AuditEvent.objects.filter(action="password.changed", object_id=str(user.pk)).exists()


def test_the_first_password_of_an_invitation_sends_no_changed_email(
    cast, django_capture_on_commit_callbacks
):
    created = patient_create(
        actor=cast.therapist, email="fresh@riverside.test", first_name="Fay", last_name="Oak"
    )
    with django_capture_on_commit_callbacks(execute=True):
        accepted = APIClient().post(
            "/api/v1/auth/invitations/accept/",
            {"token": created.invitation.token, "password": NEW_PASSWORD},
            format="json",
        )
    assert accepted.status_code == 200
    user = created.patient.user
    assert AuditEvent.objects.filter(action="password.changed", object_id=str(user.pk)).exists()
    assert not [m for m in mail.outbox if "changed" in m.subject.lower()]
