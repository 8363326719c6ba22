"""The outbox: an evaluation that raises a high alert writes one delivery per channel recipient,
in its own transaction; evaluating again writes none. After commit they are sent."""

from __future__ import annotations

import json

import pytest
from django.core import mail

from rehab.evaluation import evaluate_episode
from rehab.models import Alert, Delivery, InboxMessage
from rehab.notify.outbox import escalation_notifications_write
from tests.courses import referral_course
from tests.factories import ClinicAdminFactory, PatientFactory
from tests.notify.helpers import DAY_42, SECRET, make_endpoint, verify_signature

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(cast, receiver):
    patient = PatientFactory(
        therapist=cast.therapist, user__first_name="Ada", user__last_name="Lovelace"
    )
    episode = referral_course(patient)
    endpoints = [
        make_endpoint(cast.clinic, receiver.url + "/one"),
        make_endpoint(cast.clinic, receiver.url + "/two"),
    ]
    make_endpoint(cast.clinic, receiver.url + "/off", is_active=False)
    make_endpoint(cast.other_clinic, receiver.url + "/northside")
    return episode, endpoints


def test_tipping_into_referral_writes_one_delivery_per_recipient(
    cast, world, django_capture_on_commit_callbacks
):
    episode, endpoints = world
    with django_capture_on_commit_callbacks() as callbacks:
        outcome = evaluate_episode(episode_id=episode.pk, as_of=DAY_42)

    (alert,) = Alert.objects.filter(episode=episode)
    assert (alert.code, alert.severity) == ("REFERRAL_CONSIDER", "high")
    assert outcome.raised == [alert.pk]
    rows = Delivery.objects.filter(alert=alert)
    assert sorted(outcome.deliveries) == sorted(rows.values_list("pk", flat=True))
    assert sorted(rows.values_list("channel", "recipient_id", "endpoint_id")) == sorted(
        [
            ("email", cast.therapist.pk, None),
            ("inbox", None, None),
            ("webhook", None, endpoints[0].pk),
            ("webhook", None, endpoints[1].pk),
        ]
    )
    assert set(rows.values_list("status", "event_type")) == {("pending", "alert.raised")}
    assert len(callbacks) == 1  # queued only after commit

    # Evaluating again with the same data raises nothing and notifies nobody.
    again = evaluate_episode(episode_id=episode.pk, as_of=DAY_42)
    assert again.deliveries == [] and again.raised == []
    assert Delivery.objects.count() == 4


def test_after_commit_each_recipient_gets_it_exactly_once(
    cast, world, receiver, django_capture_on_commit_callbacks
):
    episode, _endpoints = world
    with django_capture_on_commit_callbacks(execute=True):
        evaluate_episode(episode_id=episode.pk, as_of=DAY_42)
    with django_capture_on_commit_callbacks(execute=True):
        evaluate_episode(episode_id=episode.pk, as_of=DAY_42)

    assert sorted(r.path for r in receiver.requests) == ["/hooks/pais/one", "/hooks/pais/two"]
    for request in receiver.requests:
        assert verify_signature(secret=SECRET, headers=request.headers, body=request.body)
        assert json.loads(request.body)["data"]["alert"]["code"] == "REFERRAL_CONSIDER"
    assert [m.to for m in mail.outbox] == [[cast.therapist.email]]
    assert InboxMessage.objects.filter(clinic=cast.clinic).count() == 1
    assert set(Delivery.objects.values_list("status", flat=True)) == {"delivered"}
    assert all(d.queued_at is not None for d in Delivery.objects.all())


def test_a_patient_without_a_therapist_notifies_the_clinic_admins(cast, world):
    episode, _endpoints = world
    episode.patient.therapist = None
    episode.patient.save()
    second_admin = ClinicAdminFactory(clinic=cast.clinic)
    ClinicAdminFactory(clinic=cast.other_clinic)
    evaluate_episode(episode_id=episode.pk, as_of=DAY_42)
    emailed = set(Delivery.objects.filter(channel="email").values_list("recipient_id", flat=True))
    assert emailed == {cast.admin.pk, second_admin.pk}


def test_escalation_emails_the_admins_and_tells_the_webhooks(cast, world):
    episode, endpoints = world
    evaluate_episode(episode_id=episode.pk, as_of=DAY_42)
    alert = Alert.objects.get(episode=episode)
    ids = escalation_notifications_write(alert=alert, admins=[cast.admin])
    rows = Delivery.objects.filter(pk__in=ids)
    assert sorted(rows.values_list("channel", "recipient_id", "endpoint_id")) == sorted(
        [
            ("email", cast.admin.pk, None),
            ("webhook", None, endpoints[0].pk),
            ("webhook", None, endpoints[1].pk),
        ]
    )
    assert {r.payload["type"] for r in rows} == {"alert.escalated"}
