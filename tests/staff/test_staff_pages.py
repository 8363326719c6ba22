"""The staff administration pages, as a clinic admin uses them without JavaScript: the list,
inviting a colleague (who then sets their password, and sets up two-factor when the clinic
requires it), deactivating with an explicit choice for every patient, reactivating, cover, and
the patient's "Change therapist" page."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from accounts.models import Clinic, Cover, Patient, User
from tests.conftest import PASSWORD
from tests.pages.helpers import unlabelled
from tests.personas import signed_in_client

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "physio-clinic-2026-spring"


def test_the_staff_list_shows_people_caseloads_and_cover(cast):
    Cover.objects.create(
        clinic=cast.clinic,
        absent=cast.therapist,
        covering=cast.therapist_2,
        start_date=timezone.localdate(),
        end_date=timezone.localdate() + dt.timedelta(days=4),
    )
    page = signed_in_client(cast.admin).get("/settings/staff/")
    assert page.status_code == 200
    text = page.content.decode()
    for member in (cast.therapist, cast.therapist_2, cast.admin):
        assert member.email in text
    assert cast.other_therapist.email not in text
    assert "covered by" in text and "Cancel cover" in text
    # The admin's menu links to the page.
    assert 'href="/settings/staff/" aria-current="page"' in text


def test_invite_page_then_the_invitation_with_two_factor_required(
    cast, api, django_capture_on_commit_callbacks
):
    admin = signed_in_client(cast.admin)
    form = admin.get("/settings/staff/invite/")
    assert form.status_code == 200 and unlabelled(form) == []
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(
            "/settings/staff/invite/",
            {
                "email": "ines@riverside.test",
                "first_name": "Inés",
                "last_name": "Ruiz",
                "role": "therapist",
                "language": "",
            },
        )
    member = User.objects.get(email="ines@riverside.test")
    assert response.status_code == 302 and response["Location"] == f"/settings/staff/{member.pk}/"
    assert "authenticator app" not in mail.outbox[0].body
    # The clinic turns two-factor on; the admin (through the API, with their token) sends a
    # fresh link, whose email says what comes after the password.
    Clinic.objects.filter(pk=cast.clinic.pk).update(require_two_factor=True)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert api(cast.admin).post(f"/api/v1/staff/{member.pk}/invitation/").status_code == 202
    (message,) = mail.outbox
    assert "authenticator app" in message.body
    token = re.search(r"/invite/([\w-]+)/", message.body).group(1)

    browser = Client()
    assert browser.get(f"/invite/{token}/")["Location"] == "/invite/set-password/"
    page = browser.get("/invite/set-password/")
    assert "sign in to your clinic" in page.content.decode()
    done = browser.post(
        "/invite/set-password/", {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    assert done.status_code == 302
    # The clinic requires two-factor: the first staff page sends them to set it up.
    home = browser.get("/")
    assert home.status_code == 302 and home["Location"].startswith("/accounts/two-factor/setup/")


def test_invite_form_errors_name_the_field(cast):
    response = signed_in_client(cast.admin).post(
        "/settings/staff/invite/",
        {"email": "a@riverside.test", "first_name": "A", "last_name": "B", "role": "therapist"},
    )
    assert response.status_code == 200
    assert "cannot be used" in response.content.decode()
    assert not User.objects.filter(first_name="A", last_name="B").exists()


def test_deactivate_page_lists_patients_and_moves_only_as_chosen(cast):
    admin = signed_in_client(cast.admin)
    path = f"/settings/staff/{cast.therapist.pk}/deactivate/"
    page = admin.get(path)
    text = page.content.decode()
    assert page.status_code == 200 and unlabelled(page) == []
    assert str(cast.patient_a) in text and str(cast.patient_b) in text

    # Nothing chosen: refused, nothing moved, the account still active.
    refused = admin.post(path, {})
    assert refused.status_code == 200
    assert "choose who takes each of them" in refused.content.decode()
    cast.therapist.refresh_from_db()
    assert cast.therapist.is_active

    # One patient chosen individually, the other by the "all" choice.
    done = admin.post(
        path,
        {
            "all_to": "none",
            f"patient_{cast.patient_a.pk}": str(cast.therapist_2.pk),
        },
    )
    assert done.status_code == 302
    cast.therapist.refresh_from_db()
    assert not cast.therapist.is_active
    assert Patient.objects.get(pk=cast.patient_a.pk).therapist_id == cast.therapist_2.pk
    assert Patient.objects.get(pk=cast.patient_b.pk).therapist_id is None
    detail = admin.get(done["Location"])
    assert "deactivated" in detail.content.decode() and "Reactivate" in detail.content.decode()

    again = admin.post(f"/settings/staff/{cast.therapist.pk}/reactivate/")
    assert again.status_code == 302
    cast.therapist.refresh_from_db()
    assert cast.therapist.is_active
    assert Client().login(username=cast.therapist.email, password=PASSWORD)


def test_cover_page_sets_and_cancels_cover(cast):
    admin = signed_in_client(cast.admin)
    form = admin.get(f"/settings/staff/covers/new/?absent={cast.therapist.pk}")
    assert form.status_code == 200 and unlabelled(form) == []
    today = timezone.localdate()
    wrong = admin.post(
        "/settings/staff/covers/new/",
        {
            "absent": cast.therapist.pk,
            "covering": cast.therapist.pk,
            "start_date": today.isoformat(),
            "end_date": today.isoformat(),
        },
    )
    assert wrong.status_code == 200 and "somebody other" in wrong.content.decode()
    done = admin.post(
        "/settings/staff/covers/new/",
        {
            "absent": cast.therapist.pk,
            "covering": cast.therapist_2.pk,
            "start_date": today.isoformat(),
            "end_date": (today + dt.timedelta(days=2)).isoformat(),
        },
    )
    assert done.status_code == 302
    cover = Cover.objects.get()
    assert (
        signed_in_client(cast.therapist_2).get(f"/patients/{cast.patient_a.pk}/").status_code == 200
    )
    assert admin.post(f"/settings/staff/covers/{cover.pk}/cancel/").status_code == 302
    assert (
        signed_in_client(cast.therapist_2).get(f"/patients/{cast.patient_a.pk}/").status_code == 404
    )


def test_change_therapist_page(cast):
    admin = signed_in_client(cast.admin)
    detail = admin.get(f"/patients/{cast.patient_a.pk}/").content.decode()
    assert f'href="/patients/{cast.patient_a.pk}/therapist/"' in detail
    page = admin.get(f"/patients/{cast.patient_a.pk}/therapist/")
    assert page.status_code == 200 and unlabelled(page) == []
    done = admin.post(
        f"/patients/{cast.patient_a.pk}/therapist/", {"therapist": str(cast.therapist_2.pk)}
    )
    assert done.status_code == 302
    assert Patient.objects.get(pk=cast.patient_a.pk).therapist_id == cast.therapist_2.pk
    # A therapist sees no such link, and the address refuses them.
    own = signed_in_client(cast.therapist_2)
    assert "/therapist/" not in own.get(f"/patients/{cast.patient_a.pk}/").content.decode()
    assert own.get(f"/patients/{cast.patient_a.pk}/therapist/").status_code == 403


@pytest.mark.parametrize("language", ["en", "es"])
def test_pages_speak_the_admins_language(cast, language):
    User.objects.filter(pk=cast.admin.pk).update(language=language)
    cast.admin.refresh_from_db()
    admin = signed_in_client(cast.admin)
    for path in (
        "/settings/staff/",
        "/settings/staff/invite/",
        f"/settings/staff/{cast.therapist.pk}/",
        f"/settings/staff/{cast.therapist.pk}/deactivate/",
        "/settings/staff/covers/new/",
        f"/patients/{cast.patient_a.pk}/therapist/",
    ):
        page = admin.get(path)
        assert page.status_code == 200, path
        text = page.content.decode()
        if language == "es":
            assert "Personal" in text or "Cambiar" in text or "cobertura" in text.lower(), path
