"""The daily job: one reminder per referral with no appointment or outcome 14 days after it."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.test import TestCase

from accounts.models import AuditEvent, User
from rehab.models import ReferralFollowUp
from rehab.tasks import send_referral_reminders
from tests.api.helpers import url
from tests.referrals.helpers import follow_up_url

pytestmark = pytest.mark.django_db

REFERRED_ON = dt.date(2026, 3, 2)
# The job's hour (08:00 UTC) on the day 13 and 14 days after the referral.
DAY_13 = dt.datetime(2026, 3, 15, 8, 0, tzinfo=dt.UTC)
DAY_14 = dt.datetime(2026, 3, 16, 8, 0, tzinfo=dt.UTC)


@pytest.fixture
def referred(cast, api):
    """Patient A referred on REFERRED_ON (recorded that day) after a six-week trial."""
    episode = cast.episode_a
    type(episode).objects.filter(pk=episode.pk).update(start_date=dt.date(2026, 1, 12))
    with time_machine.travel(dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC), tick=False):
        response = api(cast.therapist).post(
            url("api-episode-referral", pk=episode.pk),
            {"date": REFERRED_ON.isoformat(), "referred_to": "City Orthopaedics"},
            format="json",
        )
    assert response.status_code == 200, response.content
    episode.refresh_from_db()
    return episode


def _run_at(moment: dt.datetime) -> int:
    # The email leaves once the claim is committed (on_commit), as in production.
    with time_machine.travel(moment, tick=False), TestCase.captureOnCommitCallbacks(execute=True):
        return send_referral_reminders()


def test_one_reminder_on_day_14_to_the_treating_therapist_and_never_again(cast, referred):
    assert _run_at(DAY_13) == 0
    assert mail.outbox == []

    assert _run_at(DAY_14) == 1
    (message,) = mail.outbox
    assert message.to == [cast.therapist.email]
    assert message.subject == "No appointment recorded 14 days after a referral"
    body = message.body
    assert f"http://testserver/episodes/{referred.pk}/" in body
    assert "14 days ago" in body and "2 Mar 2026" in body
    user = cast.patient_a.user
    assert f"{user.first_name[0]}.{user.last_name[0]}." in body
    # Initials only: no name, no email address, nobody's health values.
    assert user.last_name not in body and user.email not in body
    follow_up = ReferralFollowUp.objects.get(episode=referred)
    assert follow_up.reminder_sent_at == DAY_14
    assert AuditEvent.objects.filter(
        action="referral.reminder_sent", object_id=str(follow_up.pk), actor=None
    ).exists()

    # The next days' runs (and a second run the same day) send nothing more.
    assert _run_at(DAY_14) == 0
    assert _run_at(DAY_14 + dt.timedelta(days=1)) == 0
    assert len(mail.outbox) == 1


def test_the_list_marks_the_referral_follow_up_due_from_day_14(cast, referred, api):
    with time_machine.travel(DAY_13, tick=False):
        assert api(cast.therapist).get(follow_up_url(referred)).json()["follow_up_due"] is False
    with time_machine.travel(DAY_14, tick=False):
        body = api(cast.therapist).get(url("api-referral-list"), {"show": "due"}).json()
    assert [item["id"] for item in body["results"]] == [referred.pk]
    assert body["results"][0]["reminder_sent_at"] is None


def test_no_reminder_once_an_appointment_or_outcome_is_recorded(cast, referred, api):
    with time_machine.travel(DAY_13, tick=False):
        response = api(cast.therapist).patch(
            follow_up_url(referred), {"appointment_date": "2026-03-20"}, format="json"
        )
    assert response.status_code == 200
    assert _run_at(DAY_14) == 0
    assert mail.outbox == []


def test_no_reminder_for_a_withdrawn_or_closed_referral(cast, referred, api):
    with time_machine.travel(DAY_13, tick=False):
        api(cast.therapist).post(
            url("api-episode-close", pk=referred.pk),
            {"date": "2026-03-10", "outcome": "discontinued"},
            format="json",
        )
    assert _run_at(DAY_14) == 0


def test_the_day_is_the_patients_own(cast, referred):
    """In Auckland (UTC+13 in March) the 14th day starts on the 15th at 11:00 UTC."""
    type(cast.patient_a).objects.filter(pk=cast.patient_a.pk).update(timezone="Pacific/Auckland")
    assert _run_at(dt.datetime(2026, 3, 15, 10, 0, tzinfo=dt.UTC)) == 0
    assert _run_at(dt.datetime(2026, 3, 15, 11, 30, tzinfo=dt.UTC)) == 1


def test_without_an_active_therapist_the_clinic_admins_are_reminded(cast, referred):
    User.objects.filter(pk=cast.therapist.pk).update(is_active=False)
    assert _run_at(DAY_14) == 1
    assert [m.to for m in mail.outbox] == [[cast.admin.email]]


def test_reminder_is_in_the_recipients_language(cast, referred):
    User.objects.filter(pk=cast.therapist.pk).update(language="es")
    assert _run_at(DAY_14) == 1
    (message,) = mail.outbox
    assert message.subject == "Ninguna cita registrada 14 días después de una derivación"
    assert message.extra_headers["Content-Language"] == "es"
