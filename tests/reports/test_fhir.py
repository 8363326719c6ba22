"""GET /api/v1/episodes/{id}/fhir/: the episode as a FHIR R4 Bundle that validates (R4B models)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.flag import Flag
from fhir.resources.R4B.observation import Observation

from accounts.models import AuditEvent
from rehab import rules
from tests.alerts.factories import AlertFactory
from tests.courses import stalled_trial
from tests.factories import DailyEntryFactory
from tests.personas import out_of_reach_of, user_of

pytestmark = pytest.mark.django_db

PAIN_LOINC = "72514-3"


def _url(episode) -> str:
    return f"/api/v1/episodes/{episode.pk}/fhir/"


def _resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def _export(api, user, episode) -> dict[str, Any]:
    response = api(user).get(_url(episode))
    assert response.status_code == 200, response.content
    assert "no-store" in response["Cache-Control"]
    return response.json()


@pytest.fixture
def course(cast):
    """Patient A's right ankle, 10 days logged, one open and one resolved alert."""
    stalled_trial(cast.episode_a, days=10)
    AlertFactory(episode=cast.episode_a, code=rules.LOGGING_GAP, severity=rules.WARNING)
    AlertFactory(
        episode=cast.episode_a,
        code=rules.ADHERENCE_LOW,
        severity=rules.WARNING,
        status="resolved",
    )
    return cast.episode_a


def test_the_bundle_validates_against_the_r4b_models(cast, api, course):
    data = _export(api, cast.therapist, course)
    bundle = Bundle.model_validate(data)
    assert bundle.type == "collection"
    kinds = Counter(e.resource.__resource_type__ for e in bundle.entry)
    # 10 entries: 10 activity + 10 rest pain scores; ROM on days 3, 6, 9 (affected) and 6
    # (healthy); one Flag for the one unresolved alert.
    assert kinds == {"Patient": 1, "Condition": 1, "Observation": 24, "Flag": 1}


