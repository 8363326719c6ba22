"""A patient's own copy of everything we hold about them (the right of access and portability).

Two formats of the same record:

- **JSON**: the profile and every episode with its prescriptions, daily entries (with the
  exercises done), interventions, FAAM and PSFS responses and the staff corrections of its
  diary after referral or closure (with their reason and the values replaced), in the same
  shapes as API v1, so a developer who knows the API can read it;
- **FHIR R4**: one ``collection`` Bundle with the Patient once, and per episode its Condition,
  Observations and FAAM/PSFS QuestionnaireResponses, as ``reports.exports.fhir_bundle`` builds
  them for one episode (the current values only; the corrections are in the JSON).

Alerts are left out of both, as everywhere a patient looks: they are the clinic's working list,
written for clinicians (docs/security.md, "Patient data rights").
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.db.models import Prefetch

from accounts.api.serializers import PatientSerializer
from accounts.audit import audit_record
from accounts.models import Patient, User
from rehab.api.questionnaire_views import QuestionnaireResponseSerializer
from rehab.api.serializers import (
    EntryCorrectionSerializer,
    EntrySerializer,
    EpisodeSerializer,
    InterventionSerializer,
    PrescriptionSerializer,
    RecordCorrectionSerializer,
)
from rehab.models import DailyEntry, Episode, ExerciseLog, QuestionnaireResponse

# The per-episode FHIR builder's own naming, so both exports name the patient alike.
from reports.exports import _identifier_system, _ids, _patient, fhir_bundle

EXPORT_FORMAT = "pais-rehab-patient-export"
EXPORT_VERSION = 1


def _utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _episodes(patient: Patient) -> list[Episode]:
    return list(
        Episode.objects.filter(patient=patient)
        .select_related("patient__user")
        .prefetch_related(
            "prescriptions",
            "interventions",
            "entry_corrections",
            "record_corrections",
            Prefetch(
                "questionnaire_responses",
                queryset=QuestionnaireResponse.objects.order_by("date", "instrument", "id"),
            ),
            Prefetch(
                "entries",
                queryset=DailyEntry.objects.order_by("date").prefetch_related(
                    Prefetch(
                        "exercises", queryset=ExerciseLog.objects.select_related("prescription")
                    )
                ),
            ),
        )
        .order_by("start_date", "id")
    )


def patient_record(*, patient: Patient, now: dt.datetime) -> dict[str, Any]:
    """Everything held about ``patient``, as JSON-ready data."""
    episodes = []
    for episode in _episodes(patient):
        data = dict(EpisodeSerializer(episode).data)
        data["prescriptions"] = PrescriptionSerializer(
            sorted(episode.prescriptions.all(), key=lambda p: (p.start_date, p.pk)), many=True
        ).data
        data["entries"] = EntrySerializer(episode.entries.all(), many=True).data
        data["interventions"] = InterventionSerializer(
            sorted(episode.interventions.all(), key=lambda i: (i.start_date, i.pk)), many=True
        ).data
        # The FAAM and PSFS answers and scores, as GET .../questionnaire-responses/ gives them.
        data["questionnaire_responses"] = QuestionnaireResponseSerializer(
            episode.questionnaire_responses.all(), many=True
        ).data
        # Staff corrections after referral or closure: the reason and the values replaced.
        data["entry_corrections"] = EntryCorrectionSerializer(
            episode.entry_corrections.all(), many=True
        ).data
        # Staff corrections of the records (interventions, prescriptions, intake values).
        data["record_corrections"] = RecordCorrectionSerializer(
            episode.record_corrections.all(), many=True
        ).data
        episodes.append(data)
    return {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "exported_at": _utc(now),
        "patient": PatientSerializer(patient).data,
        "episodes": episodes,
    }


def patient_fhir_bundle(*, patient: Patient, now: dt.datetime) -> dict[str, Any]:
    """All the patient's episodes in one FHIR R4 ``collection`` Bundle, without alert Flags."""
    episodes = list(
        Episode.objects.filter(patient=patient)
        .select_related("patient__user")
        .order_by("start_date", "id")
    )
    entries: list[dict[str, Any]] = []
    seen: set[str] = set()
    for episode in episodes:
        for item in fhir_bundle(episode, include_flags=False, now=now)["entry"]:
            # Every episode's bundle starts with the same Patient (same fullUrl): keep one.
            if item["fullUrl"] not in seen:
                seen.add(item["fullUrl"])
                entries.append(item)
    if not episodes:
        # No episode to build from: the Patient alone, named as the episode bundles name it.
        shell = Episode(patient=patient)
        entries.append({"fullUrl": _ids()(f"patient/{patient.pk}"), "resource": _patient(shell)})
    return {
        "resourceType": "Bundle",
        "identifier": {"system": _identifier_system("export"), "value": str(uuid.uuid4())},
        "type": "collection",
        "timestamp": now.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        "entry": entries,
    }


def patient_export_record(*, actor: User, patient: Patient) -> None:
    """The audit row of a patient's download of their own data (identifiers only)."""
    audit_record(
        actor=actor,
        action="patient.exported",
        obj=patient,
        clinic_id=patient.user.clinic_id,
        patient_id=patient.pk,
    )
