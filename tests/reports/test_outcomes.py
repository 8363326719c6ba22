"""The clinic outcomes report (/reports/outcomes/, CSV): figures, filters, reach, query count."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import AuditEvent, User
from rehab.models import ClinicRuleSettings, Episode
from tests.factories import (
    ClinicAdminFactory,
    DailyEntryFactory,
    EpisodeFactory,
    ExerciseLogFactory,
    PatientFactory,
    PrescriptionFactory,
    TherapistFactory,
)
from tests.personas import signed_in_client

pytestmark = pytest.mark.django_db

PAGE = "/reports/outcomes/"
CSV = "/reports/outcomes.csv"
JAN = dt.date(2025, 1, 6)


def _episode(
    therapist: User,
    start: dt.date,
    *,
    referral_day: int | None = None,
    closed_day: int | None = None,
    outcome: str = "",
    adherence: tuple[int, int] | None = None,
) -> Episode:
    """An episode; ``adherence`` = (sets done per day, of 5 prescribed) over 10 logged days."""
    patient = PatientFactory(therapist=therapist)
    status = "active"
    fields: dict = {}
    if referral_day is not None:
        status = "referred"
        fields["referral_date"] = start + dt.timedelta(days=referral_day - 1)
    if closed_day is not None:
        status = "closed"
        fields["closed_date"] = start + dt.timedelta(days=closed_day - 1)
        fields["outcome"] = outcome
    episode = EpisodeFactory(patient=patient, start_date=start, status=status, **fields)
    if adherence is not None:
        done, prescribed = adherence
        prescription = PrescriptionFactory(episode=episode, sets=prescribed)
        for n in range(10):
            entry = DailyEntryFactory(episode=episode, date=start + dt.timedelta(days=n))
            ExerciseLogFactory(entry=entry, prescription=prescription, sets_completed=done)
    return episode


@dataclass
class Clinic:
    resolved: list[Episode]
    referred_on_time: Episode
    referred_late: Episode
    referred_then_closed: Episode
    discontinued: Episode


@pytest.fixture
def clinic(cast) -> Clinic:
    t1, t2 = cast.therapist, cast.therapist_2
    return Clinic(
        resolved=[
            _episode(t1, JAN, closed_day=40, outcome="resolved", adherence=(5, 5)),
            _episode(t2, JAN + dt.timedelta(days=30), closed_day=35, outcome="resolved"),
        ],
        # Day 56 is the overdue day itself: on time. Day 70 is 14 days late.
        referred_on_time=_episode(
            t1, JAN + dt.timedelta(days=60), referral_day=56, adherence=(3, 5)
        ),
        referred_late=_episode(t1, JAN + dt.timedelta(days=90), referral_day=70, adherence=(2, 5)),
        referred_then_closed=_episode(
            t2, JAN + dt.timedelta(days=120), referral_day=57, closed_day=90, outcome="resolved"
        ),
        discontinued=_episode(
            t2, JAN + dt.timedelta(days=150), closed_day=20, outcome="discontinued"
        ),
    )


def test_the_admin_sees_outcomes_share_median_overdue_and_adherence(cast, clinic):
    response = signed_in_client(cast.admin).get(PAGE)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    report = response.context["report"]
    # The cast's two active episodes (started in the last weeks) count too.
    assert report.counts == {"resolved": 2, "referred": 3, "active": 2, "discontinued": 1}
    # Finished trials: 2 resolved + 3 referred; discontinued ones have no known result.
    assert report.finished == 5
    assert report.resolved_share == 40.0
    assert report.literature_share == 60.9
    # Days from start to referral: 55, 69, 56.
    assert report.median_days_to_referral == 56
    assert [(r.episode_id, r.days_overdue) for r in report.overdue] == [
        (clinic.referred_late.pk, 14),
        (clinic.referred_then_closed.pk, 1),
    ]
    assert report.bands == {"below_50": 1, "50_79": 1, "80_plus": 1, "none": 5}
    html = response.content.decode()
    assert "40%" in html
    assert "about 60% (28 of 46, 61%, in one series" in html
    assert 'href="https://doi.org/10.7547/21-001"' in html
    assert "56 days" in html
    assert "referrals after day 56: 7.5 days late at the median, 14 at most" in html
    assert f'href="/episodes/{clinic.referred_late.pk}/"' in html


def test_filters_by_start_date_and_therapist(cast, clinic):
    client = signed_in_client(cast.admin)
    report = client.get(PAGE, {"date_from": "2025-01-01", "date_to": "2025-04-15"}).context[
        "report"
    ]
    # Started 6 Jan, 5 Feb, 7 Mar, 6 Apr: two resolved, two referred.
    assert report.counts == {"resolved": 2, "referred": 2, "active": 0, "discontinued": 0}
    report = client.get(PAGE, {"therapist": cast.therapist_2.pk}).context["report"]
    assert report.counts == {"resolved": 1, "referred": 1, "active": 0, "discontinued": 1}
    assert {r.therapist_name for r in report.rows} == {cast.therapist_2.get_full_name()}


def test_bad_filters_are_a_400_that_says_why(cast, clinic):
    client = signed_in_client(cast.admin)
    response = client.get(PAGE, {"date_from": "2025-05-01", "date_to": "2025-01-01"})
    assert response.status_code == 400
    assert "The end of the range is before its start." in response.content.decode()
    assert client.get(PAGE, {"therapist": cast.other_therapist.pk}).status_code == 400
    assert client.get(CSV, {"date_from": "not a date"}).status_code == 400


def test_the_clinics_overdue_day_is_used(cast, clinic):
    ClinicRuleSettings.objects.create(clinic=cast.clinic, overrides={"overdue_day": 60})
    report = signed_in_client(cast.admin).get(PAGE).context["report"]
    assert report.overdue_day == 60
    assert [(r.episode_id, r.days_overdue) for r in report.overdue] == [
        (clinic.referred_late.pk, 10)
    ]


def test_csv_has_one_row_per_episode_safe_for_spreadsheets(cast, clinic):
    cast.therapist_2.first_name = "=HYPERLINK(1)"
    cast.therapist_2.save()
    for address, query in ((CSV, {}), (PAGE, {"format": "csv"})):
        response = signed_in_client(cast.admin).get(address, query)
        assert response.status_code == 200
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert response["Content-Disposition"].startswith('attachment; filename="outcomes-')
        assert "no-store" in response["Cache-Control"]
        rows = list(csv.DictReader(io.StringIO(response.content.decode())))
        assert len(rows) == 8
        late = next(r for r in rows if r["episode"] == str(clinic.referred_late.pk))
        assert late["outcome"] == "referred"
        assert late["referral_trial_day"] == "70"
        assert late["days_to_referral"] == "69"
        assert late["days_overdue"] == "14"
        assert late["adherence_pct"] == "40"
        assert late["adherence_band"] == "below 50%"
        # Patients appear by id only; a formula-like name is text.
        assert late["patient"] == str(clinic.referred_late.patient_id)
        discontinued = next(r for r in rows if r["episode"] == str(clinic.discontinued.pk))
        assert discontinued["therapist"].startswith("'=HYPERLINK(1)")
    assert AuditEvent.objects.filter(action="outcomes.exported", actor=cast.admin).count() == 2


def test_the_csv_keeps_the_filters(cast, clinic):
    response = signed_in_client(cast.admin).get(CSV, {"therapist": cast.therapist.pk})
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    # Therapist 1: three of the clinic's episodes plus the cast's two active ones.
    assert len(rows) == 5


def test_another_clinics_admin_sees_only_their_clinic(cast, clinic):
    other_admin = ClinicAdminFactory(clinic=cast.other_clinic)
    report = signed_in_client(other_admin).get(PAGE).context["report"]
    assert [r.episode_id for r in report.rows] == [cast.other_episode.pk]


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("admin", 200),
        # Staff of the clinic who are not its admin: the page exists, their role may not see it.
        ("therapist", 403),
        ("therapist_2", 403),
        ("other_therapist", 403),
        # Patients do not learn that the page exists.
        ("patient_a", 404),
    ],
)
def test_reach(cast, persona, status):
    client = signed_in_client(getattr(cast, persona))
    assert client.get(PAGE).status_code == status
    assert client.get(CSV).status_code == status


def test_only_admins_find_the_report_in_the_navigation(cast):
    link = f'href="{PAGE}"'
    assert link in signed_in_client(cast.admin).get("/patients/").content.decode()
    assert link not in signed_in_client(cast.therapist).get("/patients/").content.decode()


def test_anonymous_callers_are_sent_to_sign_in(db):
    response = Client().get(PAGE)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def _add_clinic_episodes(therapist: User, count: int) -> None:
    for n in range(count):
        _episode(
            therapist,
            JAN + dt.timedelta(days=n),
            referral_day=60 if n % 2 else None,
            adherence=(n % 6, 5),
        )


def test_a_constant_number_of_queries_whatever_the_number_of_episodes(cast):
    client = signed_in_client(cast.admin)
    client.get(PAGE)  # warm up the session
    _add_clinic_episodes(cast.therapist, 3)
    with CaptureQueriesContext(connection) as few:
        assert client.get(PAGE).status_code == 200
    _add_clinic_episodes(TherapistFactory(clinic=cast.clinic), 30)
    with CaptureQueriesContext(connection) as many:
        response = client.get(PAGE)
    assert response.context["report"].total == 35
    assert len(many) == len(few), [q["sql"] for q in many]
