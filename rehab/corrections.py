"""Correcting an episode's records: interventions, prescriptions and the intake values.

Staff correct or delete a record with a required reason. Each correction keeps the old and the
new values in a ``RecordCorrection`` row (the clinical record: erased and exported with the
patient), leaves an audit row pointing at it (audit rows hold ids only, never health values),
and asks for the episode to be evaluated again, so its findings and alerts follow the corrected
record. ``record_correction`` is the one writer of those rows; other modules (the referral's
correction) call it too. The diary's own corrections after referral or closure are
``EntryCorrection`` rows (rehab.services.entry_record).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Final

from django.db import transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import audit_record
from accounts.models import User
from rehab.dates import Ahead
from rehab.free_text import Errors, check_text
from rehab.models import (
    Diagnosis,
    Episode,
    Exercise,
    ExerciseLog,
    Intervention,
    Prescription,
    RecordAction,
    RecordCorrection,
    Side,
)
from rehab.services import (
    EXERCISE_NAME_MAX_LENGTH,
    MAX_SETS,
    PAIN_MAX,
    PAIN_MIN,
    REASON_MAX_LENGTH,
    REPS_MAX_LENGTH,
    _check_bmi,
    _check_clinical_date,
    _check_degrees,
    _check_int,
    _check_intervention,
    _require_staff,
    episode_evaluation_request,
)

__all__ = [
    "INTAKE_FIELDS",
    "INTERVENTION_FIELDS",
    "PRESCRIPTION_FIELDS",
    "RecordCorrection",
    "check_reason",
    "episode_intake_correct",
    "intervention_correct",
    "intervention_delete",
    "prescription_correct",
    "prescription_delete",
    "record_correction",
]

INTERVENTION_FIELDS: Final = ("kind", "start_date", "end_date", "site", "note")
PRESCRIPTION_FIELDS: Final = ("exercise", "sets", "reps", "start_date", "end_date")
INTAKE_FIELDS: Final = (
    "affected_side",
    "diagnosis",
    "intake_pain_activity",
    "intake_pf_rom_affected",
    "intake_pf_rom_unaffected",
    "bmi",
)


def _json(value: Any) -> Any:
    """A value as JSON keeps it: dates as YYYY-MM-DD, decimals as numbers."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def _diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The old and new values of the fields that differ."""
    changed = [name for name in new if _json(old.get(name)) != _json(new[name])]
    return (
        {name: _json(old.get(name)) for name in changed},
        {name: _json(new[name]) for name in changed},
    )


def check_reason(errors: Errors, reason: Any) -> str:
    """The reason of a correction: required, at most ``REASON_MAX_LENGTH`` characters."""
    text = check_text(errors, "reason", reason, max_length=REASON_MAX_LENGTH)
    if not text and "reason" not in errors:
        errors.add(
            "reason",
            _("Say why you are correcting this record; the reason and the old values are kept."),
        )
    return text


def _unknown_fields(errors: Errors, changes: Mapping[str, Any], known: tuple[str, ...]) -> None:
    for name in changes:
        if name not in known:
            errors.add(str(name), _("This field cannot be corrected here."))


def record_correction(
    *,
    actor: User,
    episode: Episode,
    obj: Model,
    action: str,
    reason: str,
    old_values: dict[str, Any] | None,
    new_values: dict[str, Any] | None,
) -> RecordCorrection:
    """Keep one correction of a record of ``episode``: why, and the values before and after.

    Call it in the transaction that changes the record (for a deletion, before deleting it, so
    its id is kept). Leaves an audit row ``record.corrected`` (ids only) and asks for the episode
    to be evaluated again. A blank reason or an unknown action is refused (ValidationError /
    ValueError), which rolls the caller's change back.
    """
    if action not in RecordAction.values:
        raise ValueError(f"Unknown correction action {action!r}.")
    errors = Errors()
    reason = check_reason(errors, reason)
    errors.raise_if_any()
    now = timezone.now()
    with transaction.atomic():
        correction = RecordCorrection.objects.create(
            episode=episode,
            object_type=obj._meta.model_name or type(obj).__name__.lower(),
            object_id=obj.pk,
            action=action,
            reason=reason,
            old_values=old_values,
            new_values=new_values,
            corrected_by=actor,
            corrected_at=now,
        )
        audit_record(
            actor=actor,
            action="record.corrected",
            obj=correction,
            clinic_id=episode.patient.user.clinic_id,
            patient_id=episode.patient_id,
        )
        # Closed and referred episodes are not evaluated (rehab.evaluation): the request is
        # then only cleared.
        episode_evaluation_request(episode=episode, now=now)
    return correction


