"""The course of an episode as plain series, ready to draw: pure Python, no Django.

Every picture of an episode (the Plotly charts on the episode page, the caseload sparkline, the
patient's phone chart, the charts in the referral PDF) is drawn from one ``CourseSeries``, so they
always agree with each other and with the clinical rules they illustrate.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from rehab import rules

WINDOW_DAYS = 7


@dataclass(frozen=True, slots=True)
class PainPoint:
    date: dt.date
    day: int  # trial day, day 1 = start date
    activity: int
    rest: int | None
    # Mean activity pain over the 7 days ending here, when that window is usable (the same
    # "at least min_entries_per_week entries" rule as the current pain of the clinical rules).
    mean_7d: float | None


@dataclass(frozen=True, slots=True)
class RomPoint:
    date: dt.date
    day: int
    affected: float | None
    unaffected: float | None


@dataclass(frozen=True, slots=True)
class WeekAdherence:
    week: int  # trial week, week 1 = days 1-7
    start: dt.date
    end: dt.date
    sets_done: int
    sets_prescribed: int

    @property
    def percent(self) -> float | None:
        if not self.sets_prescribed:
            return None
        return round(self.sets_done * 100 / self.sets_prescribed, 1)


@dataclass(frozen=True, slots=True)
class InterventionSpan:
    kind: str
    start: dt.date
    end: dt.date | None  # None: still going on as of the series' date (or a single-day event)


@dataclass(frozen=True, slots=True)
class CourseSeries:
    start_date: dt.date
    as_of: dt.date
    pain: tuple[PainPoint, ...]
    rom: tuple[RomPoint, ...]
    adherence: tuple[WeekAdherence, ...]
    interventions: tuple[InterventionSpan, ...]
    baseline: float | None
    # Activity pain at or below which the change from baseline is clinically important (MCID).
    mcid_target: float | None
    review_date: dt.date
    overdue_date: dt.date
    adherence_min_percent: float
    rom_reference: float | None

    def trial_day(self, date: dt.date) -> int:
        return (date - self.start_date).days + 1


def mcid_target(baseline: float | None, thresholds: rules.Thresholds) -> float | None:
    """The highest current pain that would meet the MCID from ``baseline`` (None if none can).

    Above ``low_baseline_max`` both the point and the percentage rule apply, so the larger drop
    wins; at or below it, the percentage alone.
    """
    if baseline is None or baseline <= 0:
        return None
    percent_drop = baseline * thresholds.mcid_percent / 100
    drop = (
        percent_drop
        if baseline <= thresholds.low_baseline_max
        else max(thresholds.mcid_points, percent_drop)
    )
    target = baseline - drop
    return round(target, 2) if target >= 0 else None


def course_series(
    episode: rules.EpisodeData,
    thresholds: rules.Thresholds,
    as_of: dt.date,
    *,
    baseline: float | None,
    rom_reference: float | None = None,
) -> CourseSeries:
    """Lay out the episode's data up to ``as_of`` for drawing.

    ``baseline`` and ``rom_reference`` come from the rules' metrics (``Evaluation.metrics``) so
    the lines drawn are the numbers the findings used.
    """
    start = episode.start_date
    entries = sorted((e for e in episode.entries if start <= e.date <= as_of), key=lambda e: e.date)
    by_date = {e.date: e for e in entries}

    pain: list[PainPoint] = []
    for entry in entries:
        window = [
            by_date[d].pain_activity
            for d in (entry.date - dt.timedelta(days=k) for k in range(WINDOW_DAYS))
            if d in by_date
        ]
        mean = (
            round(sum(window) / len(window), 2)
            if len(window) >= thresholds.min_entries_per_week
            else None
        )
        pain.append(
            PainPoint(
                date=entry.date,
                day=(entry.date - start).days + 1,
                activity=entry.pain_activity,
                rest=entry.pain_rest,
                mean_7d=mean,
            )
        )

    rom = tuple(
        RomPoint(
            date=e.date,
            day=(e.date - start).days + 1,
            affected=e.pf_rom_affected,
            unaffected=e.pf_rom_unaffected,
        )
        for e in entries
        if e.pf_rom_affected is not None or e.pf_rom_unaffected is not None
    )

    weeks: dict[int, list[int]] = {}
    for entry in entries:
        week = (entry.date - start).days // WINDOW_DAYS + 1
        done, prescribed = weeks.setdefault(week, [0, 0])
        for prescription in episode.prescriptions:
            if prescription.start_date <= entry.date and (
                prescription.end_date is None or entry.date <= prescription.end_date
            ):
                prescribed += prescription.sets
                done += min(entry.sets_done.get(prescription.id, 0), prescription.sets)
        weeks[week] = [done, prescribed]
    adherence = tuple(
        WeekAdherence(
            week=week,
            start=start + dt.timedelta(days=(week - 1) * WINDOW_DAYS),
            end=start + dt.timedelta(days=week * WINDOW_DAYS - 1),
            sets_done=done,
            sets_prescribed=prescribed,
        )
        for week, (done, prescribed) in sorted(weeks.items())
    )

    interventions = tuple(
        InterventionSpan(
            kind=i.kind,
            start=i.start_date,
            end=min(i.end_date, as_of) if i.end_date is not None else None,
        )
        for i in sorted(episode.interventions, key=lambda i: i.start_date)
        if i.start_date <= as_of
    )

    return CourseSeries(
        start_date=start,
        as_of=as_of,
        pain=tuple(pain),
        rom=rom,
        adherence=adherence,
        interventions=interventions,
        baseline=baseline,
        mcid_target=mcid_target(baseline, thresholds),
        review_date=start + dt.timedelta(days=thresholds.review_day - 1),
        overdue_date=start + dt.timedelta(days=thresholds.overdue_day - 1),
        adherence_min_percent=float(thresholds.adherence_min_percent),
        rom_reference=rom_reference,
    )
