"""Every write to the rehab domain goes through a function here.

Each function takes keyword arguments only, validates everything the clinical rules and the API
contract require (raising ``ValidationError`` keyed by field name, before anything is written),
writes inside one transaction and leaves an audit row. Health values never go into audit rows or
logs.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Prefetch, Q, prefetch_related_objects
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.audit import audit_record
from accounts.models import Patient, User
from accounts.scoping import can_manage_patients, patients_for
from rehab import dates, rules
from rehab.alerts import alerts_resolve_for_episode
from rehab.dates import Ahead, clinical_date_problem
from rehab.free_text import NOTE_MAX_LENGTH, Errors, check_text
from rehab.injection_sites import injection_problems
from rehab.models import (
    CorrectionAction,
    DailyEntry,
    Diagnosis,
    EntryCorrection,
    Episode,
    EpisodeStatus,
    Exercise,
    ExerciseLog,
    Intervention,
    InterventionKind,
    Outcome,
    Prescription,
    Side,
)
from rehab.read_model import forget_evaluation
from rehab.versions import EntryPrecondition

PAIN_MIN, PAIN_MAX = 0, 10
# Plantar flexion in degrees, kept to a tenth (docs/clinical-rules.md, "Input rules").
ROM_MIN, ROM_MAX = 0, 90
ROM_STEP = Decimal("0.1")
BMI_MIN, BMI_MAX = Decimal("10"), Decimal("80")
BMI_STEP = Decimal("0.1")
MAX_SETS = 50
# The exercises one entry may list: more than any diary holds, few enough to check quickly.
EXERCISES_MAX = 100
# Lengths of the short free texts (the columns hold as much; the note's is rehab.free_text's).
EXERCISE_NAME_MAX_LENGTH = 120
REPS_MAX_LENGTH = 40
REFERRED_TO_MAX_LENGTH = 200
SITE_MAX_LENGTH = 200
REASON_MAX_LENGTH = 1000
# The dates an episode may start on, and that progress may be asked about. Wide on purpose; the
# point is that date arithmetic around them (trial weeks, chart margins) stays far from the
# calendar's ends, where it overflowed into 500s (found by schemathesis, docs/security.md).
DATE_MIN, DATE_MAX = dt.date(1900, 1, 1), dt.date(2199, 12, 31)


class DiaryClosedError(Exception):
    """The diary of a referred or closed episode is read-only for the patient (API: 409).

    The entries are the evidence behind the referral or the closing outcome; staff may still
    correct them, with a reason (``EntryCorrection``).
    """


class EntryVersionConflict(Exception):
    """The day's entry is no longer the version the client saw, and what it sent differs from
    what is stored (API: 412, with the stored entry). Nothing was written.

    ``entry`` is the stored entry, or None when it was deleted since.
    """

    def __init__(self, entry: DailyEntry | None) -> None:
        super().__init__(_("The entry was changed since this form was opened."))
        self.entry = entry


def _check_int(
    errors: Errors, field: str, value: Any, low: int, high: int, *, required: bool
) -> int | None:
    if value is None or value == "":
        if required:
            errors.add(field, _("This field is required."))
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        errors.add(
            field,
            _("Must be a whole number from %(low)s to %(high)s.") % {"low": low, "high": high},
        )
        return None
    if not low <= value <= high:
        errors.add(
            field,
            _("Must be between %(low)s and %(high)s (got %(value)s).")
            % {"low": low, "high": high, "value": value},
        )
        return None
    return value


def _check_degrees(errors: Errors, field: str, value: Any) -> Decimal | None:
    """A plantar flexion angle: a number from 0 to 90, kept to 0.1° (None: not measured).

    Integers and Decimals are taken as they are; a float (a JSON number the parser read) as
    the shortest decimal that reads back as it (``repr``), which is the number the client wrote
    for any of up to 15 significant digits, so ``31.25`` is 31.25 and not the binary float just
    below it. The range is the value's as sent; rounding half away from zero to a tenth then
    keeps it within the range.
    """
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        errors.add(
            field,
            _("Must be a number of degrees from %(low)s to %(high)s.")
            % {"low": ROM_MIN, "high": ROM_MAX},
        )
        return None
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if not number.is_finite() or not ROM_MIN <= number <= ROM_MAX:
        errors.add(
            field,
            _("Must be between %(low)s and %(high)s (got %(value)s).")
            % {"low": ROM_MIN, "high": ROM_MAX, "value": value},
        )
        return None
    # ROUND_HALF_UP rounds the absolute value, i.e. half away from zero; "+ 0" turns a -0.0
    # into 0.0.
    return number.quantize(ROM_STEP, rounding=ROUND_HALF_UP) + 0


def _check_bmi(errors: Errors, bmi: Any) -> Decimal | None:
    """A BMI in kg/m² (None: not recorded), kept to one decimal place."""
    # A Decimal NaN cannot even be compared (InvalidOperation, found by hypothesis): only a
    # finite Decimal is checked against the range.
    # The range is the value's as sent; it is then kept to one decimal place (half away from
    # zero), which keeps it within the range.
    if bmi is None:
        return None
    if isinstance(bmi, Decimal) and bmi.is_finite() and BMI_MIN <= bmi <= BMI_MAX:
        return bmi.quantize(BMI_STEP, rounding=ROUND_HALF_UP)
    errors.add(
        "bmi",
        _("Must be between %(low)s and %(high)s.") % {"low": BMI_MIN, "high": BMI_MAX},
    )
    return None


def _require_staff(actor: User) -> None:
    if not can_manage_patients(actor):
        raise PermissionError("Only therapists and clinic admins may do this.")


def _audit(actor: User, action: str, obj: Any, episode: Episode) -> None:
    audit_record(
        actor=actor,
        action=action,
        obj=obj,
        clinic_id=episode.patient.user.clinic_id,
        patient_id=episode.patient_id,
    )


def _check_clinical_date(
    errors: Errors,
    field: str,
    value: dt.date | None,
    *,
    episode: Episode,
    may_precede_start: bool = False,
    ahead: Ahead = Ahead.NOT_AFTER_TODAY,
    years_after_start: int | None = dates.WINDOW_YEARS,
) -> None:
    """The one check of every stored clinical date against its window (``rehab.dates``)."""
    if value is None:
        return
    problem = clinical_date_problem(
        value,
        episode_start=episode.start_date,
        today=episode.patient.local_today(),
        may_precede_start=may_precede_start,
        ahead=ahead,
        years_after_start=years_after_start,
    )
    if problem is not None:
        errors.add(field, problem)


# --- Episodes ----------------------------------------------------------------------------------


def episode_open(
    *,
    actor: User,
    patient: Patient,
    affected_side: str,
    start_date: dt.date,
    diagnosis: str = Diagnosis.UNSPECIFIED,
    intake_pain_activity: int | None = None,
    intake_pf_rom_affected: Decimal | int | float | None = None,
    intake_pf_rom_unaffected: Decimal | int | float | None = None,
    bmi: Decimal | None = None,
) -> Episode:
    _require_staff(actor)
    errors = Errors()
    if not patients_for(actor).filter(pk=patient.pk).exists():
        # Same words as for an unknown id: a foreign patient's existence is not revealed.
        errors.add("patient", _("Patient not found."))
    if affected_side not in Side.values:
        errors.add("affected_side", 'Must be "left" or "right".')
    if diagnosis not in Diagnosis.values:
        errors.add(
            "diagnosis", _("Must be one of: %(values)s.") % {"values": ", ".join(Diagnosis.values)}
        )
    if not DATE_MIN <= start_date <= DATE_MAX:
        errors.add(
            "start_date",
            _("Must be a date from %(first)s to %(last)s.") % {"first": DATE_MIN, "last": DATE_MAX},
        )
    # The checked values are stored, not the raw ones: _check_int reads "" as "not given", which
    # the database would refuse as a number (found by hypothesis, tests/fuzz).
    intake_pain_activity = _check_int(
        errors, "intake_pain_activity", intake_pain_activity, PAIN_MIN, PAIN_MAX, required=False
    )
    intake_pf_rom_affected = _check_degrees(
        errors, "intake_pf_rom_affected", intake_pf_rom_affected
    )
    intake_pf_rom_unaffected = _check_degrees(
        errors, "intake_pf_rom_unaffected", intake_pf_rom_unaffected
    )
    bmi = _check_bmi(errors, bmi)
    errors.raise_if_any()
    with transaction.atomic():
        episode = Episode.objects.create(
            patient=patient,
            affected_side=affected_side,
            diagnosis=diagnosis,
            start_date=start_date,
            intake_pain_activity=intake_pain_activity,
            intake_pf_rom_affected=intake_pf_rom_affected,
            intake_pf_rom_unaffected=intake_pf_rom_unaffected,
            bmi=bmi,
            created_by=actor,
        )
        _audit(actor, "episode.opened", episode, episode)
    return episode


def episode_record_referral(
    *,
    actor: User,
    episode: Episode,
    date: dt.date,
    referred_to: str = "",
    note: str = "",
) -> Episode:
    """Record that the patient was referred for a surgical opinion; the trial then ends."""
    _require_staff(actor)
    errors = Errors()
    if episode.status == EpisodeStatus.CLOSED:
        errors.add("non_field_errors", _("This episode is closed; reopen is not supported."))
    _check_clinical_date(errors, "date", date, episode=episode)
    referred_to = check_text(errors, "referred_to", referred_to, max_length=REFERRED_TO_MAX_LENGTH)
    note = check_text(errors, "note", note, max_length=NOTE_MAX_LENGTH)
    errors.raise_if_any()
    with transaction.atomic():
        episode.status = EpisodeStatus.REFERRED
        episode.referral_date = date
        episode.referred_to = referred_to
        episode.referral_note = note
        episode.save(
            update_fields=["status", "referral_date", "referred_to", "referral_note", "updated_at"]
        )
        _audit(actor, "episode.referred", episode, episode)
        forget_evaluation(episode_id=episode.pk)  # out of the trial: no longer listed
        # The referral the alerts asked for has been made: they are done.
        alerts_resolve_for_episode(
            episode=episode,
            codes=rules.REFERRAL_CODES,
            reason=f"Resolved: referral recorded on {date:%Y-%m-%d}.",
        )
    return episode


def episode_close(*, actor: User, episode: Episode, date: dt.date, outcome: str) -> Episode:
    _require_staff(actor)
    errors = Errors()
    if outcome not in Outcome.values:
        errors.add(
            "outcome", _("Must be one of: %(values)s.") % {"values": ", ".join(Outcome.values)}
        )
    if episode.status == EpisodeStatus.CLOSED:
        errors.add("non_field_errors", _("This episode is already closed."))
    # No limit after the start but today: an episode forgotten for years must still be closable.
    _check_clinical_date(errors, "date", date, episode=episode, years_after_start=None)
    errors.raise_if_any()
    with transaction.atomic():
        episode.status = EpisodeStatus.CLOSED
        episode.closed_date = date
        episode.outcome = outcome
        episode.save(update_fields=["status", "closed_date", "outcome", "updated_at"])
        _audit(actor, "episode.closed", episode, episode)
        forget_evaluation(episode_id=episode.pk)  # out of the trial: no longer listed
        # A closed episode is no longer evaluated, so nothing would ever resolve its alerts.
        alerts_resolve_for_episode(
            episode=episode, reason=f"Resolved: episode closed on {date:%Y-%m-%d} ({outcome})."
        )
    return episode


# --- Prescriptions -----------------------------------------------------------------------------


def prescription_create(
    *,
    actor: User,
    episode: Episode,
    exercise: str,
    sets: int,
    reps: str = "",
    start_date: dt.date | None = None,
    end_date: dt.date | None = None,
) -> Prescription:
    """Prescribe an exercise: a name of the catalogue or of the clinic's own exercises (matched
    case-insensitively), or free text."""
    _require_staff(actor)
    errors = Errors()
    name = check_text(errors, "exercise", exercise, max_length=EXERCISE_NAME_MAX_LENGTH)
    if not name and "exercise" not in errors:
        errors.add("exercise", _("Name an exercise from the catalogue, or describe one."))
    _check_int(errors, "sets", sets, 1, MAX_SETS, required=True)
    reps = check_text(errors, "reps", reps, max_length=REPS_MAX_LENGTH)
    start = start_date or episode.start_date
    # A prescription is part of the trial: not before its start; it may be planned ahead.
    _check_clinical_date(errors, "start_date", start, episode=episode, ahead=Ahead.PLANNED)
    _check_clinical_date(errors, "end_date", end_date, episode=episode, ahead=Ahead.PLANNED)
    if end_date is not None and end_date < start:
        errors.add("end_date", _("The end date cannot be before the start date."))
    if episode.status == EpisodeStatus.CLOSED:
        errors.add("non_field_errors", _("This episode is closed."))
    errors.raise_if_any()
    # The name is matched against what this episode's clinic may prescribe: the shared
    # catalogue and the clinic's own exercises still offered (never another clinic's).
    catalogue = (
        Exercise.objects.filter(
            Q(clinic__isnull=True)
            | Q(clinic_id=episode.patient.user.clinic_id, archived_at__isnull=True),
            name__iexact=name,
        )
        .order_by(F("clinic_id").asc(nulls_first=True))
        .first()
    )
    with transaction.atomic():
        prescription = Prescription.objects.create(
            episode=episode,
            exercise=catalogue,
            name=catalogue.name if catalogue else name,
            sets=sets,
            reps=reps or (catalogue.default_reps.strip() if catalogue else ""),
            start_date=start,
            end_date=end_date,
            created_by=actor,
        )
        _audit(actor, "prescription.created", prescription, episode)
        forget_evaluation(episode_id=episode.pk)
    return prescription


def prescription_end(*, actor: User, prescription: Prescription, end_date: dt.date) -> Prescription:
    _require_staff(actor)
    errors = Errors()
    _check_clinical_date(
        errors, "end_date", end_date, episode=prescription.episode, ahead=Ahead.PLANNED
    )
    if end_date < prescription.start_date:
        errors.add("end_date", _("The end date cannot be before the start date."))
    errors.raise_if_any()
    with transaction.atomic():
        prescription.end_date = end_date
        prescription.save(update_fields=["end_date"])
        _audit(actor, "prescription.ended", prescription, prescription.episode)
        forget_evaluation(episode_id=prescription.episode_id)
    return prescription


# --- Daily entries -----------------------------------------------------------------------------


@dataclass(frozen=True)
class EntryResult:
    entry: DailyEntry
    created: bool
    # False when the call found the values already stored and wrote nothing (a retry of a
    # conditional write whose answer was lost).
    written: bool = True


def entry_record(
    *,
    actor: User,
    episode: Episode,
    date: dt.date,
    pain_activity: Any,
    pain_rest: Any = None,
    pf_rom_affected: Any = None,
    pf_rom_unaffected: Any = None,
    exercises: Sequence[Mapping[str, Any]] = (),
    note: Any = "",
    reason: str = "",
    precondition: EntryPrecondition | None = None,
) -> EntryResult:
    """Create or replace the entry for ``date``: the same call twice leaves one entry.

    The date must lie between the episode's start and the patient's local today. Everything is
    validated before anything is written, so a bad request leaves the saved entry untouched.
    Once the episode is referred or closed, only staff may write, with a ``reason``
    (``DiaryClosedError`` for the patient); the old values are kept in an ``EntryCorrection``.

    ``precondition`` is the version the client saw (rehab/versions.py). It is checked under the
    same row lock as the write: when the stored entry is no longer that version, a call whose
    values equal the stored ones returns it unwritten (the retry of a send whose answer was
    lost), any other raises ``EntryVersionConflict`` and writes nothing.
    """
    errors = Errors()
    correction_reason = _diary_write_check(errors, actor=actor, episode=episode, reason=reason)
    values = {
        "pain_activity": _check_int(
            errors, "pain_activity", pain_activity, PAIN_MIN, PAIN_MAX, required=True
        ),
        "pain_rest": _check_int(errors, "pain_rest", pain_rest, PAIN_MIN, PAIN_MAX, required=False),
        "pf_rom_affected": _check_degrees(errors, "pf_rom_affected", pf_rom_affected),
        "pf_rom_unaffected": _check_degrees(errors, "pf_rom_unaffected", pf_rom_unaffected),
        "note": check_text(errors, "note", note, max_length=NOTE_MAX_LENGTH),
        "recorded_by": actor,
    }
    if date < episode.start_date:
        errors.add(
            "date",
            _("The episode started on %(start)s; an entry cannot be dated before that.")
            % {"start": episode.start_date.isoformat()},
        )
    local_today = episode.patient.local_today()
    if date > local_today:
        errors.add(
            "date",
            _("An entry cannot be dated after today (%(today)s in the patient's time zone).")
            % {"today": local_today.isoformat()},
        )
    # The episode's prescriptions are read once, to check the exercises and to show them back.
    prescriptions = (
        {p.pk: p for p in Prescription.objects.filter(episode=episode)} if exercises else {}
    )
    sets_by_prescription = _validated_exercise_sets(errors, prescriptions, date, exercises)
    errors.raise_if_any()

    write = functools.partial(
        _entry_write,
        actor=actor,
        episode=episode,
        date=date,
        values=values,
        prescriptions=prescriptions,
        sets_by_prescription=sets_by_prescription,
        correction_reason=correction_reason,
        now=timezone.now(),
        precondition=precondition,
    )
    try:
        return write()
    except IntegrityError:
        # Another request inserted the day's entry between our read and our insert (the unique
        # constraint on (episode, date) refused the second row): that entry exists now, so this
        # write is a replace of it.
        return write()


def _entry_write(
    *,
    actor: User,
    episode: Episode,
    date: dt.date,
    values: dict[str, Any],
    prescriptions: Mapping[int, Prescription],
    sets_by_prescription: Mapping[int, int],
    correction_reason: str | None,
    now: dt.datetime,
    precondition: EntryPrecondition | None,
) -> EntryResult:
    """Write validated values as the day's entry, in one transaction.

    An existing entry is read ``FOR UPDATE``, so two replaces of the same day queue behind each
    other. Two first inserts at once are told apart by the unique constraint on (episode,
    date): the second raises ``IntegrityError``, the transaction is rolled back with nothing
    written, and ``entry_record`` runs this again, which then finds the entry and replaces it.
    """
    with transaction.atomic():
        entry = DailyEntry.objects.select_for_update().filter(episode=episode, date=date).first()
        if precondition and not precondition.holds_for(entry):
            if entry is not None and _entry_holds(entry, values, sets_by_prescription):
                return EntryResult(entry=_with_exercises(entry), created=False, written=False)
            raise EntryVersionConflict(entry)
        # Only a correction after referral or closure keeps the old values (read before they
        # change).
        old_values = _entry_snapshot(entry) if correction_reason is not None else None
        created = entry is None
        if entry is None:
            entry = DailyEntry(episode=episode, date=date, created_at=now, updated_at=now, **values)
            entry.save(force_insert=True)
        else:
            for name, value in values.items():
                setattr(entry, name, value)
            entry.updated_at = now
            entry.save(update_fields=[*values, "updated_at"])
            ExerciseLog.objects.filter(entry=entry).delete()
        ExerciseLog.objects.bulk_create(
            ExerciseLog(entry=entry, prescription=prescriptions[pid], sets_completed=sets)
            for pid, sets in sorted(sets_by_prescription.items())
        )
        _audit(actor, "entry.created" if created else "entry.replaced", entry, episode)
        if correction_reason is not None:
            _record_correction(
                actor=actor,
                episode=episode,
                date=date,
                action=CorrectionAction.CREATED if created else CorrectionAction.REPLACED,
                reason=correction_reason,
                old_values=old_values,
                now=now,
            )
        # Evaluation skips episodes no longer active (rehab.evaluation): a correction after
        # referral or closure raises no alert; the request is only cleared.
        episode_evaluation_request(episode=episode, now=now)
    return EntryResult(entry=_with_exercises(entry), created=created)


def _with_exercises(entry: DailyEntry) -> DailyEntry:
    """The entry with what a response shows with it: its exercise logs with their
    prescriptions, in one query."""
    prefetch_related_objects(
        [entry], Prefetch("exercises", queryset=ExerciseLog.objects.select_related("prescription"))
    )
    return entry


def _entry_holds(
    entry: DailyEntry, values: Mapping[str, Any], sets_by_prescription: Mapping[int, int]
) -> bool:
    """Whether the stored entry already holds these values (who recorded it aside)."""
    compared = (name for name in values if name != "recorded_by")
    if any(getattr(entry, name) != values[name] for name in compared):
        return False
    stored = dict(
        ExerciseLog.objects.filter(entry=entry).values_list("prescription_id", "sets_completed")
    )
    return stored == dict(sets_by_prescription)


def episode_evaluation_request(*, episode: Episode, now: dt.datetime | None = None) -> None:
    """Ask for the episode to be evaluated: a row now, a task after commit.

    The row (``evaluation_requested_at``) is what guarantees the evaluation happens; the task
    only makes it happen at once. If the broker is down, the periodic relay finds the row.
    """
    Episode.objects.filter(pk=episode.pk).update(evaluation_requested_at=now or timezone.now())
    episode_id = episode.pk

    def queue() -> None:
        from rehab.tasks import queue_evaluation

        queue_evaluation(episode_id)

    transaction.on_commit(queue)


def _validated_exercise_sets(
    errors: Errors,
    prescriptions: Mapping[int, Prescription],
    date: dt.date,
    exercises: Sequence[Mapping[str, Any]],
) -> dict[int, int]:
    if exercises is None:
        return {}
    if not isinstance(exercises, list | tuple):
        errors.add("exercises", _("Must be a list of {prescription, sets_completed}."))
        return {}
    if len(exercises) > EXERCISES_MAX:
        errors.add("exercises", _("List at most %(max)s exercises.") % {"max": EXERCISES_MAX})
        return {}
    result: dict[int, int] = {}
    for index, item in enumerate(exercises):
        item_number = index + 1
        if not isinstance(item, Mapping):
            errors.add(
                "exercises",
                _("Item %(number)s: must be an object with prescription and sets_completed.")
                % {"number": item_number},
            )
            continue
        pid = item.get("prescription")
        sets = item.get("sets_completed")
        prescription = prescriptions.get(pid) if isinstance(pid, int) else None
        if prescription is None:
            errors.add(
                "exercises",
                _("Item %(number)s: prescription %(prescription)s does not belong to this episode.")
                % {"number": item_number, "prescription": repr(pid)},
            )
            continue
        if not prescription.is_active_on(date):
            errors.add(
                "exercises",
                _("Item %(number)s: %(exercise)s is not prescribed on %(day)s.")
                % {"number": item_number, "exercise": prescription.name, "day": date.isoformat()},
            )
            continue
        if isinstance(sets, bool) or not isinstance(sets, int) or not 0 <= sets <= MAX_SETS:
            errors.add(
                "exercises",
                _("Item %(number)s: sets_completed must be a whole number from 0 to %(max)s.")
                % {"number": item_number, "max": MAX_SETS},
            )
            continue
        if prescription.pk in result:
            errors.add(
                "exercises",
                _("Item %(number)s: prescription %(prescription)s is listed twice.")
                % {"number": item_number, "prescription": pid},
            )
            continue
        result[prescription.pk] = sets
    return result


def entry_delete(*, actor: User, entry: DailyEntry, reason: str = "") -> None:
    """Delete one day's entry; after referral or closure only staff may, with a ``reason``."""
    episode = entry.episode
    errors = Errors()
    correction_reason = _diary_write_check(errors, actor=actor, episode=episode, reason=reason)
    errors.raise_if_any()
    now = timezone.now()
    with transaction.atomic():
        _audit(actor, "entry.deleted", entry, episode)
        if correction_reason is not None:
            _record_correction(
                actor=actor,
                episode=episode,
                date=entry.date,
                action=CorrectionAction.DELETED,
                reason=correction_reason,
                old_values=_entry_snapshot(entry),
                now=now,
            )
        entry.delete()
        episode_evaluation_request(episode=episode, now=now)


