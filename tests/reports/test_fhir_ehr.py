"""FHIR an EHR can ingest (issue 16): the patient's identifiers, the transaction bundle with
conditional creates, codes that tell the Observations apart, the coded Condition, Flag codes
under a CodeSystem we serve, and the FHIR media type."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter
from typing import Any
from urllib.parse import unquote

import pytest
from django.test import override_settings
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.codesystem import CodeSystem

from accounts.models import Clinic, Patient
from rehab import rules
from tests.alerts.factories import AlertFactory
from tests.courses import stalled_trial
from tests.factories import DailyEntryFactory

pytestmark = pytest.mark.django_db

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
BASE = "https://rehab.example.org/fhir"


def _url(episode, kind: str = "") -> str:
    return f"/api/v1/episodes/{episode.pk}/fhir/" + (f"?type={kind}" if kind else "")


def _bundle(api, user, episode, kind: str = "") -> dict[str, Any]:
    response = api(user).get(_url(episode, kind))
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/fhir+json")
    return response.json()


def _resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


@pytest.fixture
def course(cast, api):
    """Patient A (right ankle), identified; 10 days logged; a FAAM; two open alerts."""
    Patient.objects.filter(pk=cast.patient_a.pk).update(
        birth_date=dt.date(1996, 5, 17), sex="female", mrn="RV 0042/7"
    )
    stalled_trial(cast.episode_a, days=10)
    answers = {f"adl-{n}": 3 for n in range(1, 22)} | {f"sports-{n}": 2 for n in range(1, 9)}
    recorded = api(cast.therapist).post(
        f"/api/v1/episodes/{cast.episode_a.pk}/questionnaire-responses/",
        {"instrument": "faam", "date": cast.episode_a.start_date.isoformat(), "answers": answers},
        format="json",
    )
    assert recorded.status_code == 201, recorded.content
    AlertFactory(episode=cast.episode_a, code=rules.LOGGING_GAP, severity=rules.WARNING)
    AlertFactory(episode=cast.episode_a, code=rules.REFERRAL_CONSIDER, severity=rules.HIGH)
    return cast.episode_a


# --- The patient ------------------------------------------------------------------------------


@override_settings(MRN_SYSTEM="")
def test_the_patient_carries_the_clinics_record_number_birth_date_and_gender(cast, api, course):
    Clinic.objects.filter(pk=cast.clinic.pk).update(
        mrn_system="https://hospital.example.org/fhir/sid/mrn"
    )
    (patient,) = _resources(_bundle(api, cast.therapist, course), "Patient")
    mrn, own = patient["identifier"]
    assert mrn["system"] == "https://hospital.example.org/fhir/sid/mrn"
    assert mrn["value"] == "RV 0042/7"
    assert mrn["type"]["coding"][0]["code"] == "MR"
    assert own["system"].endswith("/fhir/sid/patient") and own["value"] == str(cast.patient_a.pk)
    assert patient["birthDate"] == "1996-05-17"
    assert patient["gender"] == "female"


def test_the_record_number_system_falls_back_to_the_setting_then_the_site(cast, api, course):
    with override_settings(MRN_SYSTEM="urn:oid:1.2.3.4.5"):
        (patient,) = _resources(_bundle(api, cast.therapist, course), "Patient")
        assert patient["identifier"][0]["system"] == "urn:oid:1.2.3.4.5"
    with override_settings(MRN_SYSTEM="", SITE_URL="https://rehab.example.org"):
        (patient,) = _resources(_bundle(api, cast.therapist, course), "Patient")
        assert patient["identifier"][0]["system"] == (
            "https://rehab.example.org/fhir/sid/mrn/riverside"
        )


def test_nothing_recorded_means_no_record_number_birth_date_or_gender(cast, api):
    (patient,) = _resources(_bundle(api, cast.therapist, cast.episode_b), "Patient")
    assert [i["system"].rsplit("/", 1)[-1] for i in patient["identifier"]] == ["patient"]
    assert "birthDate" not in patient and "gender" not in patient


# --- Codes ---------------------------------------------------------------------------------


def test_pain_during_activity_and_at_rest_are_told_apart_by_code(cast, api):
    DailyEntryFactory(
        episode=cast.episode_a,
        pain_activity=7,
        pain_rest=2,
        pf_rom_affected=None,
        pf_rom_unaffected=None,
    )
    pain = _resources(_bundle(api, cast.therapist, cast.episode_a), "Observation")
    assert len(pain) == 2
    codings = {
        r["valueInteger"]: {(c["system"], c["code"]) for c in r["code"]["coding"]} for r in pain
    }
    local = f"{_base()}/CodeSystem/observation"
    assert codings[7] == {(LOINC, "72514-3"), (local, "pain-activity")}
    assert codings[2] == {(LOINC, "72514-3"), (local, "pain-rest")}
    assert codings[7] != codings[2]


def test_plantar_flexion_is_coded_with_the_ankle_and_its_laterality(cast, api):
    DailyEntryFactory(episode=cast.episode_a, pf_rom_affected=31.5, pf_rom_unaffected=47)
    data = _bundle(api, cast.therapist, cast.episode_a)
    rom = [r for r in _resources(data, "Observation") if "valueQuantity" in r]
    by_value = {r["valueQuantity"]["value"]: r for r in rom}
    for value, site, laterality in ((31.5, "6685009", "24028007"), (47, "51636004", "7771000")):
        resource = by_value[value]
        assert resource["code"]["coding"] == [
            {
                "system": f"{_base()}/CodeSystem/observation",
                "code": "ankle-plantar-flexion-rom",
                "display": "Ankle plantar flexion range of motion (goniometry)",
            }
        ]
        assert resource["bodySite"]["coding"][0]["code"] == site
        (extension,) = resource["bodySite"]["extension"]
        assert extension["url"] == f"{_base()}/StructureDefinition/laterality"
        assert extension["valueCoding"]["system"] == SNOMED
        assert extension["valueCoding"]["code"] == laterality


def test_the_condition_has_the_closest_snomed_and_icd10cm_codes_by_side(cast, api):
    (right,) = _resources(_bundle(api, cast.therapist, cast.episode_a), "Condition")
    assert {(c["system"], c["code"]) for c in right["code"]["coding"]} == {
        (SNOMED, "240021001"),
        (ICD10CM, "M25.871"),
    }
    assert right["code"]["text"] == "Posterior ankle impingement syndrome"
    cast.episode_b.affected_side = "left"
    cast.episode_b.save()
    (left,) = _resources(_bundle(api, cast.admin, cast.episode_b), "Condition")
    assert (ICD10CM, "M25.872") in {(c["system"], c["code"]) for c in left["code"]["coding"]}


def _base() -> str:
    from reports.fhir_questionnaires import fhir_base

    return fhir_base()


def test_every_local_code_in_the_bundle_is_in_a_codesystem_the_api_serves(cast, api, course):
    data = _bundle(api, cast.therapist, course)
    flags = _resources(data, "Flag")
    assert {f["code"]["coding"][0]["code"] for f in flags} == {
        rules.LOGGING_GAP,
        rules.REFERRAL_CONSIDER,
    }
    assert all(
        f["code"]["coding"][0]["system"] == f"{_base()}/CodeSystem/finding"
        and f["code"]["coding"][0]["system"].startswith(("https://", "http://"))
        for f in flags
    )
    served: dict[str, set[str]] = {}
    for coding in _codings(data):
        system = coding["system"]
        if not system.startswith(_base()):
            continue
        if system not in served:
            name = system.rsplit("/", 1)[-1]
            response = api(cast.patient_a.user).get(f"/api/v1/code-systems/{name}/")
            assert response.status_code == 200, system
            resource = response.json()
            CodeSystem.model_validate(resource)
            assert resource["url"] == system
            served[system] = {c["code"] for c in resource["concept"]}
        assert coding["code"] in served[system], coding
    assert f"{_base()}/CodeSystem/finding" in served
    assert f"{_base()}/CodeSystem/observation" in served


def _codings(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        found = [value] if {"system", "code"} <= set(value) else []
        return found + [c for v in value.values() for c in _codings(v)]
    if isinstance(value, list):
        return [c for v in value for c in _codings(v)]
    return []


def test_the_finding_codesystem_lists_every_rule_in_english(cast, api):
    response = api(cast.therapist).get("/api/v1/code-systems/finding/", HTTP_ACCEPT_LANGUAGE="es")
    assert response["Content-Type"].startswith("application/fhir+json")
    resource = response.json()
    CodeSystem.model_validate(resource)
    assert [c["code"] for c in resource["concept"]] == list(rules.FINDING_SEVERITY)
    assert resource["count"] == len(rules.FINDING_SEVERITY)
    overdue = next(c for c in resource["concept"] if c["code"] == rules.REFERRAL_OVERDUE)
    assert overdue["display"] == "Referral for a surgical opinion overdue"
    assert overdue["definition"].endswith("Severity: critical.")


# --- The transaction bundle ------------------------------------------------------------------


def _first_identifier(resource: dict[str, Any]) -> dict[str, Any]:
    identifier = resource["identifier"]
    return identifier if isinstance(identifier, dict) else identifier[0]


def _identifiers(resource: dict[str, Any]) -> list[dict[str, Any]]:
    identifier = resource.get("identifier", [])
    return [identifier] if isinstance(identifier, dict) else identifier


class FhirStore:
    """A FHIR server in memory, as much of one as a transaction of conditional creates needs:
    POST with ifNoneExist="identifier=system|value" creates the resource unless one of that
    type has that identifier; references to the bundle's urn:uuids become Type/id."""

    def __init__(self) -> None:
        self.resources: dict[str, dict[str, dict[str, Any]]] = {}
        self._ids = itertools.count(1)

    def add(self, resource: dict[str, Any]) -> str:
        new_id = str(next(self._ids))
        self.resources.setdefault(resource["resourceType"], {})[new_id] = {
            **resource,
            "id": new_id,
        }
        return new_id

    def find(self, kind: str, system: str, value: str) -> str | None:
        for rid, resource in self.resources.get(kind, {}).items():
            for identifier in _identifiers(resource):
                if (identifier.get("system"), identifier.get("value")) == (system, value):
                    return rid
        return None

    def transaction(self, bundle: dict[str, Any]) -> Counter[str]:
        assert bundle["type"] == "transaction"
        created: Counter[str] = Counter()
        names: dict[str, str] = {}
        pending: list[tuple[str, dict[str, Any]]] = []
        for entry in bundle["entry"]:
            request, resource = entry["request"], entry["resource"]
            assert request["method"] == "POST" and request["url"] == resource["resourceType"]
            key, _, query = request["ifNoneExist"].partition("=")
            assert key == "identifier"
            system, _, value = unquote(query).rpartition("|")
            existing = self.find(resource["resourceType"], system, value)
            if existing is None:
                pending.append((entry["fullUrl"], resource))
                created[resource["resourceType"]] += 1
            else:
                names[entry["fullUrl"]] = f"{resource['resourceType']}/{existing}"
        for full_url, resource in pending:
            names[full_url] = f"{resource['resourceType']}/{self.add(resource)}"
        for kind in self.resources.values():
            for resource in kind.values():
                _resolve(resource, names)
        return created

    def count(self) -> int:
        return sum(len(kind) for kind in self.resources.values())


