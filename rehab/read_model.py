"""The read model of pages that list many episodes: one stored evaluation per episode.

Running the rules is cheap for one episode and expensive for a clinic: a caseload of 10,000
patients would evaluate 10,000 diaries on every view. Instead every evaluation stores its
result in ``EpisodeEvaluation`` (``store_evaluations``), and the caseload filters, sorts and
pages those rows in SQL (``reports.caseload``).

A stored row is *fresh* while both hold:

- the patient's today is still the date it was computed as of: the row keeps the span of time
  that date is the patient's today (``fresh_from`` to ``fresh_until``, their local midnights);
- nothing it read has changed since: every write of the rules' inputs asks for an evaluation
  (``Episode.evaluation_requested_at``), and the clinic's thresholds and the ruleset are those
  it was computed with.

The hourly job (``episodes_past_local_midnight``) re-evaluates each episode soon after its
patient's local midnight, with alerts; an entry's evaluation follows within seconds. Whatever is
still stale when a page is read (a brand-new episode, an evaluation still queued, a threshold
change still being applied) is computed by ``refresh_stale_evaluations`` before the page is
drawn, so a page never shows a stale row: usually that is nothing or a handful of rows.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import F, Q, QuerySet
from django.utils import timezone

from rehab import rules
from rehab.bulk import cyclic_gc_paused, upsert_rows
from rehab.models import Alert, AlertStatus, Episode, EpisodeEvaluation, EpisodeStatus
from rehab.rule_inputs import EPISODE_RULE_FIELDS, EpisodeRow, episode_row, read_rule_inputs

# Most urgent first. A row's rank is the index of its worst alerting finding's severity here,
# NO_URGENCY when it has none: SQL sorts on the number.
URGENCY: tuple[str, ...] = (rules.CRITICAL, rules.HIGH, rules.WARNING)
NO_URGENCY = len(URGENCY)
# The days of activity pain kept for the caseload's sparkline.
RECENT_PAIN_DAYS = 28

_CODE_ORDER = {code: n for n, code in enumerate(rules.FINDING_SEVERITY)}

_STORED_FIELDS = [f.name for f in EpisodeEvaluation._meta.concrete_fields if f.name != "episode"]


def urgency_rank(severity: str | None) -> int:
    """0 for critical, 1 high, 2 warning; NO_URGENCY for anything else (info, none)."""
    return URGENCY.index(severity) if severity in URGENCY else NO_URGENCY


def alert_order(alert: tuple[str, str]) -> tuple[int, int]:
    """(severity, code) pairs most urgent first; within a severity, the spec's order."""
    severity, code = alert
    return urgency_rank(severity), _CODE_ORDER.get(code, len(_CODE_ORDER))