def _day(date: dt.date) -> str:
    # "30 Nov 2026", as the patient's pages write dates, with the active language's month names.
    return date_format(date, "j M Y")


def diary_closed_message(episode: Episode) -> str:
    """Why the patient can no longer write the diary of ``episode``, in their words."""
    # Whole sentences (not a "why" fragment), so a language can build each its own way.
    if episode.status == EpisodeStatus.REFERRED and episode.referral_date is not None:
        return _(
            "This diary is closed: you were referred on %(day)s. Your entries are kept as they "
            "are; if one is wrong, ask your physical therapist to correct it."
        ) % {"day": _day(episode.referral_date)}
    if episode.status == EpisodeStatus.CLOSED and episode.closed_date is not None:
        return _(
            "This diary is closed: the programme ended on %(day)s. Your entries are kept as they "
            "are; if one is wrong, ask your physical therapist to correct it."
        ) % {"day": _day(episode.closed_date)}
    return _(
        "This diary is closed: the programme is %(status)s. Your entries are kept as they are; "
        "if one is wrong, ask your physical therapist to correct it."
    ) % {"status": episode.get_status_display().lower()}


def diary_check_writable(*, actor: User, episode: Episode) -> None:
    """Refuse, before anything else, a patient's write to a referred or closed episode's diary.

    The API calls it before parsing the body, so the answer is the 409 whatever was sent;
    ``entry_record`` and ``entry_delete`` apply the same rule themselves.
    """
    if episode.status != EpisodeStatus.ACTIVE and not can_manage_patients(actor):
        raise DiaryClosedError(diary_closed_message(episode))