def _resolve(value: Any, names: dict[str, str]) -> None:
    if isinstance(value, dict):
        reference = value.get("reference")
        if isinstance(reference, str) and reference in names:
            value["reference"] = names[reference]
        for item in value.values():
            _resolve(item, names)
    elif isinstance(value, list):
        for item in value:
            _resolve(item, names)


def test_the_transaction_bundle_validates_and_each_entry_is_a_conditional_create(cast, api, course):
    data = _bundle(api, cast.therapist, course, "transaction")
    bundle = Bundle.model_validate(data)
    assert bundle.type == "transaction"
    assert data["entry"]
    for entry in data["entry"]:
        resource = entry["resource"]
        first = _first_identifier(resource)
        assert entry["request"]["method"] == "POST"
        assert entry["request"]["url"] == resource["resourceType"]
        assert unquote(entry["request"]["ifNoneExist"]) == (
            f"identifier={first['system']}|{first['value']}"
        )
    identifiers = [
        (e["resource"]["resourceType"], _first_identifier(e["resource"])["value"])
        for e in data["entry"]
    ]
    assert len(set(identifiers)) == len(identifiers)
    # The collection is the same resources without requests.
    collection = _bundle(api, cast.therapist, course)
    assert collection["type"] == "collection"
    assert all("request" not in e for e in collection["entry"])
    assert [e["resource"] for e in collection["entry"]] == [e["resource"] for e in data["entry"]]


