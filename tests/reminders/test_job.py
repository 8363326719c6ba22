"""The reminder job with the patient's own choices: their time, their zone, on or off, and the
channels (email, push to every device). At most one a day; none once the day is logged."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail

from accounts.models import Patient
from rehab.models import Channel, Delivery, PushSubscription, ReminderLog
from rehab.tasks import send_reminders
from tests.factories import DailyEntryFactory, EpisodeFactory, PatientFactory
from tests.reminders.pushservice import BrowserSubscription

MADRID = ZoneInfo("Europe/Madrid")  # UTC+1 in January
DAY = dt.date(2026, 1, 20)

pytestmark = pytest.mark.django_db


def _patient(cast, **choices: Any) -> Patient:
    patient = PatientFactory(
        therapist=cast.therapist, timezone="Europe/Madrid", user__email="ana@riverside.test"
    )
    EpisodeFactory(patient=patient, start_date=DAY - dt.timedelta(days=10))
    for name, value in choices.items():
        setattr(patient, name, value)
    patient.save()
    return patient


def _device(patient: Patient, name: str) -> PushSubscription:
    keys = BrowserSubscription.create(name).to_json()["keys"]
    return PushSubscription.objects.create(
        patient=patient,
        endpoint=f"https://push.example.com/{name}",
        p256dh=keys["p256dh"],
        auth=keys["auth"],
    )


def _run_at(hour: int, minute: int, capture: Any, day: dt.date = DAY) -> int:
    moment = dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=MADRID)
    with time_machine.travel(moment, tick=False), capture(execute=False):
        return send_reminders.delay().get()


def _push_rows() -> list[Delivery]:
    return list(Delivery.objects.filter(channel=Channel.PUSH).order_by("pk"))


def test_sent_from_the_chosen_local_time(cast, django_capture_on_commit_callbacks) -> None:
    _patient(cast, reminder_time=dt.time(7, 30))

    assert _run_at(7, 15, django_capture_on_commit_callbacks) == 0
    assert _run_at(7, 30, django_capture_on_commit_callbacks) == 1


def test_a_time_between_runs_goes_at_the_next_run(cast, django_capture_on_commit_callbacks) -> None:
    _patient(cast, reminder_time=dt.time(20, 10))

    assert _run_at(20, 0, django_capture_on_commit_callbacks) == 0
    assert _run_at(20, 15, django_capture_on_commit_callbacks) == 1


def test_once_a_day_and_again_the_next_day(cast, django_capture_on_commit_callbacks) -> None:
    patient = _patient(cast, reminder_time=dt.time(8, 0))

    for hour in (8, 9, 12, 23):
        _run_at(hour, 0, django_capture_on_commit_callbacks)
    _run_at(8, 0, django_capture_on_commit_callbacks, day=DAY + dt.timedelta(days=1))

    assert list(ReminderLog.objects.filter(patient=patient).values_list("date", flat=True)) == [
        DAY,
        DAY + dt.timedelta(days=1),
    ]


def test_none_when_the_day_is_logged(cast, django_capture_on_commit_callbacks) -> None:
    patient = _patient(cast, reminder_by_push=True)
    _device(patient, "phone")
    DailyEntryFactory(episode=patient.episodes.get(), date=DAY)

    assert _run_at(21, 0, django_capture_on_commit_callbacks) == 0
    assert _push_rows() == []
    assert not ReminderLog.objects.exists()


def test_none_when_reminders_are_off(cast, django_capture_on_commit_callbacks) -> None:
    patient = _patient(cast, reminders_enabled=False, reminder_by_push=True)
    _device(patient, "phone")

    assert _run_at(21, 0, django_capture_on_commit_callbacks) == 0
    assert _push_rows() == []


def test_none_when_no_channel_could_reach_the_patient(
    cast, django_capture_on_commit_callbacks
) -> None:
    # Push chosen, but no device subscribed (any more), and email off.
    _patient(cast, reminder_by_email=False, reminder_by_push=True)

    assert _run_at(21, 0, django_capture_on_commit_callbacks) == 0
    assert not ReminderLog.objects.exists()


def test_email_only(cast, django_capture_on_commit_callbacks) -> None:
    patient = _patient(cast)
    _device(patient, "phone")  # subscribed once, but push is not chosen
    with (
        time_machine.travel(dt.datetime(2026, 1, 20, 19, 0, tzinfo=MADRID), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        send_reminders.delay().get()

    assert [message.to for message in mail.outbox] == [["ana@riverside.test"]]
    assert _push_rows() == []


def test_push_only_writes_one_row_per_device_and_no_email(
    cast, django_capture_on_commit_callbacks
) -> None:
    patient = _patient(cast, reminder_by_email=False, reminder_by_push=True)
    phone = _device(patient, "phone")
    tablet = _device(patient, "tablet")

    assert _run_at(19, 0, django_capture_on_commit_callbacks) == 1

    rows = _push_rows()
    assert [row.push_subscription_id for row in rows] == [phone.pk, tablet.pk]
    assert {row.payload["url"] for row in rows} == {"/"}
    assert mail.outbox == []


def test_both_channels(cast, django_capture_on_commit_callbacks) -> None:
    patient = _patient(cast, reminder_by_push=True)
    _device(patient, "phone")
    with (
        time_machine.travel(dt.datetime(2026, 1, 20, 19, 0, tzinfo=MADRID), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        send_reminders.delay().get()

    assert [message.to for message in mail.outbox] == [["ana@riverside.test"]]
    assert len(_push_rows()) == 1


def test_the_patients_own_zone_decides_the_day_and_the_hour(
    cast, django_capture_on_commit_callbacks
) -> None:
    # 23:30 in Madrid on the 20th is 07:30 on the 21st in Tokyo.
    patient = _patient(cast, timezone="Asia/Tokyo", reminder_time=dt.time(7, 30))
    assert _run_at(23, 15, django_capture_on_commit_callbacks) == 0

    assert _run_at(23, 30, django_capture_on_commit_callbacks) == 1

    assert ReminderLog.objects.get(patient=patient).date == DAY + dt.timedelta(days=1)