def _audit(actor: User, action: str, obj: Model, episode: Episode) -> None:
    audit_record(
        actor=actor,
        action=action,
        obj=obj,
        clinic_id=episode.patient.user.clinic_id,
        patient_id=episode.patient_id,
    )


# --- Interventions -----------------------------------------------------------------------------


def _intervention_values(intervention: Intervention) -> dict[str, Any]:
    return {name: getattr(intervention, name) for name in INTERVENTION_FIELDS}


def intervention_correct(
    *, actor: User, intervention: Intervention, reason: str, changes: Mapping[str, Any]
) -> Intervention:
    """Correct some fields of an intervention (those in ``changes``), with a reason.

    The whole corrected record is checked as a new one would be (an injection's coded site, the
    Achilles guard). A correction also clears ``needs_review``: saving the record as it is, with
    a reason, is how staff confirm a record the site migration flagged.
    """
    _require_staff(actor)
    episode = intervention.episode
    errors = Errors()
    reason = check_reason(errors, reason)
    _unknown_fields(errors, changes, INTERVENTION_FIELDS)
    current = _intervention_values(intervention)
    merged = {**current, **{k: v for k, v in changes.items() if k in INTERVENTION_FIELDS}}
    merged["site"], merged["note"] = _check_intervention(errors, episode=episode, **merged)
    errors.raise_if_any()
    old, new = _diff(current, merged)
    if intervention.needs_review:
        old["needs_review"], new["needs_review"] = True, False
    if not new:
        return intervention
    with transaction.atomic():
        for name in INTERVENTION_FIELDS:
            setattr(intervention, name, merged[name])
        intervention.needs_review = False
        intervention.save(update_fields=[*INTERVENTION_FIELDS, "needs_review"])
        _audit(actor, "intervention.corrected", intervention, episode)
        record_correction(
            actor=actor,
            episode=episode,
            obj=intervention,
            action=RecordAction.CHANGED,
            reason=reason,
            old_values=old,
            new_values=new,
        )
    return intervention


def intervention_delete(*, actor: User, intervention: Intervention, reason: str) -> None:
    """Delete an intervention recorded by mistake; its values are kept with the reason."""
    _require_staff(actor)
    episode = intervention.episode
    errors = Errors()
    reason = check_reason(errors, reason)
    errors.raise_if_any()
    old = {name: _json(value) for name, value in _intervention_values(intervention).items()}
    with transaction.atomic():
        _audit(actor, "intervention.deleted", intervention, episode)
        record_correction(
            actor=actor,
            episode=episode,
            obj=intervention,
            action=RecordAction.DELETED,
            reason=reason,
            old_values=old,
            new_values=None,
        )
        intervention.delete()


# --- Prescriptions -----------------------------------------------------------------------------


def _prescription_values(prescription: Prescription) -> dict[str, Any]:
    return {
        "exercise": prescription.name,
        "sets": prescription.sets,
        "reps": prescription.reps,
        "start_date": prescription.start_date,
        "end_date": prescription.end_date,
    }