def test_applied_twice_to_a_store_the_second_time_creates_nothing(cast, api, course):
    data = _bundle(api, cast.therapist, course, "transaction")
    kinds = Counter(e["resource"]["resourceType"] for e in data["entry"])
    assert kinds["QuestionnaireResponse"] == 1 and kinds["Flag"] == 2
    store = FhirStore()
    first = store.transaction(data)
    assert first == kinds
    size = store.count()
    # The next export (a new bundle id and timestamp; same resources) creates nothing new.
    second = store.transaction(_bundle(api, cast.therapist, course, "transaction"))
    assert second == Counter()
    assert store.count() == size
    # Every reference resolved to a resource of the store.
    (patient_id,) = store.resources["Patient"]
    for kind in ("Condition", "Observation", "Flag"):
        for resource in store.resources[kind].values():
            assert resource["subject"] == {"reference": f"Patient/{patient_id}"}


def test_a_patient_the_ehr_already_has_is_matched_by_record_number(cast, api, course):
    with override_settings(MRN_SYSTEM="https://hospital.example.org/mrn"):
        data = _bundle(api, cast.therapist, course, "transaction")
    store = FhirStore()
    ehr_id = store.add(
        {
            "resourceType": "Patient",
            "identifier": [{"system": "https://hospital.example.org/mrn", "value": "RV 0042/7"}],
        }
    )
    created = store.transaction(data)
    assert created["Patient"] == 0
    assert len(store.resources["Patient"]) == 1
    for resource in store.resources["Observation"].values():
        assert resource["subject"] == {"reference": f"Patient/{ehr_id}"}


def test_an_unknown_bundle_type_is_400_naming_it(cast, api, course):
    response = api(cast.therapist).get(_url(course, "batch"))
    assert response.status_code == 400
    assert "type" in response.json()
