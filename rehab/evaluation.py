"""Evaluating episodes: the rules' verdict (read-only) and making the alerts agree with it.

``episode_progress`` is the rules' verdict on one episode as of a date; it writes nothing.

``evaluate_episodes_bulk`` evaluates a chunk of episodes in one transaction: it locks their rows,
reads the rules' inputs of all of them at once (``rehab.rule_inputs``), runs the rules on each,
diffs each episode's live alerts against its findings (``rehab.alert_diff``, pure) and writes the
changes of the whole chunk with a handful of statements (``rehab.alert_sync``), the notifications
of new high/critical alerts as Delivery rows (an outbox) that ``rehab.notify`` sends after commit.
``evaluate_episode`` is the same for one episode. The number of queries depends on neither the
chunk's size nor the length of its diaries.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import Patient
from rehab import rules
from rehab.alert_diff import diff_alerts
from rehab.alert_sync import EpisodeChanges, diff_inputs, read_live_alerts, write_alert_changes
from rehab.bulk import any_of, cyclic_gc_paused
from rehab.models import ClinicRuleSettings, Episode, EpisodeEvaluation, EpisodeStatus
from rehab.read_model import (
    EPISODE_COLUMNS,
    NO_URGENCY,
    EpisodeColumns,
    drop_evaluations,
    episode_columns,
    evaluation_row,
    store_evaluations,
    unresolved_alert_ranks,
)
from rehab.rule_inputs import (
    load_episode_data,
    read_rule_inputs,
)

logger = logging.getLogger(__name__)


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
    suppressed: list[int] = field(default_factory=list)  # resolved by hand, finding still found
    lifted: list[int] = field(default_factory=list)  # suppressions ended: finding gone
    deliveries: list[int] = field(default_factory=list)


@dataclass
class BulkEvaluation:
    """What ``evaluate_episodes_bulk`` did, episode by episode."""

    # (outcome, the date it was evaluated as of) for every episode found; an episode no longer
    # active has evaluated=False and no date.
    outcomes: list[tuple[EvaluationOutcome, dt.date | None]] = field(default_factory=list)
    missing: list[int] = field(default_factory=list)  # no such episode (deleted since)


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
        # Each episode of the chunk, read under its lock, with its pending request (if any).
        by_id: dict[int, tuple[EpisodeColumns, dt.datetime | None]] = {}
        for values in (
            Episode.objects.select_for_update(of=("self",))
            .filter(any_of("pk", episode_ids))
            .order_by("pk")
            .values("evaluation_requested_at", *EPISODE_COLUMNS)
        ):
            columns = episode_columns(values)
            by_id[columns.rule_columns.id] = (columns, values["evaluation_requested_at"])
        result.missing = [pk for pk in episode_ids if pk not in by_id]
        todays: dict[str, dt.date] = {}
        active: list[EpisodeColumns] = []
        left_trial: list[int] = []
        dates: dict[int, dt.date] = {}
        clear_request: list[int] = []
        for pk in episode_ids:
            found = by_id.pop(pk, None)  # pop: an id listed twice is evaluated once
            if found is None:
                continue
            row, requested_at = found
            if requested_at is not None:
                # Under the row lock the request we see is the latest: nobody can ask again
                # until we commit, so clearing it cannot lose a newer one.
                clear_request.append(pk)
            if row.rule_columns.status != EpisodeStatus.ACTIVE:
                # Referred or closed episodes are out of the trial: nothing to watch any more.
                result.outcomes.append((EvaluationOutcome(episode_id=pk, evaluated=False), None))
                left_trial.append(pk)
                continue
            if as_of is not None:
                dates[pk] = as_of
            else:
                if row.time_zone not in todays:
                    todays[row.time_zone] = Patient(timezone=row.time_zone).local_today()
                dates[pk] = todays[row.time_zone]
            active.append(row)

        if active:
            result.outcomes += _evaluate_and_sync(active, dates, now)
        if clear_request:
            Episode.objects.filter(any_of("pk", clear_request)).update(evaluation_requested_at=None)
        drop_evaluations(left_trial)
    return result


def _evaluate_and_sync(
    active: list[EpisodeColumns], dates: dict[int, dt.date], now: dt.datetime
) -> list[tuple[EvaluationOutcome, dt.date | None]]:
    """Run the rules on each locked active episode and make its alerts agree with the findings."""
    ids = [row.rule_columns.id for row in active]
    inputs = read_rule_inputs(ids, until=max(dates.values()))
    thresholds = thresholds_for_clinics(row.clinic_id for row in active)
    recorded = {clinic_id: t.as_dict() for clinic_id, t in thresholds.items()}
    live = read_live_alerts(ids)
    outcomes: list[tuple[EvaluationOutcome, dt.date | None]] = []
    changes: list[EpisodeChanges] = []
    stored: list[EpisodeEvaluation] = []
    for row in active:
        episode_id = row.rule_columns.id
        as_of = dates[episode_id]
        data = inputs.episode_data(row.rule_columns)
        evaluation = rules.evaluate(data, thresholds[row.clinic_id], as_of)
        # The caseload's read model (rehab.read_model): this evaluation, as the list shows it.
        stored.append(
            evaluation_row(
                episode=row,
                evaluation=evaluation,
                data=data,
                as_of=as_of,
                now=now,
                alerts_synced=True,
                alert_rank=NO_URGENCY,  # set below, once the alerts are written
            )
        )
        outcomes.append(
            (
                EvaluationOutcome(
                    episode_id=episode_id,
                    evaluated=True,
                    recommendation=evaluation.recommendation,
                ),
                as_of,
            )
        )
        unresolved, suppressed = diff_inputs(live.get(episode_id, {}).values())
        changes.append(
            EpisodeChanges(
                episode_id=episode_id,
                changes=diff_alerts(
                    live=unresolved,
                    suppressed=suppressed,
                    findings=evaluation.findings,
                    as_of=as_of,
                ),
                ruleset=evaluation.ruleset,
                thresholds=recorded[row.clinic_id],
            )
        )
    written = write_alert_changes(changes, live, now)
    ranks = unresolved_alert_ranks(ids)
    for row_stored in stored:
        row_stored.set_alert_rank(ranks.get(row_stored.episode_id, NO_URGENCY))
    store_evaluations(stored, batch=True)
    for outcome, _ in outcomes:
        done = written[outcome.episode_id]
        outcome.raised = done.raised
        outcome.updated = done.refreshed
        outcome.reopened = done.reopened
        outcome.resolved = done.resolved
        outcome.suppressed = done.suppressed
        outcome.lifted = done.lifted
        outcome.deliveries = done.deliveries
    return outcomes


def episodes_due_for_evaluation() -> QuerySet[Episode]:
    """Active episodes: the ones the nightly job evaluates."""
    return Episode.objects.filter(status=EpisodeStatus.ACTIVE).order_by("pk")
