"""The Django admin shows the alert and notification rows, read-only: they change only through
the evaluation, the clinicians' actions and the delivery tasks, which audit and notify."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import User
from rehab.models import (
    Alert,
    AlertStatus,
    Channel,
    ClinicRuleSettings,
    Delivery,
    DeliveryAttempt,
    InboxMessage,
    ReminderLog,
    WebhookEndpoint,
)
from tests.alerts.factories import AlertFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client() -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("root@example.test", "correct-horse-1"))
    return client


@pytest.fixture
def rows(cast):
    alert = AlertFactory(episode=cast.episode_a)
    delivery = Delivery.objects.create(
        alert=alert, clinic=cast.clinic, channel=Channel.INBOX, event_type="alert.raised"
    )
    DeliveryAttempt.objects.create(delivery=delivery, outcome="delivered")
    InboxMessage.objects.create(clinic=cast.clinic, alert=alert, delivery=delivery, title="New")
    ClinicRuleSettings.objects.create(clinic=cast.clinic, overrides={"review_day": 45})
    WebhookEndpoint.objects.create(
        clinic=cast.clinic, url="https://hooks.example.test/pais", secret="whsec_abc"
    )
    ReminderLog.objects.create(patient=cast.patient_a, date=cast.patient_a.local_today())
    return {"alert": alert, "delivery": delivery}


@pytest.mark.parametrize(
    "model",
    ["alert", "clinicrulesettings", "webhookendpoint", "delivery", "inboxmessage", "reminderlog"],
)
def test_every_new_model_has_a_working_changelist(superuser_client, rows, model):
    response = superuser_client.get(f"/admin/rehab/{model}/")
    assert response.status_code == 200
    # Rows are made by the services and tasks, never added by hand here.
    assert f'href="/admin/rehab/{model}/add/"' not in response.content.decode()


def test_an_alert_cannot_be_edited_in_the_admin(superuser_client, rows):
    alert = rows["alert"]
    page = superuser_client.get(f"/admin/rehab/alert/{alert.pk}/change/")
    assert page.status_code == 200
    assert 'name="status"' not in page.content.decode()
    response = superuser_client.post(
        f"/admin/rehab/alert/{alert.pk}/change/", {"status": "resolved"}
    )
    assert response.status_code == 403
    assert Alert.objects.get(pk=alert.pk).status == AlertStatus.OPEN


def test_a_delivery_shows_its_attempts_and_the_endpoint_hides_its_secret(superuser_client, rows):
    page = superuser_client.get(f"/admin/rehab/delivery/{rows['delivery'].pk}/change/")
    assert page.status_code == 200
    assert "delivered" in page.content.decode()
    endpoint = WebhookEndpoint.objects.get()
    page = superuser_client.get(f"/admin/rehab/webhookendpoint/{endpoint.pk}/change/")
    assert page.status_code == 200
    assert "whsec_abc" not in page.content.decode()
