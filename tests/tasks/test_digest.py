"""The weekly digest: each therapist's unresolved alerts in one email, no health values."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.core.cache import cache
from django.test import TestCase
from django.utils import translation

from accounts.models import Patient, User
from rehab.evaluation import evaluate_episode
from rehab.models import Alert, DigestLog, Episode
from rehab.tasks import send_weekly_digest
from tests.conftest import Cast
from tests.courses import stalled_course
from tests.factories import EpisodeFactory, PatientFactory

pytestmark = pytest.mark.django_db

MONDAY = dt.datetime(2026, 3, 2, 7, 0, tzinfo=dt.UTC)


def _patient(therapist: User | None, first: str, last: str, **extra: Any) -> Patient:
    return PatientFactory(
        therapist=therapist, user__first_name=first, user__last_name=last, **extra
    )


def _alert(patient: Patient, *, day: int, entries: list[int], at: dt.datetime) -> Alert:
    """Evaluate a course on its trial ``day`` at moment ``at``; returns the alert it raised."""
    as_of = at.date()
    episode: Episode = EpisodeFactory(
        patient=patient, start_date=as_of - dt.timedelta(days=day - 1)
    )
    stalled_course(episode, days=entries, recent_from_day=day - 6)
    with time_machine.travel(at, tick=False):
        outcome = evaluate_episode(episode_id=episode.pk, as_of=as_of)
    (alert,) = Alert.objects.filter(pk__in=outcome.raised).exclude(code="ROM_DEFICIT")
    return alert


def _logging_gap(patient: Patient, at: dt.datetime) -> Alert:
    # Day 20 with only week 1 logged: a warning, LOGGING_GAP.
    alert = _alert(patient, day=20, entries=list(range(1, 8)), at=at)
    assert (alert.code, alert.severity) == ("LOGGING_GAP", "warning")
    return alert


def _referral(patient: Patient, at: dt.datetime) -> Alert:
    alert = _alert(patient, day=42, entries=[*range(1, 8), *range(36, 43)], at=at)
    assert (alert.code, alert.severity) == ("REFERRAL_CONSIDER", "high")
    return alert


def _send(moment: dt.datetime) -> int:
    # The emails leave once the DigestLog rows are committed.
    with time_machine.travel(moment, tick=False), TestCase.captureOnCommitCallbacks(execute=True):
        return send_weekly_digest.delay().get()


def _mail_to(address: str) -> list[mail.EmailMessage]:
    return [message for message in mail.outbox if address in message.to]


def test_each_therapist_gets_their_own_unresolved_alerts_once(cast: Cast) -> None:
    ada = _patient(cast.therapist, "Ada", "Lovelace")
    ben = _patient(cast.therapist, "Ben", "Okri")
    gap = _logging_gap(ada, MONDAY - dt.timedelta(days=10))
    referral = _referral(ben, MONDAY - dt.timedelta(days=3, hours=2))
    _logging_gap(_patient(cast.other_therapist, "Zoe", "Quist"), MONDAY - dt.timedelta(days=1))
    mail.outbox.clear()  # the high alert's own notification

    assert _send(MONDAY) == 2

    assert sorted(address for message in mail.outbox for address in message.to) == [
        cast.other_therapist.email,
        cast.therapist.email,
    ]
    (message,) = _mail_to(cast.therapist.email)
    assert message.subject == "Weekly summary: 2 unresolved alerts"
    html = message.alternatives[0][0]
    for body in (message.body, html):
        assert "A.L." in body and "B.O." in body
        assert "Gap in daily logging" in body
        assert "Consider referral for a surgical opinion" in body
        assert "http://testserver/alerts/" in body
        # Not another clinic's patient, not names, not the alerts' messages or their numbers.
        assert "Z.Q." not in body
        assert "Lovelace" not in body and "Okri" not in body
        assert gap.message not in body and referral.message not in body
        # No pain means such as 7.0 or 6.0 in the words (the HTML's style attributes aside).
        assert not re.search(r"\d\.\d", re.sub(r"<[^>]*>", "", body))
    # The most serious first; each with how long ago it was raised, and each status in words.
    text = message.body
    assert text.index("B.O.") < text.index("A.L.")
    assert "\n2 open\n" in text
    assert "B.O.  Consider referral for a surgical opinion (high, open), raised 3 days ago" in text
    assert "A.L.  Gap in daily logging (warning, open), raised 10 days ago" in text
    assert cast.therapist_2.email not in [a for m in mail.outbox for a in m.to]

    # A second run the same week (a second beat, a redelivered task) sends nothing, even with
    # the cache emptied: the week's DigestLog rows are what say it was sent.
    cache.clear()
    assert _send(MONDAY + dt.timedelta(hours=1)) == 0
    assert len(mail.outbox) == 2
    assert DigestLog.objects.filter(week=MONDAY.date()).count() == 2
    # The next Monday the still-unresolved alerts come round again.
    assert _send(MONDAY + dt.timedelta(days=7)) == 2
    assert len(mail.outbox) == 4
    assert "raised 17 days ago" in _mail_to(cast.therapist.email)[-1].body


def test_resolved_alerts_are_left_out_and_nobody_without_alerts_is_mailed(cast: Cast, api) -> None:
    ada = _patient(cast.therapist, "Ada", "Lovelace")
    ben = _patient(cast.therapist, "Ben", "Okri")
    _logging_gap(ada, MONDAY - dt.timedelta(days=2))
    referral = _referral(ben, MONDAY - dt.timedelta(days=2))
    with time_machine.travel(MONDAY - dt.timedelta(days=1), tick=False):
        response = api(cast.therapist).post(
            f"/api/v1/alerts/{referral.pk}/resolve/", {}, format="json"
        )
    assert response.status_code == 200, response.content
    mail.outbox.clear()

    assert _send(MONDAY) == 1

    (message,) = mail.outbox
    assert message.to == [cast.therapist.email]
    assert message.subject == "Weekly summary: 1 unresolved alert"
    assert "A.L." in message.body and "B.O." not in message.body


def test_acknowledged_and_snoozed_alerts_are_still_listed_with_their_status(
    cast: Cast, api
) -> None:
    gap = _logging_gap(_patient(cast.therapist, "Ada", "Lovelace"), MONDAY - dt.timedelta(days=4))
    with time_machine.travel(MONDAY - dt.timedelta(days=1), tick=False):
        response = api(cast.therapist).post(
            f"/api/v1/alerts/{gap.pk}/acknowledge/", {}, format="json"
        )
    assert response.status_code == 200, response.content

    _send(MONDAY)

    (message,) = mail.outbox
    assert "A.L.  Gap in daily logging (warning, acknowledged), raised 4 days ago" in message.body


def test_a_patient_without_a_therapist_is_covered_by_the_clinic_admins(cast: Cast) -> None:
    unassigned = _patient(None, "Una", "Signed", user__clinic=cast.clinic)
    _logging_gap(unassigned, MONDAY - dt.timedelta(days=1))

    assert _send(MONDAY) == 1

    (message,) = mail.outbox
    assert message.to == [cast.admin.email]
    assert "U.S." in message.body


def test_no_alerts_no_digest(cast: Cast) -> None:
    assert _send(MONDAY) == 0
    assert mail.outbox == []


def test_a_lost_race_on_the_week_sends_nothing(cast: Cast) -> None:
    # Another run wrote this week's row first (a second beat): this one skips that person.
    _logging_gap(_patient(cast.therapist, "Ada", "Lovelace"), MONDAY - dt.timedelta(days=1))
    DigestLog.objects.create(user=cast.therapist, week=MONDAY.date())
    mail.outbox.clear()

    assert _send(MONDAY + dt.timedelta(days=2)) == 0
    assert mail.outbox == []


def test_each_email_speaks_its_recipients_language_whatever_language_is_active(
    cast: Cast,
) -> None:
    # The lines are built before any recipient's language is chosen: a worker (or a test run)
    # that last served a Spanish page must still write an English therapist an English digest.
    User.objects.filter(pk=cast.other_therapist.pk).update(language="es")
    _logging_gap(_patient(cast.therapist, "Ada", "Lovelace"), MONDAY - dt.timedelta(days=10))
    _logging_gap(_patient(cast.other_therapist, "Zoe", "Quist"), MONDAY - dt.timedelta(days=1))

    with translation.override("es"):
        assert _send(MONDAY) == 2

    (english,) = _mail_to(cast.therapist.email)
    assert "Gap in daily logging" in english.body and "(warning, open)" in english.body
    (spanish,) = _mail_to(cast.other_therapist.email)
    assert "Gap in daily logging" not in spanish.body
