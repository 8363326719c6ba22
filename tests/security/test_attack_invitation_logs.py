"""Issue 10, finding 8: invitation tokens in the access log. (The real gunicorn process started
with the production command is in test_attack_production.py.)

Whoever reads a log must not find a usable invitation or password-reset link in it (a real
gunicorn process started with the production command, and Django's own loggers), and a link that
somebody else opened cannot wait a week unnoticed: once opened, it works for a day at most, and
the patient's page tells staff that it was opened and not used.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import shlex
from pathlib import Path

import pytest
import time_machine
import yaml
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import AuditEvent, Invitation
from accounts.services import patient_create
from config.log_redaction import RedactSecretsFilter, redact
from tests.security.production import dockerfile_gunicorn_words

ROOT = Path(__file__).resolve().parents[2]
NEW_PASSWORD = "ankle-diary-2026-spring"
LOGGER_CLASS = "config.gunicorn_logging.RedactingLogger"


@pytest.fixture
def invited(cast):
    return patient_create(
        actor=cast.therapist, email="new@riverside.test", first_name="Nia", last_name="Okafor"
    )


def test_the_documented_window_is_the_default():
    assert django_settings.PAIS_INVITATION_OPENED_LIFETIME_HOURS == 24
    assert django_settings.INVITATION_LIFETIME_DAYS == 7
    assert django_settings.PAIS_PASSWORD_RESET_EMAILS_PER_HOUR == 3
    assert django_settings.PASSWORD_RESET_TIMEOUT == 24 * 3600


# --- Opening a link ------------------------------------------------------------------------------


def test_opening_a_link_is_recorded_and_the_token_leaves_the_address(invited):
    token = invited.invitation.token
    browser = Client(REMOTE_ADDR="203.0.113.7")
    opened = browser.get(f"/invite/{token}/")

    assert opened.status_code == 302
    assert opened["Location"] == "/invite/set-password/"
    assert opened["Referrer-Policy"] == "no-referrer"
    form = browser.get(opened["Location"])
    assert form.status_code == 200
    assert token not in form.content.decode()
    assert "new@riverside.test" in form.content.decode()

    invitation = Invitation.objects.get(pk=invited.invitation.invitation.pk)
    assert invitation.opened_at is not None
    event = AuditEvent.objects.get(action="invitation.opened")
    assert event.ip_address == "203.0.113.7"
    assert event.patient_id == invited.patient.pk and event.actor is None
    # A second opening is not a new event, and does not restart the window.
    assert Client().get(f"/invite/{token}/").status_code == 302
    assert AuditEvent.objects.filter(action="invitation.opened").count() == 1
    assert Invitation.objects.get(pk=invitation.pk).opened_at == invitation.opened_at

    done = browser.post(
        "/invite/set-password/", {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    assert done.status_code == 302 and done["Location"] == "/"
    assert "pais_invitation" not in browser.session
    assert Client().login(username="new@riverside.test", password=NEW_PASSWORD)


def test_the_set_password_address_without_an_opened_link_is_refused(db):
    assert Client().get("/invite/set-password/").status_code == 404
    response = Client().post(
        "/invite/set-password/", {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    assert response.status_code == 404


def test_a_link_opened_by_somebody_else_stops_working_after_the_window(cast, invited):
    token = invited.invitation.token
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert Client().get(f"/invite/{token}/").status_code == 302  # a stranger opens it

    hours = django_settings.PAIS_INVITATION_OPENED_LIFETIME_HOURS
    with time_machine.travel(start + dt.timedelta(hours=hours - 1), tick=False):
        # Within the window the patient can still use it (a mail scanner opened it first).
        assert Client().get(f"/invite/{token}/").status_code == 302

    with time_machine.travel(start + dt.timedelta(hours=hours, minutes=1), tick=False):
        assert Client().get(f"/invite/{token}/").status_code == 404
        accept = APIClient().post(
            "/api/v1/auth/invitations/accept/",
            {"token": token, "password": NEW_PASSWORD},
            format="json",
        )
        assert accept.status_code == 400
        page = Client().post(
            f"/invite/{token}/", {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
        )
        assert page.status_code == 404
    invited.patient.user.refresh_from_db()
    assert not invited.patient.user.has_usable_password()


def test_staff_see_that_the_link_was_opened_and_not_used(cast, invited):
    staff = Client()
    staff.force_login(cast.therapist)
    before = staff.get(f"/patients/{invited.patient.pk}/").content.decode()
    assert "opened" not in before
    Client().get(f"/invite/{invited.invitation.token}/")
    after = staff.get(f"/patients/{invited.patient.pk}/").content.decode()
    assert "invitation link opened" in after
    assert "no password set yet" in after


# --- Django's loggers ----------------------------------------------------------------------------


def test_djangos_not_found_line_carries_no_invitation_token(db, caplog):
    token = "aB3-" + "x" * 39
    with caplog.at_level(logging.INFO):
        assert Client().get(f"/invite/{token}/").status_code == 404
    lines = [r.getMessage() for r in caplog.records if r.name == "django.request"]
    assert lines == ["Not Found: /invite/[redacted]/"]
    assert token not in caplog.text


def test_djangos_loggers_redact_reset_links_and_secret_query_values(caplog):
    logger = logging.getLogger("django.server")
    with caplog.at_level(logging.INFO, logger="django.server"):
        logger.info(
            '"%s" %s %s', "GET /accounts/password/reset/MQ/cz1h-secretvalue/ HTTP/1.1", 302, 0
        )
        logger.info('"%s" %s %s', "GET /invite/s3cr3t-value/?token=abc&next=/ HTTP/1.1", 404, 0)
    assert "secretvalue" not in caplog.text and "s3cr3t-value" not in caplog.text
    assert "abc" not in caplog.text
    assert "/accounts/password/reset/MQ/[redacted]/" in caplog.text
    assert "/invite/[redacted]/?token=[redacted]&next=/" in caplog.text


@pytest.mark.parametrize(
    ("line", "kept"),
    [
        ("GET /invite/set-password/ HTTP/1.1", "GET /invite/set-password/ HTTP/1.1"),
        (
            "GET /accounts/password/reset/MQ/set-password/ HTTP/1.1",
            "GET /accounts/password/reset/MQ/set-password/ HTTP/1.1",
        ),
        (
            "GET /accounts/password/reset/sent/ HTTP/1.1",
            "GET /accounts/password/reset/sent/ HTTP/1.1",
        ),
        ("GET /patients/3/ HTTP/1.1", "GET /patients/3/ HTTP/1.1"),
    ],
)
def test_addresses_without_a_secret_stay_readable(line, kept):
    assert redact(line) == kept


def test_the_filter_is_on_djangos_loggers_and_the_console_handler():
    config = django_settings.LOGGING
    for name in ("django.request", "django.server"):
        assert config["loggers"][name]["filters"] == ["redact_secrets"]
    assert config["handlers"]["console"]["filters"] == ["redact_secrets"]
    record = logging.LogRecord(
        "x", logging.WARNING, __file__, 1, "Not Found: %s", ("/invite/t/",), None
    )
    assert RedactSecretsFilter().filter(record) is True
    assert record.getMessage() == "Not Found: /invite/[redacted]/"


# --- A real gunicorn, started with the production command ----------------------------------------


def _compose_gunicorn_words() -> list[str]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    script = compose["services"]["web"]["command"][-1]
    return shlex.split(script[script.index("exec gunicorn") + len("exec ") :])


def _logger_class(words: list[str]) -> str | None:
    return words[words.index("--logger-class") + 1] if "--logger-class" in words else None


def test_every_production_gunicorn_command_uses_the_redacting_logger():
    assert _logger_class(dockerfile_gunicorn_words()) == LOGGER_CLASS
    assert _logger_class(_compose_gunicorn_words()) == LOGGER_CLASS
    deploy = (ROOT / "docs" / "deploy.md").read_text()
    for command in re.findall(r"gunicorn config\.wsgi:application[^`|\n]*", deploy):
        assert f"--logger-class {LOGGER_CLASS}" in command, command
