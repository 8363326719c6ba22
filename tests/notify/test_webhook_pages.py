"""/settings/webhooks/: the clinic admin's page. Secret shown once, CSRF-protected forms, reach."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from accounts.models import AuditEvent
from rehab.models import Delivery, WebhookEndpoint
from tests.factories import ClinicAdminFactory
from tests.notify.helpers import make_endpoint

pytestmark = pytest.mark.django_db

PAGE = "/settings/webhooks/"
SECRET_RE = re.compile(r"whsec_[A-Za-z0-9+/=]{32}")


def test_an_admin_adds_an_endpoint_and_sees_the_secret_once(cast, client_for, allow_private):
    client = client_for(cast.admin)
    page = client.get(PAGE)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="csrfmiddlewaretoken"' in html and 'name="url"' in html
    assert "no-store" in page["Cache-Control"]

    response = client.post(PAGE, {"url": "http://127.0.0.1:9999/hook", "description": "EHR"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    endpoint = WebhookEndpoint.objects.get()
    shown = SECRET_RE.findall(response.content.decode())
    assert shown == [endpoint.secret]
    assert AuditEvent.objects.filter(action="webhook.created", actor=cast.admin).exists()

    for url in (PAGE, f"{PAGE}{endpoint.pk}/"):
        html = client.get(url).content.decode()
        assert endpoint.secret not in html
        assert f"whsec_…{endpoint.secret[-4:]}" in html


def test_a_refused_address_shows_the_reason_and_saves_nothing(cast, client_for):
    response = client_for(cast.admin).post(PAGE, {"url": "https://169.254.169.254/latest/"})
    assert response.status_code == 200
    assert "non-public address" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_rotate_shows_the_new_secret_once(cast, client_for, allow_private):
    endpoint = make_endpoint(cast.clinic, "http://127.0.0.1:9999/hook")
    old = endpoint.secret
    client = client_for(cast.admin)
    response = client.post(f"{PAGE}{endpoint.pk}/rotate/")
    assert response.status_code == 200
    endpoint.refresh_from_db()
    assert endpoint.secret != old
    assert SECRET_RE.findall(response.content.decode()) == [endpoint.secret]
    assert endpoint.secret not in client.get(f"{PAGE}{endpoint.pk}/").content.decode()
    assert AuditEvent.objects.filter(action="webhook.secret_rotated").exists()


def test_test_send_off_on_and_delete(
    cast, client_for, receiver, django_capture_on_commit_callbacks
):
    endpoint = make_endpoint(cast.clinic, receiver.url)
    client = client_for(cast.admin)
    detail = f"{PAGE}{endpoint.pk}/"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{detail}test/")
    assert response.status_code == 302 and response["Location"] == detail
    html = client.get(detail).content.decode()
    assert "Test event queued" in html
    assert "webhook.test" in html and "HTTP 200" in html
    assert len(receiver.requests) == 1

    client.post(f"{detail}disable/")
    endpoint.refresh_from_db()
    assert not endpoint.is_active
    assert "Turn deliveries on" in client.get(detail).content.decode()
    client.post(f"{detail}enable/")
    endpoint.refresh_from_db()
    assert endpoint.is_active

    response = client.post(f"{detail}delete/")
    assert response.status_code == 302 and response["Location"] == PAGE
    assert not WebhookEndpoint.objects.exists()
    assert AuditEvent.objects.filter(action="webhook.deleted").exists()


def test_the_nav_links_the_page_for_admins_only(cast, client_for):
    assert f'href="{PAGE}"' in client_for(cast.admin).get("/").content.decode()
    assert f'href="{PAGE}"' not in client_for(cast.therapist).get("/").content.decode()


@pytest.mark.parametrize("persona", ["therapist", "therapist_2", "patient_a"])
def test_other_roles_get_403(cast, client_for, persona, allow_private):
    endpoint = make_endpoint(cast.clinic, "http://127.0.0.1:9999/hook")
    user = getattr(cast, persona)
    client = client_for(getattr(user, "user", user))
    assert client.get(PAGE).status_code == 403
    assert client.post(PAGE, {"url": "http://127.0.0.1:1/x"}).status_code == 403
    # A patient does not reach the clinic's endpoints at all: 404, not 403.
    refused = 404 if persona == "patient_a" else 403
    assert client.get(f"{PAGE}{endpoint.pk}/").status_code == refused
    for action in ("rotate", "test", "disable", "delete"):
        assert client.post(f"{PAGE}{endpoint.pk}/{action}/").status_code == refused
    assert WebhookEndpoint.objects.get().secret == endpoint.secret
    assert WebhookEndpoint.objects.count() == 1 and not Delivery.objects.exists()


def test_another_clinics_endpoint_is_a_404(cast, client_for, allow_private):
    endpoint = make_endpoint(cast.clinic, "http://127.0.0.1:9999/hook")
    client = client_for(ClinicAdminFactory(clinic=cast.other_clinic))
    assert endpoint.url not in client.get(PAGE).content.decode()
    assert client.get(f"{PAGE}{endpoint.pk}/").status_code == 404
    for action in ("rotate", "test", "disable", "enable", "delete"):
        assert client.post(f"{PAGE}{endpoint.pk}/{action}/").status_code == 404
    endpoint.refresh_from_db()
    assert endpoint.is_active and WebhookEndpoint.objects.count() == 1


def test_forms_need_the_csrf_token(cast, allow_private):
    endpoint = make_endpoint(cast.clinic, "http://127.0.0.1:9999/hook")
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.admin)
    assert client.post(PAGE, {"url": "http://127.0.0.1:1/x"}).status_code == 403
    assert client.post(f"{PAGE}{endpoint.pk}/rotate/").status_code == 403
    assert WebhookEndpoint.objects.get().secret == endpoint.secret


def test_anonymous_visitors_are_sent_to_sign_in(cast):
    response = Client().get(PAGE)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
