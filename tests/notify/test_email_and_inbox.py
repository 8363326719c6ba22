"""The email and in-app inbox channels: minimum health data, a link, and no duplicates."""

from __future__ import annotations

import pytest
from django.core import mail

from rehab.models import Delivery, DeliveryAttempt, InboxMessage
from rehab.notify.outbox import escalation_notifications_write
from rehab.notify.sender import send_delivery
from rehab.notify.tasks import deliver
from tests.courses import referral_course
from tests.factories import PatientFactory
from tests.notify.helpers import make_alert, notify, reload

pytestmark = pytest.mark.django_db


@pytest.fixture
def alert(cast):
    patient = PatientFactory(
        therapist=cast.therapist, user__first_name="Ada", user__last_name="Lovelace"
    )
    return make_alert(referral_course(patient))


def _only(deliveries: list[Delivery], channel: str) -> Delivery:
    (delivery,) = [d for d in deliveries if d.channel == channel]
    return delivery


def test_the_alert_email_has_the_minimum_and_a_link(cast, alert):
    delivery = _only(notify(alert), "email")
    assert send_delivery(delivery.pk).result == "delivered"

    (message,) = mail.outbox
    assert message.to == [cast.therapist.email]
    assert message.subject == (
        "High alert: Consider referral for a surgical opinion (patient A.L.)"
    )
    link = f"http://testserver/episodes/{alert.episode_id}/"
    html, mime = message.alternatives[0]
    assert mime == "text/html"
    for body in (message.body, html):
        assert link in body
        assert "Consider referral for a surgical opinion" in body
        assert "A.L." in body and "High" in body
        # No scores, no evidence, no note, no name.
        for leaked in ("7.0", "6.0", "100", "private matter", "Ada", "Lovelace", alert.message):
            assert leaked not in body
    assert "&amp;" not in message.body  # the text part is not HTML-escaped
    assert reload(delivery).status == "delivered"
    assert DeliveryAttempt.objects.get(delivery=delivery).outcome == "delivered"


def test_the_escalation_email_goes_to_the_admin(cast, alert):
    alert.severity = "critical"
    alert.code = "REFERRAL_OVERDUE"
    alert.save()
    (delivery_id,) = escalation_notifications_write(alert=alert, admins=[cast.admin])
    assert deliver.apply(args=[delivery_id]).get() == "delivered"
    (message,) = mail.outbox
    assert message.to == [cast.admin.email]
    assert message.subject.startswith("Unacknowledged critical alert: Referral")
    assert "still not acknowledged" in message.body
    assert f"/episodes/{alert.episode_id}/" in message.body
    assert "Lovelace" not in message.body and "6.0" not in message.body


def test_an_email_to_a_deactivated_user_fails_without_sending(cast, alert):
    delivery = _only(notify(alert), "email")
    cast.therapist.is_active = False
    cast.therapist.save()
    assert send_delivery(delivery.pk).result == "failed"
    assert mail.outbox == []
    assert "no active account" in reload(delivery).last_error


def test_the_inbox_message_is_created_once(cast, alert):
    delivery = _only(notify(alert), "inbox")
    assert deliver.apply(args=[delivery.pk]).get() == "delivered"
    assert deliver.apply(args=[delivery.pk]).get() == "skipped"
    # Even if the row were sent again (a worker lost after writing the message, say), the
    # one-to-one key keeps a single message.
    Delivery.objects.filter(pk=delivery.pk).update(status="pending")
    assert send_delivery(delivery.pk).result == "delivered"

    (message,) = InboxMessage.objects.all()
    assert message.alert == alert and message.clinic == cast.clinic
    assert message.title == "High: Consider referral for a surgical opinion · patient A.L."
    assert mail.outbox == []
