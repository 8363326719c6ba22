"""One validator (issue 11): each limit is checked by its service alone, so the page, the API
and the service refuse the same bad value with the same words, and nothing is saved."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils.html import escape

from rehab.alerts import alert_acknowledge, alert_resolve
from rehab.free_text import NOTE_MAX_LENGTH
from rehab.models import Alert, Episode, Intervention, Prescription, WebhookEndpoint
from rehab.notify.addresses import MAX_URL_LENGTH
from rehab.notify.endpoints import DESCRIPTION_MAX, webhook_endpoint_create
from rehab.services import (
    EXERCISE_NAME_MAX_LENGTH,
    MAX_SETS,
    REFERRED_TO_MAX_LENGTH,
    REPS_MAX_LENGTH,
    SITE_MAX_LENGTH,
    episode_open,
    episode_record_referral,
    intervention_record,
    prescription_create,
)
from tests.alerts.factories import AlertFactory
from tests.api.helpers import errors, url


def refused(service: Any, field: str, **kwargs: Any) -> list[str]:
    with pytest.raises(ValidationError) as raised:
        service(**kwargs)
    messages: list[str] = raised.value.message_dict[field]
    return messages


def shows(page: Any, messages: list[str]) -> None:
    assert page.status_code == 200
    html = page.content.decode()
    for message in messages:
        assert escape(message) in html, message


# --- Prescriptions -----------------------------------------------------------------------------

PRESCRIPTION_CASES = [
    # (field, the API's value, the page's fields)
    ("exercise", "x" * (EXERCISE_NAME_MAX_LENGTH + 1), {"other": "x" * 121}),
    ("sets", 0, {"sets": "0"}),
    ("sets", MAX_SETS + 1, {"sets": str(MAX_SETS + 1)}),
    ("reps", "1" * (REPS_MAX_LENGTH + 1), {"reps": "1" * 41}),
]


@pytest.mark.parametrize(("field", "value", "typed"), PRESCRIPTION_CASES)
def test_a_prescription_is_refused_alike(cast, api, client_for, field, value, typed):
    episode = cast.episode_a
    good: dict[str, Any] = {"exercise": "Toe walking", "sets": 3, "reps": "10"}
    service = refused(
        prescription_create,
        field,
        actor=cast.therapist,
        episode=episode,
        **{**good, field: value},
    )

    response = api(cast.therapist).post(
        url("api-prescription-list", pk=episode.pk), {**good, field: value}, format="json"
    )
    assert errors(response)[field] == service

    page = client_for(cast.therapist).post(
        f"/episodes/{episode.pk}/prescriptions/new/",
        {"other": "Toe walking", "sets": "3", "reps": "10", **typed},
    )
    shows(page, service)
    assert not Prescription.objects.filter(episode=episode).exists()


# --- Referral ----------------------------------------------------------------------------------


def test_a_referral_is_refused_alike(cast, api, client_for):
    episode = cast.episode_a
    today = episode.patient.local_today()
    too_long = "S" * (REFERRED_TO_MAX_LENGTH + 1)
    service = refused(
        episode_record_referral,
        "referred_to",
        actor=cast.therapist,
        episode=episode,
        date=today,
        referred_to=too_long,
    )
    response = api(cast.therapist).post(
        url("api-episode-referral", pk=episode.pk),
        {"date": today.isoformat(), "referred_to": too_long},
        format="json",
    )
    assert errors(response)["referred_to"] == service
    page = client_for(cast.therapist).post(
        f"/episodes/{episode.pk}/referral/",
        {"date": today.isoformat(), "referred_to": too_long},
    )
    shows(page, service)
    episode.refresh_from_db()
    assert (episode.status, episode.referral_date, episode.referred_to) == ("active", None, "")


# --- Interventions -----------------------------------------------------------------------------


def test_an_intervention_site_is_refused_alike(cast, api, client_for):
    episode = cast.episode_a
    start = episode.start_date.isoformat()
    too_long = "s" * (SITE_MAX_LENGTH + 1)
    service = refused(
        intervention_record,
        "site",
        actor=cast.therapist,
        episode=episode,
        kind="nsaid",
        start_date=episode.start_date,
        site=too_long,
    )
    body = {"kind": "nsaid", "start_date": start, "site": too_long}
    response = api(cast.therapist).post(
        url("api-intervention-list", pk=episode.pk), body, format="json"
    )
    assert errors(response)["site"] == service
    page = client_for(cast.therapist).post(f"/episodes/{episode.pk}/interventions/new/", body)
    shows(page, service)
    assert not Intervention.objects.filter(episode=episode).exists()


# --- Episodes: BMI -----------------------------------------------------------------------------


@pytest.mark.parametrize("bmi", ["9.9", "80.1"])
def test_a_bmi_out_of_range_is_refused_alike(cast, api, client_for, bmi):
    patient = cast.patient_b
    before = Episode.objects.filter(patient=patient).count()
    start = cast.episode_a.start_date
    service = refused(
        episode_open,
        "bmi",
        actor=cast.therapist,
        patient=patient,
        affected_side="left",
        start_date=start,
        bmi=Decimal(bmi),
    )
    body = {
        "patient": patient.pk,
        "affected_side": "left",
        "start_date": start.isoformat(),
        "bmi": float(bmi),
    }
    response = api(cast.therapist).post(url("api-episode-list"), body, format="json")
    assert errors(response)["bmi"] == service
    page = client_for(cast.therapist).post(
        f"/patients/{patient.pk}/episodes/new/",
        {"affected_side": "left", "start_date": start.isoformat(), "bmi": bmi},
    )
    shows(page, service)
    assert Episode.objects.filter(patient=patient).count() == before


def test_a_bmi_is_kept_to_a_tenth_by_the_service(cast):
    episode = episode_open(
        actor=cast.therapist,
        patient=cast.patient_b,
        affected_side="left",
        start_date=cast.episode_a.start_date,
        bmi=Decimal("31.25"),
    )
    episode.refresh_from_db()
    assert episode.bmi == Decimal("31.3")


# --- Alerts: the note --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("service_function", "action"),
    [(alert_acknowledge, "acknowledge"), (alert_resolve, "resolve")],
)
def test_an_alert_note_too_long_is_refused_alike(cast, api, client_for, service_function, action):
    alert = AlertFactory(episode=cast.episode_a)
    too_long = "n" * (NOTE_MAX_LENGTH + 1)
    service = refused(service_function, "note", actor=cast.therapist, alert=alert, note=too_long)
    response = api(cast.therapist).post(
        url(f"api-alert-{action}", pk=alert.pk), {"note": too_long}, format="json"
    )
    assert errors(response)["note"] == service
    page = client_for(cast.therapist).post(
        f"/alerts/{alert.pk}/{action}/", {"note": too_long}, follow=True
    )
    shows(page, service)
    alert.refresh_from_db()
    assert (alert.status, alert.note) == ("open", "")
    assert not Alert.objects.exclude(status="open").exists()


# --- Webhook endpoints -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("url", "https://127.0.0.1/" + "p" * MAX_URL_LENGTH),
        ("description", "d" * (DESCRIPTION_MAX + 1)),
    ],
)
def test_a_webhook_endpoint_is_refused_alike(cast, api, client_for, settings, field, value):
    # A literal local address, allowed as in local runs: no name to resolve.
    settings.PAIS_WEBHOOK_ALLOW_PRIVATE = True
    body = {"url": "https://127.0.0.1/hooks", "description": "", field: value}
    service = refused(webhook_endpoint_create, field, actor=cast.admin, **body)
    response = api(cast.admin).post(url("api-webhook-list"), body, format="json")
    assert errors(response)[field] == service
    page = client_for(cast.admin).post("/settings/webhooks/", body)
    shows(page, service)
    assert not WebhookEndpoint.objects.exists()
