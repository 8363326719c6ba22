"""From database rows to the pure rules and back: progress (read-only) and evaluation (writes).

Reading: ``rule_inputs_bulk`` reads what the rules need about any number of episodes in four
queries (entries, exercise logs, prescriptions, interventions), however many there are; one
episode (``load_episode_data``), a therapist's caseload (``reports.caseload``) and a chunk of
the nightly job all go through it, so they see the same data the same way.

Writing: ``evaluate_episodes_bulk`` evaluates a chunk of episodes in one transaction: it locks
their rows, runs the rules on each, and makes the Alert rows agree with the findings (create,
update, reopen, auto-resolve) with a handful of statements for the whole chunk, writing the
notifications of new high/critical alerts as Delivery rows (an outbox) that ``rehab.notify``
sends after commit. ``evaluate_episode`` is the same for one episode. The number of queries
depends on neither the chunk's size nor the length of its diaries.
"""

from __future__ import annotations

import datetime as dt
import gc
import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

from django.db import transaction
from django.db.models import Case, Q, QuerySet, Subquery, TextField, Value, When
from django.utils import timezone

from accounts.models import Patient
from rehab import rules
from rehab.bulk import AnyOf, any_of, insert_rows, update_rows
from rehab.models import (
    Alert,
    AlertStatus,
    ClinicRuleSettings,
    DailyEntry,
    Episode,
    EpisodeStatus,
    ExerciseLog,
    Intervention,
    Prescription,
)
from rehab.notify.outbox import alerts_notifications_write

logger = logging.getLogger(__name__)

NOTIFYING_SEVERITIES = frozenset({rules.HIGH, rules.CRITICAL})

# The Episode columns the rules read, in the order ``RuleInputs.episode_data`` takes them.
EPISODE_RULE_FIELDS = (
    "start_date",
    "status",
    "referral_date",
    "intake_pain_activity",
    "intake_pf_rom_affected",
    "intake_pf_rom_unaffected",
    "bmi",
)


def degrees(value: Decimal | None) -> Fraction | None:
    """A stored angle (a Decimal kept to 0.1°) as the rules read it: the exact Fraction."""
    return None if value is None else Fraction(value)


# --- Thresholds --------------------------------------------------------------------------------


def thresholds_for_clinic(clinic_id: int | None) -> rules.Thresholds:
    """The thresholds in force for a clinic: the spec's defaults with the clinic's overrides."""
    return thresholds_for_clinics([clinic_id])[clinic_id]


def thresholds_for_clinics(clinic_ids: Iterable[int | None]) -> dict[int | None, rules.Thresholds]:
    """The thresholds of several clinics in one query (none when no clinic is given)."""
    wanted = set(clinic_ids)
    overrides: dict[int | None, Any] = {}
    known = [pk for pk in wanted if pk is not None]
    if known:
        overrides = dict(
            ClinicRuleSettings.objects.filter(clinic_id__in=known).values_list(
                "clinic_id", "overrides"
            )
        )
    return {pk: rules.Thresholds.from_mapping(overrides.get(pk) or {}) for pk in wanted}


# --- Loading -----------------------------------------------------------------------------------


def episode_data_from_rows(
    episode: Episode,
    *,
    entries: Iterable[DailyEntry],
    sets_done: dict[int, dict[int, int]],
    prescriptions: Iterable[Prescription],
    interventions: Iterable[Intervention],
) -> rules.EpisodeData:
    """Plain data for the rules from prefetched model instances (pages that show the rows too).

    ``sets_done`` maps entry id -> {prescription id: sets}.
    """
    return rules.EpisodeData(
        start_date=episode.start_date,
        status=episode.status,
        has_referral=episode.referral_date is not None,
        intake_pain_activity=episode.intake_pain_activity,
        intake_pf_rom_affected=degrees(episode.intake_pf_rom_affected),
        intake_pf_rom_unaffected=degrees(episode.intake_pf_rom_unaffected),
        bmi=float(episode.bmi) if episode.bmi is not None else None,
        entries=tuple(
            rules.EntryData(
                date=e.date,
                pain_activity=e.pain_activity,
                pain_rest=e.pain_rest,
                pf_rom_affected=degrees(e.pf_rom_affected),
                pf_rom_unaffected=degrees(e.pf_rom_unaffected),
                sets_done=sets_done.get(e.pk, {}),
            )
            for e in entries
        ),
        prescriptions=tuple(
            rules.PrescriptionData(
                id=p.pk, sets=p.sets, start_date=p.start_date, end_date=p.end_date
            )
            for p in prescriptions
        ),
        interventions=tuple(
            rules.InterventionData(kind=i.kind, start_date=i.start_date, end_date=i.end_date)
            for i in interventions
        ),
    )