def _diary_write_check(errors: Errors, *, actor: User, episode: Episode, reason: str) -> str | None:
    """The reason of a staff correction after referral or closure; None for an ordinary write.

    The patient is refused outright (``DiaryClosedError``); staff must say why (400 naming
    ``reason`` without one).
    """
    diary_check_writable(actor=actor, episode=episode)
    if episode.status == EpisodeStatus.ACTIVE:
        return None
    reason = (reason or "").strip()
    if not reason:
        errors.add(
            "reason",
            _(
                "This episode is %(status)s: its diary is the evidence behind that, so say why "
                "you are correcting it. The reason and the old values are kept."
            )
            % {"status": episode.get_status_display().lower()},
        )
    elif len(reason) > REASON_MAX_LENGTH:
        errors.add(
            "reason",
            _("Keep the reason under %(max)s characters.") % {"max": REASON_MAX_LENGTH},
        )
    return reason


def _entry_snapshot(entry: DailyEntry | None) -> dict[str, Any] | None:
    """The values of an entry as JSON, kept by a correction (None: there was no entry)."""
    if entry is None:
        return None
    return {
        "pain_activity": entry.pain_activity,
        "pain_rest": entry.pain_rest,
        # JSON numbers: a tenth of a degree reads back exactly from a float.
        "pf_rom_affected": _json_degrees(entry.pf_rom_affected),
        "pf_rom_unaffected": _json_degrees(entry.pf_rom_unaffected),
        "note": entry.note,
        "exercises": [
            {"prescription": log.prescription_id, "sets_completed": log.sets_completed}
            for log in ExerciseLog.objects.filter(entry_id=entry.pk).order_by("prescription_id")
        ],
        "recorded_by": entry.recorded_by_id,
        "updated_at": entry.updated_at.isoformat(),
    }


