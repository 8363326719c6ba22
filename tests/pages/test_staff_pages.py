"""Therapist and clinic admin pages: caseload, patients, episodes and the forms that write."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import AuditEvent, Patient, User
from rehab.models import Episode, EpisodeStatus, Intervention, Prescription
from tests.factories import (
    DailyEntryFactory,
    EpisodeFactory,
    InterventionFactory,
    PatientFactory,
    PrescriptionFactory,
)
from tests.pages.helpers import control, described_by_ids, unlabelled

INVITE_LINK = re.compile(r"http://testserver/invite/[A-Za-z0-9_-]+/")


@pytest.fixture
def therapist(cast, client_for):
    return client_for(cast.therapist)


def test_caseload_shows_active_episodes_with_their_latest_logging(cast, therapist):
    today = cast.patient_a.local_today()
    for n in (0, 1, 3):
        DailyEntryFactory(episode=cast.episode_a, date=today - dt.timedelta(days=n))
    DailyEntryFactory(episode=cast.episode_a, date=today - dt.timedelta(days=9))
    closed = EpisodeFactory(patient=cast.patient_b, status=EpisodeStatus.CLOSED)

    response = therapist.get("/")
    rows = {row.episode_id: row for row in response.context["rows"]}
    assert set(rows) == {cast.episode_a.pk, cast.episode_b.pk}
    assert closed.pk not in rows
    assert rows[cast.episode_a.pk].entries_last_7_days == 3
    assert rows[cast.episode_a.pk].last_entry == today
    assert rows[cast.episode_a.pk].trial_day == 21
    assert rows[cast.episode_b.pk].last_entry is None
    html = response.content.decode()
    assert f'href="/episodes/{cast.episode_a.pk}/"' in html
    assert "2 active episodes" in html


def test_caseload_costs_the_same_queries_whatever_its_size(cast, client_for):
    admin = client_for(cast.admin)
    with CaptureQueriesContext(connection) as small:
        assert admin.get("/").status_code == 200
    for _ in range(6):
        episode = EpisodeFactory(patient=PatientFactory(therapist=cast.therapist_2))
        DailyEntryFactory(episode=episode)
    with CaptureQueriesContext(connection) as large:
        response = admin.get("/")
    assert len(response.context["rows"]) == 8
    assert len(large) == len(small)


def test_episode_page_costs_the_same_queries_whatever_its_length(cast, therapist):
    url = f"/episodes/{cast.episode_a.pk}/"
    prescription = PrescriptionFactory(episode=cast.episode_a)
    InterventionFactory(episode=cast.episode_a)

    def add_entries(first: int, count: int) -> None:
        for n in range(first, first + count):
            entry = DailyEntryFactory(
                episode=cast.episode_a, date=cast.episode_a.start_date + dt.timedelta(days=n)
            )
            entry.exercises.create(prescription=prescription, sets_completed=2)

    add_entries(0, 1)
    with CaptureQueriesContext(connection) as small:
        therapist.get(url)
    add_entries(1, 9)
    with CaptureQueriesContext(connection) as large:
        response = therapist.get(url)
    assert len(response.context["history"]) == 10
    assert len(large) == len(small)


def test_therapist_creates_a_patient_and_sees_the_invite_link_once(
    cast, therapist, django_capture_on_commit_callbacks
):
    form = therapist.get("/patients/new/")
    assert unlabelled(form) == []
    assert "therapist" not in {c.name for c in form.context["form"]}

    with django_capture_on_commit_callbacks(execute=True):
        response = therapist.post(
            "/patients/new/",
            {
                "email": "Lena@Example.test",
                "first_name": "Lena",
                "last_name": "Berg",
                "timezone": "Europe/Oslo",
            },
        )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    link = INVITE_LINK.search(response.content.decode())
    assert link is not None

    patient = Patient.objects.get(user__email="lena@example.test")
    assert (patient.therapist, patient.timezone) == (cast.therapist, "Europe/Oslo")
    assert patient.user.clinic == cast.clinic
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["lena@example.test"]
    assert link.group(0) in mail.outbox[0].body
    assert AuditEvent.objects.filter(action="patient.created", actor=cast.therapist).count() == 1
    # The link shown is the real one: the patient can use it.
    opened = Client().get(link.group(0).removeprefix("http://testserver"), follow=True)
    assert opened.status_code == 200
    assert opened.redirect_chain == [("/invite/set-password/", 302)]


def test_a_duplicate_email_is_shown_on_the_field(
    cast, therapist, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = therapist.post(
            "/patients/new/",
            {
                "email": cast.patient_a.user.email,
                "first_name": "Again",
                "last_name": "Same",
                "timezone": "UTC",
            },
        )
    assert response.status_code == 200
    assert "cannot be used for a new patient" in response.content.decode()
    assert "id_email_error" in described_by_ids(response, control(response, "email"))
    assert User.objects.filter(email=cast.patient_a.user.email).count() == 1
    assert mail.outbox == []


def test_clinic_admin_assigns_the_new_patient_to_a_therapist(cast, client_for):
    admin = client_for(cast.admin)
    form = admin.get("/patients/new/").context["form"]
    choices = {str(value) for value, _ in form.fields["therapist"].choices if value}
    assert choices == {str(cast.therapist.pk), str(cast.therapist_2.pk)}
    response = admin.post(
        "/patients/new/",
        {
            "email": "sam@example.test",
            "first_name": "Sam",
            "last_name": "Ito",
            "timezone": "UTC",
            "therapist": cast.therapist_2.pk,
        },
    )
    assert INVITE_LINK.search(response.content.decode())
    assert Patient.objects.get(user__email="sam@example.test").therapist == cast.therapist_2


def test_therapist_opens_an_episode(cast, therapist):
    patient = PatientFactory(therapist=cast.therapist)
    form = therapist.get(f"/patients/{patient.pk}/episodes/new/")
    assert unlabelled(form) == []
    response = therapist.post(
        f"/patients/{patient.pk}/episodes/new/",
        {
            "affected_side": "left",
            "start_date": "2026-01-05",
            "diagnosis": "os_trigonum",
            "intake_pain_activity": "7",
            "intake_pf_rom_affected": "25",
            "intake_pf_rom_unaffected": "45",
            "bmi": "31.5",
        },
    )
    episode = Episode.objects.get(patient=patient)
    assert response.status_code == 302
    assert response["Location"] == f"/episodes/{episode.pk}/"
    assert (episode.affected_side, episode.start_date) == ("left", dt.date(2026, 1, 5))
    assert (episode.intake_pain_activity, str(episode.bmi)) == (7, "31.5")
    assert episode.created_by == cast.therapist
    assert AuditEvent.objects.filter(action="episode.opened", object_id=str(episode.pk)).exists()


def test_an_out_of_range_intake_is_shown_on_its_field(cast, therapist):
    response = therapist.post(
        f"/patients/{cast.patient_a.pk}/episodes/new/",
        {"affected_side": "right", "start_date": "2026-01-05", "intake_pain_activity": "12"},
    )
    assert response.status_code == 200
    assert "Must be between 0 and 10 (got 12)." in response.content.decode()
    ids = described_by_ids(response, control(response, "intake_pain_activity"))
    assert "id_intake_pain_activity_error" in ids
    assert Episode.objects.filter(patient=cast.patient_a).count() == 1


def test_therapist_prescribes_from_the_catalogue_or_free_text(cast, therapist):
    url = f"/episodes/{cast.episode_a.pk}/prescriptions/new/"
    form = therapist.get(url)
    assert unlabelled(form) == []
    catalogue = form.context["form"].fields["exercise"].queryset
    heel = catalogue.get(name="Double-leg heel raises")

    assert therapist.post(url, {"exercise": heel.pk, "sets": "3"}).status_code == 302
    assert (
        therapist.post(url, {"other": "Stair walking", "sets": "2", "reps": "5 min"})["Location"]
        == f"/episodes/{cast.episode_a.pk}/"
    )

    made = {p.name: p for p in Prescription.objects.filter(episode=cast.episode_a)}
    assert made["Double-leg heel raises"].exercise == heel
    assert made["Double-leg heel raises"].reps == "15"  # the catalogue's default
    assert made["Double-leg heel raises"].start_date == cast.episode_a.start_date
    assert (made["Stair walking"].exercise, made["Stair walking"].reps) == (None, "5 min")
    assert AuditEvent.objects.filter(action="prescription.created").count() == 2

    page = therapist.get(f"/episodes/{cast.episode_a.pk}/").content.decode()
    assert "Stair walking" in page


def test_a_prescription_needs_an_exercise_and_sane_sets(cast, therapist):
    url = f"/episodes/{cast.episode_a.pk}/prescriptions/new/"
    response = therapist.post(url, {"sets": "0"})
    html = response.content.decode()
    assert "Choose an exercise from the catalogue, or describe one." in html
    response = therapist.post(url, {"other": "Hopping", "sets": "0"})
    assert "Must be between 1 and 50 (got 0)." in response.content.decode()
    assert "id_sets_error" in described_by_ids(response, control(response, "sets"))
    assert not Prescription.objects.filter(episode=cast.episode_a).exists()


def test_therapist_records_an_intervention(cast, therapist):
    url = f"/episodes/{cast.episode_a.pk}/interventions/new/"
    page = therapist.get(url)
    assert unlabelled(page) == []
    # The injection site is chosen from the list of allowed sites; the refused ones are not
    # offered.
    control(page, "injection_site")  # a select
    options = re.findall(r'<option value="([^"]*)"', page.content.decode())
    assert "posterior_ankle_posterolateral" in options and "other" in options
    assert "achilles_tendon" not in options and "retrocalcaneal_bursa" not in options
    response = therapist.post(
        url,
        {
            "kind": "corticosteroid_injection",
            "start_date": cast.episode_a.start_date,
            "injection_site": "posterior_ankle_posterolateral",
            "site": "ignored for an injection",
            "note": "Ultrasound guided",
        },
    )
    assert response.status_code == 302
    intervention = Intervention.objects.get(episode=cast.episode_a)
    assert intervention.site == "posterior_ankle_posterolateral"
    html = therapist.get(f"/episodes/{cast.episode_a.pk}/").content.decode()
    assert "Posterior ankle joint, posterolateral approach" in html


def test_other_kinds_keep_a_free_text_site(cast, therapist):
    response = therapist.post(
        f"/episodes/{cast.episode_a.pk}/interventions/new/",
        {"kind": "immobilization", "start_date": cast.episode_a.start_date, "site": "Boot"},
    )
    assert response.status_code == 302
    assert Intervention.objects.get(episode=cast.episode_a).site == "Boot"


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"injection_site": "achilles_tendon"}, "injection_site"),
        ({"injection_site": ""}, "injection_site"),
        (
            {
                "injection_site": "posterior_ankle_posterolateral",
                "note": "injected next to the Achilles tendon",
            },
            "note",
        ),
    ],
)
def test_an_injection_near_the_achilles_is_refused_on_its_field(cast, therapist, values, field):
    response = therapist.post(
        f"/episodes/{cast.episode_a.pk}/interventions/new/",
        {"kind": "corticosteroid_injection", "start_date": cast.episode_a.start_date, **values},
    )
    assert response.status_code == 200
    html = response.content.decode()
    if field == "note" or values["injection_site"]:
        assert "never be given into or near the Achilles tendon" in html
        assert "002_cddceb049a0c87f7.txt" in html
    control_ = control(response, field)
    assert f"id_{field}_error" in described_by_ids(response, control_)
    assert control_.attrs.get("aria-invalid") == "true"
    assert not Intervention.objects.exists()


def test_therapist_records_a_referral_then_closes(cast, therapist):
    base = f"/episodes/{cast.episode_a.pk}"
    start = cast.episode_a.start_date
    referred, closed = start + dt.timedelta(days=14), start + dt.timedelta(days=18)
    response = therapist.post(
        f"{base}/referral/", {"date": referred, "referred_to": "Dr Foot, orthopaedics"}
    )
    assert response.status_code == 302
    cast.episode_a.refresh_from_db()
    assert (cast.episode_a.status, cast.episode_a.referred_to) == (
        EpisodeStatus.REFERRED,
        "Dr Foot, orthopaedics",
    )
    response = therapist.post(f"{base}/close/", {"date": closed, "outcome": "resolved"})
    assert response.status_code == 302
    cast.episode_a.refresh_from_db()
    assert (cast.episode_a.status, cast.episode_a.outcome) == (EpisodeStatus.CLOSED, "resolved")
    assert cast.episode_a.closed_date == closed
    page = therapist.get(f"{base}/").content.decode()
    assert "Closed" in page
    assert f'href="{base}/close/"' not in page
    # Closing twice is refused with the service's words.
    again = therapist.post(f"{base}/close/", {"date": closed, "outcome": "resolved"})
    assert "already closed" in again.content.decode()


def test_a_referral_before_the_start_is_shown_on_the_date_field(cast, therapist):
    before = cast.episode_a.start_date - dt.timedelta(days=1)
    response = therapist.post(f"/episodes/{cast.episode_a.pk}/referral/", {"date": before})
    assert response.status_code == 200
    assert "Cannot be before the episode" in response.content.decode()
    assert "id_date_error" in described_by_ids(response, control(response, "date"))
    cast.episode_a.refresh_from_db()
    assert cast.episode_a.status == EpisodeStatus.ACTIVE
    assert not AuditEvent.objects.filter(action="episode.referred").exists()


def test_staff_cannot_post_to_the_caseload(therapist):
    assert therapist.post("/", {"pain_activity": "3"}).status_code == 405


def test_episode_page_shows_entries_prescriptions_and_interventions(cast, therapist):
    prescription = PrescriptionFactory(episode=cast.episode_a, sets=3, name="Towel toe curls")
    entry = DailyEntryFactory(episode=cast.episode_a, pain_activity=7, note="Sore after run")
    entry.exercises.create(prescription=prescription, sets_completed=2)
    InterventionFactory(episode=cast.episode_a, kind="heel_lift")
    response = therapist.get(f"/episodes/{cast.episode_a.pk}/")
    assert response.templates[0].name == "therapist/episode_detail.html"
    html = response.content.decode()
    for text in ("Sore after run", "Towel toe curls", "Heel lift", "2/3", "day 21"):
        assert text in html
    for link in ("prescriptions/new/", "interventions/new/", "referral/", "close/"):
        assert f'href="/episodes/{cast.episode_a.pk}/{link}"' in html


def test_patient_detail_lists_episodes_and_can_reissue_an_invitation(
    cast, therapist, django_capture_on_commit_callbacks
):
    response = therapist.get(f"/patients/{cast.patient_a.pk}/")
    html = response.content.decode()
    assert f'href="/episodes/{cast.episode_a.pk}/"' in html
    assert "password set" in html  # the factory gives every persona a password

    invited = PatientFactory(therapist=cast.therapist, user__password=None)
    invited.user.set_unusable_password()
    invited.user.save()
    assert (
        "Make a new invitation link" in therapist.get(f"/patients/{invited.pk}/").content.decode()
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = therapist.post(f"/patients/{invited.pk}/invite/")
    assert INVITE_LINK.search(response.content.decode())
    assert len(mail.outbox) == 1
    assert AuditEvent.objects.filter(action="invitation.issued", patient_id=invited.pk).exists()