def local_day_span(day: dt.date, time_zone: str) -> tuple[dt.datetime, dt.datetime]:
    """The instants at which ``day`` starts and ends in ``time_zone``: its local midnights."""
    zone = zoneinfo.ZoneInfo(time_zone)
    start = dt.datetime.combine(day, dt.time.min, tzinfo=zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def evaluation_row(
    *,
    episode: EpisodeColumns,
    evaluation: rules.Evaluation,
    data: rules.EpisodeData,
    as_of: dt.date,
    now: dt.datetime,
    alerts_synced: bool,
    alert_rank: int,
) -> EpisodeEvaluation:
    """The stored row of one evaluation (``data`` is what it evaluated; ``alerts_synced``,
    whether the alerts were brought in line with it; ``alert_rank``, the episode's most urgent
    unresolved alert's rank)."""
    metrics = evaluation.metrics
    alerting = sorted(
        ((f.severity, f.code) for f in evaluation.findings if f.is_alert), key=alert_order
    )
    # Entries after the patient's today (another zone's tomorrow) never count.
    own = [e for e in data.entries if e.date <= as_of]
    first_sparkline_day = as_of - dt.timedelta(days=RECENT_PAIN_DAYS - 1)
    subscale, faam_baseline, faam_current = faam_shown(metrics)
    fresh_from, fresh_until = local_day_span(as_of, episode.time_zone)
    row = EpisodeEvaluation(
        episode_id=episode.rule_columns.id,
        as_of=as_of,
        evaluated_at=now,
        fresh_from=fresh_from,
        fresh_until=fresh_until,
        ruleset=evaluation.ruleset,
        alerts_synced=alerts_synced,
        recommendation=evaluation.recommendation,
        trial_day=evaluation.trial_day,
        trial_week=evaluation.trial_week,
        finding_rank=urgency_rank(alerting[0][0]) if alerting else NO_URGENCY,
        sort_name=episode.sort_name,
        alert_findings=[list(pair) for pair in alerting],
        pain_baseline=_number(metrics.pain_baseline),
        pain_current=_number(metrics.pain_current),
        adherence_pct=_number(metrics.adherence_pct),
        has_prescriptions=bool(data.prescriptions),
        last_entry=max((e.date for e in own), default=None),
        entries_last_7_days=metrics.entries_last_7_days,
        faam_subscale=subscale or "",
        faam_baseline=_number(faam_baseline),
        faam_current=_number(faam_current),
        questionnaires_due=list(
            dict.fromkeys(due.instrument for due in evaluation.questionnaires_due)
        ),
        recent_pain=_recent_pain(
            own, first=max(first_sparkline_day, data.start_date), slots_from=first_sparkline_day
        ),
    )
    row.set_alert_rank(alert_rank)
    return row


@dataclass(frozen=True, slots=True)
class EpisodeColumns:
    """An episode as every evaluation reads it: the rules' own columns, and the patient's time
    zone (its today), clinic (its thresholds) and name (the caseload's order)."""

    rule_columns: EpisodeRow
    time_zone: str
    clinic_id: int | None
    sort_name: str


# What to read (``.values(*EPISODE_COLUMNS)``) for ``episode_columns``.
EPISODE_COLUMNS: tuple[str, ...] = (
    *EPISODE_RULE_FIELDS,
    "patient__timezone",
    "patient__user__clinic_id",
    "patient__user__first_name",
    "patient__user__last_name",
    "patient__user__email",
)


def episode_columns(values: Mapping[str, Any]) -> EpisodeColumns:
    """An ``EpisodeColumns`` from a row read with ``.values(*EPISODE_COLUMNS, ...)``."""
    return EpisodeColumns(
        rule_columns=episode_row(values),
        time_zone=values["patient__timezone"],
        clinic_id=values["patient__user__clinic_id"],
        sort_name=sort_name(values),
    )


def sort_name(values: Mapping[str, Any]) -> str:
    """The caseload's alphabetical key from a row read with EPISODE_COLUMNS: the full name (else
    the email), casefolded, as the page's names are worded."""
    first, last, email = (
        values["patient__user__first_name"],
        values["patient__user__last_name"],
        values["patient__user__email"],
    )
    return (f"{first} {last}".strip() or email).casefold()[:320]


def unresolved_alert_ranks(episode_ids: Sequence[int]) -> dict[int, int]:
    """Each episode's most urgent unresolved alert's rank (episodes without one: absent)."""
    ranks: dict[int, int] = {}
    if not episode_ids:
        return ranks
    for episode_id, severity in (
        Alert.objects.filter(episode_id__in=list(episode_ids))
        .exclude(status=AlertStatus.RESOLVED)
        .values_list("episode_id", "severity")
        .order_by()
    ):
        rank = urgency_rank(severity)
        if rank < ranks.get(episode_id, NO_URGENCY):
            ranks[episode_id] = rank
    return ranks


def alerts_changed(*, episode_ids: Sequence[int]) -> None:
    """Bring the stored rows' alert rank and urgency in line after alerts were resolved by hand
    or in bulk (an evaluation does it for its own chunk)."""
    ranks = unresolved_alert_ranks(episode_ids)
    for stored in EpisodeEvaluation.objects.filter(episode_id__in=list(episode_ids)).only(
        "episode_id", "finding_rank", "alert_rank", "urgency"
    ):
        before = (stored.alert_rank, stored.urgency)
        stored.set_alert_rank(ranks.get(stored.episode_id, NO_URGENCY))
        if (stored.alert_rank, stored.urgency) != before:
            stored.save(update_fields=["alert_rank", "urgency"])


def _recent_pain(
    entries: Iterable[rules.EntryData], *, first: dt.date, slots_from: dt.date
) -> list[int | None]:
    """RECENT_PAIN_DAYS slots from ``slots_from``: each day's activity pain from ``first`` on
    (the trial's start, if later), else None. ``entries`` end on the row's as_of."""
    slots: list[int | None] = [None] * RECENT_PAIN_DAYS
    for entry in entries:
        if entry.date >= first:
            slots[(entry.date - slots_from).days] = entry.pain_activity
    return slots


def _number(value: float | None) -> float | None:
    # Metrics may be exact Fractions; the row stores what the page shows, as a float.
    return None if value is None else float(value)


def faam_shown(metrics: rules.Metrics) -> tuple[str | None, float | None, float | None]:
    """The FAAM subscale a caseload row shows, with its baseline and current score: Sports when
    its current score is known, else ADL when that one's is; before any follow-up, the subscale
    with a baseline (Sports first). (None, None, None) before any FAAM."""
    sports = ("sports", metrics.faam_sports_baseline, metrics.faam_sports_current)
    adl = ("adl", metrics.faam_adl_baseline, metrics.faam_adl_current)
    for subscale, baseline, current in (sports, adl):
        if current is not None:
            return subscale, baseline, current
    for subscale, baseline, current in (sports, adl):
        if baseline is not None:
            return subscale, baseline, current
    return None, None, None


def store_evaluations(rows: Sequence[EpisodeEvaluation], *, batch: bool = False) -> None:
    """Insert or replace the stored rows.

    ``batch=True`` is the evaluation jobs' path (a chunk of up to 500 rows, one prepared
    statement pipelined: ``rehab.bulk.upsert_rows``); pages store their few stale rows through
    the ORM.
    """
    if not rows:
        return
    if batch:
        upsert_rows(EpisodeEvaluation, rows, conflict="episode")
        return
    EpisodeEvaluation.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["episode"],
        update_fields=_STORED_FIELDS,
    )


