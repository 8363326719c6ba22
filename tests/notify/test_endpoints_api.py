"""/api/v1/webhooks/: clinic admins manage their clinic's endpoints; the secret is shown once."""

from __future__ import annotations

import base64

import pytest

from accounts.models import AuditEvent
from rehab.models import Delivery, WebhookEndpoint
from tests.factories import ClinicAdminFactory
from tests.notify.helpers import make_alert, notify, verify_signature

pytestmark = pytest.mark.django_db

LIST = "/api/v1/webhooks/"


def _detail(pk: int, suffix: str = "") -> str:
    return f"/api/v1/webhooks/{pk}/{suffix}"


@pytest.fixture
def created(cast, api, receiver):
    response = api(cast.admin).post(
        LIST, {"url": receiver.url, "description": "Clinic EHR"}, format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()


def test_create_shows_the_secret_once(cast, api, created):
    assert created["url"].startswith("http://127.0.0.1:")
    assert created["description"] == "Clinic EHR"
    assert created["is_active"] is True
    secret = created["secret"]
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 24
    assert created["secret_hint"] == f"whsec_…{secret[-4:]}"

    client = api(cast.admin)
    for response in (client.get(LIST), client.get(_detail(created["id"]))):
        assert response.status_code == 200
        assert secret not in response.content.decode()
        assert "secret" not in (response.json().get("results") or [response.json()])[0]
    assert AuditEvent.objects.filter(
        action="webhook.created", object_id=str(created["id"]), actor=cast.admin
    ).exists()


def test_rotate_replaces_the_secret_and_shows_the_new_one_once(cast, api, created):
    client = api(cast.admin)
    response = client.post(_detail(created["id"], "rotate/"))
    assert response.status_code == 200
    new = response.json()["secret"]
    assert new.startswith("whsec_") and new != created["secret"]
    assert WebhookEndpoint.objects.get(pk=created["id"]).secret == new
    assert response.json()["secret_rotated_at"] is not None
    assert new not in client.get(_detail(created["id"])).content.decode()
    assert AuditEvent.objects.filter(
        action="webhook.secret_rotated", object_id=str(created["id"])
    ).exists()


def test_delete_removes_the_endpoint_and_leaves_an_audit_row(cast, api, created):
    response = api(cast.admin).delete(_detail(created["id"]))
    assert response.status_code == 204
    assert not WebhookEndpoint.objects.exists()
    assert AuditEvent.objects.filter(
        action="webhook.deleted", object_id=str(created["id"]), clinic=cast.clinic
    ).exists()
    assert api(cast.admin).get(_detail(created["id"])).status_code == 404


def test_test_send_goes_through_the_outbox(
    cast, api, created, receiver, django_capture_on_commit_callbacks
):
    client = api(cast.admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_detail(created["id"], "test/"))
    assert response.status_code == 202, response.content
    assert response.json()["event_type"] == "webhook.test"
    (request,) = receiver.requests
    assert verify_signature(secret=created["secret"], headers=request.headers, body=request.body)
    assert request.headers["webhook-id"] == response.json()["webhook_id"]

    listed = client.get(_detail(created["id"], "deliveries/"))
    assert listed.status_code == 200
    (item,) = listed.json()["results"]
    assert item["status"] == "delivered" and item["event_type"] == "webhook.test"
    assert item["alert"] is None
    assert [(a["outcome"], a["status_code"]) for a in item["attempt_log"]] == [("delivered", 200)]
    assert "payload" not in item
    assert AuditEvent.objects.filter(action="webhook.test_sent").count() == 1


def test_turning_an_endpoint_off_stops_new_deliveries(cast, api, created):
    client = api(cast.admin)
    response = client.patch(_detail(created["id"]), {"is_active": False}, format="json")
    assert response.status_code == 200 and response.json()["is_active"] is False
    assert not any(d.channel == "webhook" for d in notify(make_alert(cast.episode_a)))
    assert client.post(_detail(created["id"], "test/")).status_code == 400

    response = client.patch(
        _detail(created["id"]), {"is_active": True, "description": "EHR"}, format="json"
    )
    assert response.json()["is_active"] is True and response.json()["disabled_reason"] == ""
    assert response.json()["description"] == "EHR"
    assert {a.action for a in AuditEvent.objects.filter(object_type="rehab.webhookendpoint")} >= {
        "webhook.disabled",
        "webhook.enabled",
    }


def test_bad_input_is_a_400_and_changes_nothing(cast, api, allow_private):
    client = api(cast.admin)
    assert "url" in client.post(LIST, {}, format="json").json()
    assert "url" in client.post(LIST, {"url": "x" * 600}, format="json").json()
    assert "url" in client.post(LIST, {"url": "gopher://a.example/"}, format="json").json()
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize("persona", ["therapist", "therapist_2", "patient_a"])
def test_other_roles_are_refused(cast, api, created, persona):
    user = getattr(cast, persona)
    client = api(getattr(user, "user", user))
    pk = created["id"]
    assert client.get(LIST).status_code == 403
    assert client.post(LIST, {"url": "https://93.184.215.14/"}, format="json").status_code == 403
    # Staff reach the clinic's endpoints but may not manage them (403); a patient does not
    # reach them at all (404, tests/security/test_reach_matrix.py).
    refused = 404 if persona == "patient_a" else 403
    assert client.get(_detail(pk)).status_code == refused
    assert client.patch(_detail(pk), {"is_active": False}, format="json").status_code == refused
    assert client.post(_detail(pk, "rotate/")).status_code == refused
    assert client.post(_detail(pk, "test/")).status_code == refused
    assert client.get(_detail(pk, "deliveries/")).status_code == refused
    assert client.delete(_detail(pk)).status_code == refused
    endpoint = WebhookEndpoint.objects.get(pk=pk)
    assert endpoint.secret == created["secret"] and endpoint.is_active
    assert not Delivery.objects.exists()


@pytest.mark.parametrize("persona", ["other_admin", "other_therapist"])
def test_another_clinics_endpoint_is_a_404(cast, api, created, persona):
    user = (
        ClinicAdminFactory(clinic=cast.other_clinic)
        if persona == "other_admin"
        else (cast.other_therapist)
    )
    client = api(user)
    pk = created["id"]
    assert client.get(_detail(pk)).status_code == 404
    assert client.patch(_detail(pk), {"is_active": False}, format="json").status_code == 404
    assert client.post(_detail(pk, "rotate/")).status_code == 404
    assert client.post(_detail(pk, "test/")).status_code == 404
    assert client.get(_detail(pk, "deliveries/")).status_code == 404
    assert client.delete(_detail(pk)).status_code == 404
    assert WebhookEndpoint.objects.get(pk=pk).secret == created["secret"]
    if persona == "other_admin":
        assert client.get(LIST).json()["results"] == []


def test_anonymous_callers_get_401(cast, api, created):
    client = api(None)
    pk = created["id"]
    assert client.get(LIST).status_code == 401
    assert client.post(LIST, {"url": "https://93.184.215.14/"}, format="json").status_code == 401
    assert client.get(_detail(pk)).status_code == 401
    assert client.post(_detail(pk, "rotate/")).status_code == 401
    assert client.delete(_detail(pk)).status_code == 401