def prescription_correct(
    *, actor: User, prescription: Prescription, reason: str, changes: Mapping[str, Any]
) -> Prescription:
    """Correct some fields of a prescription (exercise, sets, reps, dates), with a reason.

    The logged sets stay with the prescription: a corrected number of sets changes the
    adherence of the days already logged, which is what a correction of a wrong prescription
    is for.
    """
    _require_staff(actor)
    episode = prescription.episode
    errors = Errors()
    reason = check_reason(errors, reason)
    _unknown_fields(errors, changes, PRESCRIPTION_FIELDS)
    current = _prescription_values(prescription)
    merged = {**current, **{k: v for k, v in changes.items() if k in PRESCRIPTION_FIELDS}}
    name = check_text(errors, "exercise", merged["exercise"], max_length=EXERCISE_NAME_MAX_LENGTH)
    if not name and "exercise" not in errors:
        errors.add("exercise", _("Name an exercise from the catalogue, or describe one."))
    merged["sets"] = _check_int(errors, "sets", merged["sets"], 1, MAX_SETS, required=True)
    merged["reps"] = check_text(errors, "reps", merged["reps"], max_length=REPS_MAX_LENGTH)
    start = merged["start_date"] or episode.start_date
    end = merged["end_date"]
    _check_clinical_date(errors, "start_date", start, episode=episode, ahead=Ahead.PLANNED)
    _check_clinical_date(errors, "end_date", end, episode=episode, ahead=Ahead.PLANNED)
    if end is not None and end < start:
        errors.add("end_date", _("The end date cannot be before the start date."))
    errors.raise_if_any()
    catalogue = Exercise.objects.filter(name__iexact=name).first()
    merged["exercise"] = catalogue.name if catalogue else name
    merged["start_date"] = start
    old, new = _diff(current, merged)
    if not new:
        return prescription
    with transaction.atomic():
        prescription.exercise = catalogue
        prescription.name = merged["exercise"]
        prescription.sets = merged["sets"]
        prescription.reps = merged["reps"]
        prescription.start_date = start
        prescription.end_date = end
        prescription.save(
            update_fields=["exercise", "name", "sets", "reps", "start_date", "end_date"]
        )
        _audit(actor, "prescription.corrected", prescription, episode)
        record_correction(
            actor=actor,
            episode=episode,
            obj=prescription,
            action=RecordAction.CHANGED,
            reason=reason,
            old_values=old,
            new_values=new,
        )
    return prescription


def prescription_delete(*, actor: User, prescription: Prescription, reason: str) -> None:
    """Delete a prescription made by mistake, with the sets logged against it.

    Nothing is lost silently: the prescription and every logged day's sets are kept in the
    correction's old values.
    """
    _require_staff(actor)
    episode = prescription.episode
    errors = Errors()
    reason = check_reason(errors, reason)
    errors.raise_if_any()
    old = {name: _json(value) for name, value in _prescription_values(prescription).items()}
    old["logged_sets"] = [
        {"date": date.isoformat(), "sets_completed": sets}
        for date, sets in ExerciseLog.objects.filter(prescription=prescription)
        .order_by("entry__date")
        .values_list("entry__date", "sets_completed")
    ]
    with transaction.atomic():
        _audit(actor, "prescription.deleted", prescription, episode)
        record_correction(
            actor=actor,
            episode=episode,
            obj=prescription,
            action=RecordAction.DELETED,
            reason=reason,
            old_values=old,
            new_values=None,
        )
        prescription.delete()


# --- Intake values -----------------------------------------------------------------------------


def _intake_values(episode: Episode) -> dict[str, Any]:
    return {name: getattr(episode, name) for name in INTAKE_FIELDS}


def episode_intake_correct(
    *, actor: User, episode: Episode, reason: str, changes: Mapping[str, Any]
) -> Episode:
    """Correct the values recorded when the episode was opened: the side, the diagnosis, the
    intake pain and plantar flexion, the BMI. ``None`` clears an optional value."""
    _require_staff(actor)
    errors = Errors()
    reason = check_reason(errors, reason)
    _unknown_fields(errors, changes, INTAKE_FIELDS)
    current = _intake_values(episode)
    merged = {**current, **{k: v for k, v in changes.items() if k in INTAKE_FIELDS}}
    if merged["affected_side"] not in Side.values:
        errors.add("affected_side", _('Must be "left" or "right".'))
    if merged["diagnosis"] not in Diagnosis.values:
        errors.add(
            "diagnosis", _("Must be one of: %(values)s.") % {"values": ", ".join(Diagnosis.values)}
        )
    merged["intake_pain_activity"] = _check_int(
        errors,
        "intake_pain_activity",
        merged["intake_pain_activity"],
        PAIN_MIN,
        PAIN_MAX,
        required=False,
    )
    for name in ("intake_pf_rom_affected", "intake_pf_rom_unaffected"):
        merged[name] = _check_degrees(errors, name, merged[name])
    if "bmi" in changes:
        merged["bmi"] = _check_bmi(errors, merged["bmi"])
    errors.raise_if_any()
    old, new = _diff(current, merged)
    if not new:
        return episode
    with transaction.atomic():
        for name in INTAKE_FIELDS:
            setattr(episode, name, merged[name])
        episode.save(update_fields=[*INTAKE_FIELDS, "updated_at"])
        _audit(actor, "episode.intake_corrected", episode, episode)
        record_correction(
            actor=actor,
            episode=episode,
            obj=episode,
            action=RecordAction.CHANGED,
            reason=reason,
            old_values=old,
            new_values=new,
        )
    return episode
