"""The course of an episode as plain series, ready to draw: pure Python, no Django.

Every picture of an episode (the Plotly charts on the episode page, the caseload sparkline, the
patient's phone chart, the charts in the referral PDF) is drawn from one ``CourseSeries``, so they
always agree with each other and with the clinical rules they illustrate.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from rehab import rules
from rehab.dates import WINDOW_YEARS, shift_days, shift_years
from rehab.models import InterventionKind

_KIND_LABELS = dict(InterventionKind.choices)

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
    # What could not be drawn as recorded: dates outside the drawable window (rows stored
    # before the services bounded them), said in words under the charts.
    notes: tuple[str, ...] = ()
    # The rules' current activity pain (mean of the last 7 days to as_of) and its change from
    # the baseline (baseline minus current), so that the captions state the page's figures.
    pain_current: float | None = None
    pain_change: float | None = None
    # Whether anything was ever prescribed: "nothing prescribed" is said only then.
    has_prescriptions: bool = False

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
    pain_current: float | None = None,
    pain_change: float | None = None,
) -> CourseSeries:
    """Lay out the episode's data up to ``as_of`` for drawing.

    ``baseline``, ``rom_reference``, ``pain_current`` and ``pain_change`` come from the rules'
    metrics (``Evaluation.metrics``) so the lines drawn and the captions are the numbers the
    findings and the page use.
    """
    start = episode.start_date
    notes: list[str] = []
    # Nothing is drawn more than WINDOW_YEARS past the start, the window every stored clinical
    # date keeps to (rehab.dates): a trial's course fits in it, and a start decades back (stored
    # before the rule) cannot make a chart of thousands of weeks.
    drawn_until = shift_years(start, WINDOW_YEARS)
    if as_of > drawn_until:
        notes.append(
            f"The charts stop at {drawn_until.isoformat()}, {WINDOW_YEARS} years after the "
            "episode's start; anything later is not drawn."
        )
        as_of = drawn_until
    entries = sorted((e for e in episode.entries if start <= e.date <= as_of), key=lambda e: e.date)
    by_date = {e.date: e for e in entries}

    pain: list[PainPoint] = []
    for entry in entries:
        # By ordinal, so that an entry near the calendar's first day cannot overflow.
        last = entry.date.toordinal()
        window = [
            by_date[d].pain_activity
            for d in map(dt.date.fromordinal, range(max(1, last - WINDOW_DAYS + 1), last + 1))
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
            affected=None if e.pf_rom_affected is None else float(e.pf_rom_affected),
            unaffected=None if e.pf_rom_unaffected is None else float(e.pf_rom_unaffected),
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
            start=shift_days(start, (week - 1) * WINDOW_DAYS),
            end=shift_days(start, week * WINDOW_DAYS - 1),
            sets_done=done,
            sets_prescribed=prescribed,
        )
        for week, (done, prescribed) in sorted(weeks.items())
    )

    interventions, intervention_notes = _drawable_interventions(episode, as_of)

    return CourseSeries(
        start_date=start,
        as_of=as_of,
        pain=tuple(pain),
        rom=rom,
        adherence=adherence,
        interventions=interventions,
        baseline=baseline,
        mcid_target=mcid_target(baseline, thresholds),
        review_date=shift_days(start, thresholds.review_day - 1),
        overdue_date=shift_days(start, thresholds.overdue_day - 1),
        adherence_min_percent=float(thresholds.adherence_min_percent),
        rom_reference=rom_reference,
        notes=(*notes, *intervention_notes),
        pain_current=pain_current,
        pain_change=pain_change,
        has_prescriptions=bool(episode.prescriptions),
    )


def _drawable_interventions(
    episode: rules.EpisodeData, as_of: dt.date
) -> tuple[tuple[InterventionSpan, ...], tuple[str, ...]]:
    """The interventions to draw up to ``as_of``, and a note for each not drawn as recorded.

    The services keep an intervention within ``WINDOW_YEARS`` of the episode's start
    (``rehab.dates``); one stored outside it (before that rule, or straight into the table) is
    cut at the window's first day, so no chart or PDF computes with dates far off its axis.
    """
    first = shift_years(episode.start_date, -WINDOW_YEARS)
    spans: list[InterventionSpan] = []
    notes: list[str] = []
    for i in sorted(episode.interventions, key=lambda i: i.start_date):
        if i.start_date > as_of:
            continue
        end = min(i.end_date, as_of) if i.end_date is not None else None
        if end is not None and end < first:
            notes.append(f"{_recorded(i)} lies outside the charts and is not drawn.")
            continue
        if i.start_date < first:
            notes.append(f"{_recorded(i)} is drawn from {first.isoformat()} only.")
        spans.append(InterventionSpan(kind=i.kind, start=max(i.start_date, first), end=end))
    return tuple(spans), tuple(notes)


def _recorded(intervention: rules.InterventionData) -> str:
    # The clinic's own word for the kind ("NSAID", not "Nsaid"); dates by isoformat(), which
    # pads the year (strftime("%Y") writes the year 1 as "1", and such dates are why a note exists).
    kind = _KIND_LABELS.get(intervention.kind, intervention.kind)
    if intervention.end_date is None:
        return f"{kind} recorded from {intervention.start_date.isoformat()}"
    return (
        f"{kind} recorded from {intervention.start_date.isoformat()} "
        f"to {intervention.end_date.isoformat()}"
    )
