"""Exports of one episode: its entries as CSV, and the episode as a FHIR R4 Bundle.

Both are pure builders over rows the caller has already fetched within reach; the API views in
``reports.api`` fetch, call them and record the export in the audit log.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.db.models import Prefetch
from django.utils import translation

from accounts.audit import audit_record
from accounts.identifiers import mrn_system
from accounts.models import Patient, User
from config.csv_export import csv_text
from rehab.models import (
    Alert,
    AlertStatus,
    DailyEntry,
    Episode,
    EpisodeStatus,
    ExerciseLog,
    Outcome,
    Prescription,
    Side,
)
from rehab.selectors import questionnaire_responses
from rehab.vocabulary import SEVERITY_LABELS
from reports import fhir_terminology as terms
from reports.fhir_questionnaires import questionnaire_response, score_observations
from reports.fhir_terminology import V2_IDENTIFIER_TYPE

# --- CSV ---------------------------------------------------------------------------------------

ENTRIES_HEADER = [
    "date",
    "trial_day",
    "pain_activity",
    "pain_rest",
    "pf_rom_affected",
    "pf_rom_unaffected",
    "exercises",
    "note",
]


def episode_entries(episode: Episode) -> tuple[list[DailyEntry], list[Prescription]]:
    """The episode's entries (oldest first) with their exercise logs, and its prescriptions."""
    entries = list(
        DailyEntry.objects.filter(episode=episode)
        .order_by("date")
        .prefetch_related(Prefetch("exercises", queryset=ExerciseLog.objects.all()))
    )
    prescriptions = list(Prescription.objects.filter(episode=episode).order_by("start_date", "id"))
    return entries, prescriptions


def _exercises(entry: DailyEntry, prescriptions: Sequence[Prescription]) -> str:
    done = {log.prescription_id: log.sets_completed for log in entry.exercises.all()}
    return "; ".join(
        f"{p.name}: {done.get(p.pk, 0)}/{p.sets} sets"
        for p in prescriptions
        if p.is_active_on(entry.date)
    )


def entries_csv(episode: Episode) -> str:
    entries, prescriptions = episode_entries(episode)
    rows = [
        [
            entry.date.isoformat(),
            (entry.date - episode.start_date).days + 1,
            entry.pain_activity,
            entry.pain_rest,
            entry.pf_rom_affected,
            entry.pf_rom_unaffected,
            _exercises(entry, prescriptions),
            entry.note,
        ]
        for entry in entries
    ]
    return csv_text(ENTRIES_HEADER, rows)


# --- FHIR R4 -----------------------------------------------------------------------------------

UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
FLAG_CATEGORY = "http://terminology.hl7.org/CodeSystem/flag-category"
# The codes themselves (LOINC, SNOMED CT, ICD-10-CM and our own): reports/fhir_terminology.py.
COLLECTION = "collection"
TRANSACTION = "transaction"
BUNDLE_TYPES = (COLLECTION, TRANSACTION)
PF_TEXT = "Plantar flexion range of motion of the ankle (goniometry)"


def _identifier_system(kind: str) -> str:
    # Ids are this installation's: they are namespaced under its own address.
    return f"{settings.SITE_URL}/fhir/sid/{kind}"


def _identifier(kind: str, value: str) -> dict[str, Any]:
    return {"system": _identifier_system(kind), "value": value}


@dataclass(frozen=True)
class _Ids:
    """Stable urn:uuid names: the same export twice names every resource the same way."""

    namespace: uuid.UUID

    def __call__(self, name: str) -> str:
        return f"urn:uuid:{uuid.uuid5(self.namespace, name)}"


def _ids() -> _Ids:
    return _Ids(uuid.uuid5(uuid.NAMESPACE_URL, f"{settings.SITE_URL}/fhir"))


def _english(label: object) -> str:
    """A model choice's label in English: the FHIR texts are interchange data, English like
    their codes, whatever language the person downloading reads (the labels are translatable)."""
    with translation.override("en"):
        return str(label)


def _other_side(side: str) -> str:
    return Side.RIGHT if side == Side.LEFT else Side.LEFT


def _category(system: str, code: str, display: str) -> list[dict[str, Any]]:
    return [{"coding": [{"system": system, "code": code, "display": display}]}]


def patient_identifiers(patient: Patient) -> list[dict[str, Any]]:
    """The clinic's medical record number first (what an EHR matches on), then this
    installation's own id of the patient."""
    identifiers: list[dict[str, Any]] = []
    if patient.mrn:
        identifiers.append(
            {
                "use": "usual",
                "type": {
                    "coding": [
                        {
                            "system": V2_IDENTIFIER_TYPE,
                            "code": "MR",
                            "display": "Medical record number",
                        }
                    ],
                    "text": "Medical record number",
                },
                "system": mrn_system(patient.user.clinic),
                "value": patient.mrn,
            }
        )
    identifiers.append({"use": "secondary", **_identifier("patient", str(patient.pk))})
    return identifiers


