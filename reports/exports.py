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

from django.conf import settings
from django.db.models import Prefetch
from django.utils import translation

from accounts.audit import audit_record
from accounts.models import User
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
from rehab.vocabulary import SEVERITY_LABELS, code_label
from reports.fhir_questionnaires import questionnaire_response, score_observations

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

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
PAIN_LOINC = "72514-3"
PAIN_LOINC_DISPLAY = "Pain severity - 0-10 verbal numeric rating [Score] - Reported"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
FLAG_CATEGORY = "http://terminology.hl7.org/CodeSystem/flag-category"
# The product's finding codes (REFERRAL_CONSIDER, ...): the same on every installation.
FINDING_SYSTEM = "urn:pais-rehab:finding"

# SNOMED CT body structures, lateralised (each is-a "Ankle region structure" 344001).
ANKLE = {
    Side.LEFT: ("51636004", "Structure of left ankle"),
    Side.RIGHT: ("6685009", "Structure of right ankle"),
}
CONDITION_TEXT = "Posterior ankle impingement syndrome"
PF_TEXT = "Plantar flexion range of motion of the ankle (goniometry)"


def _identifier_system(kind: str) -> str:
    # Ids are this installation's: they are namespaced under its own address.
    return f"{settings.SITE_URL}/fhir/sid/{kind}"


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


def _ankle(side: str, note: str) -> dict[str, Any]:
    code, display = ANKLE[Side(side)]
    return {
        "coding": [{"system": SNOMED, "code": code, "display": display}],
        "text": f"{_english(Side(side).label)} ankle ({note})",
    }


def _other_side(side: str) -> str:
    return Side.RIGHT if side == Side.LEFT else Side.LEFT


def _category(system: str, code: str, display: str) -> list[dict[str, Any]]:
    return [{"coding": [{"system": system, "code": code, "display": display}]}]


def _patient(episode: Episode) -> dict[str, Any]:
    user = episode.patient.user
    name: dict[str, Any] = {"use": "official", "text": user.get_full_name()}
    if user.last_name:
        name["family"] = user.last_name
    if user.first_name:
        name["given"] = [user.first_name]
    return {
        "resourceType": "Patient",
        "identifier": [{"system": _identifier_system("patient"), "value": str(episode.patient_id)}],
        "active": user.is_active,
        "name": [name],
    }


def _condition(episode: Episode, patient_ref: str) -> dict[str, Any]:
    resolved = episode.status == EpisodeStatus.CLOSED and episode.outcome == Outcome.RESOLVED
    condition: dict[str, Any] = {
        "resourceType": "Condition",
        "identifier": [{"system": _identifier_system("episode"), "value": str(episode.pk)}],
        "clinicalStatus": {
            "coding": [
                {
                    "system": CONDITION_CLINICAL,
                    "code": "resolved" if resolved else "active",
                }
            ]
        },
        "category": _category(CONDITION_CATEGORY, "problem-list-item", "Problem List Item"),
        # No SNOMED CT concept for the syndrome could be confirmed, so the text carries it.
        "code": {"text": CONDITION_TEXT},
        "bodySite": [_ankle(episode.affected_side, "affected side")],
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


def _pain(entry: DailyEntry, value: int, what: str, patient_ref: str, side: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "category": _category(OBSERVATION_CATEGORY, "survey", "Survey"),
        "code": {
            "coding": [{"system": LOINC, "code": PAIN_LOINC, "display": PAIN_LOINC_DISPLAY}],
            "text": f"Pain {what} (0-10 numeric rating)",
        },
        "subject": {"reference": patient_ref},
        "effectiveDateTime": entry.date.isoformat(),
        "valueInteger": value,
        "bodySite": _ankle(side, "affected side"),
        "note": [
            {
                "text": "Worst pain during activity or rising onto the toes that day"
                if what == "during activity"
                else "Pain at rest that day"
            }
        ],
    }


def _plantar_flexion(
    entry: DailyEntry, degrees: Decimal, side: str, note: str, patient_ref: str
) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "category": _category(OBSERVATION_CATEGORY, "exam", "Exam"),
        # No LOINC code for goniometric ankle plantar flexion could be confirmed: text only.
        "code": {"text": PF_TEXT},
        "subject": {"reference": patient_ref},
        "effectiveDateTime": entry.date.isoformat(),
        # A JSON number, 31.5 as stored (a tenth of a degree reads back exactly from a float).
        "valueQuantity": {"value": float(degrees), "unit": "deg", "system": UCUM, "code": "deg"},
        "bodySite": _ankle(side, note),
    }


def _flag(alert: Alert, patient_ref: str) -> dict[str, Any]:
    severity = SEVERITY_LABELS.get(alert.severity, alert.severity)
    return {
        "resourceType": "Flag",
        "identifier": [{"system": _identifier_system("alert"), "value": str(alert.pk)}],
        "status": "active",
        "category": _category(FLAG_CATEGORY, "clinical", "Clinical"),
        "code": {
            "coding": [
                {"system": FINDING_SYSTEM, "code": alert.code, "display": code_label(alert.code)}
            ],
            "text": f"{severity}: {alert.message}",
        },
        "subject": {"reference": patient_ref},
        "period": {"start": alert.first_found_on.isoformat()},
    }


def fhir_bundle(episode: Episode, *, include_flags: bool, now: dt.datetime) -> dict[str, Any]:
    """The episode as a FHIR R4 ``collection`` Bundle (see api-contract.md, "Exports", and
    docs/fhir.md): the Patient, a Condition, the diary's Observations, each FAAM and PSFS
    response with its score Observations, and the unresolved alerts as Flags.

    ``include_flags``: unresolved alerts become Flags for clinic staff; a patient exporting their
    own record gets none, because alerts are the clinic's working list and never shown to them.
    """
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
                _pain(entry, entry.pain_activity, "during activity", patient_ref, side),
            )
        ]
        if entry.pain_rest is not None:
            observations.append(
                (f"{name}/pain-rest", _pain(entry, entry.pain_rest, "at rest", patient_ref, side))
            )
        if entry.pf_rom_affected is not None:
            observations.append(
                (
                    f"{name}/pf-affected",
                    _plantar_flexion(
                        entry, entry.pf_rom_affected, side, "affected side", patient_ref
                    ),
                )
            )
        if entry.pf_rom_unaffected is not None:
            observations.append(
                (
                    f"{name}/pf-unaffected",
                    _plantar_flexion(
                        entry, entry.pf_rom_unaffected, other, "healthy side", patient_ref
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
            bundle_entries.append({"fullUrl": ids(f"{name}/{code}"), "resource": observation})
    if include_flags:
        alerts = Alert.objects.filter(episode=episode).exclude(status=AlertStatus.RESOLVED)
        for alert in alerts.order_by("created_at", "id"):
            bundle_entries.append(
                {"fullUrl": ids(f"alert/{alert.pk}"), "resource": _flag(alert, patient_ref)}
            )
    return {
        "resourceType": "Bundle",
        "identifier": {"system": _identifier_system("export"), "value": str(uuid.uuid4())},
        "type": "collection",
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
