"""Every write to the rehab domain goes through a function here.

Each function takes keyword arguments only, validates everything the clinical rules and the API
contract require (raising ``ValidationError`` keyed by field name, before anything is written),
writes inside one transaction and leaves an audit row. Health values never go into audit rows or
logs.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Field
from django.utils import timezone

from accounts.audit import audit_record
from accounts.models import Patient, User
from accounts.prepared import PreparedQuery
from accounts.scoping import can_manage_patients, patients_for
from rehab import dates, rules
from rehab.alerts import alerts_resolve_for_episode
from rehab.bulk import insert_rows
from rehab.dates import Ahead, clinical_date_problem
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

PAIN_MIN, PAIN_MAX = 0, 10
ROM_MIN, ROM_MAX = 0, 90
BMI_MIN, BMI_MAX = Decimal("10"), Decimal("80")
MAX_SETS = 50
REASON_MAX_LENGTH = 1000
# The dates an episode may start on, and that progress may be asked about. Wide on purpose; the
# point is that date arithmetic around them (trial weeks, chart margins) stays far from the
# calendar's ends, where it overflowed into 500s (found by schemathesis, docs/security.md).
DATE_MIN, DATE_MAX = dt.date(1900, 1, 1), dt.date(2199, 12, 31)

# A corticosteroid injection into or beside the Achilles tendon risks rupturing it. Sites are
# free text, so we refuse any that names the tendon or its immediate neighbours.
_ACHILLES_SITE = re.compile(
    r"achill|tendo\s*calcane|calcaneal\s+tendon|retro-?\s*calcane|heel\s+cord|tendoachill",
    re.IGNORECASE,
)


class Errors:
    """Collects field errors so one response names every problem at once."""

    def __init__(self) -> None:
        self._errors: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self._errors.setdefault(field, []).append(message)

    def __contains__(self, field: str) -> bool:
        return field in self._errors

    def raise_if_any(self) -> None:
        if self._errors:
            raise ValidationError(self._errors)


class DiaryClosedError(Exception):
    """The diary of a referred or closed episode is read-only for the patient (API: 409).

    The entries are the evidence behind the referral or the closing outcome; staff may still
    correct them, with a reason (``EntryCorrection``).
    """


def _check_int(
    errors: Errors, field: str, value: Any, low: int, high: int, *, required: bool
) -> int | None:
    if value is None or value == "":
        if required:
            errors.add(field, "This field is required.")
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        errors.add(field, f"Must be a whole number from {low} to {high}.")
        return None
    if not low <= value <= high:
        errors.add(field, f"Must be between {low} and {high} (got {value}).")
        return None
    return value


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
    intake_pf_rom_affected: int | None = None,
    intake_pf_rom_unaffected: int | None = None,
    bmi: Decimal | None = None,
) -> Episode:
    _require_staff(actor)
    errors = Errors()
    if not patients_for(actor).filter(pk=patient.pk).exists():
        # Same words as for an unknown id: a foreign patient's existence is not revealed.
        errors.add("patient", "Patient not found.")
    if affected_side not in Side.values:
        errors.add("affected_side", 'Must be "left" or "right".')
    if diagnosis not in Diagnosis.values:
        errors.add("diagnosis", f"Must be one of: {', '.join(Diagnosis.values)}.")
    if not DATE_MIN <= start_date <= DATE_MAX:
        errors.add("start_date", f"Must be a date from {DATE_MIN} to {DATE_MAX}.")
    # The checked values are stored, not the raw ones: _check_int reads "" as "not given", which
    # the database would refuse as a number (found by hypothesis, tests/fuzz).
    intake_pain_activity = _check_int(
        errors, "intake_pain_activity", intake_pain_activity, PAIN_MIN, PAIN_MAX, required=False
    )
    intake_pf_rom_affected = _check_int(
        errors, "intake_pf_rom_affected", intake_pf_rom_affected, ROM_MIN, ROM_MAX, required=False
    )
    intake_pf_rom_unaffected = _check_int(
        errors,
        "intake_pf_rom_unaffected",
        intake_pf_rom_unaffected,
        ROM_MIN,
        ROM_MAX,
        required=False,
    )
    # A Decimal NaN cannot even be compared (InvalidOperation, found by hypothesis): only a
    # finite Decimal is checked against the range.
    if bmi is not None and not (
        isinstance(bmi, Decimal) and bmi.is_finite() and BMI_MIN <= bmi <= BMI_MAX
    ):
        errors.add("bmi", f"Must be between {BMI_MIN} and {BMI_MAX}.")
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
        errors.add("non_field_errors", "This episode is closed; reopen is not supported.")
    _check_clinical_date(errors, "date", date, episode=episode)
    errors.raise_if_any()
    with transaction.atomic():
        episode.status = EpisodeStatus.REFERRED
        episode.referral_date = date
        episode.referred_to = referred_to.strip()
        episode.referral_note = note.strip()
        episode.save(
            update_fields=["status", "referral_date", "referred_to", "referral_note", "updated_at"]
        )
        _audit(actor, "episode.referred", episode, episode)
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
        errors.add("outcome", f"Must be one of: {', '.join(Outcome.values)}.")
    if episode.status == EpisodeStatus.CLOSED:
        errors.add("non_field_errors", "This episode is already closed.")
    # No limit after the start but today: an episode forgotten for years must still be closable.
    _check_clinical_date(errors, "date", date, episode=episode, years_after_start=None)
    errors.raise_if_any()
    with transaction.atomic():
        episode.status = EpisodeStatus.CLOSED
        episode.closed_date = date
        episode.outcome = outcome
        episode.save(update_fields=["status", "closed_date", "outcome", "updated_at"])
        _audit(actor, "episode.closed", episode, episode)
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
    """Prescribe an exercise: a catalogue name (matched case-insensitively) or free text."""
    _require_staff(actor)
    errors = Errors()
    name = (exercise or "").strip()
    if not name:
        errors.add("exercise", "Name an exercise from the catalogue, or describe one.")
    elif len(name) > 120:
        errors.add("exercise", "Keep the exercise name under 120 characters.")
    _check_int(errors, "sets", sets, 1, MAX_SETS, required=True)
    start = start_date or episode.start_date
    # A prescription is part of the trial: not before its start; it may be planned ahead.
    _check_clinical_date(errors, "start_date", start, episode=episode, ahead=Ahead.PLANNED)
    _check_clinical_date(errors, "end_date", end_date, episode=episode, ahead=Ahead.PLANNED)
    if end_date is not None and end_date < start:
        errors.add("end_date", "The end date cannot be before the start date.")
    if episode.status == EpisodeStatus.CLOSED:
        errors.add("non_field_errors", "This episode is closed.")
    errors.raise_if_any()
    catalogue = Exercise.objects.filter(name__iexact=name).first()
    with transaction.atomic():
        prescription = Prescription.objects.create(
            episode=episode,
            exercise=catalogue,
            name=catalogue.name if catalogue else name,
            sets=sets,
            reps=(reps or (catalogue.default_reps if catalogue else "")).strip(),
            start_date=start,
            end_date=end_date,
            created_by=actor,
        )
        _audit(actor, "prescription.created", prescription, episode)
    return prescription


def prescription_end(*, actor: User, prescription: Prescription, end_date: dt.date) -> Prescription:
    _require_staff(actor)
    errors = Errors()
    _check_clinical_date(
        errors, "end_date", end_date, episode=prescription.episode, ahead=Ahead.PLANNED
    )
    if end_date < prescription.start_date:
        errors.add("end_date", "The end date cannot be before the start date.")
    errors.raise_if_any()
    with transaction.atomic():
        prescription.end_date = end_date
        prescription.save(update_fields=["end_date"])
        _audit(actor, "prescription.ended", prescription, prescription.episode)
    return prescription


# --- Daily entries -----------------------------------------------------------------------------


@dataclass(frozen=True)
class EntryResult:
    entry: DailyEntry
    created: bool


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
    note: str = "",
    reason: str = "",
) -> EntryResult:
    """Create or replace the entry for ``date``: the same call twice leaves one entry.

    The date must lie between the episode's start and the patient's local today. Everything is
    validated before anything is written, so a bad request leaves the saved entry untouched.
    Once the episode is referred or closed, only staff may write, with a ``reason``
    (``DiaryClosedError`` for the patient); the old values are kept in an ``EntryCorrection``.
    """
    errors = Errors()
    correction_reason = _diary_write_check(errors, actor=actor, episode=episode, reason=reason)
    pain_activity = _check_int(
        errors, "pain_activity", pain_activity, PAIN_MIN, PAIN_MAX, required=True
    )
    pain_rest = _check_int(errors, "pain_rest", pain_rest, PAIN_MIN, PAIN_MAX, required=False)
    pf_rom_affected = _check_int(
        errors, "pf_rom_affected", pf_rom_affected, ROM_MIN, ROM_MAX, required=False
    )
    pf_rom_unaffected = _check_int(
        errors, "pf_rom_unaffected", pf_rom_unaffected, ROM_MIN, ROM_MAX, required=False
    )
    if date < episode.start_date:
        errors.add(
            "date",
            f"The episode started on {episode.start_date:%Y-%m-%d}; an entry "
            "cannot be dated before that.",
        )
    local_today = episode.patient.local_today()
    if date > local_today:
        errors.add(
            "date",
            f"An entry cannot be dated after today ({local_today:%Y-%m-%d} in "
            "the patient's time zone).",
        )

    # The episode's prescriptions are read once, to check the exercises and to show them back.
    prescriptions = (
        {p.pk: p for p in _EPISODE_PRESCRIPTIONS.fetch(episode=episode.pk)} if exercises else {}
    )
    sets_by_prescription = _validated_exercise_sets(errors, prescriptions, date, exercises)
    errors.raise_if_any()

    now = timezone.now()
    statements = _entry_statements(connection.vendor)
    with transaction.atomic():
        # Only a correction after referral or closure reads the old entry first (to keep it).
        old_values = (
            _entry_snapshot(DailyEntry.objects.filter(episode=episode, date=date).first())
            if correction_reason is not None
            else None
        )
        entry, created = _entry_upsert(
            episode=episode,
            date=date,
            values={
                "pain_activity": pain_activity,
                "pain_rest": pain_rest,
                "pf_rom_affected": pf_rom_affected,
                "pf_rom_unaffected": pf_rom_unaffected,
                "note": (note or "").strip(),
                "recorded_by_id": actor.pk,
            },
            now=now,
        )
        logs = [
            ExerciseLog(entry=entry, prescription=prescriptions[pid], sets_completed=sets)
            for pid, sets in sorted(sets_by_prescription.items())
        ]
        if not created:
            with connection.cursor() as cursor:
                cursor.execute(statements.delete_logs, [entry.pk])
        # One multi-row INSERT ... RETURNING, as bulk_create sends, without the ORM's compiler.
        insert_rows(ExerciseLog, logs)
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
        _request_evaluation(episode, now)
    # The entry comes back with its exercise logs attached as if prefetched (in the model's
    # order, by prescription), so that showing it costs no further query.
    shown = ExerciseLog.objects.filter(entry_id=entry.pk)
    shown._result_cache = logs
    shown._prefetch_done = True  # type: ignore[attr-defined]
    entry._prefetched_objects_cache = {"exercises": shown}  # type: ignore[attr-defined]
    return EntryResult(entry=entry, created=created)


# The PUT's one read besides the episode: compiled by the ORM once, not on every request.
_EPISODE_PRESCRIPTIONS = PreparedQuery(
    lambda episode: Prescription.objects.filter(episode_id=episode), "episode"
)


@dataclass(frozen=True)
class _EntryStatements:
    """The SQL an entry write sends, built once per database from the models' metadata.

    Every request of the entry PUT sends the same statements with other values; having the ORM
    build them each time (lookups, the delete collector, the insert compiler) cost about 0.3 to
    0.5 ms of CPU per statement, as much as PostgreSQL spent running them. Only table and
    column names go into the text; every value is a parameter. Nothing listens to these
    models' signals and nothing refers to an exercise log, so the ORM would have sent the same
    statements (its delete of logs is a plain DELETE for that reason).
    """

    upsert: str
    upsert_fields: tuple[Field[Any, Any], ...]
    created_at_column: Any
    created_at_converters: tuple[Any, ...]
    delete_logs: str
    request_evaluation: str


@functools.cache
def _entry_statements(vendor: str) -> _EntryStatements:
    quote = connection.ops.quote_name
    entry, log, episode = DailyEntry._meta, ExerciseLog._meta, Episode._meta

    def column(meta: Any, name: str) -> str:
        return quote(meta.get_field(name).column)

    # Every column but the id: the upsert writes a whole row, so the entry it hands back is
    # whole too (a field added to the model must be given a value by entry_record).
    fields = tuple(field for field in entry.concrete_fields if not field.primary_key)
    columns = [quote(str(field.column)) for field in fields]
    replaced = [
        c
        for field, c in zip(fields, columns, strict=True)
        if field.attname not in _ENTRY_KEY_AND_BIRTH
    ]
    # PostgreSQL says whether the row was inserted (a new row version has no xmax); SQLite
    # cannot, so there the caller looks first and puts the answer in as a parameter.
    inserted = "(xmax = 0)" if vendor == "postgresql" else "%s"
    upsert = (
        f"INSERT INTO {quote(entry.db_table)} ({', '.join(columns)}) "  # noqa: S608  # nosec B608
        f"VALUES ({', '.join(['%s'] * len(columns))}) "
        f"ON CONFLICT ({column(entry, 'episode')}, {column(entry, 'date')}) DO UPDATE SET "
        + ", ".join(f"{c} = EXCLUDED.{c}" for c in replaced)
        # What the caller does not know: the id, and when the entry was first recorded.
        + f" RETURNING {column(entry, 'id')}, {column(entry, 'created_at')}, {inserted}"
    )
    created_at = entry.get_field("created_at")
    assert isinstance(created_at, Field)
    return _EntryStatements(
        upsert=upsert,
        upsert_fields=fields,
        # The backend's own conversions of a datetime read back (SQLite returns text).
        created_at_column=created_at.get_col(entry.db_table),
        created_at_converters=tuple(
            connection.ops.get_db_converters(created_at.get_col(entry.db_table))
            + created_at.get_db_converters(connection)
        ),
        delete_logs=(
            f"DELETE FROM {quote(log.db_table)} WHERE {column(log, 'entry')} = %s"  # noqa: S608  # nosec B608
        ),
        request_evaluation=(
            f"UPDATE {quote(episode.db_table)} "  # noqa: S608  # nosec B608
            f"SET {column(episode, 'evaluation_requested_at')} = %s "
            f"WHERE {column(episode, 'id')} = %s"
        ),
    )


def _request_evaluation(episode: Episode, now: dt.datetime) -> None:
    """Ask for the episode to be evaluated: a row now, a task after commit.

    The row (``evaluation_requested_at``) is what guarantees the evaluation happens; the task
    only makes it happen at once. If the broker is down, the periodic relay finds the row.
    """
    statements = _entry_statements(connection.vendor)
    requested_at = Episode._meta.get_field("evaluation_requested_at")
    with connection.cursor() as cursor:
        cursor.execute(
            statements.request_evaluation,
            [requested_at.get_db_prep_save(now, connection), episode.pk],
        )
    episode_id = episode.pk

    def queue() -> None:
        from rehab.tasks import queue_evaluation

        queue_evaluation(episode_id)

    transaction.on_commit(queue)


def _entry_upsert(
    *, episode: Episode, date: dt.date, values: dict[str, Any], now: dt.datetime
) -> tuple[DailyEntry, bool]:
    """Insert the day's entry or replace its values, in one statement that cannot race.

    ``INSERT ... ON CONFLICT (episode, date) DO UPDATE ... RETURNING``: two PUTs of the same day
    at once leave one entry with the later values and neither fails, with no savepoint and no
    read first (``update_or_create`` costs four to six statements). What the caller does not
    know comes back with it: the id, and on a replace when the entry was first recorded.
    PostgreSQL says whether it was inserted (a new row version has no ``xmax``). SQLite cannot,
    so there it is looked up first: its transactions take the write lock when they begin
    (``transaction_mode: IMMEDIATE`` in the settings), so the answer cannot change meanwhile.
    """
    statements = _entry_statements(connection.vendor)
    row = {"episode_id": episode.pk, "date": date, **values, "created_at": now, "updated_at": now}
    params = [
        field.get_db_prep_save(row[field.attname], connection) for field in statements.upsert_fields
    ]
    if connection.vendor != "postgresql":
        params.append(not DailyEntry.objects.filter(episode=episode, date=date).exists())
    with connection.cursor() as cursor:
        cursor.execute(statements.upsert, params)
        pk, created_at, inserted = cursor.fetchone()
    for converter in statements.created_at_converters:
        created_at = converter(created_at, statements.created_at_column, connection)
    # The stored row is what was just written, but for the id and, on a replace, the moment
    # the entry was first recorded: built from those, as the ORM builds a row it read.
    row["created_at"] = created_at
    entry = DailyEntry.from_db(
        connection.alias,
        ["id", *(field.attname for field in statements.upsert_fields)],
        [pk, *(row[field.attname] for field in statements.upsert_fields)],
    )
    return entry, bool(inserted)


# Columns an upsert never overwrites: the key, and when the entry was first recorded.
_ENTRY_KEY_AND_BIRTH = frozenset({"episode_id", "date", "created_at"})


def _validated_exercise_sets(
    errors: Errors,
    prescriptions: Mapping[int, Prescription],
    date: dt.date,
    exercises: Sequence[Mapping[str, Any]],
) -> dict[int, int]:
    if exercises is None:
        return {}
    if not isinstance(exercises, list | tuple):
        errors.add("exercises", "Must be a list of {prescription, sets_completed}.")
        return {}
    result: dict[int, int] = {}
    for index, item in enumerate(exercises):
        where = f"Item {index + 1}"
        if not isinstance(item, Mapping):
            errors.add(
                "exercises", f"{where}: must be an object with prescription and sets_completed."
            )
            continue
        pid = item.get("prescription")
        sets = item.get("sets_completed")
        prescription = prescriptions.get(pid) if isinstance(pid, int) else None
        if prescription is None:
            errors.add(
                "exercises", f"{where}: prescription {pid!r} does not belong to this episode."
            )
            continue
        if not prescription.is_active_on(date):
            errors.add(
                "exercises", f"{where}: {prescription.name} is not prescribed on {date:%Y-%m-%d}."
            )
            continue
        if isinstance(sets, bool) or not isinstance(sets, int) or not 0 <= sets <= MAX_SETS:
            errors.add(
                "exercises", f"{where}: sets_completed must be a whole number from 0 to {MAX_SETS}."
            )
            continue
        if prescription.pk in result:
            errors.add("exercises", f"{where}: prescription {pid} is listed twice.")
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
        _request_evaluation(episode, now)


def _day(date: dt.date) -> str:
    # "30 Nov 2026", as the patient's pages write dates (no leading zero, on every platform).
    return f"{date.day} {date:%b %Y}"


def diary_closed_message(episode: Episode) -> str:
    """Why the patient can no longer write the diary of ``episode``, in their words."""
    if episode.status == EpisodeStatus.REFERRED and episode.referral_date is not None:
        why = f"you were referred on {_day(episode.referral_date)}"
    elif episode.status == EpisodeStatus.CLOSED and episode.closed_date is not None:
        why = f"the programme ended on {_day(episode.closed_date)}"
    else:
        why = f"the programme is {episode.get_status_display().lower()}"
    return (
        f"This diary is closed: {why}. Your entries are kept as they are; if one is wrong, "
        "ask your physical therapist to correct it."
    )


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
            f"This episode is {episode.get_status_display().lower()}: its diary is the evidence "
            "behind that, so say why you are correcting it. The reason and the old values "
            "are kept.",
        )
    elif len(reason) > REASON_MAX_LENGTH:
        errors.add("reason", f"Keep the reason under {REASON_MAX_LENGTH} characters.")
    return reason


def _entry_snapshot(entry: DailyEntry | None) -> dict[str, Any] | None:
    """The values of an entry as JSON, kept by a correction (None: there was no entry)."""
    if entry is None:
        return None
    return {
        "pain_activity": entry.pain_activity,
        "pain_rest": entry.pain_rest,
        "pf_rom_affected": entry.pf_rom_affected,
        "pf_rom_unaffected": entry.pf_rom_unaffected,
        "note": entry.note,
        "exercises": [
            {"prescription": log.prescription_id, "sets_completed": log.sets_completed}
            for log in ExerciseLog.objects.filter(entry_id=entry.pk).order_by("prescription_id")
        ],
        "recorded_by": entry.recorded_by_id,
        "updated_at": entry.updated_at.isoformat(),
    }


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
    if kind not in InterventionKind.values:
        errors.add("kind", f"Must be one of: {', '.join(InterventionKind.values)}.")
    # An intervention may have begun before the trial (a boot from the emergency department,
    # a drug the GP started: the immobilization rule counts its days from its own start), and
    # may be planned ahead.
    for field, value in (("start_date", start_date), ("end_date", end_date)):
        _check_clinical_date(
            errors, field, value, episode=episode, may_precede_start=True, ahead=Ahead.PLANNED
        )
    if end_date is not None and end_date < start_date:
        errors.add("end_date", "The end date cannot be before the start date.")
    site = (site or "").strip()
    if kind == InterventionKind.CORTICOSTEROID_INJECTION and _ACHILLES_SITE.search(site):
        errors.add(
            "site",
            "A corticosteroid injection must never be given into or near the Achilles tendon: "
            "it weakens the tendon and risks rupture. Choose a posterior ankle site away from "
            "the tendon.",
        )
    errors.raise_if_any()
    with transaction.atomic():
        intervention = Intervention.objects.create(
            episode=episode,
            kind=kind,
            start_date=start_date,
            end_date=end_date,
            site=site,
            note=(note or "").strip(),
            created_by=actor,
        )
        _audit(actor, "intervention.recorded", intervention, episode)
    return intervention
