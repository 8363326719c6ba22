"""Escalation: an alert left open past its clinic's delay for its severity (critical 48 hours,
high 72 by default) goes to the clinic's admins, once per escalation clock."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.core import mail

import rehab.escalation
import rehab.jobs
from accounts.models import User
from rehab.evaluation import evaluate_episode
from rehab.models import Alert, Channel, Delivery, Episode
from rehab.tasks import escalate_alerts
from tests.conftest import Cast
from tests.courses import stalled_course
from tests.factories import ClinicAdminFactory, EpisodeFactory, PatientFactory

pytestmark = pytest.mark.django_db

RAISED_AT = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
AS_OF = RAISED_AT.date()


def _episode_on_day(cast: Cast, day: int) -> Episode:
    patient = PatientFactory(
        therapist=cast.therapist, user__first_name="Jo", user__last_name="March"
    )
    episode = EpisodeFactory(patient=patient, start_date=AS_OF - dt.timedelta(days=day - 1))
    stalled_course(episode, days=[*range(1, 8), *range(day - 6, day + 1)], recent_from_day=day - 6)
    return episode


def _raise_alert(cast: Cast, *, day: int, capture: Any) -> Alert:
    episode = _episode_on_day(cast, day)
    with time_machine.travel(RAISED_AT, tick=False), capture(execute=True):
        outcome = evaluate_episode(episode_id=episode.pk, as_of=AS_OF)
    (alert,) = Alert.objects.filter(pk__in=outcome.raised, code__startswith="REFERRAL_")
    return alert


def _escalate_at(moment: dt.datetime, capture: Any) -> int:
    with time_machine.travel(moment, tick=False), capture(execute=True):
        return escalate_alerts.delay().get()


def _escalations() -> list[tuple[int | None, str]]:
    return sorted(
        Delivery.objects.filter(event_type="alert.escalated").values_list("recipient_id", "channel")
    )


def test_critical_alert_open_for_49_hours_goes_to_every_clinic_admin_once(
    cast: Cast, django_capture_on_commit_callbacks
) -> None:
    second_admin = ClinicAdminFactory(email="admin2@riverside.test", clinic=cast.clinic)
    ClinicAdminFactory(email="admin@northside.test", clinic=cast.other_clinic)
    alert = _raise_alert(cast, day=56, capture=django_capture_on_commit_callbacks)
    assert alert.code == "REFERRAL_OVERDUE" and alert.severity == "critical"
    mail.outbox.clear()

    assert _escalate_at(RAISED_AT + dt.timedelta(hours=47), django_capture_on_commit_callbacks) == 0
    assert _escalations() == []

    later = RAISED_AT + dt.timedelta(hours=49)
    assert _escalate_at(later, django_capture_on_commit_callbacks) == 1
    assert _escalations() == sorted(
        [(cast.admin.pk, Channel.EMAIL), (second_admin.pk, Channel.EMAIL)]
    )
    alert.refresh_from_db()
    assert alert.escalated_at == later
    assert alert.status == "open"  # escalation tells people; it does not act for them
    assert sorted(address for m in mail.outbox for address in m.to) == [
        "admin2@riverside.test",
        "admin@riverside.test",
    ]

    # Every later hourly run finds it already escalated.
    for hours in (50, 51, 24 * 7):
        assert (
            _escalate_at(RAISED_AT + dt.timedelta(hours=hours), django_capture_on_commit_callbacks)
            == 0
        )
    assert len(_escalations()) == 2
    assert len(mail.outbox) == 2


def test_an_acknowledged_critical_alert_is_not_escalated(
    cast: Cast, api, django_capture_on_commit_callbacks
) -> None:
    alert = _raise_alert(cast, day=56, capture=django_capture_on_commit_callbacks)
    with time_machine.travel(RAISED_AT + dt.timedelta(hours=3), tick=False):
        response = api(cast.therapist).post(
            f"/api/v1/alerts/{alert.pk}/acknowledge/", {}, format="json"
        )
    assert response.status_code == 200, response.content

    assert _escalate_at(RAISED_AT + dt.timedelta(hours=49), django_capture_on_commit_callbacks) == 0
    assert _escalations() == []
    alert.refresh_from_db()
    assert alert.escalated_at is None


def test_a_high_alert_escalates_after_72_hours_by_default(
    cast: Cast, django_capture_on_commit_callbacks
) -> None:
    alert = _raise_alert(cast, day=42, capture=django_capture_on_commit_callbacks)
    assert alert.code == "REFERRAL_CONSIDER" and alert.severity == "high"

    assert _escalate_at(RAISED_AT + dt.timedelta(hours=71), django_capture_on_commit_callbacks) == 0
    assert _escalations() == []
    assert _escalate_at(RAISED_AT + dt.timedelta(hours=73), django_capture_on_commit_callbacks) == 1
    assert _escalations() == [(cast.admin.pk, Channel.EMAIL)]


def test_a_run_that_loses_the_race_writes_nothing(
    cast: Cast, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks
) -> None:
    # Two beats read the same candidate; the other one claims it first (here: while this run
    # looks up the admins, between its read and its claim). The conditional UPDATE lets only
    # one of them write the notifications.
    alert = _raise_alert(cast, day=56, capture=django_capture_on_commit_callbacks)
    real_admins = rehab.escalation.clinic_admins
    other_runs: list[list[int]] = []

    def admins_while_another_run_claims(clinic_id: int | None) -> list[User]:
        if not other_runs:
            other_runs.append([])  # mark first, so the other run does not recurse
            other_runs[0] = rehab.jobs.escalation_run()
        return real_admins(clinic_id)

    monkeypatch.setattr(rehab.escalation, "clinic_admins", admins_while_another_run_claims)
    with time_machine.travel(RAISED_AT + dt.timedelta(hours=49), tick=False):
        assert rehab.jobs.escalation_run() == []
    assert other_runs == [[alert.pk]]
    assert _escalations() == [(cast.admin.pk, Channel.EMAIL)]


def test_an_alert_acknowledged_during_the_run_is_not_escalated(
    cast: Cast, api, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks
) -> None:
    alert = _raise_alert(cast, day=56, capture=django_capture_on_commit_callbacks)
    real_admins = rehab.escalation.clinic_admins
    client = api(cast.therapist)

    def admins_while_the_therapist_acknowledges(clinic_id: int | None) -> list[User]:
        response = client.post(f"/api/v1/alerts/{alert.pk}/acknowledge/", {}, format="json")
        assert response.status_code == 200, response.content
        return real_admins(clinic_id)

    monkeypatch.setattr(rehab.escalation, "clinic_admins", admins_while_the_therapist_acknowledges)
    with time_machine.travel(RAISED_AT + dt.timedelta(hours=49), tick=False):
        assert rehab.jobs.escalation_run() == []
    assert _escalations() == []
    alert.refresh_from_db()
    assert alert.status == "acknowledged" and alert.escalated_at is None


def test_a_clinic_without_an_admin_gets_the_escalation_once_it_has_one(
    cast: Cast, caplog: pytest.LogCaptureFixture, django_capture_on_commit_callbacks
) -> None:
    alert = _raise_alert(cast, day=56, capture=django_capture_on_commit_callbacks)
    cast.admin.is_active = False
    cast.admin.save()

    assert _escalate_at(RAISED_AT + dt.timedelta(hours=49), django_capture_on_commit_callbacks) == 0
    assert f"Alert {alert.pk} is due for escalation but clinic" in caplog.text
    alert.refresh_from_db()
    assert alert.escalated_at is None

    new_admin = ClinicAdminFactory(email="new-admin@riverside.test", clinic=cast.clinic)
    assert _escalate_at(RAISED_AT + dt.timedelta(hours=50), django_capture_on_commit_callbacks) == 1
    assert _escalations() == [(new_admin.pk, Channel.EMAIL)]
