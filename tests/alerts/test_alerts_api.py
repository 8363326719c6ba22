"""The alerts API: list, detail, acknowledge, resolve, snooze, scoped like everything else."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import AuditEvent
from rehab import rules
from rehab.models import Alert, AlertStatus
from tests.alerts.conftest import evaluate
from tests.alerts.factories import AlertFactory
from tests.api.helpers import errors, ids, url
from tests.factories import EpisodeFactory, PatientFactory

pytestmark = pytest.mark.django_db

CONTRACT_FIELDS = {
    "id",
    "episode",
    "code",
    "severity",
    "status",
    "message",
    "evidence",
    "ruleset",
    "created_at",
    "updated_at",
}


@pytest.fixture
def raised(example_1) -> Alert:
    """The REFERRAL_CONSIDER alert of worked example 1, raised by the evaluation on day 42."""
    outcome = evaluate(example_1, 42)
    assert len(outcome.raised) == 1
    return Alert.objects.get(pk=outcome.raised[0])


def test_detail_has_the_contract_fields_and_what_was_in_force(cast, api, raised):
    response = api(cast.therapist).get(url("api-alert-detail", pk=raised.pk))
    assert response.status_code == 200
    body = response.json()
    assert set(body) >= CONTRACT_FIELDS
    assert body["episode"] == raised.episode_id
    assert body["patient"] == cast.patient_a.pk
    assert (body["code"], body["severity"], body["status"]) == ("REFERRAL_CONSIDER", "high", "open")
    assert body["ruleset"] == rules.RULESET_VERSION
    assert body["thresholds"] == rules.Thresholds().as_dict()
    assert body["evidence"]["trial_day"] == 42
    assert body["first_found_on"] == body["last_found_on"] == "2026-02-15"
    assert body["message"].strip()
    assert body["created_at"].endswith("Z")


def test_list_shows_a_therapists_patients_and_the_admins_clinic(cast, api):
    a = AlertFactory(episode=cast.episode_a)
    b = AlertFactory(episode=cast.episode_b, code="LOGGING_GAP", severity="warning")
    elsewhere = AlertFactory(
        episode=EpisodeFactory(patient=PatientFactory(therapist=cast.therapist_2))
    )
    foreign = AlertFactory(episode=cast.other_episode)
    assert ids(api(cast.therapist).get(url("api-alert-list"))) == {a.pk, b.pk}
    assert ids(api(cast.therapist_2).get(url("api-alert-list"))) == {elsewhere.pk}
    assert ids(api(cast.admin).get(url("api-alert-list"))) == {a.pk, b.pk, elsewhere.pk}
    assert ids(api(cast.other_therapist).get(url("api-alert-list"))) == {foreign.pk}


def test_list_filters_by_status_and_episode(cast, api):
    open_a = AlertFactory(episode=cast.episode_a)
    resolved_a = AlertFactory(
        episode=cast.episode_a, status=AlertStatus.RESOLVED, code="LOGGING_GAP"
    )
    snoozed_b = AlertFactory(
        episode=cast.episode_b, status=AlertStatus.SNOOZED, snoozed_until=dt.date(2026, 3, 9)
    )
    client = api(cast.therapist)
    assert ids(client.get(url("api-alert-list") + "?status=open")) == {open_a.pk}
    assert ids(client.get(url("api-alert-list") + "?status=resolved")) == {resolved_a.pk}
    assert ids(client.get(url("api-alert-list") + "?status=snoozed")) == {snoozed_b.pk}
    assert ids(client.get(url("api-alert-list") + "?status=acknowledged")) == set()
    assert ids(client.get(url("api-alert-list") + f"?episode={cast.episode_a.pk}")) == {
        open_a.pk,
        resolved_a.pk,
    }
    assert ids(client.get(url("api-alert-list") + f"?episode={cast.other_episode.pk}")) == set()


@pytest.mark.parametrize("query", ["status=closed", "status=OPEN", "episode=abc"])
def test_bad_filters_are_a_400_naming_the_field(cast, api, query):
    response = api(cast.therapist).get(url("api-alert-list") + f"?{query}")
    assert query.split("=")[0] in errors(response)


def test_patients_have_no_alerts_to_read_or_act_on(cast, api):
    alert = AlertFactory(episode=cast.episode_a)
    client = api(cast.patient_a.user)
    assert client.get(url("api-alert-list")).status_code == 403
    assert client.get(url("api-alert-detail", pk=alert.pk)).status_code == 404
    for action in ("api-alert-acknowledge", "api-alert-resolve"):
        assert client.post(url(action, pk=alert.pk), {}, format="json").status_code == 404
    response = client.post(
        url("api-alert-snooze", pk=alert.pk), {"until": "2026-03-09"}, format="json"
    )
    assert response.status_code == 404
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN


@pytest.mark.parametrize("persona", ["therapist_2", "other_therapist"])
def test_alerts_out_of_reach_are_404_and_untouched(cast, api, persona, raised):
    client = api(getattr(cast, persona))
    before = Alert.objects.filter(pk=raised.pk).values().get()
    assert client.get(url("api-alert-detail", pk=raised.pk)).status_code == 404
    for action, body in (
        ("api-alert-acknowledge", {"note": "x"}),
        ("api-alert-resolve", {"note": "x"}),
        ("api-alert-snooze", {"until": "2026-03-09"}),
    ):
        assert client.post(url(action, pk=raised.pk), body, format="json").status_code == 404
    assert Alert.objects.filter(pk=raised.pk).values().get() == before
    assert not AuditEvent.objects.filter(action__startswith="alert.").exists()


def test_acknowledge_keeps_it_unresolved_with_the_note_and_an_audit_row(cast, api, raised):
    response = api(cast.therapist).post(
        url("api-alert-acknowledge", pk=raised.pk),
        {"note": "Discussed with the patient; MRI booked."},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "acknowledged"
    assert body["note"] == "Discussed with the patient; MRI booked."
    assert body["acknowledged_at"] is not None
    assert body["resolved_at"] is None
    event = AuditEvent.objects.get(action="alert.acknowledged")
    assert (event.actor, event.object_id, event.patient_id) == (
        cast.therapist,
        str(raised.pk),
        cast.patient_a.pk,
    )


def test_acknowledge_without_a_body_is_fine(cast, api, raised):
    response = api(cast.admin).post(url("api-alert-acknowledge", pk=raised.pk), {}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "acknowledged"


def test_resolve_by_hand_then_again_is_a_400(cast, api, raised):
    client = api(cast.therapist)
    response = client.post(
        url("api-alert-resolve", pk=raised.pk), {"note": "Referred by phone."}, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "resolved"
    assert body["resolved_at"] is not None
    assert body["resolution_reason"]
    assert AuditEvent.objects.filter(action="alert.resolved", actor=cast.therapist).count() == 1
    again = client.post(url("api-alert-resolve", pk=raised.pk), {}, format="json")
    assert "non_field_errors" in errors(again)
    assert (
        client.post(url("api-alert-acknowledge", pk=raised.pk), {}, format="json").status_code
        == 400
    )


def test_snooze_until_a_date(cast, api, raised):
    response = api(cast.therapist).post(
        url("api-alert-snooze", pk=raised.pk), {"until": "2026-03-09"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["snoozed_until"]) == (
        "snoozed",
        "2026-03-09",
    )
    assert AuditEvent.objects.filter(action="alert.snoozed").count() == 1


@pytest.mark.parametrize(
    "body", [{}, {"until": "2026-03-02"}, {"until": "2026-03-01"}, {"until": "next week"}]
)
def test_a_bad_snooze_is_a_400_on_until_and_changes_nothing(cast, api, raised, body):
    # The patient's today is 2026-03-02: a snooze must end after it.
    response = api(cast.therapist).post(url("api-alert-snooze", pk=raised.pk), body, format="json")
    assert "until" in errors(response)
    raised.refresh_from_db()
    assert raised.status == AlertStatus.OPEN and raised.snoozed_until is None


def test_a_too_long_note_is_a_400(cast, api, raised):
    response = api(cast.therapist).post(
        url("api-alert-acknowledge", pk=raised.pk), {"note": "x" * 5001}, format="json"
    )
    assert "note" in errors(response)
    raised.refresh_from_db()
    assert raised.status == AlertStatus.OPEN


def test_the_list_has_no_n_plus_one(cast, api):
    client = api(cast.admin)
    AlertFactory(episode=cast.episode_a)
    client.get(url("api-alert-list"))  # warm up
    with CaptureQueriesContext(connection) as few:
        assert len(client.get(url("api-alert-list")).json()["results"]) == 1
    for _ in range(12):
        patient = PatientFactory(therapist=cast.therapist_2)
        AlertFactory(episode=EpisodeFactory(patient=patient))
    with CaptureQueriesContext(connection) as many:
        assert len(client.get(url("api-alert-list")).json()["results"]) == 13
    assert len(few) == len(many)


def test_the_list_is_paginated_newest_first(cast, api):
    older = AlertFactory(episode=cast.episode_a, created_at=dt.datetime(2026, 2, 1, tzinfo=dt.UTC))
    newer = AlertFactory(episode=cast.episode_b, created_at=dt.datetime(2026, 2, 2, tzinfo=dt.UTC))
    body = api(cast.therapist).get(url("api-alert-list") + "?page_size=1").json()
    assert body["count"] == 2
    assert [item["id"] for item in body["results"]] == [newer.pk]
    assert body["next"] is not None
    second = api(cast.therapist).get(body["next"]).json()
    assert [item["id"] for item in second["results"]] == [older.pk]