@dataclass(frozen=True, slots=True)
class RuleInputs:
    """The diaries, prescriptions and interventions of many episodes, keyed by episode id."""

    entries: Mapping[int, list[rules.EntryData]]
    prescriptions: Mapping[int, list[rules.PrescriptionData]]
    interventions: Mapping[int, list[rules.InterventionData]]

    def episode_data(
        self,
        episode_id: int,
        start_date: dt.date,
        status: str,
        referral_date: dt.date | None,
        intake_pain_activity: int | None,
        intake_pf_rom_affected: Decimal | None,
        intake_pf_rom_unaffected: Decimal | None,
        bmi: Decimal | None,
    ) -> rules.EpisodeData:
        """The rules' input for one episode, given its own columns (``EPISODE_RULE_FIELDS``)."""
        return rules.EpisodeData(
            start_date=start_date,
            status=status,
            has_referral=referral_date is not None,
            intake_pain_activity=intake_pain_activity,
            intake_pf_rom_affected=degrees(intake_pf_rom_affected),
            intake_pf_rom_unaffected=degrees(intake_pf_rom_unaffected),
            bmi=float(bmi) if bmi is not None else None,
            entries=self.entries.get(episode_id, ()),
            prescriptions=self.prescriptions.get(episode_id, ()),
            interventions=self.interventions.get(episode_id, ()),
        )


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while many episodes are read and evaluated.

    A chunk (or a long caseload) builds ~50,000 small objects (entries, their sets, findings)
    that live until it ends and form no cycles. The collector would walk them again at every
    700th allocation and cost a third of the time for nothing; reference counting frees them
    all when the work is done, and the collector runs again from there. (The switch is
    process-wide: in a threaded server two requests' pauses may overlap, which costs time at
    worst, never memory for long or correctness.)
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def rule_inputs_bulk(
    episodes: Sequence[int] | QuerySet[Episode], *, until: dt.date | None = None
) -> RuleInputs:
    """Read the rules' inputs of many episodes in four queries, whatever their number.

    ``episodes`` is a list of ids or a queryset of episodes (used as a subquery, so that no list
    of ids travels to the database however long it is). Rows dated after ``until`` are not read:
    the rules would ignore them anyway. Each query is an index-only scan of a covering index
    (docs/performance.md shows the plans): the exercise logs are found through their
    prescriptions, so no join with the entries is needed.
    """
    with cyclic_gc_paused():
        return _rule_inputs_bulk(episodes, until)


