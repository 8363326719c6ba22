"""Escalation per clinic and severity, re-armed by a snooze that ends, and the admins' daily
summary of unacknowledged alerts (docs/alerts.md, "Escalation")."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.core import mail

from accounts.audit import AuditEvent
from rehab.escalation import clinic_escalation
from rehab.evaluation import evaluate_episode
from rehab.jobs import admin_summary_send, escalation_run
from rehab.models import AdminSummaryLog, Alert, AlertStatus, Delivery, Episode
from tests.conftest import Cast
from tests.courses import stalled_course
from tests.factories import ClinicAdminFactory, EpisodeFactory, PatientFactory
from tests.personas import signed_in_client

pytestmark = pytest.mark.django_db

RAISED_AT = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
AS_OF = RAISED_AT.date()
ESCALATION = "/api/v1/clinic/escalation/"


def _episode_on_day(cast: Cast, day: int) -> Episode:
    patient = PatientFactory(
        therapist=cast.therapist, user__first_name="Jo", user__last_name="March"
    )
    episode = EpisodeFactory(patient=patient, start_date=AS_OF - dt.timedelta(days=day - 1))
    stalled_course(episode, days=[*range(1, 8), *range(day - 6, day + 1)], recent_from_day=day - 6)
    return episode


def _raise(cast: Cast, *, day: int, capture: Any) -> Alert:
    episode = _episode_on_day(cast, day)
    with time_machine.travel(RAISED_AT, tick=False), capture(execute=True):
        outcome = evaluate_episode(episode_id=episode.pk, as_of=AS_OF)
    (alert,) = Alert.objects.filter(pk__in=outcome.raised, code__startswith="REFERRAL_")
    return alert


def _escalate(at: dt.datetime) -> list[int]:
    with time_machine.travel(at, tick=False):
        return escalation_run()


# --- Settings: API and page ----------------------------------------------------------------------


def test_defaults_then_an_admin_changes_them_and_it_is_audited(cast, api):
    client = api(cast.admin)
    body = client.get(ESCALATION).json()
    assert {k: body[k] for k in ("critical_enabled", "critical_hours", "high_enabled")} == {
        "critical_enabled": True,
        "critical_hours": 48,
        "high_enabled": True,
    }
    assert body["high_hours"] == 72 and body["daily_summary"] is True
    response = client.put(ESCALATION, {"high_enabled": False, "critical_hours": 24}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["high_enabled"] is False and response.json()["critical_hours"] == 24
    assert response.json()["updated_by"] == cast.admin.pk
    assert AuditEvent.objects.filter(action="clinic.escalation_updated").count() == 1
    # Another clinic keeps its defaults.
    assert api(cast.other_therapist).get(ESCALATION).json()["critical_hours"] == 48


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"critical_hours": 0}, "critical_hours", "Hours before a critical alert escalates"),
        ({"high_hours": 337}, "high_hours", "Hours before a high alert escalates"),
        ({"high_hours": 2.5}, "high_hours", "whole number"),
        ({"high_enabled": "yes"}, "high_enabled", "Escalate high alerts"),
        ({"weekly": True}, "non_field_errors", "weekly"),
    ],
)
def test_bad_settings_are_a_400_naming_the_field_by_its_label(cast, api, body, field, words):
    response = api(cast.admin).put(ESCALATION, body, format="json")
    assert response.status_code == 400
    assert words in " ".join(response.json()[field])
    assert api(cast.admin).get(ESCALATION).json()["critical_hours"] == 48  # nothing saved


def test_therapists_read_but_may_not_change_them(cast, api):
    assert api(cast.therapist).get(ESCALATION).status_code == 200
    assert api(cast.therapist).put(ESCALATION, {"high_hours": 5}, format="json").status_code == 403
    assert api(cast.patient_a.user).get(ESCALATION).status_code == 403
    page = signed_in_client(cast.therapist)
    assert page.get("/settings/alerts/").status_code == 200
    assert page.post("/settings/alerts/", {"high_hours": 5}).status_code == 403


def test_the_page_saves_and_shows_errors_by_label(cast):
    client = signed_in_client(cast.admin)
    response = client.get("/settings/alerts/")
    assert response.status_code == 200
    assert "Hours before a high alert escalates" in response.content.decode()
    response = client.post(
        "/settings/alerts/",
        {"critical_enabled": "on", "critical_hours": "500", "high_hours": "72"},
    )
    assert response.status_code == 200
    assert "Hours before a critical alert escalates" in response.content.decode()
    response = client.post(
        "/settings/alerts/",
        {"critical_enabled": "on", "critical_hours": "12", "high_hours": "24"},
    )
    assert response.status_code == 302
    body = signed_in_client(cast.admin).get("/settings/alerts/").content.decode()
    assert 'value="12"' in body
    # The unchecked boxes were saved as "no": high alerts and the summary are off.
    policy = clinic_escalation(clinic_id=cast.clinic.pk)
    assert (policy.high_enabled, policy.daily_summary, policy.high_hours) == (False, False, 24)


# --- The run -------------------------------------------------------------------------------------


def test_a_clinics_own_delay_and_severities_are_used(cast, api, django_capture_on_commit_callbacks):
    api(cast.admin).put(ESCALATION, {"critical_hours": 12, "high_enabled": False}, format="json")
    critical = _raise(cast, day=56, capture=django_capture_on_commit_callbacks)
    high = _raise(cast, day=42, capture=django_capture_on_commit_callbacks)
    assert _escalate(RAISED_AT + dt.timedelta(hours=11)) == []
    assert _escalate(RAISED_AT + dt.timedelta(hours=13)) == [critical.pk]
    assert _escalate(RAISED_AT + dt.timedelta(days=30)) == []  # high: off
    high.refresh_from_db()
    assert high.escalated_at is None


def test_a_snooze_that_ends_re_arms_escalation(cast, api, django_capture_on_commit_callbacks):
    alert = _raise(cast, day=56, capture=django_capture_on_commit_callbacks)
    # The patient goes on logging the same (days 57-60): the finding still holds then.
    stalled_course(alert.episode, days=range(57, 61), recent_from_day=50)
    assert _escalate(RAISED_AT + dt.timedelta(hours=49)) == [alert.pk]
    # Snoozed for two days: not escalated again while snoozed.
    with time_machine.travel(RAISED_AT + dt.timedelta(hours=50), tick=False):
        response = api(cast.therapist).post(
            f"/api/v1/alerts/{alert.pk}/snooze/",
            {"until": (AS_OF + dt.timedelta(days=4)).isoformat()},
            format="json",
        )
    assert response.status_code == 200, response.content
    assert _escalate(RAISED_AT + dt.timedelta(days=5)) == []
    # The snooze ends; the evaluation of that day reopens it and restarts the clock.
    reopened_at = dt.datetime.combine(AS_OF + dt.timedelta(days=4), dt.time(2), tzinfo=dt.UTC)
    with (
        time_machine.travel(reopened_at, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        outcome = evaluate_episode(episode_id=alert.episode_id, as_of=AS_OF + dt.timedelta(days=4))
    assert outcome.reopened == [alert.pk]
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN and alert.escalated_at is None
    assert alert.escalation_clock_from == reopened_at
    assert _escalate(reopened_at + dt.timedelta(hours=47)) == []
    assert _escalate(reopened_at + dt.timedelta(hours=49)) == [alert.pk]
    assert Delivery.objects.filter(event_type="alert.escalated").count() == 2


def test_acknowledging_stops_it(cast, api, django_capture_on_commit_callbacks):
    alert = _raise(cast, day=42, capture=django_capture_on_commit_callbacks)
    api(cast.therapist).post(f"/api/v1/alerts/{alert.pk}/acknowledge/", {}, format="json")
    assert _escalate(RAISED_AT + dt.timedelta(days=10)) == []


# --- The admins' daily summary ------------------------------------------------------------------


def _summary(at: dt.datetime, capture: Any) -> list[int]:
    with time_machine.travel(at, tick=False), capture(execute=True):
        return admin_summary_send()


def test_each_admin_gets_one_summary_a_day_of_what_nobody_acknowledged(
    cast, api, django_capture_on_commit_callbacks
):
    second = ClinicAdminFactory(email="admin2@riverside.test", clinic=cast.clinic)
    ClinicAdminFactory(email="admin@northside.test", clinic=cast.other_clinic)
    critical = _raise(cast, day=56, capture=django_capture_on_commit_callbacks)
    high = _raise(cast, day=42, capture=django_capture_on_commit_callbacks)
    api(cast.therapist).post(f"/api/v1/alerts/{high.pk}/acknowledge/", {}, format="json")
    mail.outbox.clear()

    morning = RAISED_AT + dt.timedelta(days=1)
    sent = _summary(morning, django_capture_on_commit_callbacks)
    assert sorted(sent) == sorted([cast.admin.pk, second.pk])  # not Northside's: nothing open
    assert sorted(a for m in mail.outbox for a in m.to) == [
        "admin2@riverside.test",
        cast.admin.email,
    ]
    message = mail.outbox[0]
    unacknowledged = Alert.objects.filter(status=AlertStatus.OPEN).count()
    assert message.subject.startswith(f"Daily summary: {unacknowledged} unacknowledged alert")
    # Initials and words only: no names, no messages with their numbers.
    assert "J.M." in message.body and "March" not in message.body
    assert critical.message not in message.body
    line = "J.M.  Referral for a surgical opinion overdue (critical), raised 1 day ago"
    assert line in message.body
    # Idempotent: a second run that day sends nothing; the next day sends again.
    assert _summary(morning + dt.timedelta(hours=2), django_capture_on_commit_callbacks) == []
    assert len(mail.outbox) == 2
    assert AdminSummaryLog.objects.filter(date=morning.date()).count() == 2
    assert len(_summary(morning + dt.timedelta(days=1), django_capture_on_commit_callbacks)) == 2


def test_no_summary_when_nothing_is_unacknowledged_or_the_clinic_turned_it_off(
    cast, api, django_capture_on_commit_callbacks
):
    assert _summary(RAISED_AT, django_capture_on_commit_callbacks) == []
    _raise(cast, day=56, capture=django_capture_on_commit_callbacks)
    api(cast.admin).put(ESCALATION, {"daily_summary": False}, format="json")
    assert _summary(RAISED_AT + dt.timedelta(days=1), django_capture_on_commit_callbacks) == []
    assert not AdminSummaryLog.objects.exists()
    assert not [m for m in mail.outbox if "Daily summary" in m.subject]
