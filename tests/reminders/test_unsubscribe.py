"""Every reminder email carries a one-click unsubscribe (RFC 8058) that needs no sign-in."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.test import Client

from accounts.models import AuditEvent, Patient
from rehab.reminders.unsubscribe import unsubscribe_token
from rehab.tasks import send_reminders
from tests.factories import EpisodeFactory, PatientFactory
from tests.personas import signed_in_client

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
DAY = dt.date(2026, 1, 20)


def _emailed_patient(cast, capture) -> tuple[Patient, mail.EmailMessage]:
    patient = PatientFactory(
        therapist=cast.therapist, timezone="Europe/London", user__email="robin@riverside.test"
    )
    EpisodeFactory(patient=patient, start_date=DAY - dt.timedelta(days=5))
    with (
        time_machine.travel(dt.datetime(2026, 1, 20, 19, 0, tzinfo=LONDON), tick=False),
        capture(execute=True),
    ):
        send_reminders.delay().get()
    (message,) = mail.outbox
    return patient, message


def _link(message: mail.EmailMessage) -> str:
    header = message.extra_headers["List-Unsubscribe"]
    match = re.fullmatch(r"<(http://testserver(/unsubscribe/[^>]+/))>", header)
    assert match, header
    return match.group(2)


def test_the_email_has_the_rfc_8058_headers_and_the_link_in_its_body(
    cast, django_capture_on_commit_callbacks
) -> None:
    _patient, message = _emailed_patient(cast, django_capture_on_commit_callbacks)

    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = "http://testserver" + _link(message)
    assert url in message.body
    assert url in message.alternatives[0][0]
    # The headers survive into the message as sent.
    sent = message.message()
    assert sent["List-Unsubscribe"] == f"<{url}>"
    assert sent["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_the_one_click_post_needs_no_cookie_and_no_csrf_token(
    cast, django_capture_on_commit_callbacks
) -> None:
    patient, message = _emailed_patient(cast, django_capture_on_commit_callbacks)
    mail_provider = Client(enforce_csrf_checks=True)

    response = mail_provider.post(
        _link(message),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200
    assert "no more reminder emails" in response.content.decode()
    assert "turn them back on" in response.content.decode()
    patient.refresh_from_db()
    assert not patient.reminder_by_email
    assert patient.reminders_enabled  # push, if any, carries on
    event = AuditEvent.objects.get(action="reminders.email_unsubscribed")
    assert (event.actor_id, event.patient_id) == (None, patient.pk)
    # And no more reminder emails.
    mail.outbox.clear()
    with (
        time_machine.travel(dt.datetime(2026, 1, 21, 19, 0, tzinfo=LONDON), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        send_reminders.delay().get()
    assert mail.outbox == []


def test_opening_the_link_only_asks_and_changes_nothing(
    cast, django_capture_on_commit_callbacks
) -> None:
    patient, message = _emailed_patient(cast, django_capture_on_commit_callbacks)

    response = Client().get(_link(message))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Stop reminder emails" in page
    assert 'method="post"' in page
    assert "robin@riverside.test" not in page  # a forwarded link shows nobody's address
    patient.refresh_from_db()
    assert patient.reminder_by_email


@pytest.mark.parametrize(
    "token",
    ["nonsense", "MQ:1abcde:tampered", "", "%2e%2e"],
)
def test_a_bad_token_is_a_404_page(cast, token) -> None:
    response = Client().post(f"/unsubscribe/{token}/" if token else "/unsubscribe/x/")

    assert response.status_code == 404
    assert not AuditEvent.objects.filter(action="reminders.email_unsubscribed").exists()


def test_a_token_of_another_salt_or_of_nobody_is_refused_alike(cast) -> None:
    from django.core import signing

    other_salt = signing.dumps(cast.patient_a.pk, salt="something.else")
    nobody = unsubscribe_token(Patient(pk=999_999))
    tampered = unsubscribe_token(cast.patient_a)[:-1] + "x"

    answers = [Client().get(f"/unsubscribe/{t}/") for t in (other_salt, nobody, tampered)]

    assert [a.status_code for a in answers] == [404, 404, 404]
    assert len({a.content for a in answers}) == 1  # nothing tells them apart
    assert Patient.objects.get(pk=cast.patient_a.pk).reminder_by_email


def test_a_staff_session_owing_its_second_step_still_reaches_the_page(cast) -> None:
    cast.clinic.require_two_factor = True
    cast.clinic.save()
    staff_browser = signed_in_client(cast.therapist)
    token = unsubscribe_token(cast.patient_a)

    assert staff_browser.get("/").status_code == 302  # owes the two-factor step
    assert staff_browser.get(f"/unsubscribe/{token}/").status_code == 200


def test_unsubscribing_twice_is_fine_and_audited_once(cast) -> None:
    path = f"/unsubscribe/{unsubscribe_token(cast.patient_a)}/"

    assert Client().post(path).status_code == 200
    assert Client().post(path).status_code == 200
    assert "already off" in Client().get(path).content.decode()
    assert AuditEvent.objects.filter(action="reminders.email_unsubscribed").count() == 1


def test_an_ended_session_does_not_send_the_link_to_the_sign_in_page(cast, settings) -> None:
    # The patient's phone still holds a session cookie past its lifetime.
    patients_phone = signed_in_client(cast.patient_a)
    assert patients_phone.get("/").status_code == 200
    settings.PAIS_PATIENT_SESSION_LIFETIME_SECONDS = 0
    path = f"/unsubscribe/{unsubscribe_token(cast.patient_a)}/"

    with time_machine.travel(dt.timedelta(seconds=5)):
        response = patients_phone.post(path)

    assert response.status_code == 200
    assert not Patient.objects.get(pk=cast.patient_a.pk).reminder_by_email
