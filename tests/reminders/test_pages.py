"""The reminder settings page (without JavaScript), the time-zone prompt, the VAPID keys for
local runs and the key command."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import AuditEvent, Patient
from rehab.reminders.vapid import vapid_keys
from tests.personas import signed_in_client

pytestmark = pytest.mark.django_db

PAGE = "/account/reminders/"
CONFIRM = "/account/reminders/timezone/"


def test_the_page_shows_the_patients_choices(cast) -> None:
    response = signed_in_client(cast.patient_a).get(PAGE)

    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="time" value="19:00"' in page
    assert 'name="enabled"' in page and "checked" in page
    assert '<option value="UTC" selected>' in page
    assert 'src="/static/js/reminders.js"' in page
    assert 'id="push-subscribe"' in page


def test_the_form_saves_without_javascript(cast) -> None:
    client = signed_in_client(cast.patient_a)

    response = client.post(
        PAGE,
        {"enabled": "on", "time": "08:15", "channels": ["push"], "timezone": "America/Bogota"},
        follow=True,
    )

    assert response.status_code == 200
    assert "Saved" in response.content.decode()
    patient = Patient.objects.get(pk=cast.patient_a.pk)
    assert patient.reminder_time == dt.time(8, 15)
    assert (patient.reminder_by_push, patient.reminder_by_email) == (True, False)
    assert (patient.timezone, patient.timezone_confirmed) == ("America/Bogota", True)
    assert AuditEvent.objects.filter(action="reminders.updated", actor=cast.patient_a.user)


def test_unticking_everything_turns_reminders_off(cast) -> None:
    signed_in_client(cast.patient_a).post(PAGE, {"time": "19:00", "timezone": "UTC"})

    patient = Patient.objects.get(pk=cast.patient_a.pk)
    assert not patient.reminders_enabled
    assert not patient.reminder_by_email


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"time": "26:00", "timezone": "UTC"}, "time"),
        ({"time": "19:00", "timezone": "Mars/Base"}, "timezone"),
        ({"time": "19:00", "timezone": "UTC", "channels": ["sms"]}, "channels"),
    ],
)
def test_bad_values_are_shown_on_the_form(cast, data, field) -> None:
    response = signed_in_client(cast.patient_a).post(PAGE, data)

    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert Patient.objects.get(pk=cast.patient_a.pk).reminder_time == dt.time(19, 0)


@pytest.mark.parametrize("persona", ["therapist", "admin"])
def test_the_page_is_for_patients(cast, persona) -> None:
    client = signed_in_client(getattr(cast, persona))

    assert client.get(PAGE).status_code == 404
    assert client.post(CONFIRM, {"timezone": "UTC"}).status_code == 404


def test_the_account_page_links_to_it(cast) -> None:
    page = signed_in_client(cast.patient_a).get("/accounts/security/").content.decode()

    assert f'href="{PAGE}"' in page


def test_the_prompt_is_on_the_patients_pages_until_answered(cast) -> None:
    client = signed_in_client(cast.patient_a)

    page = client.get("/").content.decode()
    assert 'id="timezone-prompt"' in page
    assert 'data-current-zone="UTC"' in page
    assert "Keep UTC" in page

    response = client.post(CONFIRM, {"timezone": "Europe/Madrid", "next": "/history/"})

    assert response.status_code == 302 and response["Location"] == "/history/"
    patient = Patient.objects.get(pk=cast.patient_a.pk)
    assert (patient.timezone, patient.timezone_confirmed) == ("Europe/Madrid", True)
    assert 'id="timezone-prompt"' not in client.get("/").content.decode()


def test_the_prompt_waits_below_the_diary_form_and_is_on_top_elsewhere(cast) -> None:
    client = signed_in_client(cast.patient_a)

    today = client.get("/").content.decode()
    history = client.get("/accounts/security/").content.decode()

    assert today.count('id="timezone-prompt"') == 1
    assert today.index('id="timezone-prompt"') > today.index('id="main"')
    assert today.index('id="timezone-prompt"') > today.index('name="pain_activity"')
    assert history.count('id="timezone-prompt"') == 1
    assert history.index('id="timezone-prompt"') < history.index("<h1")


def test_keeping_the_zone_also_answers_the_prompt(cast) -> None:
    client = signed_in_client(cast.patient_a)

    client.post(CONFIRM, {"timezone": "UTC", "next": "https://evil.example/"})

    patient = Patient.objects.get(pk=cast.patient_a.pk)
    assert (patient.timezone, patient.timezone_confirmed) == ("UTC", True)


def test_the_prompt_refuses_an_unknown_zone(cast) -> None:
    signed_in_client(cast.patient_a).post(CONFIRM, {"timezone": "Nowhere/Land"})

    assert not Patient.objects.get(pk=cast.patient_a.pk).timezone_confirmed


def test_staff_pages_have_no_prompt(cast) -> None:
    page = signed_in_client(cast.therapist).get("/accounts/security/").content.decode()

    assert "timezone-prompt" not in page


def test_local_runs_generate_a_key_pair_once(settings, tmp_path) -> None:
    settings.DEBUG = True
    settings.VAR_DIR = tmp_path
    settings.PAIS_VAPID_PUBLIC_KEY = ""
    settings.PAIS_VAPID_PRIVATE_KEY = ""

    first = vapid_keys()
    second = vapid_keys()

    assert first is not None and first == second
    stored = json.loads((tmp_path / "vapid-keys.json").read_text())
    assert stored["public_key"] == first.public_key
    assert (tmp_path / "vapid-keys.json").stat().st_mode & 0o077 == 0


def test_production_without_keys_has_no_push_and_writes_nothing(settings, tmp_path) -> None:
    settings.DEBUG = False
    settings.VAR_DIR = tmp_path
    settings.PAIS_VAPID_PUBLIC_KEY = ""
    settings.PAIS_VAPID_PRIVATE_KEY = ""

    assert vapid_keys() is None
    assert list(tmp_path.iterdir()) == []


def test_the_command_prints_a_pair_the_settings_accept(settings) -> None:
    out = io.StringIO()
    call_command("vapid_keys", stdout=out)
    lines = dict(line.split("=", 1) for line in out.getvalue().splitlines())

    settings.PAIS_VAPID_PUBLIC_KEY = lines["PAIS_VAPID_PUBLIC_KEY"]
    settings.PAIS_VAPID_PRIVATE_KEY = lines["PAIS_VAPID_PRIVATE_KEY"]
    keys = vapid_keys()

    assert keys is not None and keys.public_key == lines["PAIS_VAPID_PUBLIC_KEY"]


def test_a_mismatched_pair_fails_loudly(settings) -> None:
    from django.core.exceptions import ImproperlyConfigured

    out = io.StringIO()
    call_command("vapid_keys", stdout=out)
    call_command("vapid_keys", stdout=out)
    values = [line.split("=", 1)[1] for line in out.getvalue().splitlines()]
    settings.PAIS_VAPID_PUBLIC_KEY = values[0]
    settings.PAIS_VAPID_PRIVATE_KEY = values[3]  # the second pair's private key

    with pytest.raises(ImproperlyConfigured):
        vapid_keys()


def test_the_command_writes_an_env_file_once(tmp_path) -> None:
    env_file = tmp_path / "pais.env"
    env_file.write_text("DJANGO_DEBUG=0")

    call_command("vapid_keys", env_file=str(env_file), stdout=io.StringIO())

    text = env_file.read_text()
    assert text.startswith("DJANGO_DEBUG=0\nPAIS_VAPID_PUBLIC_KEY=")
    assert "PAIS_VAPID_PRIVATE_KEY=" in text
    with pytest.raises(CommandError):
        call_command("vapid_keys", env_file=str(env_file), stdout=io.StringIO())
    assert env_file.read_text() == text


def test_a_half_set_key_pair_stops_the_checks(settings) -> None:
    from django.core.checks import run_checks

    settings.PAIS_VAPID_PUBLIC_KEY = "BAAA"
    settings.PAIS_VAPID_PRIVATE_KEY = ""

    assert "pais.E020" in {message.id for message in run_checks()}


def test_deploy_checks_say_push_is_off_or_unguarded(settings) -> None:
    from django.core.checks import run_checks

    settings.DEBUG = False
    settings.PAIS_VAPID_PUBLIC_KEY = ""
    settings.PAIS_VAPID_PRIVATE_KEY = ""
    settings.PAIS_PUSH_ALLOW_PRIVATE = True

    found = {message.id for message in run_checks(include_deployment_checks=True)}

    assert {"pais.W020", "pais.W021"} <= found