# --- Freshness -----------------------------------------------------------------------------------


def stale_evaluation(now: dt.datetime) -> Q:
    """Episodes whose stored row is missing or out of date at ``now`` (see the module's text)."""
    return (
        Q(current_evaluation__isnull=True)
        | Q(current_evaluation__fresh_from__gt=now)
        | Q(current_evaluation__fresh_until__lte=now)
        | Q(evaluation_requested_at__gt=F("current_evaluation__evaluated_at"))
        | Q(
            patient__user__clinic__rule_settings__updated_at__gt=F(
                "current_evaluation__evaluated_at"
            )
        )
        | ~Q(current_evaluation__ruleset=rules.RULESET_VERSION)
    )


def stale_episodes(episodes: QuerySet[Episode], *, now: dt.datetime) -> QuerySet[Episode]:
    """The active episodes of ``episodes`` whose stored evaluation is not fresh at ``now``."""
    return episodes.filter(status=EpisodeStatus.ACTIVE).filter(stale_evaluation(now))


def episodes_past_local_midnight(*, now: dt.datetime | None = None) -> QuerySet[Episode]:
    """Active episodes whose patient's day has changed since their last evaluation, that were
    never evaluated, or whose row a page computed without alerts: the local-midnight job
    evaluates these, with alerts, as of each patient's today."""
    now = now or timezone.now()
    return (
        Episode.objects.filter(status=EpisodeStatus.ACTIVE)
        .filter(
            Q(current_evaluation__isnull=True)
            | Q(current_evaluation__fresh_until__lte=now)
            | Q(current_evaluation__fresh_from__gt=now)
            | Q(current_evaluation__alerts_synced=False)
        )
        .order_by("pk")
    )


def refresh_stale_evaluations(
    episodes: QuerySet[Episode], *, now: dt.datetime | None = None
) -> int:
    """Compute and store the row of every episode of ``episodes`` whose row is stale; returns
    how many. Rules only: alerts are the evaluation job's (``rehab.evaluation``), which follows.

    Safe to run beside an evaluation of the same episode: both compute from committed data
    and either row is right; the later write wins.
    """
    from rehab.evaluation import thresholds_for_clinics  # evaluation imports this module

    now = now or timezone.now()
    stale = [
        episode_columns(values)
        for values in stale_episodes(episodes, now=now).order_by().values(*EPISODE_COLUMNS)
    ]
    if not stale:
        return 0
    todays: dict[str, dt.date] = {}
    for episode in stale:
        if episode.time_zone not in todays:
            todays[episode.time_zone] = now.astimezone(zoneinfo.ZoneInfo(episode.time_zone)).date()
    ids = [episode.rule_columns.id for episode in stale]
    ranks = unresolved_alert_ranks(ids)
    with cyclic_gc_paused():
        inputs = read_rule_inputs(ids, until=max(todays.values()))
        thresholds = thresholds_for_clinics(episode.clinic_id for episode in stale)
        rows = []
        for episode in stale:
            as_of = todays[episode.time_zone]
            data = inputs.episode_data(episode.rule_columns)
            rows.append(
                evaluation_row(
                    episode=episode,
                    evaluation=rules.evaluate(data, thresholds[episode.clinic_id], as_of),
                    data=data,
                    as_of=as_of,
                    now=now,
                    alerts_synced=False,
                    alert_rank=ranks.get(episode.rule_columns.id, NO_URGENCY),
                )
            )
    store_evaluations(rows)
    return len(rows)


def forget_evaluation(*, episode_id: int) -> None:
    """Drop an episode's stored row after a change the rules read that does not ask for an
    evaluation at once (a new or ended prescription, an intervention): the next page listing
    the episode computes the row again, and the local-midnight job, within 15 minutes,
    evaluates the episode with its alerts."""
    EpisodeEvaluation.objects.filter(episode_id=episode_id).delete()


def drop_evaluations(episode_ids: Iterable[int]) -> None:
    """Forget the stored rows of episodes that left the trial (referred or closed)."""
    ids = list(episode_ids)
    if ids:
        EpisodeEvaluation.objects.filter(episode_id__in=ids).delete()
