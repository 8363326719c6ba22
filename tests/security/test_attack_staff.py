"""Issue 14, point 6: staff administration attacked from outside.

A therapist of the clinic tries every admin endpoint and page (each a 403, nothing changed); a
patient tries them (404: there is no staff list for a patient); the admin of another clinic tries
to list, deactivate, reactivate, re-invite, reassign and cover Riverside's people (each a 404, or
for ids sent in a body the very answer an unknown id gets, nothing changed); a deactivated member's
token, session and password stop working at once.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import AuditEvent, Cover, Patient, User
from accounts.services import api_token_issue
from tests.conftest import PASSWORD
from tests.factories import ClinicAdminFactory
from tests.personas import signed_in_client
from tests.security.helpers import sign_in, token_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def riverside_cover(cast) -> Cover:
    today = timezone.localdate()
    return Cover.objects.create(
        clinic=cast.clinic,
        absent=cast.therapist,
        covering=cast.therapist_2,
        start_date=today + dt.timedelta(days=5),
        end_date=today + dt.timedelta(days=9),
    )


def _api_attempts(cast, cover: Cover) -> list[tuple[str, str, dict]]:
    t, t2 = cast.therapist.pk, cast.therapist_2.pk
    today = timezone.localdate().isoformat()
    return [
        ("get", "/api/v1/staff/", {}),
        (
            "post",
            "/api/v1/staff/",
            {"email": "mole@x.test", "first_name": "M", "last_name": "O", "role": "clinic_admin"},
        ),
        ("get", f"/api/v1/staff/{t}/", {}),
        ("post", f"/api/v1/staff/{t}/invitation/", {}),
        ("post", f"/api/v1/staff/{t}/deactivate/", {"reassign_all_to": None}),
        ("post", f"/api/v1/staff/{t2}/deactivate/", {}),
        ("post", f"/api/v1/staff/{t}/reactivate/", {}),
        ("get", "/api/v1/staff/covers/", {}),
        (
            "post",
            "/api/v1/staff/covers/",
            {"absent": t, "covering": t2, "start_date": today, "end_date": today},
        ),
        ("get", f"/api/v1/staff/covers/{cover.pk}/", {}),
        ("post", f"/api/v1/staff/covers/{cover.pk}/cancel/", {}),
        ("patch", f"/api/v1/patients/{cast.patient_a.pk}/", {"therapist": t2}),
    ]


def _page_attempts(cast, cover: Cover) -> list[tuple[str, str, dict]]:
    t, t2 = cast.therapist.pk, cast.therapist_2.pk
    return [
        ("get", "/settings/staff/", {}),
        ("get", "/settings/staff/invite/", {}),
        (
            "post",
            "/settings/staff/invite/",
            {"email": "mole@x.test", "first_name": "M", "last_name": "O", "role": "clinic_admin"},
        ),
        ("get", f"/settings/staff/{t}/", {}),
        ("post", f"/settings/staff/{t}/invite/", {}),
        ("get", f"/settings/staff/{t}/deactivate/", {}),
        ("post", f"/settings/staff/{t2}/deactivate/", {}),
        ("post", f"/settings/staff/{t}/reactivate/", {}),
        ("get", "/settings/staff/covers/new/", {}),
        ("post", f"/settings/staff/covers/{cover.pk}/cancel/", {}),
        ("get", f"/patients/{cast.patient_a.pk}/therapist/", {}),
        ("post", f"/patients/{cast.patient_a.pk}/therapist/", {"therapist": str(t2)}),
    ]


def _state(cast) -> tuple:
    return (
        sorted(User.objects.values_list("pk", "is_active", "role")),
        sorted(Patient.objects.values_list("pk", "therapist_id")),
        sorted(Cover.objects.values_list("pk", "cancelled_at", "start_date", "end_date")),
        AuditEvent.objects.exclude(action__startswith="api_token").count(),
    )


def _run(client_api, client_pages, cast, cover) -> dict[str, int]:
    seen: dict[str, int] = {}
    for method, path, body in _api_attempts(cast, cover):
        response = getattr(client_api, method)(path, body, format="json")
        seen[f"{method.upper()} {path}"] = response.status_code
    for method, path, body in _page_attempts(cast, cover):
        response = getattr(client_pages, method)(path, body)
        seen[f"page {method.upper()} {path}"] = response.status_code
    return seen


def test_a_therapist_gets_403_everywhere_and_changes_nothing(cast, api, riverside_cover):
    before = _state(cast)
    seen = _run(api(cast.therapist), signed_in_client(cast.therapist), cast, riverside_cover)
    # Within their own clinic: the objects exist for them, the role refuses (as on webhooks).
    # Only the patient they do not treat... they do treat A, so every answer is a 403.
    assert set(seen.values()) == {403}, seen
    assert _state(cast) == before


def test_a_therapist_who_does_not_treat_the_patient_gets_404_on_the_patient(cast, api):
    response = api(cast.therapist_2).patch(
        f"/api/v1/patients/{cast.patient_a.pk}/", {"therapist": cast.therapist_2.pk}, format="json"
    )
    assert response.status_code == 404
    page = signed_in_client(cast.therapist_2).post(
        f"/patients/{cast.patient_a.pk}/therapist/", {"therapist": str(cast.therapist_2.pk)}
    )
    assert page.status_code == 404
    assert Patient.objects.get(pk=cast.patient_a.pk).therapist_id == cast.therapist.pk


def test_a_patient_gets_404_or_403_and_changes_nothing(cast, api, riverside_cover):
    before = _state(cast)
    seen = _run(api(cast.patient_a.user), signed_in_client(cast.patient_a), cast, riverside_cover)
    own_record = {
        f"PATCH /api/v1/patients/{cast.patient_a.pk}/",
        f"page GET /patients/{cast.patient_a.pk}/therapist/",
        f"page POST /patients/{cast.patient_a.pk}/therapist/",
    }
    for attempt, status in seen.items():
        # Their own patient record is theirs to see, not to reassign (403); the rest is absent.
        assert status == (403 if attempt in own_record else 404), (attempt, status)
    assert _state(cast) == before


def test_another_clinics_admin_gets_404_and_changes_nothing(cast, api, riverside_cover):
    northside_admin = ClinicAdminFactory(email="admin@northside.test", clinic=cast.other_clinic)
    before = _state(cast)
    riverside_before = sorted(
        User.objects.filter(clinic=cast.clinic).values_list("pk", "is_active", "role")
    )
    seen = _run(api(northside_admin), signed_in_client(northside_admin), cast, riverside_cover)
    lists = {
        "GET /api/v1/staff/",
        "POST /api/v1/staff/",
        "GET /api/v1/staff/covers/",
        "POST /api/v1/staff/covers/",
        "page GET /settings/staff/",
        "page GET /settings/staff/invite/",
        "page POST /settings/staff/invite/",
        "page GET /settings/staff/covers/new/",
    }
    for attempt, status in seen.items():
        if attempt in lists:
            continue  # their own clinic's lists and forms: checked below
        assert status == 404, (attempt, status)
    # Their own lists show none of Riverside.
    listed = api(northside_admin).get("/api/v1/staff/").json()
    # (Their invitation of "mole@x.test" made an account of their own clinic, as it should.)
    assert {row["email"] for row in listed["results"]} == {
        "admin@northside.test",
        "therapist@northside.test",
        "mole@x.test",
    }
    assert api(northside_admin).get("/api/v1/staff/covers/").json()["count"] == 0
    # A cover naming Riverside's therapists in the body: the answer an unknown id gets.
    today = timezone.localdate().isoformat()
    foreign = api(northside_admin).post(
        "/api/v1/staff/covers/",
        {
            "absent": cast.therapist.pk,
            "covering": cast.therapist_2.pk,
            "start_date": today,
            "end_date": today,
        },
        format="json",
    )
    unknown = api(northside_admin).post(
        "/api/v1/staff/covers/",
        {"absent": 10**9, "covering": 10**9 + 1, "start_date": today, "end_date": today},
        format="json",
    )
    assert foreign.status_code == unknown.status_code == 400
    assert foreign.json() == unknown.json()
    assert User.objects.get(email="mole@x.test").clinic_id == cast.other_clinic.pk
    assert (
        sorted(User.objects.filter(clinic=cast.clinic).values_list("pk", "is_active", "role"))
        == riverside_before
    )
    assert sorted(Patient.objects.values_list("pk", "therapist_id")) == before[1]
    assert (
        sorted(Cover.objects.values_list("pk", "cancelled_at", "start_date", "end_date"))
        == before[2]
    )


def test_a_deactivated_member_is_out_at_once(cast, api):
    key = api_token_issue(user=cast.therapist_2)
    browser = Client()
    assert sign_in(browser, cast.therapist_2.email).status_code == 302
    assert browser.get("/").status_code == 200
    deactivated = api(cast.admin).post(
        f"/api/v1/staff/{cast.therapist_2.pk}/deactivate/", {}, format="json"
    )
    assert deactivated.status_code == 200
    assert token_client(key).get("/api/v1/patients/").status_code == 401
    assert browser.get("/").status_code == 302
    assert sign_in(Client(), cast.therapist_2.email, PASSWORD).status_code == 200  # form again
    token = api(None).post(
        "/api/v1/auth/token/",
        {"email": cast.therapist_2.email, "password": PASSWORD},
        format="json",
    )
    assert token.status_code == 400