def _patient(episode: Episode) -> dict[str, Any]:
    patient = episode.patient
    user = patient.user
    name: dict[str, Any] = {"use": "official", "text": user.get_full_name()}
    if user.last_name:
        name["family"] = user.last_name
    if user.first_name:
        name["given"] = [user.first_name]
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "identifier": patient_identifiers(patient),
        "active": user.is_active,
        "name": [name],
    }
    if patient.sex:
        # Stored as FHIR's administrative gender values (accounts.models.Sex).
        resource["gender"] = patient.sex
    if patient.birth_date is not None:
        resource["birthDate"] = patient.birth_date.isoformat()
    return resource


def _condition(episode: Episode, patient_ref: str) -> dict[str, Any]:
    resolved = episode.status == EpisodeStatus.CLOSED and episode.outcome == Outcome.RESOLVED
    condition: dict[str, Any] = {
        "resourceType": "Condition",
        "identifier": [_identifier("episode", str(episode.pk))],
        "clinicalStatus": {
            "coding": [
                {
                    "system": CONDITION_CLINICAL,
                    "code": "resolved" if resolved else "active",
                }
            ]
        },
        "category": _category(CONDITION_CATEGORY, "problem-list-item", "Problem List Item"),
        # The closest SNOMED CT and ICD-10-CM codes; the text says exactly what it is
        # (reports/fhir_terminology.py, docs/fhir.md).
        "code": terms.condition_code(episode.affected_side),
        "bodySite": [terms.ankle(episode.affected_side, "affected side")],
        "subject": {"reference": patient_ref},
        "recordedDate": episode.start_date.isoformat(),
        "note": [
            {
                "text": f"Diagnosis: {_english(episode.get_diagnosis_display())}. "
                f"Conservative trial started {episode.start_date.isoformat()}; "
                f"status {episode.status}."
            }
        ],
    }
    if resolved and episode.closed_date is not None:
        condition["abatementDateTime"] = episode.closed_date.isoformat()
    return condition


def _observation_key(episode: Episode, entry: DailyEntry, what: str) -> str:
    # Keyed on the entry's date, which a corrected entry keeps (docs/fhir.md).
    return f"episode/{episode.pk}/entry/{entry.date.isoformat()}/{what}"


def _pain(
    episode: Episode, entry: DailyEntry, value: int, code: str, patient_ref: str
) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "identifier": [_identifier("observation", _observation_key(episode, entry, code))],
        "status": "final",
        "category": _category(OBSERVATION_CATEGORY, "survey", "Survey"),
        "code": terms.pain_code(code),
        "subject": {"reference": patient_ref},
        "effectiveDateTime": entry.date.isoformat(),
        "valueInteger": value,
        "bodySite": terms.ankle(episode.affected_side, "affected side"),
        "note": [
            {
                "text": "Worst pain during activity or rising onto the toes that day"
                if code == terms.PAIN_ACTIVITY
                else "Pain at rest that day"
            }
        ],
    }


def _plantar_flexion(
    episode: Episode, entry: DailyEntry, degrees: Decimal, side: str, which: str, patient_ref: str
) -> dict[str, Any]:
    note = "affected side" if which == "pf-affected" else "healthy side"
    return {
        "resourceType": "Observation",
        "identifier": [_identifier("observation", _observation_key(episode, entry, which))],
        "status": "final",
        "category": _category(OBSERVATION_CATEGORY, "exam", "Exam"),
        "code": {
            "coding": [terms.observation_coding(terms.PLANTAR_FLEXION)],
            "text": f"{PF_TEXT} ({note})",
        },
        "subject": {"reference": patient_ref},
        "effectiveDateTime": entry.date.isoformat(),
        # A JSON number, 31.5 as stored (a tenth of a degree reads back exactly from a float).
        "valueQuantity": {"value": float(degrees), "unit": "deg", "system": UCUM, "code": "deg"},
        "bodySite": terms.ankle(side, note),
    }


def _flag(alert: Alert, patient_ref: str) -> dict[str, Any]:
    with translation.override("en"):
        severity = str(SEVERITY_LABELS.get(alert.severity, alert.severity))
    return {
        "resourceType": "Flag",
        "identifier": [_identifier("alert", str(alert.pk))],
        "status": "active",
        "category": _category(FLAG_CATEGORY, "clinical", "Clinical"),
        "code": {
            "coding": [terms.finding_coding(alert.code)],
            "text": f"{severity}: {alert.message}",
        },
        "subject": {"reference": patient_ref},
        "period": {"start": alert.first_found_on.isoformat()},
    }


