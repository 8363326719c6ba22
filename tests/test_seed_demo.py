"""``manage.py seed_demo``: the contract's demo accounts and six+ distinct, predictable courses.

The course checks recompute, from the stored entries, the numbers the clinical rules look at
(clinical-rules.md: baseline = mean of days 1-7, current = mean of the 7 days ending as_of,
adherence = done / prescribed sets on logged days), so a change to the demo that would no longer
raise the intended finding fails here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from io import StringIO

import pytest
import time_machine
from django.contrib.auth import authenticate
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import AuditEvent, Clinic, Invitation, Patient, Role, User
from rehab.models import (
    Alert,
    AlertStatus,
    DailyEntry,
    Episode,
    EpisodeStatus,
    Exercise,
    ExerciseLog,
    Intervention,
    InterventionKind,
    Prescription,
    QuestionnaireResponse,
    ReferralFollowUp,
)
from tests.factories import DailyEntryFactory, EpisodeFactory, PatientFactory

# Noon in London and UTC alike, so "today" is the same date for the server and the patients.
A_TUESDAY = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)

STAFF = [
    ("admin@demo.test", "demo-admin-pass", Role.CLINIC_ADMIN, "Demo Clinic"),
    ("therapist@demo.test", "demo-therapist-pass", Role.THERAPIST, "Demo Clinic"),
    ("therapist@northside.test", "northside-therapist-pass", Role.THERAPIST, "Northside Clinic"),
]
DEMO_PATIENTS = [f"patient{n}@demo.test" for n in range(1, 7)]


@pytest.fixture
def debug_on(settings):
    settings.DEBUG = True


@pytest.fixture
def on_a_tuesday():
    with time_machine.travel(A_TUESDAY, tick=False):
        yield A_TUESDAY.date()


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


@dataclass
class Numbers:
    trial_day: int
    baseline: float
    baseline_entries: int
    current: float
    current_entries: int
    last3: list[int]
    adherence_pct: float
    rom_week1: float | None
    rom_current: float | None


def numbers(email: str) -> Numbers:
    episode = Episode.objects.get(patient__user__email=email)
    today = episode.patient.local_today()
    entries = {e.date: e for e in episode.entries.prefetch_related("exercises")}
    prescriptions = list(episode.prescriptions.all())

    def pains(first: dt.date, last: dt.date) -> list[int]:
        return [e.pain_activity for d, e in sorted(entries.items()) if first <= d <= last]

    def roms(first: dt.date, last: dt.date) -> list[float]:
        # Stored as Decimals kept to 0.1°; the checks below compare with float thresholds.
        return [
            float(e.pf_rom_affected)
            for d, e in entries.items()
            if first <= d <= last and e.pf_rom_affected is not None
        ]

    week1 = pains(episode.start_date, episode.start_date + dt.timedelta(days=6))
    recent = pains(today - dt.timedelta(days=6), today)
    done = prescribed = 0
    for date, entry in entries.items():
        logged = {log.prescription_id: log.sets_completed for log in entry.exercises.all()}
        for rx in prescriptions:
            if rx.is_active_on(date):
                prescribed += rx.sets
                done += min(logged.get(rx.pk, 0), rx.sets)
    rom1 = roms(episode.start_date, episode.start_date + dt.timedelta(days=6))
    rom_now = roms(today - dt.timedelta(days=6), today)
    return Numbers(
        trial_day=(today - episode.start_date).days + 1,
        baseline=sum(week1) / len(week1),
        baseline_entries=len(week1),
        current=sum(recent) / len(recent),
        current_entries=len(recent),
        last3=pains(today - dt.timedelta(days=2), today),
        adherence_pct=100 * done / prescribed,
        rom_week1=sum(rom1) / len(rom1) if rom1 else None,
        rom_current=sum(rom_now) / len(rom_now) if rom_now else None,
    )


def mcid_met(n: Numbers) -> bool:
    change = n.baseline - n.current
    if n.baseline <= 4.0:
        return 100 * change / n.baseline >= 30
    return change >= 2.0 and 100 * change / n.baseline >= 30


def counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (
            Clinic,
            User,
            Patient,
            Episode,
            Prescription,
            DailyEntry,
            ExerciseLog,
            Intervention,
            QuestionnaireResponse,
        )
    }


@pytest.mark.django_db
@pytest.mark.usefixtures("debug_on", "on_a_tuesday")
class TestAccounts:
    def test_staff_accounts_sign_in_with_the_published_passwords(self):
        seed()
        for email, password, role, clinic in STAFF:
            user = authenticate(email=email, password=password)
            assert user is not None, email
            assert (user.role, user.clinic.name) == (role, clinic)
            assert Client().login(username=email, password=password)
        assert authenticate(email="admin@demo.test", password="wrong-password") is None

    def test_demo_patients_sign_in_and_belong_to_the_demo_therapist(self):
        seed()
        therapist = User.objects.get(email="therapist@demo.test")
        patients = Patient.objects.filter(user__clinic__name="Demo Clinic")
        assert patients.count() >= 6
        assert {p.user.email for p in patients} >= set(DEMO_PATIENTS)
        for patient in patients:
            assert patient.therapist == therapist
            assert patient.user.role == Role.PATIENT
            assert authenticate(email=patient.user.email, password="demo-patient-pass")
            assert patient.episodes.count() == 1

    def test_northside_has_one_patient_with_an_episode_of_its_own(self):
        seed()
        northside = Patient.objects.filter(user__clinic__name="Northside Clinic")
        assert northside.count() == 1
        patient = northside.get()
        assert patient.therapist.email == "therapist@northside.test"
        assert authenticate(email=patient.user.email, password="demo-patient-pass")
        assert patient.episodes.get().entries.count() >= 10

    def test_no_invitation_email_is_sent_and_the_summary_lists_the_accounts(self):
        output = seed()
        patient_emails = set(Patient.objects.values_list("user__email", flat=True))
        for message in mail.outbox:
            assert not set(message.to) & patient_emails
            assert "password" not in message.subject.lower()
        assert not Invitation.objects.exists()
        for email, password, _, _ in STAFF:
            assert email in output
            assert password in output
        for email in DEMO_PATIENTS:
            assert email in output
        assert "demo-patient-pass" in output


@pytest.mark.django_db
@pytest.mark.usefixtures("debug_on", "on_a_tuesday")
class TestCourses:
    def test_improving_patient_meets_the_important_improvement(self):
        seed()
        n = numbers("patient1@demo.test")
        assert 28 <= n.trial_day <= 32
        assert n.baseline_entries == 7
        assert 6.5 <= n.baseline <= 7.5
        assert 3.0 <= n.current <= 4.0
        assert n.baseline - n.current >= 2.0
        assert mcid_met(n)
        assert n.adherence_pct >= 85

    def test_not_improving_patient_is_in_the_review_window_with_good_adherence(self):
        seed()
        n = numbers("patient2@demo.test")
        # REFERRAL_CONSIDER needs 42 <= day < 56, MCID not met, adherence >= 80%.
        assert 42 <= n.trial_day < 56
        assert 6.5 <= n.baseline <= 7.5
        assert 5.5 <= n.current <= 6.5
        assert not mcid_met(n)
        assert n.current > 1.0
        assert n.adherence_pct >= 80
        assert n.current_entries >= 4
        assert Episode.objects.get(patient__user__email="patient2@demo.test").status == "active"

    def test_low_adherence_patient_did_about_half_the_sets(self):
        seed()
        n = numbers("patient3@demo.test")
        assert n.trial_day >= 14
        assert 40 <= n.adherence_pct <= 60
        # Enough entries that the rules judge adherence, not missing data.
        assert n.baseline_entries >= 4
        assert n.current_entries >= 4

    def test_worsening_patient_has_recent_pain_two_points_above_a_low_baseline(self):
        seed()
        n = numbers("patient4@demo.test")
        assert n.trial_day >= 8
        assert n.baseline <= 4.0
        assert len(n.last3) >= 2
        assert sum(n.last3) / len(n.last3) >= 6.5
        assert sum(n.last3) / len(n.last3) >= n.baseline + 2.0
        # Plantar flexion drops by at least the smallest real change (10 degrees).
        assert n.rom_week1 is not None and n.rom_current is not None
        assert n.rom_current <= n.rom_week1 - 10.0

    def test_resolved_patient_reports_pain_of_at_most_one(self):
        seed()
        n = numbers("patient5@demo.test")
        assert n.trial_day >= 8
        assert n.current_entries >= 4
        assert n.current <= 1.0
        entries = DailyEntry.objects.filter(episode__patient__user__email="patient5@demo.test")
        today = entries.first().episode.patient.local_today()
        recent = entries.filter(date__gte=today - dt.timedelta(days=6))
        assert set(recent.values_list("pain_activity", flat=True)) <= {0, 1}

    def test_referred_patient_has_a_recorded_referral_and_its_audit_row(self):
        seed()
        episode = Episode.objects.get(patient__user__email="patient6@demo.test")
        assert episode.status == EpisodeStatus.REFERRED
        assert episode.referral_date is not None
        assert episode.start_date + dt.timedelta(days=41) <= episode.referral_date
        assert episode.referred_to
        assert AuditEvent.objects.filter(
            action="episode.referred",
            object_id=str(episode.pk),
            actor__email="therapist@demo.test",
        ).exists()
        assert 45 <= numbers("patient6@demo.test").trial_day <= 55

    def test_referred_patient_has_an_appointment_booked_with_the_surgeon(self):
        seed()
        episode = Episode.objects.get(patient__user__email="patient6@demo.test")
        follow_up = ReferralFollowUp.objects.get(episode=episode)
        today = episode.patient.local_today()
        assert episode.referral_date is not None and follow_up.appointment_date is not None
        # Booked for a day ahead, after the referral; no outcome yet, so no follow-up due.
        assert episode.referral_date < today < follow_up.appointment_date
        assert follow_up.outcome == "" and follow_up.updated_by.email == "therapist@demo.test"
        assert AuditEvent.objects.filter(
            action="referral.follow_up_recorded", object_id=str(follow_up.pk)
        ).exists()

    def test_overdue_patient_is_past_day_56_without_improvement_or_referral(self):
        seed()
        n = numbers("patient7@demo.test")
        episode = Episode.objects.get(patient__user__email="patient7@demo.test")
        assert n.trial_day >= 56
        assert not mcid_met(n)
        assert n.adherence_pct >= 80
        assert episode.status == EpisodeStatus.ACTIVE
        assert episode.referral_date is None

    def test_the_clinical_rules_see_the_intended_course(self, api):
        seed()
        client = api(User.objects.get(email="therapist@demo.test"))
        expected = {
            "patient1@demo.test": ("continue", {"IMPROVING"}),
            "patient2@demo.test": ("consider_referral", {"REFERRAL_CONSIDER"}),
            "patient3@demo.test": ("address_adherence", {"ADHERENCE_LOW"}),
            "patient4@demo.test": ("continue", {"PAIN_WORSENING", "ROM_DECLINE"}),
            "patient5@demo.test": ("resolved", {"RESOLVED"}),
            "patient6@demo.test": ("referred", set()),
            "patient7@demo.test": ("refer_now", {"REFERRAL_OVERDUE"}),
        }
        for email, (recommendation, codes) in expected.items():
            episode = Episode.objects.get(patient__user__email=email)
            response = client.get(f"/api/v1/episodes/{episode.pk}/progress/")
            assert response.status_code == 200, email
            progress = response.json()
            assert progress["recommendation"] == recommendation, email
            found = {f["code"] for f in progress["findings"]}
            assert codes <= found, email
            # Nothing the course is not about: no missing data, no second story.
            assert not found & {"BASELINE_MISSING", "LOGGING_GAP"}, email
            alerting = {f["code"] for f in progress["findings"] if f["severity"] != "info"}
            assert alerting - codes == set(), email

    def test_alerts_are_raised_for_the_courses_that_need_attention(self):
        seed()
        open_alerts = set(
            Alert.objects.exclude(status=AlertStatus.RESOLVED).values_list(
                "episode__patient__user__email", "code"
            )
        )
        assert open_alerts == {
            ("patient2@demo.test", "REFERRAL_CONSIDER"),
            ("patient3@demo.test", "ADHERENCE_LOW"),
            ("patient4@demo.test", "PAIN_WORSENING"),
            ("patient4@demo.test", "ROM_DECLINE"),
            ("patient7@demo.test", "REFERRAL_OVERDUE"),
        }

    def test_courses_are_distinct(self):
        seed()
        fingerprints = {
            (n.trial_day, round(n.baseline, 1), round(n.current, 1), round(n.adherence_pct))
            for n in map(numbers, DEMO_PATIENTS)
        }
        assert len(fingerprints) == len(DEMO_PATIENTS)

    def test_every_episode_looks_like_real_care(self, on_a_tuesday):
        seed()
        catalogue = set(Exercise.objects.values_list("name", flat=True))
        for episode in Episode.objects.select_related("patient"):
            today = episode.patient.local_today()
            entries = list(episode.entries.all())
            dates = [e.date for e in entries]
            assert max(dates) <= today
            assert min(dates) == episode.start_date
            # Missed days happen, but no more than one in six.
            span = (max(dates) - episode.start_date).days + 1
            assert len(entries) >= span * 5 / 6
            # No episode leaves the rules without data in the last week.
            assert sum(d >= today - dt.timedelta(days=6) for d in dates) >= 4
            rom_affected = [e.pf_rom_affected for e in entries if e.pf_rom_affected is not None]
            rom_healthy = [e.pf_rom_unaffected for e in entries if e.pf_rom_unaffected is not None]
            assert rom_affected and all(15 <= v <= 45 for v in rom_affected)
            assert rom_healthy and all(40 <= v <= 50 for v in rom_healthy)
            assert all(e.pain_rest is not None and e.pain_rest <= e.pain_activity for e in entries)
            active = [p for p in episode.prescriptions.all() if p.is_active_on(today)]
            assert 2 <= len(active) <= 3
            assert {p.name for p in episode.prescriptions.all()} <= catalogue
            for stay in episode.interventions.filter(kind=InterventionKind.IMMOBILIZATION):
                assert stay.end_date is not None
                assert (stay.end_date - stay.start_date).days + 1 < 10
        kinds = set(Intervention.objects.values_list("kind", flat=True))
        assert {InterventionKind.NSAID, InterventionKind.IMMOBILIZATION} <= kinds

    def test_clinical_writes_go_through_the_services_and_leave_audit_rows(self):
        seed()
        therapist = User.objects.get(email="therapist@demo.test")
        patient1 = User.objects.get(email="patient1@demo.test")
        episode = Episode.objects.get(patient__user=patient1)
        audit = AuditEvent.objects.filter(patient_id=episode.patient_id)
        assert audit.filter(action="episode.opened", actor=therapist).count() == 1
        assert audit.filter(action="prescription.created", actor=therapist).count() == 4
        assert audit.filter(action="intervention.recorded", actor=therapist).count() == 1
        # Patients log their own diary.
        assert audit.filter(action="entry.created", actor=patient1).count() == (
            episode.entries.count()
        )


def function_metrics(client, email: str) -> dict:
    episode = Episode.objects.get(patient__user__email=email)
    response = client.get(f"/api/v1/episodes/{episode.pk}/progress/")
    assert response.status_code == 200, email
    return response.json()


ALL_PATIENTS = [*DEMO_PATIENTS, "patient7@demo.test", "patient@northside.test"]


@pytest.mark.django_db
@pytest.mark.usefixtures("debug_on", "on_a_tuesday")
class TestFunctionHistories:
    """FAAM and PSFS histories matching each course (issue 15, point 6)."""

    def test_every_demo_patient_has_a_faam_and_psfs_baseline_in_the_first_week(self):
        seed()
        for email in ALL_PATIENTS:
            episode = Episode.objects.get(patient__user__email=email)
            week1 = episode.questionnaire_responses.filter(
                date__lte=episode.start_date + dt.timedelta(days=6)
            )
            assert set(week1.values_list("instrument", flat=True)) == {"faam", "psfs"}, email
            for response in episode.questionnaire_responses.all():
                assert response.date <= episode.patient.local_today()
                if response.instrument == "faam":
                    # Plausible answers: both subscales scored (the 90% rule met), 0–4 or N/A.
                    assert response.score_adl is not None and response.score_sports is not None
                    assert set(response.answers.values()) <= {0, 1, 2, 3, 4, "na"}
                    # Sport is harder than daily life for an ankle with impingement.
                    assert response.score_sports < response.score_adl
                else:
                    assert 1 <= len(response.answers) <= 5
                    assert all(a["activity"] for a in response.answers)

    def test_sport_function_does_not_improve_for_the_stalled_referred_and_overdue_courses(self):
        seed()
        client = APIClient()
        client.force_authenticate(User.objects.get(email="therapist@demo.test"))
        for email in ("patient2@demo.test", "patient7@demo.test"):
            progress = function_metrics(client, email)
            m = progress["metrics"]
            assert m["faam_sports_current"] - m["faam_sports_baseline"] < 9, email
            codes = {f["code"] for f in progress["findings"]}
            assert "FUNCTION_NOT_IMPROVING" in codes, email
        # Referred on day 44: the answers before it show Sports short of the MCID too.
        referred = Episode.objects.get(patient__user__email="patient6@demo.test")
        sports = list(
            referred.questionnaire_responses.filter(instrument="faam")
            .order_by("date")
            .values_list("date", "score_sports")
        )
        assert len(sports) == 2 and sports[-1][0] < referred.referral_date
        assert sports[-1][1] - sports[0][1] < 9
        # One Sports item answered N/A: 7 of 8 still make a score.
        assert (
            "na"
            in referred.questionnaire_responses.filter(instrument="faam").first().answers.values()
        )

    def test_function_improves_with_the_pain_for_the_improving_and_resolved_courses(self):
        seed()
        client = APIClient()
        client.force_authenticate(User.objects.get(email="therapist@demo.test"))
        for email in ("patient1@demo.test", "patient5@demo.test"):
            m = function_metrics(client, email)["metrics"]
            assert m["faam_sports_current"] - m["faam_sports_baseline"] >= 9, email
            assert m["faam_adl_current"] - m["faam_adl_baseline"] >= 8, email
            assert m["psfs_current"] - m["psfs_baseline"] >= 2, email

    def test_only_the_overdue_patient_has_questionnaires_due_today(self):
        seed()
        client = APIClient()
        client.force_authenticate(User.objects.get(email="therapist@demo.test"))
        due = {
            email: {d["instrument"] for d in function_metrics(client, email)["questionnaires_due"]}
            for email in [*DEMO_PATIENTS, "patient7@demo.test"]
        }
        assert due.pop("patient7@demo.test") == {"faam", "psfs"}
        assert all(not instruments for instruments in due.values()), due

    def test_answers_go_through_the_service_with_audit_rows(self):
        seed()
        therapist = User.objects.get(email="therapist@demo.test")
        episode = Episode.objects.get(patient__user__email="patient2@demo.test")
        responses = episode.questionnaire_responses.order_by("date", "instrument")
        # The intake's answers entered by the therapist, the review's by the patient.
        assert [r.recorded_by for r in responses] == [
            therapist,
            therapist,
            episode.patient.user,
            episode.patient.user,
        ]
        assert (
            AuditEvent.objects.filter(patient_id=episode.patient_id)
            .filter(action__startswith="questionnaire")
            .count()
            == 4
        )

    def test_the_therapist_sees_them_on_the_caseload_and_episode_page(self):
        seed()
        client = Client()
        client.force_login(User.objects.get(email="therapist@demo.test"))
        caseload = client.get("/").content.decode()
        assert "Function (FAAM)" in caseload and "FAAM and PSFS due" in caseload
        grace = Episode.objects.get(patient__user__email="patient7@demo.test")
        page = client.get(f"/episodes/{grace.pk}/").content.decode()
        assert "Due now: FAAM, PSFS." in page
        assert "Function not improving (FAAM)" in page


@pytest.mark.django_db
@pytest.mark.usefixtures("debug_on")
class TestReruns:
    def test_running_twice_leaves_the_same_state(self, on_a_tuesday):
        seed()
        first = counts()
        starts = dict(Episode.objects.values_list("patient__user__email", "start_date"))
        alerts = Alert.objects.count()
        seed()
        assert counts() == first
        assert dict(Episode.objects.values_list("patient__user__email", "start_date")) == starts
        assert Alert.objects.count() == alerts
        assert Clinic.objects.filter(name="Demo Clinic").count() == 1

    def test_a_later_run_lays_the_episodes_out_around_the_new_today(self):
        with time_machine.travel(A_TUESDAY, tick=False):
            seed()
            before = {email: numbers(email) for email in DEMO_PATIENTS}
            starts = dict(Episode.objects.values_list("patient__user__email", "start_date"))
            first = counts()
            # Somebody changed a demo password during a demo.
            user = User.objects.get(email="patient1@demo.test")
            user.set_password("something-else-entirely")
            user.save()
        later = A_TUESDAY + dt.timedelta(days=9)
        with time_machine.travel(later, tick=False):
            seed()
            assert counts() == first
            for email in DEMO_PATIENTS:
                episode = Episode.objects.get(patient__user__email=email)
                assert episode.start_date == starts[email] + dt.timedelta(days=9)
                assert numbers(email) == before[email]
                last = episode.entries.order_by("-date").first()
                assert last.date == later.date() - dt.timedelta(days=1)
            # Nothing is left behind from the first run's layout.
            new_first_day = min(Episode.objects.values_list("start_date", flat=True))
            assert DailyEntry.objects.filter(date__lt=new_first_day).count() == 0
            assert authenticate(email="patient1@demo.test", password="demo-patient-pass")

    def test_data_outside_the_demo_accounts_is_left_alone(self, on_a_tuesday):
        seed()
        therapist = User.objects.get(email="therapist@demo.test")
        walk_in = PatientFactory(therapist=therapist, user__email="walk-in@demo.test")
        episode = EpisodeFactory(patient=walk_in)
        DailyEntryFactory(episode=episode)
        seed()
        assert Episode.objects.filter(pk=episode.pk).exists()
        assert DailyEntry.objects.filter(episode=episode).count() == 1
        assert Patient.objects.filter(user__clinic__name="Demo Clinic").count() >= 7


@pytest.mark.django_db
class TestDebugGuard:
    def test_refuses_without_debug(self, settings):
        settings.DEBUG = False
        with pytest.raises(CommandError, match="DJANGO_DEBUG is off"):
            seed()
        assert not User.objects.filter(email__endswith="@demo.test").exists()

    def test_runs_without_debug_when_forced(self, settings):
        settings.DEBUG = False
        seed("--force")
        assert authenticate(email="admin@demo.test", password="demo-admin-pass")
        assert Patient.objects.filter(user__clinic__name="Demo Clinic").count() >= 6