def test_every_entry_has_a_unique_urn_uuid_and_references_resolve_inside(cast, api, course):
    data = _export(api, cast.therapist, course)
    urls = [e["fullUrl"] for e in data["entry"]]
    assert all(u.startswith("urn:uuid:") and len(u) == len("urn:uuid:") + 36 for u in urls)
    assert len(set(urls)) == len(urls)
    patient_url = next(
        e["fullUrl"] for e in data["entry"] if e["resource"]["resourceType"] == "Patient"
    )
    for entry in data["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] != "Patient":
            assert resource["subject"] == {"reference": patient_url}
    # The same export twice names every resource the same way (a receiver can de-duplicate).
    again = _export(api, cast.therapist, course)
    assert [e["fullUrl"] for e in again["entry"]] == urls


def test_patient_and_condition_with_the_affected_side(cast, api, course):
    data = _export(api, cast.therapist, course)
    (patient,) = _resources(data, "Patient")
    user = cast.patient_a.user
    assert patient["name"][0]["family"] == user.last_name
    assert patient["name"][0]["given"] == [user.first_name]
    assert patient["identifier"][0]["value"] == str(cast.patient_a.pk)
    (condition,) = _resources(data, "Condition")
    assert condition["code"]["text"] == "Posterior ankle impingement syndrome"
    assert condition["clinicalStatus"]["coding"][0]["code"] == "active"
    site = condition["bodySite"][0]
    assert site["coding"][0] == {
        "system": "http://snomed.info/sct",
        "code": "6685009",
        "display": "Structure of right ankle",
    }
    assert site["text"] == "Right ankle (affected side)"


def test_a_left_ankle_that_resolved(cast, api):
    episode = cast.episode_b
    episode.affected_side = "left"
    episode.status = "closed"
    episode.outcome = "resolved"
    episode.closed_date = episode.start_date + dt.timedelta(days=5)
    episode.save()
    data = _export(api, cast.admin, episode)
    Bundle.model_validate(data)
    (condition,) = _resources(data, "Condition")
    assert condition["bodySite"][0]["coding"][0]["code"] == "51636004"
    assert condition["clinicalStatus"]["coding"][0]["code"] == "resolved"
    assert condition["abatementDateTime"] == episode.closed_date.isoformat()


def test_one_pain_observation_per_score_with_loinc_and_the_entry_date(cast, api):
    episode = cast.episode_a
    entry = DailyEntryFactory(
        episode=episode, pain_activity=7, pain_rest=2, pf_rom_affected=None, pf_rom_unaffected=None
    )
    DailyEntryFactory(
        episode=episode,
        date=episode.start_date + dt.timedelta(days=1),
        pain_activity=6,
        pain_rest=None,
        pf_rom_affected=None,
        pf_rom_unaffected=None,
    )
    data = _export(api, cast.therapist, episode)
    pain = _resources(data, "Observation")
    assert len(pain) == 3
    for resource in pain:
        Observation.model_validate(resource)
        coding = resource["code"]["coding"][0]
        assert coding["system"] == "http://loinc.org"
        assert coding["code"] == PAIN_LOINC
        assert coding["display"] == "Pain severity - 0-10 verbal numeric rating [Score] - Reported"
        assert isinstance(resource["valueInteger"], int)
    by_text = {(r["effectiveDateTime"], r["code"]["text"]): r["valueInteger"] for r in pain}
    first, second = entry.date.isoformat(), (entry.date + dt.timedelta(days=1)).isoformat()
    assert by_text == {
        (first, "Pain during activity (0-10 numeric rating)"): 7,
        (first, "Pain at rest (0-10 numeric rating)"): 2,
        (second, "Pain during activity (0-10 numeric rating)"): 6,
    }


def test_plantar_flexion_in_ucum_degrees_on_each_side(cast, api):
    episode = cast.episode_a  # right ankle affected
    DailyEntryFactory(episode=episode, pf_rom_affected=31, pf_rom_unaffected=47)
    data = _export(api, cast.therapist, episode)
    rom = [r for r in _resources(data, "Observation") if "valueQuantity" in r]
    assert len(rom) == 2
    by_side = {r["bodySite"]["text"]: r for r in rom}
    assert set(by_side) == {"Right ankle (affected side)", "Left ankle (healthy side)"}
    affected = by_side["Right ankle (affected side)"]
    assert affected["valueQuantity"] == {
        "value": 31,
        "unit": "deg",
        "system": "http://unitsofmeasure.org",
        "code": "deg",
    }
    assert affected["bodySite"]["coding"][0]["code"] == "6685009"
    assert by_side["Left ankle (healthy side)"]["bodySite"]["coding"][0]["code"] == "51636004"
    assert by_side["Left ankle (healthy side)"]["valueQuantity"]["value"] == 47
    assert affected["effectiveDateTime"] == episode.start_date.isoformat()


def test_a_flag_per_unresolved_alert(cast, api, course):
    AlertFactory(
        episode=course, code=rules.REFERRAL_OVERDUE, severity=rules.CRITICAL, status="snoozed"
    )
    data = _export(api, cast.therapist, course)
    flags = _resources(data, "Flag")
    for flag in flags:
        Flag.model_validate(flag)
        assert flag["status"] == "active"
    assert sorted(f["code"]["coding"][0]["code"] for f in flags) == [
        rules.LOGGING_GAP,
        rules.REFERRAL_OVERDUE,
    ]
    overdue = next(f for f in flags if f["code"]["coding"][0]["code"] == rules.REFERRAL_OVERDUE)
    assert overdue["code"]["coding"][0]["display"] == "Referral for a surgical opinion overdue"
    assert overdue["code"]["text"].startswith("Critical: ")


def test_the_patient_exports_their_own_record_without_the_clinics_flags(cast, api, course):
    data = _export(api, cast.patient_a.user, course)
    Bundle.model_validate(data)
    assert _resources(data, "Flag") == []
    assert len(_resources(data, "Observation")) == 24


def test_the_export_is_audited(cast, api, course):
    _export(api, cast.admin, course)
    event = AuditEvent.objects.get(action="fhir.exported")
    assert event.actor == cast.admin
    assert event.object_id == str(course.pk)
    assert event.patient_id == cast.patient_a.pk


@pytest.mark.parametrize("persona", out_of_reach_of("patient_a"))
def test_out_of_reach_is_404(cast, api, course, persona):
    assert api(user_of(cast, persona)).get(_url(course)).status_code == 404
    assert not AuditEvent.objects.filter(action="fhir.exported").exists()


def test_another_clinic_is_404_and_the_fhir_media_type_can_be_asked_for(cast, api, course):
    assert api(cast.admin).get(_url(cast.other_episode)).status_code == 404
    response = api(cast.admin).get(_url(course), HTTP_ACCEPT="application/fhir+json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/fhir+json")
    assert api(None).get(_url(course)).status_code == 401