def _rule_inputs_bulk(
    episodes: Sequence[int] | QuerySet[Episode], until: dt.date | None
) -> RuleInputs:
    episode_in: Q | AnyOf
    if isinstance(episodes, QuerySet):
        episode_in = Q(episode_id__in=Subquery(episodes.values("pk")))
    else:
        episode_in = any_of("episode_id", episodes)

    prescription_rows = Prescription.objects.filter(episode_in)
    if until is not None:
        # A prescription starting later is not yet in force; the rules skip it, and its logs.
        prescription_rows = prescription_rows.filter(start_date__lte=until)
    prescriptions: dict[int, list[rules.PrescriptionData]] = defaultdict(list)
    prescription_data = rules.PrescriptionData
    for pk, episode_id, sets, start, end in prescription_rows.values_list(
        "pk", "episode_id", "sets", "start_date", "end_date"
    ).order_by("episode_id", "start_date", "pk"):
        prescriptions[episode_id].append(prescription_data(pk, sets, start, end))

    # entry id -> {prescription id: sets}. The dicts are built here, in the one pass over the
    # logs, rather than per entry later.
    sets_done: dict[int, dict[int, int]] = defaultdict(dict)
    for entry_id, prescription_id, sets in (
        ExerciseLog.objects.filter(
            prescription_id__in=Subquery(prescription_rows.order_by().values("pk"))
        )
        .values_list("entry_id", "prescription_id", "sets_completed")
        .order_by()
    ):
        sets_done[entry_id][prescription_id] = sets

    entry_rows = DailyEntry.objects.filter(episode_in)
    if until is not None:
        entry_rows = entry_rows.filter(date__lte=until)
    entries: dict[int, list[rules.EntryData]] = defaultdict(list)
    sets_of = sets_done.get
    no_sets = rules.NO_SETS
    entry_data = rules.EntryData
    for (
        entry_id,
        episode_id,
        date,
        pain,
        rest,
        rom_affected,
        rom_unaffected,
    ) in entry_rows.values_list(
        "pk",
        "episode_id",
        "date",
        "pain_activity",
        "pain_rest",
        "pf_rom_affected",
        "pf_rom_unaffected",
    ).order_by():
        entries[episode_id].append(
            entry_data(
                date,
                pain,
                rest,
                degrees(rom_affected),
                degrees(rom_unaffected),
                sets_of(entry_id, no_sets),
            )
        )

    intervention_rows = Intervention.objects.filter(episode_in)
    if until is not None:
        intervention_rows = intervention_rows.filter(start_date__lte=until)
    interventions: dict[int, list[rules.InterventionData]] = defaultdict(list)
    intervention_data = rules.InterventionData
    for episode_id, kind, start, end in intervention_rows.values_list(
        "episode_id", "kind", "start_date", "end_date"
    ).order_by("episode_id", "start_date", "pk"):
        interventions[episode_id].append(intervention_data(kind, start, end))

    return RuleInputs(entries=entries, prescriptions=prescriptions, interventions=interventions)


def _rule_fields(episode: Episode) -> tuple[Any, ...]:
    return tuple(getattr(episode, name) for name in EPISODE_RULE_FIELDS)


def load_episode_data(episode: Episode, *, as_of: dt.date) -> rules.EpisodeData:
    """Read one episode's data in four queries, whatever its length.

    Rows dated after ``as_of`` are not even read: they never count.
    """
    inputs = rule_inputs_bulk([episode.pk], until=as_of)
    return inputs.episode_data(episode.pk, *_rule_fields(episode))


def episode_progress(*, episode: Episode, as_of: dt.date) -> rules.Evaluation:
    """The rules' verdict on an episode as of a date. Reads only; never touches alerts."""
    thresholds = thresholds_for_clinic(episode.patient.user.clinic_id)
    return rules.evaluate(load_episode_data(episode, as_of=as_of), thresholds, as_of)


# --- Evaluation with alerts --------------------------------------------------------------------


@dataclass
class EvaluationOutcome:
    episode_id: int
    evaluated: bool
    recommendation: str | None = None
    raised: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    reopened: list[int] = field(default_factory=list)
    resolved: list[int] = field(default_factory=list)
    deliveries: list[int] = field(default_factory=list)


@dataclass
class BulkEvaluation:
    """What ``evaluate_episodes_bulk`` did, episode by episode."""

    # (outcome, the date it was evaluated as of) for every episode found; an episode no longer
    # active has evaluated=False and no date.
    outcomes: list[tuple[EvaluationOutcome, dt.date | None]] = field(default_factory=list)
    missing: list[int] = field(default_factory=list)  # no such episode (deleted since)


_UPDATED_FIELDS = ["severity", "message", "evidence", "last_found_on", "updated_at"]
_REOPENED_FIELDS = [*_UPDATED_FIELDS, "status", "snoozed_until"]


def evaluate_episode(*, episode_id: int, as_of: dt.date) -> EvaluationOutcome:
    """Evaluate an active episode and make its alerts agree with the findings.

    Idempotent: evaluating again with the same data and date changes nothing and notifies
    nobody. Concurrent evaluations of one episode (two beat processes, a retried task) are
    serialised by locking the episode row, and the database's partial unique constraint
    guarantees one unresolved alert per (episode, code) even if the lock were bypassed.
    """
    result = evaluate_episodes_bulk(episode_ids=[episode_id], as_of=as_of)
    if result.missing:
        return EvaluationOutcome(episode_id=episode_id, evaluated=False)
    return result.outcomes[0][0]


