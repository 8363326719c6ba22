"""The links in account emails work in a real browser: an invited patient sets a password, and a
patient who forgot theirs sets a new one through the reset link.

Django's test client sends no ``Origin`` header, so only a browser shows what a page's
``Referrer-Policy`` does to its form: under ``no-referrer`` Chromium posts ``Origin: null``, and
Django's CSRF check refuses the password (403). These tests set the password in Chromium.
"""

from __future__ import annotations

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from accounts.models import User
from accounts.services import patient_create

pytestmark = pytest.mark.browser

NEW_PASSWORD = "a-sunny-ankle-morning-42"


def test_an_invited_patient_sets_a_password_from_the_link(phone, transactional_db, cast):
    invited = patient_create(
        actor=cast.therapist, email="nia@riverside.test", first_name="Nia", last_name="Okafor"
    )
    phone.goto(f"/invite/{invited.invitation.token}/")
    expect(phone).to_have_url(re.compile(r"/invite/set-password/$"))
    phone.get_by_label("Choose a password").fill(NEW_PASSWORD)
    phone.get_by_label("Type it again").fill(NEW_PASSWORD)
    phone.get_by_role("button", name="Set password and start").tap()

    expect(phone.get_by_role("heading", level=1)).not_to_have_text(re.compile("Forbidden|403"))
    expect(phone).to_have_url(re.compile(r"/$"))
    assert User.objects.get(email="nia@riverside.test").check_password(NEW_PASSWORD)


def test_a_patient_sets_a_new_password_from_the_reset_link(phone, transactional_db, cast):
    email = cast.patient_a.user.email
    phone.goto("/accounts/login/")
    phone.get_by_role("link", name=re.compile("Forgot your password")).tap()
    phone.get_by_label("Email address").fill(email)
    phone.get_by_role("button", name="Email me a link").tap()
    expect(phone).to_have_url(re.compile(r"/accounts/password/reset/sent/$"))

    (message,) = [m for m in mail.outbox if email in m.to]
    link = re.search(r"https?://\S+/accounts/password/reset/\S+/\S+/", message.body)
    assert link is not None, message.body
    path = link.group(0).split("://", 1)[1].split("/", 1)[1]
    phone.goto(f"/{path}")
    expect(phone).to_have_url(re.compile(r"/set-password/$"))
    phone.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    phone.get_by_label("New password confirmation").fill(NEW_PASSWORD)
    phone.get_by_role("button", name="Set new password").tap()

    expect(phone).to_have_url(re.compile(r"/accounts/password/reset/done/$"))
    assert User.objects.get(email=email).check_password(NEW_PASSWORD)
