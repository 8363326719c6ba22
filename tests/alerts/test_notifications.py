"""The inbox's "New notifications": marked read per person, gone once their alert is resolved."""

from __future__ import annotations

import pytest

from accounts.audit import AuditEvent
from rehab.models import InboxMessage
from tests.alerts.conftest import evaluate
from tests.api.helpers import url
from tests.personas import signed_in_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def raised(example_1, django_capture_on_commit_callbacks):
    """Day 42: REFERRAL_CONSIDER (high), its inbox notification delivered after commit."""
    with django_capture_on_commit_callbacks(execute=True):
        return evaluate(example_1, 42).raised[0]


def _new(client) -> list[int]:
    return [m.pk for m in client.get("/alerts/").context["inbox"].notifications]


def test_marking_a_notification_read_takes_it_off_my_list_only(cast, raised):
    (message,) = InboxMessage.objects.all()
    therapist, admin = signed_in_client(cast.therapist), signed_in_client(cast.admin)
    assert _new(therapist) == [message.pk] and _new(admin) == [message.pk]

    response = therapist.post(
        "/alerts/notifications/read/", {"message": message.pk, "next": "/alerts/"}
    )
    assert response.status_code == 302 and response["Location"] == "/alerts/"
    assert _new(therapist) == []
    assert _new(admin) == [message.pk]  # the admin has not read it
    assert AuditEvent.objects.filter(
        action="inbox.marked_read", actor=cast.therapist, item_count=1
    ).exists()
    # Marking it again changes nothing.
    therapist.post("/alerts/notifications/read/", {"message": message.pk})
    assert AuditEvent.objects.filter(action="inbox.marked_read", item_count=0).count() == 1


def test_mark_all_read_and_the_api(cast, api, raised):
    (message,) = InboxMessage.objects.all()
    client = api(cast.admin)
    listed = client.get(url("api-alert-notifications")).json()
    assert [item["id"] for item in listed["results"]] == [message.pk]
    assert listed["results"][0]["alert"] == message.alert_id
    assert client.post(url("api-alert-notifications-read"), {}, format="json").status_code == 400
    response = client.post(url("api-alert-notifications-read"), {"all": True}, format="json")
    assert response.json() == {"marked": 1}
    assert client.get(url("api-alert-notifications")).json()["count"] == 0
    # The page's "Mark all read" does the same for the therapist.
    therapist = signed_in_client(cast.therapist)
    therapist.post("/alerts/notifications/read/", {"all": "1"})
    assert _new(therapist) == []


def test_a_resolved_alerts_notification_leaves_everybodys_list(cast, api, raised):
    assert _new(signed_in_client(cast.admin)) != []
    api(cast.therapist).post(url("api-alert-resolve", pk=raised), {}, format="json")
    assert _new(signed_in_client(cast.admin)) == []
    assert api(cast.admin).get(url("api-alert-notifications")).json()["count"] == 0


def test_nobody_marks_what_they_do_not_reach(cast, api, raised):
    (message,) = InboxMessage.objects.all()
    outsider = api(cast.other_therapist)
    response = outsider.post(
        url("api-alert-notifications-read"), {"ids": [message.pk]}, format="json"
    )
    assert response.json() == {"marked": 0}
    assert outsider.get(url("api-alert-notifications")).json()["count"] == 0
    # Patients have no inbox.
    patient = api(cast.patient_a.user)
    assert patient.get(url("api-alert-notifications")).status_code == 403
    assert signed_in_client(cast.patient_a).post(
        "/alerts/notifications/read/", {"all": "1"}
    ).status_code in (403, 404)