def _json_degrees(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _record_correction(
    *,
    actor: User,
    episode: Episode,
    date: dt.date,
    action: str,
    reason: str,
    old_values: dict[str, Any] | None,
    now: dt.datetime,
) -> EntryCorrection:
    correction = EntryCorrection.objects.create(
        episode=episode,
        entry_date=date,
        action=action,
        reason=reason,
        old_values=old_values,
        corrected_by=actor,
        corrected_at=now,
    )
    # Ids only, as every audit row: the reason and the values stay in the clinical table.
    _audit(actor, "entry.corrected", correction, episode)
    return correction


# --- Interventions -----------------------------------------------------------------------------


def _check_intervention(
    errors: Errors,
    *,
    episode: Episode,
    kind: str,
    start_date: dt.date,
    end_date: dt.date | None,
    site: Any,
    note: Any,
) -> tuple[str, str]:
    """The checks of an intervention, recorded or corrected: the site and note, as stored.

    A corticosteroid injection takes a coded site (rehab.injection_sites): a refused site, an
    unknown code, or a note that names the Achilles is refused with the reason and its source.
    """
    if kind not in InterventionKind.values:
        errors.add(
            "kind",
            _("Must be one of: %(values)s.") % {"values": ", ".join(InterventionKind.values)},
        )
    # An intervention may have begun before the trial (a boot from the emergency department,
    # a drug the GP started: the immobilization rule counts its days from its own start), and
    # may be planned ahead.
    for field, value in (("start_date", start_date), ("end_date", end_date)):
        _check_clinical_date(
            errors, field, value, episode=episode, may_precede_start=True, ahead=Ahead.PLANNED
        )
    if end_date is not None and end_date < start_date:
        errors.add("end_date", _("The end date cannot be before the start date."))
    site = check_text(errors, "site", site, max_length=SITE_MAX_LENGTH)
    note = check_text(errors, "note", note, max_length=NOTE_MAX_LENGTH)
    if kind == InterventionKind.CORTICOSTEROID_INJECTION:
        for field, messages in injection_problems(site=site, note=note).items():
            if field not in errors:
                for message in messages:
                    errors.add(field, message)
    return site, note


def intervention_record(
    *,
    actor: User,
    episode: Episode,
    kind: str,
    start_date: dt.date,
    end_date: dt.date | None = None,
    site: str = "",
    note: str = "",
) -> Intervention:
    _require_staff(actor)
    errors = Errors()
    site, note = _check_intervention(
        errors,
        episode=episode,
        kind=kind,
        start_date=start_date,
        end_date=end_date,
        site=site,
        note=note,
    )
    errors.raise_if_any()
    with transaction.atomic():
        intervention = Intervention.objects.create(
            episode=episode,
            kind=kind,
            start_date=start_date,
            end_date=end_date,
            site=site,
            note=note,
            created_by=actor,
        )
        _audit(actor, "intervention.recorded", intervention, episode)
        forget_evaluation(episode_id=episode.pk)
    return intervention