def evaluate_episodes_bulk(
    *, episode_ids: Sequence[int], as_of: dt.date | None = None
) -> BulkEvaluation:
    """Evaluate many episodes in one transaction, with the same result as one by one.

    ``as_of=None`` evaluates each episode as of its patient's local today. Episodes no longer
    active are skipped (and their pending request cleared); ids that do not exist are listed
    as missing. The episode rows are locked in ascending id order, so two overlapping runs (two
    beats, the relay and the nightly job) wait for each other instead of deadlocking, and an
    entry saved meanwhile waits for the chunk's commit. Any error rolls the whole chunk back
    and propagates: the caller (``rehab.nightly``) then evaluates the chunk's episodes one by
    one, so that one bad episode stops none of the others.
    """
    result = BulkEvaluation()
    if not episode_ids:
        return result
    now = timezone.now()
    with transaction.atomic(), cyclic_gc_paused():
        rows = list(
            Episode.objects.select_for_update(of=("self",))
            .filter(any_of("pk", episode_ids))
            .order_by("pk")
            .values_list(
                "pk",
                "evaluation_requested_at",
                "patient__timezone",
                "patient__user__clinic_id",
                *EPISODE_RULE_FIELDS,
            )
        )
        found = {row[0] for row in rows}
        result.missing = [pk for pk in episode_ids if pk not in found]
        by_id = {row[0]: row for row in rows}
        todays: dict[str, dt.date] = {}
        active: list[tuple[Any, ...]] = []
        dates: dict[int, dt.date] = {}
        clear_request: list[int] = []
        for pk in episode_ids:
            row = by_id.pop(pk, None)  # pop: an id listed twice is evaluated once
            if row is None:
                continue
            requested_at, zone, status = row[1], row[2], row[5]
            if requested_at is not None:
                # Under the row lock the request we see is the latest: nobody can ask again
                # until we commit, so clearing it cannot lose a newer one.
                clear_request.append(pk)
            if status != EpisodeStatus.ACTIVE:
                # Referred or closed episodes are out of the trial: nothing to watch any more.
                result.outcomes.append((EvaluationOutcome(episode_id=pk, evaluated=False), None))
                continue
            if as_of is not None:
                dates[pk] = as_of
            else:
                if zone not in todays:
                    todays[zone] = Patient(timezone=zone).local_today()
                dates[pk] = todays[zone]
            active.append(row)

        if active:
            inputs = rule_inputs_bulk([row[0] for row in active], until=max(dates.values()))
            thresholds = thresholds_for_clinics(row[3] for row in active)
            evaluations = [
                (
                    row[0],
                    row[3],
                    rules.evaluate(
                        inputs.episode_data(row[0], *row[4:]), thresholds[row[3]], dates[row[0]]
                    ),
                )
                for row in active
            ]
            outcomes = _sync_alerts(evaluations, thresholds, dates, now)
            result.outcomes += [(outcomes[pk], dates[pk]) for pk, _, _ in evaluations]
        if clear_request:
            Episode.objects.filter(any_of("pk", clear_request)).update(evaluation_requested_at=None)
    return result


