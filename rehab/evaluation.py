"""From database rows to the pure rules and back: progress (read-only) and evaluation (writes).

``episode_progress`` answers "where does this episode stand as of a date" without changing
anything. ``evaluate_episode`` runs the same rules and then makes the Alert rows agree with the
findings, in one transaction, writing the notifications of new high/critical alerts as Delivery
rows (an outbox) that ``rehab.notify`` sends after commit.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from rehab import rules
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
from rehab.notify.outbox import alert_notifications_write

logger = logging.getLogger(__name__)

NOTIFYING_SEVERITIES = frozenset({rules.HIGH, rules.CRITICAL})


# --- Thresholds --------------------------------------------------------------------------------


def thresholds_for_clinic(clinic_id: int | None) -> rules.Thresholds:
    """The thresholds in force for a clinic: the spec's defaults with the clinic's overrides."""
    if clinic_id is None:
        return rules.Thresholds()
    overrides = (
        ClinicRuleSettings.objects.filter(clinic_id=clinic_id)
        .values_list("overrides", flat=True)
        .first()
    )
    return rules.Thresholds.from_mapping(overrides or {})


# --- Loading -----------------------------------------------------------------------------------


def episode_data_from_rows(
    episode: Episode,
    *,
    entries: Iterable[DailyEntry],
    sets_done: dict[int, dict[int, int]],
    prescriptions: Iterable[Prescription],
    interventions: Iterable[Intervention],
) -> rules.EpisodeData:
    """Plain data for the rules. ``sets_done`` maps entry id -> {prescription id: sets}."""
    return rules.EpisodeData(
        start_date=episode.start_date,
        status=episode.status,
        has_referral=episode.referral_date is not None,
        intake_pain_activity=episode.intake_pain_activity,
        intake_pf_rom_affected=episode.intake_pf_rom_affected,
        intake_pf_rom_unaffected=episode.intake_pf_rom_unaffected,
        bmi=float(episode.bmi) if episode.bmi is not None else None,
        entries=tuple(
            rules.EntryData(
                date=e.date,
                pain_activity=e.pain_activity,
                pain_rest=e.pain_rest,
                pf_rom_affected=e.pf_rom_affected,
                pf_rom_unaffected=e.pf_rom_unaffected,
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


def load_episode_data(episode: Episode, *, as_of: dt.date) -> rules.EpisodeData:
    """Read one episode's data in four queries, whatever its length.

    Rows dated after ``as_of`` are not even read: they never count.
    """
    entries = list(
        DailyEntry.objects.filter(episode=episode, date__lte=as_of).only(
            "id", "date", "pain_activity", "pain_rest", "pf_rom_affected", "pf_rom_unaffected"
        )
    )
    sets_done: dict[int, dict[int, int]] = defaultdict(dict)
    for entry_id, prescription_id, sets in ExerciseLog.objects.filter(
        entry__episode=episode, entry__date__lte=as_of
    ).values_list("entry_id", "prescription_id", "sets_completed"):
        sets_done[entry_id][prescription_id] = sets
    prescriptions = list(Prescription.objects.filter(episode=episode, start_date__lte=as_of))
    interventions = list(Intervention.objects.filter(episode=episode, start_date__lte=as_of))
    return episode_data_from_rows(
        episode,
        entries=entries,
        sets_done=sets_done,
        prescriptions=prescriptions,
        interventions=interventions,
    )


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


def evaluate_episode(*, episode_id: int, as_of: dt.date) -> EvaluationOutcome:
    """Evaluate an active episode and make its alerts agree with the findings.

    Idempotent: evaluating again with the same data and date changes nothing and notifies
    nobody. Concurrent evaluations of one episode (two beat processes, a retried task) are
    serialised by locking the episode row, and the database's partial unique constraint
    guarantees one unresolved alert per (episode, code) even if the lock were bypassed.
    """
    with transaction.atomic():
        episode = (
            Episode.objects.select_for_update(of=("self",))
            .select_related("patient__user")
            .filter(pk=episode_id)
            .first()
        )
        if episode is None or episode.status != EpisodeStatus.ACTIVE:
            # Referred or closed episodes are out of the trial: nothing to watch any more.
            if episode is not None:
                Episode.objects.filter(pk=episode.pk).update(evaluation_requested_at=None)
            return EvaluationOutcome(episode_id=episode_id, evaluated=False)
        requested_at = episode.evaluation_requested_at
        thresholds = thresholds_for_clinic(episode.patient.user.clinic_id)
        evaluation = rules.evaluate(load_episode_data(episode, as_of=as_of), thresholds, as_of)
        outcome = _sync_alerts(episode, evaluation, thresholds, as_of)
        outcome.recommendation = evaluation.recommendation
        if requested_at is not None:
            # Only clear the request this evaluation saw: an entry saved meanwhile asks again.
            Episode.objects.filter(pk=episode.pk, evaluation_requested_at=requested_at).update(
                evaluation_requested_at=None
            )
    return outcome


def _sync_alerts(
    episode: Episode,
    evaluation: rules.Evaluation,
    thresholds: rules.Thresholds,
    as_of: dt.date,
) -> EvaluationOutcome:
    now = timezone.now()
    outcome = EvaluationOutcome(episode_id=episode.pk, evaluated=True)
    live: dict[str, Alert] = {
        alert.code: alert
        for alert in Alert.objects.select_for_update()
        .filter(episode=episode)
        .exclude(status=AlertStatus.RESOLVED)
    }
    notify: list[tuple[Alert, str]] = []
    for finding in evaluation.findings:
        if not finding.is_alert:
            continue
        alert = live.pop(finding.code, None)
        if alert is None:
            alert = Alert.objects.create(
                episode=episode,
                code=finding.code,
                severity=finding.severity,
                message=finding.message,
                evidence=finding.evidence,
                ruleset=evaluation.ruleset,
                thresholds=thresholds.as_dict(),
                first_found_on=as_of,
                last_found_on=as_of,
                created_at=now,
                updated_at=now,
            )
            outcome.raised.append(alert.pk)
            if finding.severity in NOTIFYING_SEVERITIES:
                notify.append((alert, "alert.raised"))
            continue
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
        fields = ["severity", "message", "evidence", "last_found_on", "updated_at"]
        if reopen:
            # The snooze has ended and the condition still holds: the alert comes back.
            alert.status = AlertStatus.OPEN
            alert.snoozed_until = None
            fields += ["status", "snoozed_until"]
            outcome.reopened.append(alert.pk)
            if finding.severity in NOTIFYING_SEVERITIES:
                notify.append((alert, "alert.reopened"))
        else:
            outcome.updated.append(alert.pk)
        alert.save(update_fields=fields)

    for alert in live.values():
        alert.status = AlertStatus.RESOLVED
        alert.resolved_at = now
        alert.resolution_reason = (
            f"Resolved automatically: no longer found when evaluated as of {as_of:%Y-%m-%d}."
        )
        alert.updated_at = now
        alert.save(update_fields=["status", "resolved_at", "resolution_reason", "updated_at"])
        outcome.resolved.append(alert.pk)

    for alert, event in notify:
        outcome.deliveries += alert_notifications_write(alert=alert, event_type=event)
    return outcome


def episodes_due_for_evaluation() -> QuerySet[Episode]:
    """Active episodes: the ones the nightly job evaluates."""
    return Episode.objects.filter(status=EpisodeStatus.ACTIVE).order_by("pk")