def _conditional_create(resource: dict[str, Any]) -> dict[str, Any]:
    """The ``request`` of a transaction entry: create the resource unless the server already
    has one with its first identifier (for a Patient: the clinic's record number when known,
    so that the EHR's own patient is matched rather than duplicated)."""
    identifier = resource["identifier"]
    # A QuestionnaireResponse has one identifier, the other resources a list of them.
    first = identifier if isinstance(identifier, dict) else identifier[0]
    query = quote(f"{first['system']}|{first['value']}", safe=":/|")
    return {
        "method": "POST",
        "url": resource["resourceType"],
        "ifNoneExist": f"identifier={query}",
    }


def fhir_bundle(
    episode: Episode, *, include_flags: bool, now: dt.datetime, bundle_type: str = COLLECTION
) -> dict[str, Any]:
    """The episode as a FHIR R4 Bundle (see api-contract.md, "Exports", and docs/fhir.md): the
    Patient, a Condition, the diary's Observations, each FAAM and PSFS response with its score
    Observations, and the unresolved alerts as Flags.

    ``bundle_type``: ``collection`` (a document to read), or ``transaction`` (to POST to a FHIR
    server): each entry then carries a conditional create keyed on its first identifier, so
    that applying the same export twice creates nothing the second time.

    ``include_flags``: unresolved alerts become Flags for clinic staff; a patient exporting their
    own record gets none, because alerts are the clinic's working list and never shown to them.
    """
    if bundle_type not in BUNDLE_TYPES:
        raise ValueError(f"Unknown bundle type {bundle_type!r}")
    ids = _ids()
    patient_ref = ids(f"patient/{episode.patient_id}")
    condition_ref = ids(f"episode/{episode.pk}/condition")
    entries, _ = episode_entries(episode)
    side = episode.affected_side
    other = _other_side(side)
    bundle_entries: list[dict[str, Any]] = [
        {"fullUrl": patient_ref, "resource": _patient(episode)},
        {"fullUrl": condition_ref, "resource": _condition(episode, patient_ref)},
    ]
    for entry in entries:
        name = f"entry/{entry.pk}"
        observations: list[tuple[str, dict[str, Any]]] = [
            (
                f"{name}/pain-activity",
                _pain(episode, entry, entry.pain_activity, terms.PAIN_ACTIVITY, patient_ref),
            )
        ]
        if entry.pain_rest is not None:
            observations.append(
                (
                    f"{name}/pain-rest",
                    _pain(episode, entry, entry.pain_rest, terms.PAIN_REST, patient_ref),
                )
            )
        if entry.pf_rom_affected is not None:
            observations.append(
                (
                    f"{name}/pf-affected",
                    _plantar_flexion(
                        episode, entry, entry.pf_rom_affected, side, "pf-affected", patient_ref
                    ),
                )
            )
        if entry.pf_rom_unaffected is not None:
            observations.append(
                (
                    f"{name}/pf-unaffected",
                    _plantar_flexion(
                        episode, entry, entry.pf_rom_unaffected, other, "pf-unaffected", patient_ref
                    ),
                )
            )
        for key, resource in observations:
            bundle_entries.append({"fullUrl": ids(key), "resource": resource})
    # Each FAAM or PSFS: a QuestionnaireResponse and an Observation per known score
    # (reports/fhir_questionnaires.py, docs/fhir.md).
    for response in questionnaire_responses(episode=episode):
        name = f"questionnaire-response/{response.pk}"
        response_ref = ids(name)
        resource = questionnaire_response(
            response,
            patient_ref=patient_ref,
            identifier_system=_identifier_system("questionnaire-response"),
        )
        bundle_entries.append({"fullUrl": response_ref, "resource": resource})
        for code, observation in score_observations(
            response, patient_ref=patient_ref, response_ref=response_ref
        ):
            observation = {
                "resourceType": observation["resourceType"],
                "identifier": [_identifier("observation", f"{name}/{code}")],
                **{k: v for k, v in observation.items() if k != "resourceType"},
            }
            bundle_entries.append({"fullUrl": ids(f"{name}/{code}"), "resource": observation})
    if include_flags:
        alerts = Alert.objects.filter(episode=episode).exclude(status=AlertStatus.RESOLVED)
        for alert in alerts.order_by("created_at", "id"):
            bundle_entries.append(
                {"fullUrl": ids(f"alert/{alert.pk}"), "resource": _flag(alert, patient_ref)}
            )
    if bundle_type == TRANSACTION:
        for item in bundle_entries:
            item["request"] = _conditional_create(item["resource"])
    return {
        "resourceType": "Bundle",
        "identifier": _identifier("export", str(uuid.uuid4())),
        "type": bundle_type,
        "timestamp": now.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        "entry": bundle_entries,
    }


def episode_export_record(*, actor: User, episode: Episode, action: str) -> None:
    """The audit row of an export ("fhir.exported", "entries.exported"): identifiers only."""
    audit_record(
        actor=actor,
        action=action,
        obj=episode,
        clinic_id=episode.patient.user.clinic_id,
        patient_id=episode.patient_id,
    )
