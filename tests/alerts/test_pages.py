"""The alert inbox (/alerts/), the progress section of the staff episode page, the thresholds
page (/settings/thresholds/) and the alert count in the navigation."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import AuditEvent
from rehab.models import Alert, AlertStatus, Channel, ClinicRuleSettings, Delivery, InboxMessage
from tests.alerts.conftest import day, evaluate
from tests.alerts.factories import AlertFactory
from tests.factories import DailyEntryFactory, EpisodeFactory, PatientFactory
from tests.pages.helpers import control, controls, unlabelled

pytestmark = pytest.mark.django_db


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def therapist(cast, client_for) -> Client:
    return client_for(cast.therapist)


# --- The inbox -----------------------------------------------------------------------------------


def test_the_inbox_lists_unresolved_alerts_most_severe_first(cast, therapist):
    warning = AlertFactory(
        episode=cast.episode_b, code="LOGGING_GAP", severity="warning", message="Only 2 entries."
    )
    critical = AlertFactory(
        episode=cast.episode_a,
        code="REFERRAL_OVERDUE",
        severity="critical",
        message="Day 57: refer.",
        evidence={"trial_day": 57, "pain_baseline": 7.0, "mcid_points": 2.0},
    )
    high = AlertFactory(episode=cast.episode_b, code="PAIN_WORSENING", severity="high")
    acknowledged = AlertFactory(
        episode=cast.episode_a, code="ROM_DECLINE", severity="warning", status="acknowledged"
    )
    AlertFactory(episode=cast.episode_a, code="ADHERENCE_LOW", status=AlertStatus.RESOLVED)
    AlertFactory(episode=cast.other_episode, code="REFERRAL_OVERDUE", severity="critical")

    response = therapist.get("/alerts/")
    assert response.status_code == 200
    listed = list(response.context["inbox"].page.object_list)
    assert listed == [critical, high, warning, acknowledged]
    html = response.content.decode()
    text = _text(html)
    assert "Referral for a surgical opinion overdue" in text and "Gap in daily logging" in text
    assert str(cast.patient_a) in text and str(cast.other_patient) not in text
    assert (
        "Evidence: trial day: 57 · baseline activity pain: 7.0 · important improvement, points: 2"
        in text
    )
    assert "mcid" not in text.lower() and "pain_baseline" not in text
    assert "Raised 0" in text  # the age of the alert
    assert f'href="/episodes/{cast.episode_a.pk}/"' in html
    # Every action is a POST form with a CSRF token and labelled inputs.
    assert html.count('name="csrfmiddlewaretoken"') >= 3 * len(listed)
    assert unlabelled(response) == []
    assert response.context["inbox"].counts == {
        "unresolved": 4,
        "open": 3,
        "acknowledged": 1,
        "snoozed": 0,
        "resolved": 1,
    }


@pytest.mark.parametrize("tab", ["open", "acknowledged", "snoozed", "resolved"])
def test_the_inbox_tabs_filter_by_status(cast, therapist, tab):
    alerts = {
        status: AlertFactory(
            episode=cast.episode_a,
            code=f"CODE_{status.upper()}",
            status=status,
            snoozed_until=dt.date(2026, 3, 9) if status == "snoozed" else None,
        )
        for status in ("open", "acknowledged", "snoozed", "resolved")
    }
    response = therapist.get(f"/alerts/?tab={tab}")
    assert list(response.context["inbox"].page.object_list) == [alerts[tab]]
    assert f'href="?tab={tab}" aria-current="page"' in response.content.decode()


def test_an_unknown_tab_is_a_404(cast, therapist):
    assert therapist.get("/alerts/?tab=everything").status_code == 404


def test_a_clinic_admin_sees_the_clinic_and_therapist_2_sees_their_own(cast, client_for):
    a = AlertFactory(episode=cast.episode_a)
    theirs = AlertFactory(
        episode=EpisodeFactory(patient=PatientFactory(therapist=cast.therapist_2))
    )
    admin = client_for(cast.admin).get("/alerts/").context["inbox"].page.object_list
    assert set(admin) == {a, theirs}
    second = client_for(cast.therapist_2).get("/alerts/").context["inbox"].page.object_list
    assert list(second) == [theirs]


def test_patients_cannot_open_the_inbox(cast, client_for):
    assert client_for(cast.patient_a.user).get("/alerts/").status_code == 403
    assert Client().get("/alerts/").status_code == 302


def test_the_inbox_lists_recent_notifications_in_reach(cast, therapist, example_1):
    alert = Alert.objects.get(pk=evaluate(example_1, 42).raised[0])
    foreign = AlertFactory(episode=cast.other_episode)
    for target, title in (
        (alert, "Consider referral for a surgical opinion"),
        (foreign, "Northside thing"),
    ):
        clinic = target.episode.patient.user.clinic
        delivery = Delivery.objects.create(
            alert=target, clinic=clinic, channel=Channel.INBOX, event_type="alert.raised"
        )
        InboxMessage.objects.create(clinic=clinic, alert=target, delivery=delivery, title=title)
    response = therapist.get("/alerts/")
    text = _text(response.content.decode())
    assert "New notifications" in text
    assert "Consider referral for a surgical opinion" in text and "Northside thing" not in text


def test_the_inbox_costs_the_same_queries_for_few_or_many_alerts(cast, client_for):
    admin = client_for(cast.admin)
    AlertFactory(episode=cast.episode_a)
    with CaptureQueriesContext(connection) as few:
        admin.get("/alerts/")
    for _ in range(10):
        AlertFactory(episode=EpisodeFactory(patient=PatientFactory(therapist=cast.therapist)))
    with CaptureQueriesContext(connection) as many:
        response = admin.get("/alerts/")
    assert len(response.context["inbox"].page.object_list) == 11
    assert len(few) == len(many)


# --- Actions -------------------------------------------------------------------------------------


def test_acknowledge_with_a_note_from_the_inbox(cast, therapist, example_1):
    alert_id = evaluate(example_1, 42).raised[0]
    response = therapist.post(
        f"/alerts/{alert_id}/acknowledge/", {"note": "Called the patient.", "next": "/alerts/"}
    )
    assert response.status_code == 302 and response["Location"] == "/alerts/"
    alert = Alert.objects.get(pk=alert_id)
    assert (alert.status, alert.note, alert.acknowledged_by) == (
        AlertStatus.ACKNOWLEDGED,
        "Called the patient.",
        cast.therapist,
    )
    assert AuditEvent.objects.filter(action="alert.acknowledged", actor=cast.therapist).exists()
    page = therapist.get("/alerts/")
    assert "acknowledged" in _text(page.content.decode())
    # Re-evaluating does not raise it again.
    assert evaluate(example_1, 43).raised == []


def test_snooze_and_resolve_from_the_episode_page(cast, therapist, example_1):
    ids = evaluate(example_1, 56).raised
    alert_id = ids[0]
    back = f"/episodes/{example_1.pk}/"
    response = therapist.post(f"/alerts/{alert_id}/snooze/", {"until": "2026-03-09", "next": back})
    assert response["Location"] == back
    alert = Alert.objects.get(pk=alert_id)
    assert (alert.status, alert.snoozed_until) == (AlertStatus.SNOOZED, dt.date(2026, 3, 9))
    response = therapist.post(f"/alerts/{alert_id}/resolve/", {"note": "Referred.", "next": back})
    alert.refresh_from_db()
    assert alert.status == AlertStatus.RESOLVED and alert.note == "Referred."
    assert AuditEvent.objects.filter(action="alert.resolved").count() == 1


def test_a_bad_snooze_date_is_explained_and_changes_nothing(cast, therapist, example_1):
    alert_id = evaluate(example_1, 42).raised[0]
    for until, why in (
        ("", "Snooze until: This field is required."),
        ("not a date", "Snooze until: Enter a valid date."),
        ("2026-03-02", "Snooze until a date after today."),
    ):
        response = therapist.post(f"/alerts/{alert_id}/snooze/", {"until": until}, follow=True)
        assert response.redirect_chain == [("/alerts/", 302)]
        assert [str(m) for m in response.context["messages"]] == [why]
    assert Alert.objects.get(pk=alert_id).status == AlertStatus.OPEN


def test_an_offsite_next_is_ignored(cast, therapist, example_1):
    alert_id = evaluate(example_1, 42).raised[0]
    response = therapist.post(
        f"/alerts/{alert_id}/acknowledge/", {"next": "https://evil.example/phish"}
    )
    assert response["Location"] == "/alerts/"


@pytest.mark.parametrize("persona", ["therapist_2", "other_therapist", "patient_a"])
def test_actions_on_alerts_out_of_reach_are_404_and_change_nothing(cast, client_for, persona):
    alert = AlertFactory(episode=cast.episode_a)
    user = getattr(cast, persona)
    client = client_for(getattr(user, "user", user))
    for action, data in (
        ("acknowledge", {"note": "x"}),
        ("snooze", {"until": "2026-03-09"}),
        ("resolve", {}),
    ):
        assert client.post(f"/alerts/{alert.pk}/{action}/", data).status_code == 404
    assert Alert.objects.get(pk=alert.pk).status == AlertStatus.OPEN
    assert not AuditEvent.objects.filter(action__startswith="alert.").exists()


def test_another_clinics_alert_id_is_a_404(cast, therapist):
    foreign = AlertFactory(episode=cast.other_episode)
    assert therapist.post(f"/alerts/{foreign.pk}/resolve/").status_code == 404
    assert Alert.objects.get(pk=foreign.pk).status == AlertStatus.OPEN


def test_actions_need_post_a_known_action_and_the_csrf_token(cast, client_for):
    alert = AlertFactory(episode=cast.episode_a)
    client = client_for(cast.therapist)
    assert client.get(f"/alerts/{alert.pk}/acknowledge/").status_code == 405
    assert client.post(f"/alerts/{alert.pk}/delete/").status_code == 404
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(cast.therapist)
    assert strict.post(f"/alerts/{alert.pk}/acknowledge/").status_code == 403
    assert Alert.objects.get(pk=alert.pk).status == AlertStatus.OPEN


# --- Navigation ----------------------------------------------------------------------------------


def test_the_nav_shows_the_number_of_open_alerts_to_staff(cast, client_for):
    AlertFactory(episode=cast.episode_a)
    AlertFactory(episode=cast.episode_b, code="LOGGING_GAP")
    AlertFactory(episode=cast.episode_b, code="ROM_DECLINE", status="acknowledged")
    html = client_for(cast.therapist).get("/").content.decode()
    assert re.search(r'href="/alerts/"[^>]*>Alerts <span class="count">2<', html)
    html = client_for(cast.therapist_2).get("/").content.decode()
    assert 'href="/alerts/"' in html and 'class="count"' not in html
    html = client_for(cast.patient_a.user).get("/").content.decode()
    assert 'href="/alerts/"' not in html


# --- The staff episode page ----------------------------------------------------------------------


def test_the_episode_page_shows_progress_findings_and_alerts(cast, therapist, example_1):
    alert_id = evaluate(example_1, 56).raised[0]
    response = therapist.get(f"/episodes/{example_1.pk}/")
    assert response.status_code == 200
    progress = response.context["progress"]
    # The page judges as of the patient's today: day 57, entries through day 56.
    assert progress.as_of == day(57)
    assert progress.evaluation.recommendation == "refer_now"
    html = response.content.decode()
    text = _text(html)
    assert 'class="badge rec rec-refer_now">Refer now<' in html
    assert "57 (week 9)" in text
    assert "Baseline pain 7.0/10" in text and "Current pain (last 7 days) 6.0/10" in text
    assert "Adherence 100%" in text
    assert "Referral for a surgical opinion overdue" in text and "REFERRAL_OVERDUE" not in text
    assert "Evidence: trial day: 57" in text
    assert "important change rule: a fall of 2 points and 30%" in text
    assert "baseline from: the first week’s mean" in text.replace("&#x27;", "’").replace("'", "’")
    assert "points_and_percent" not in text and "week1" not in text
    assert [a.pk for a in progress.alerts] == [alert_id]
    assert f'action="/alerts/{alert_id}/acknowledge/"' in html
    # Each action (acknowledge, snooze, resolve) comes back to this page.
    nexts = [c.attrs["value"] for c in controls(response) if c.name == "next"]
    assert nexts == [f"/episodes/{example_1.pk}/"] * 3
    assert unlabelled(response) == []


def test_the_episode_page_lists_recently_resolved_alerts(cast, therapist, example_1):
    consider = evaluate(example_1, 42).raised[0]
    evaluate(example_1, 56)
    response = therapist.get(f"/episodes/{example_1.pk}/")
    assert [a.pk for a in response.context["progress"].resolved_alerts] == [consider]
    assert "Recently resolved alerts (1)" in response.content.decode()


def test_the_episode_page_costs_the_same_queries_with_alerts_and_entries(cast, therapist):
    episode = cast.episode_a
    url = f"/episodes/{episode.pk}/"
    DailyEntryFactory(episode=episode, date=episode.start_date)
    AlertFactory(episode=episode)
    with CaptureQueriesContext(connection) as small:
        therapist.get(url)
    for n in range(1, 15):
        DailyEntryFactory(episode=episode, date=episode.start_date + dt.timedelta(days=n))
    AlertFactory(episode=episode, code="LOGGING_GAP", severity="warning")
    AlertFactory(episode=episode, code="ROM_DECLINE", status=AlertStatus.RESOLVED)
    with CaptureQueriesContext(connection) as large:
        response = therapist.get(url)
    assert len(response.context["progress"].alerts) == 2
    assert len(large) == len(small)


def test_the_patients_own_episode_page_shows_no_alerts(cast, client_for, example_1):
    evaluate(example_1, 56)
    html = client_for(cast.patient_a.user).get(f"/episodes/{example_1.pk}/").content.decode()
    assert "REFERRAL_OVERDUE" not in html and "/alerts/" not in html


# --- Thresholds page -----------------------------------------------------------------------------


def test_an_admin_changes_a_threshold_on_the_page(cast, client_for):
    admin = client_for(cast.admin)
    page = admin.get("/settings/thresholds/")
    assert page.status_code == 200
    assert unlabelled(page) == []
    assert control(page, "review_day").attrs["value"] == "42"
    assert len(page.context["rows"]) == 17
    assert "Default: 42." in page.content.decode()
    values = {row["field"].name: row["value"] for row in page.context["rows"]}
    response = admin.post("/settings/thresholds/", {**values, "review_day": "45"})
    assert response.status_code == 302
    assert ClinicRuleSettings.objects.get(clinic=cast.clinic).overrides == {"review_day": 45}
    assert AuditEvent.objects.filter(action="clinic.thresholds_updated").count() == 1
    page = admin.get("/settings/thresholds/")
    assert control(page, "review_day").attrs["value"] == "45"
    assert "Changed from the default (42)" in page.content.decode()


def test_an_empty_field_is_the_default_and_reset_restores_all(cast, client_for):
    admin = client_for(cast.admin)
    admin.post("/settings/thresholds/", {"review_day": "45", "bmi_flag": "35"})
    assert ClinicRuleSettings.objects.get(clinic=cast.clinic).overrides == {
        "review_day": 45,
        "bmi_flag": 35.0,
    }
    admin.post("/settings/thresholds/", {"reset": "1"})
    assert ClinicRuleSettings.objects.get(clinic=cast.clinic).overrides == {}


def test_invalid_thresholds_are_shown_on_their_fields_and_not_saved(cast, client_for):
    admin = client_for(cast.admin)
    response = admin.post(
        "/settings/thresholds/", {"review_day": "60", "mcid_percent": "150", "bmi_flag": "x"}
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.errors) == {"bmi_flag"}  # the form's own parsing comes first
    response = admin.post("/settings/thresholds/", {"review_day": "60", "mcid_percent": "150"})
    form = response.context["form"]
    assert set(form.errors) == {"mcid_percent"}
    # The message names the threshold by its label, with its limits (issue 14).
    assert form.errors["mcid_percent"][0] == (
        "Important improvement, %: must be from 5 to 80 (got 150)."
    )
    response = admin.post("/settings/thresholds/", {"review_day": "60"})
    assert set(response.context["form"].errors) == {"overdue_day"}
    assert "Not saved yet" in response.content.decode()
    assert not ClinicRuleSettings.objects.exists()


def test_therapists_read_the_thresholds_and_cannot_change_them(cast, client_for):
    ClinicRuleSettings.objects.create(clinic=cast.clinic, overrides={"review_day": 45})
    therapist = client_for(cast.therapist)
    page = therapist.get("/settings/thresholds/")
    assert page.status_code == 200
    assert 'name="review_day"' not in page.content.decode()
    assert "changed" in _text(page.content.decode())
    assert therapist.post("/settings/thresholds/", {"review_day": "50"}).status_code == 403
    assert client_for(cast.patient_a.user).get("/settings/thresholds/").status_code == 403
    assert ClinicRuleSettings.objects.get(clinic=cast.clinic).overrides == {"review_day": 45}
