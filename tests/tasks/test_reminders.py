"""The 19:00 reminder: local time per patient, only without an entry, at most once a day."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail

from accounts.models import Patient
from rehab.models import EpisodeStatus, ReminderLog
from rehab.tasks import send_reminders
from tests.conftest import Cast
from tests.factories import DailyEntryFactory, EpisodeFactory, PatientFactory

LONDON = ZoneInfo("Europe/London")  # UTC+0 in January
NEW_YORK = ZoneInfo("America/New_York")  # UTC-5 in January
DAY = dt.date(2026, 1, 20)

pytestmark = pytest.mark.django_db


def _patient(cast: Cast, *, zone: str, email: str, first_name: str = "Robin") -> Patient:
    patient = PatientFactory(
        therapist=cast.therapist, timezone=zone, user__email=email, user__first_name=first_name
    )
    EpisodeFactory(patient=patient, start_date=DAY - dt.timedelta(days=10))
    return patient


def _run_at(moment: dt.datetime, capture: Any) -> int:
    with time_machine.travel(moment, tick=False), capture(execute=True):
        return send_reminders.delay().get()


def _sent_to() -> list[str]:
    return [address for message in mail.outbox for address in message.to]


def test_london_patient_is_reminded_from_1900_local_not_at_1859(
    cast: Cast, django_capture_on_commit_callbacks
) -> None:
    _patient(cast, zone="Europe/London", email="london@riverside.test")

    assert (
        _run_at(dt.datetime(2026, 1, 20, 18, 59, tzinfo=LONDON), django_capture_on_commit_callbacks)
        == 0
    )
    assert mail.outbox == []

    assert (
        _run_at(dt.datetime(2026, 1, 20, 19, 0, tzinfo=LONDON), django_capture_on_commit_callbacks)
        == 1
    )
    assert _sent_to() == ["london@riverside.test"]


def test_new_york_patient_is_reminded_at_1900_new_york_time_with_its_local_date(
    cast: Cast, django_capture_on_commit_callbacks
) -> None:
    london = _patient(cast, zone="Europe/London", email="london@riverside.test")
    new_york = _patient(cast, zone="America/New_York", email="ny@riverside.test")
    # London has its entry for the 20th; it must not be reminded after midnight either.
    DailyEntryFactory(episode=london.episodes.get(), date=DAY)

    # 18:59 in New York is 23:59 in London: nobody yet.
    assert (
        _run_at(
            dt.datetime(2026, 1, 20, 18, 59, tzinfo=NEW_YORK), django_capture_on_commit_callbacks
        )
        == 0
    )
    # 19:00 in New York is already the 21st in UTC; the patient's day is still the 20th.
    assert (
        _run_at(
            dt.datetime(2026, 1, 20, 19, 0, tzinfo=NEW_YORK), django_capture_on_commit_callbacks
        )
        == 1
    )
    assert _sent_to() == ["ny@riverside.test"]
    assert list(ReminderLog.objects.values_list("patient_id", "date")) == [(new_york.pk, DAY)]


def test_no_reminder_when_todays_entry_exists(
    cast: Cast, django_capture_on_commit_callbacks
) -> None:
    patient = _patient(cast, zone="America/New_York", email="ny@riverside.test")
    DailyEntryFactory(episode=patient.episodes.get(), date=DAY)

    assert (
        _run_at(
            dt.datetime(2026, 1, 20, 20, 0, tzinfo=NEW_YORK), django_capture_on_commit_callbacks
        )
        == 0
    )
    assert mail.outbox == []
    assert not ReminderLog.objects.exists()


def test_yesterdays_entry_does_not_count_for_today(
    cast: Cast, django_capture_on_commit_callbacks
) -> None:
    patient = _patient(cast, zone="Europe/London", email="london@riverside.test")
    DailyEntryFactory(episode=patient.episodes.get(), date=DAY - dt.timedelta(days=1))

    assert (
        _run_at(dt.datetime(2026, 1, 20, 19, 15, tzinfo=LONDON), django_capture_on_commit_callbacks)
        == 1
    )


def test_once_per_day_however_often_beat_runs(
    cast: Cast, django_capture_on_commit_callbacks
) -> None:
    patient = _patient(cast, zone="Europe/London", email="london@riverside.test")

    for hour, minute in [(19, 0), (19, 15), (21, 30), (23, 45)]:
        _run_at(
            dt.datetime(2026, 1, 20, hour, minute, tzinfo=LONDON),
            django_capture_on_commit_callbacks,
        )
    assert len(mail.outbox) == 1

    # The next evening is a new day.
    _run_at(dt.datetime(2026, 1, 21, 19, 0, tzinfo=LONDON), django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 2
    assert sorted(ReminderLog.objects.filter(patient=patient).values_list("date", flat=True)) == [
        DAY,
        DAY + dt.timedelta(days=1),
    ]


def test_a_reminder_log_row_already_written_means_no_email(
    cast: Cast, django_capture_on_commit_callbacks
) -> None:
    # Another beat (or a redelivered task) got there first: the row is what makes it once.
    patient = _patient(cast, zone="Europe/London", email="london@riverside.test")
    ReminderLog.objects.create(patient=patient, date=DAY)

    assert (
        _run_at(dt.datetime(2026, 1, 20, 19, 0, tzinfo=LONDON), django_capture_on_commit_callbacks)
        == 0
    )
    assert mail.outbox == []


def test_only_patients_with_an_active_started_episode_and_an_active_account(
    cast: Cast, django_capture_on_commit_callbacks
) -> None:
    closed = _patient(cast, zone="Europe/London", email="closed@riverside.test")
    closed.episodes.update(status=EpisodeStatus.CLOSED)
    future = PatientFactory(
        therapist=cast.therapist, timezone="Europe/London", user__email="future@riverside.test"
    )
    EpisodeFactory(patient=future, start_date=DAY + dt.timedelta(days=1))
    invited = _patient(cast, zone="Europe/London", email="invited@riverside.test")
    invited.user.is_active = False  # invitation not accepted yet
    invited.user.save()
    _patient(cast, zone="Europe/London", email="due@riverside.test")

    _run_at(dt.datetime(2026, 1, 20, 19, 0, tzinfo=LONDON), django_capture_on_commit_callbacks)

    # (The cast's episodes start after DAY, relative to the real today: not due either.)
    assert _sent_to() == ["due@riverside.test"]


def test_the_email_is_friendly_links_to_todays_form_and_holds_no_health_data(
    cast: Cast, django_capture_on_commit_callbacks
) -> None:
    patient = _patient(
        cast, zone="Europe/London", email="london@riverside.test", first_name="Robin"
    )
    DailyEntryFactory(
        episode=patient.episodes.get(),
        date=DAY - dt.timedelta(days=1),
        pain_activity=9,
        note="sharp pain on the stairs",
    )

    _run_at(dt.datetime(2026, 1, 20, 19, 0, tzinfo=LONDON), django_capture_on_commit_callbacks)

    (message,) = mail.outbox
    html = message.alternatives[0][0]
    for body in (message.body, html):
        assert "Hello Robin" in body
        assert "http://testserver/" in body
        assert "stairs" not in body
        assert "pain" not in body.lower()
        # (The links' signed tokens may hold any digit; the words around them may not.)
        assert "9" not in re.sub(r"https?://[^\s\"<]+", "", body)
    assert "pain" not in message.subject.lower()