def _sync_alerts(
    evaluations: list[tuple[int, int | None, rules.Evaluation]],
    thresholds: Mapping[int | None, rules.Thresholds],
    dates: Mapping[int, dt.date],
    now: dt.datetime,
) -> dict[int, EvaluationOutcome]:
    """Make the unresolved alerts of these episodes agree with their findings, in bulk."""
    live: dict[int, dict[str, Alert]] = defaultdict(dict)
    # The model's own ordering (newest first), as when alerts were synced one episode at a time.
    for alert in (
        Alert.objects.select_for_update()
        .filter(any_of("episode_id", [pk for pk, _, _ in evaluations]))
        .exclude(status=AlertStatus.RESOLVED)
        # What the sync decides on; the text and JSON it overwrites need not be read (or parsed).
        .only("pk", "episode_id", "code", "status", "snoozed_until", "last_found_on", "ruleset")
    ):
        live[alert.episode_id][alert.code] = alert

    outcomes: dict[int, EvaluationOutcome] = {}
    new: list[tuple[Alert, EvaluationOutcome]] = []
    updated: list[Alert] = []
    reopened: list[Alert] = []
    resolved: dict[dt.date, list[Alert]] = defaultdict(list)
    # (alert, event, outcome) in the order one-by-one evaluation wrote them: episode by episode,
    # finding by finding.
    notices: list[tuple[Alert, str, EvaluationOutcome]] = []
    for episode_id, clinic_id, evaluation in evaluations:
        as_of = dates[episode_id]
        outcome = outcomes[episode_id] = EvaluationOutcome(
            episode_id=episode_id, evaluated=True, recommendation=evaluation.recommendation
        )
        unresolved: dict[str, Alert] = live.pop(episode_id, {})
        for finding in evaluation.findings:
            if not finding.is_alert:
                continue
            notifying = finding.severity in NOTIFYING_SEVERITIES
            found = unresolved.pop(finding.code, None)
            if found is None:
                alert = Alert(
                    episode_id=episode_id,
                    code=finding.code,
                    severity=finding.severity,
                    message=finding.message,
                    evidence=finding.evidence,
                    ruleset=evaluation.ruleset,
                    thresholds=thresholds[clinic_id].as_dict(),
                    first_found_on=as_of,
                    last_found_on=as_of,
                    created_at=now,
                    updated_at=now,
                )
                new.append((alert, outcome))
                if notifying:
                    notices.append((alert, "alert.raised", outcome))
                continue
            alert = found
            reopen = (
                alert.status == AlertStatus.SNOOZED
                and alert.snoozed_until is not None
                and alert.snoozed_until <= as_of
            )
            alert.severity = finding.severity
            alert.message = finding.message
            alert.evidence = finding.evidence
            alert.last_found_on = max(alert.last_found_on, as_of)
            alert.updated_at = now
            if reopen:
                # The snooze has ended and the condition still holds: the alert comes back.
                alert.status = AlertStatus.OPEN
                alert.snoozed_until = None
                reopened.append(alert)
                outcome.reopened.append(alert.pk)
                if notifying:
                    notices.append((alert, "alert.reopened", outcome))
            else:
                updated.append(alert)
                outcome.updated.append(alert.pk)
        for alert in unresolved.values():
            resolved[as_of].append(alert)
            outcome.resolved.append(alert.pk)

    if new:
        # One INSERT ... RETURNING for the chunk; the ids come back in order.
        insert_rows(Alert, [alert for alert, _ in new])
        for alert, outcome in new:
            outcome.raised.append(alert.pk)
    update_rows(Alert, updated, _UPDATED_FIELDS)
    update_rows(Alert, reopened, _REOPENED_FIELDS)
    if resolved:
        # One statement; the reason names the date each alert was evaluated as of.
        gone = [alert.pk for alerts in resolved.values() for alert in alerts]
        Alert.objects.filter(any_of("pk", gone)).update(
            status=AlertStatus.RESOLVED,
            resolved_at=now,
            resolution_reason=Case(
                *(
                    When(
                        pk__in=[alert.pk for alert in alerts],
                        then=Value(
                            "Resolved automatically: no longer found when evaluated as of "
                            f"{as_of:%Y-%m-%d}."
                        ),
                    )
                    for as_of, alerts in resolved.items()
                ),
                output_field=TextField(),
            ),
            updated_at=now,
        )
    if notices:
        written = alerts_notifications_write([(alert, event) for alert, event, _ in notices])
        for (_, _, outcome), delivery_ids in zip(notices, written, strict=True):
            outcome.deliveries += delivery_ids
    return outcomes


def episodes_due_for_evaluation() -> QuerySet[Episode]:
    """Active episodes: the ones the nightly job evaluates."""
    return Episode.objects.filter(status=EpisodeStatus.ACTIVE).order_by("pk")
