"""/invite/<token>/: an invited patient sets a password once, then lands on today's entry."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from accounts.models import AuditEvent, User
from accounts.services import patient_create
from tests.factories import EpisodeFactory
from tests.pages.helpers import control, described_by_ids, unlabelled

NEW_PASSWORD = "ankle-diary-2026-spring"


@pytest.fixture
def invited(cast):
    created = patient_create(
        actor=cast.therapist, email="new@riverside.test", first_name="Nia", last_name="Okafor"
    )
    EpisodeFactory(patient=created.patient, start_date=timezone.localdate())
    return created


def _set(client: Client, token: str, one: str, two: str | None = None):
    return client.post(f"/invite/{token}/", {"password1": one, "password2": two or one})


def test_invitation_sets_the_password_and_lands_on_today(invited):
    client = Client()
    opened = client.get(f"/invite/{invited.invitation.token}/")
    # The token leaves the address at once (tests/security/test_attack_invitation_logs.py).
    assert opened.status_code == 302 and opened["Location"] == "/invite/set-password/"
    page = client.get("/invite/set-password/")
    assert page.status_code == 200
    assert unlabelled(page) == []
    # The form keeps the site's policy: under no-referrer Chromium posts `Origin: null`, which
    # the CSRF check refuses (tests/browser/test_account_links.py sets a password in Chromium).
    assert page["Referrer-Policy"] == "same-origin"
    assert "new@riverside.test" in page.content.decode()

    response = client.post(
        "/invite/set-password/", {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == "/"
    home = client.get("/")
    assert home.templates[0].name == "patient/today.html"
    assert "Your password is set" in home.content.decode()

    user = User.objects.get(email="new@riverside.test")
    assert user.check_password(NEW_PASSWORD)
    assert AuditEvent.objects.filter(action="invitation.accepted", actor=user).count() == 1
    assert Client().login(username="new@riverside.test", password=NEW_PASSWORD)


def test_weak_password_shows_the_validators_messages(invited):
    response = _set(Client(), invited.invitation.token, "12345")
    assert response.status_code == 200
    html = response.content.decode()
    assert "too short" in html
    assert "entirely numeric" in html
    ids = described_by_ids(response, control(response, "password1"))
    assert "id_password1_error" in ids
    user = User.objects.get(email="new@riverside.test")
    assert not user.has_usable_password()
    # The link still works after a refused try.
    assert Client().get(f"/invite/{invited.invitation.token}/", follow=True).status_code == 200


def test_passwords_that_differ_are_refused(invited):
    response = _set(Client(), invited.invitation.token, NEW_PASSWORD, NEW_PASSWORD + "x")
    assert response.status_code == 200
    assert "do not match" in response.content.decode()
    assert not User.objects.get(email="new@riverside.test").has_usable_password()


def test_the_link_works_once(invited):
    token = invited.invitation.token
    assert _set(Client(), token, NEW_PASSWORD).status_code == 302

    again = Client()
    assert again.get(f"/invite/{token}/").status_code == 404
    response = _set(again, token, "another-password-entirely")
    assert response.status_code == 404
    assert "no longer works" in response.content.decode()
    assert "_auth_user_id" not in again.session
    assert User.objects.get(email="new@riverside.test").check_password(NEW_PASSWORD)


def test_an_expired_link_is_refused(invited):
    with time_machine.travel(timezone.now() + dt.timedelta(days=8)):
        client = Client()
        page = client.get(f"/invite/{invited.invitation.token}/")
        assert page.status_code == 404
        assert "expired" in page.content.decode()
        assert _set(client, invited.invitation.token, NEW_PASSWORD).status_code == 404
    assert not User.objects.get(email="new@riverside.test").has_usable_password()


def test_an_unknown_link_is_refused(db):
    response = Client().get("/invite/not-a-real-token/")
    assert response.status_code == 404
    assert "no longer works" in response.content.decode()


def test_a_refused_form_explains_itself_in_the_sites_own_page(invited):
    """If a browser's POST fails the CSRF check, the patient reads what to do, not Django's
    bare error page."""
    client = Client(enforce_csrf_checks=True)
    client.get(f"/invite/{invited.invitation.token}/")
    refused = client.post(
        "/invite/set-password/", {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    assert refused.status_code == 403
    assert "Please send the form again" in refused.content.decode()
    assert "Nothing was saved" in refused.content.decode()
