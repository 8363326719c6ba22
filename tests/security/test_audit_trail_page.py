"""/settings/audit/: a clinic admin reads and filters their clinic's audit trail, and nobody
else's."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
import time_machine
from django.test import Client

from accounts.audit import audit_record
from accounts.models import AuditEvent, Patient
from rehab.models import Episode
from tests.personas import signed_in_client

pytestmark = pytest.mark.django_db

PAGE = "/settings/audit/"


@pytest.fixture
def trail(cast) -> Any:
    """Rows in both clinics, on three days."""
    days = [dt.datetime(2026, 3, d, 9, 30, tzinfo=dt.UTC) for d in (2, 3, 4)]
    with time_machine.travel(days[0], tick=False):
        audit_record(
            actor=cast.therapist,
            action="episode.viewed",
            obj=cast.episode_a,
            patient_id=cast.patient_a.pk,
        )
        audit_record(
            actor=cast.other_therapist,
            action="episode.viewed",
            obj=cast.other_episode,
            patient_id=cast.other_patient.pk,
        )
    with time_machine.travel(days[1], tick=False):
        audit_record(
            actor=cast.admin,
            action="patients.listed",
            obj=Patient,
            item_count=2,
        )
        audit_record(
            actor=cast.therapist,
            action="entry.created",
            obj=cast.episode_b,
            patient_id=cast.patient_b.pk,
        )
    with time_machine.travel(days[2], tick=False):
        audit_record(
            actor=cast.patient_a.user,
            action="patient.exported",
            obj=cast.patient_a,
            patient_id=cast.patient_a.pk,
        )
    return cast


def _rows(response: Any) -> list[AuditEvent]:
    assert response.status_code == 200, response.content[:500]
    return list(response.context["page"].object_list)


def test_the_admin_sees_the_clinics_rows_newest_first(trail):
    response = signed_in_client(trail.admin).get(PAGE)
    rows = _rows(response)
    assert [r.action for r in rows] == [
        "patient.exported",
        "entry.created",
        "patients.listed",
        "episode.viewed",
    ]
    html = response.content.decode()
    assert "therapist@riverside.test" in html and "2026-03-02 09:30:00" in html
    # Another clinic's rows never appear.
    assert "northside" not in html
    assert all(r.clinic_id == trail.clinic.pk for r in rows)


@pytest.mark.parametrize(
    ("query", "actions"),
    [
        ({"actor": "THERAPIST@riverside.test"}, ["entry.created", "episode.viewed"]),
        ({"action": "patients.listed"}, ["patients.listed"]),
        ({"patient": "PATIENT_A"}, ["patient.exported", "episode.viewed"]),
        (
            {"date_from": "2026-03-03", "date_to": "2026-03-03"},
            ["entry.created", "patients.listed"],
        ),
        ({"date_from": "2026-03-04"}, ["patient.exported"]),
        ({"date_to": "2026-03-02"}, ["episode.viewed"]),
        ({"actor": "therapist@northside.test"}, []),
        ({"patient": "OTHER"}, []),
    ],
)
def test_filters(trail, query, actions):
    values = {
        key: str(trail.patient_a.pk)
        if value == "PATIENT_A"
        else str(trail.other_patient.pk)
        if value == "OTHER"
        else value
        for key, value in query.items()
    }
    assert [r.action for r in _rows(signed_in_client(trail.admin).get(PAGE, values))] == actions


def test_the_action_filter_offers_the_clinics_actions_only(trail):
    form = signed_in_client(trail.admin).get(PAGE).context["form"]
    assert [value for value, _ in form.fields["action"].choices] == [
        "",
        "entry.created",
        "episode.viewed",
        "patient.exported",
        "patients.listed",
    ]


def test_bad_filters_are_a_400(trail):
    client = signed_in_client(trail.admin)
    assert client.get(PAGE, {"date_from": "2026-03-04", "date_to": "2026-03-02"}).status_code == (
        400
    )
    assert client.get(PAGE, {"patient": "abc"}).status_code == 400
    assert client.get(PAGE, {"action": "not.an.action"}).status_code == 400


def test_pages_of_fifty(cast):
    for _ in range(60):
        audit_record(actor=cast.therapist, action="episode.viewed", obj=cast.episode_a)
    client = signed_in_client(cast.admin)
    first = client.get(PAGE, {"action": "episode.viewed"})
    assert len(_rows(first)) == 50
    assert 'page=2"' in first.content.decode()
    second = client.get(PAGE, {"action": "episode.viewed", "page": "2"})
    assert len(_rows(second)) == 10
    assert {r.pk for r in _rows(first)}.isdisjoint({r.pk for r in _rows(second)})


def test_csv_download_of_the_filtered_rows(trail):
    client = signed_in_client(trail.admin)
    response = client.get(PAGE, {"patient": str(trail.patient_a.pk), "format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    body = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(body)))
    assert [r["action"] for r in rows] == ["patient.exported", "episode.viewed"]
    assert rows[1]["actor_email"] == "therapist@riverside.test"
    assert rows[1]["time_utc"] == "2026-03-02T09:30:00Z"
    assert rows[1]["object_type"] == "rehab.episode"
    assert rows[1]["object_id"] == str(trail.episode_a.pk)
    # The download itself is recorded.
    assert AuditEvent.objects.filter(action="audit.exported", actor=trail.admin).count() == 1


@pytest.mark.parametrize("persona", ["therapist", "therapist_2", "other_therapist"])
def test_staff_who_are_not_admins_are_refused(trail, persona):
    assert signed_in_client(getattr(trail, persona)).get(PAGE).status_code == 403


def test_patients_are_refused(trail):
    assert signed_in_client(trail.patient_a.user).get(PAGE).status_code == 403


def test_anonymous_is_sent_to_sign_in(trail):
    response = Client().get(PAGE)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_another_clinics_admin_sees_only_theirs(trail):
    from tests.factories import ClinicAdminFactory

    other_admin = ClinicAdminFactory(clinic=trail.other_clinic)
    rows = _rows(signed_in_client(other_admin).get(PAGE))
    assert [(r.action, r.actor_id) for r in rows] == [("episode.viewed", trail.other_therapist.pk)]
    assert Episode.objects.filter(pk=int(rows[0].object_id)).get() == trail.other_episode


def test_the_account_page_links_the_trail_for_admins(cast):
    assert (
        f'href="{PAGE}"' in signed_in_client(cast.admin).get("/accounts/security/").content.decode()
    )
    assert (
        f'href="{PAGE}"'
        not in signed_in_client(cast.therapist).get("/accounts/security/").content.decode()
    )
