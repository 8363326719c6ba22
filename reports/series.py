"""The course of an episode as plain series, ready to draw: pure Python, no Django.

Every picture of an episode (the Plotly charts on the episode page, the caseload sparkline, the
patient's phone chart, the charts in the referral PDF) is drawn from one ``CourseSeries``, so they
always agree with each other and with the clinical rules they illustrate.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from fractions import Fraction

from rehab import rules
from rehab.dates import WINDOW_YEARS, shift_days, shift_years
from rehab.function_scores import ADL, BASELINE_DAYS, FAAM, PSFS, SPORTS, round_score
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
class FunctionPoint:
    """One questionnaire response's scores (FAAM or PSFS), as the rules read it."""

    date: dt.date
    day: int
    instrument: str  # "faam" or "psfs"
    faam_adl: float | None = None
    faam_sports: float | None = None
    psfs: float | None = None


@dataclass(frozen=True, slots=True)
class FunctionSeries:
    """The function questionnaires of a course: every response, the rules' baseline and current
    score of each measure, and the clinic's MCIDs (clinical-rules.md, "Function")."""

    points: tuple[FunctionPoint, ...]
    faam_adl_baseline: float | None
    faam_adl_current: float | None
    faam_sports_baseline: float | None
    faam_sports_current: float | None
    psfs_baseline: float | None
    psfs_current: float | None
    faam_adl_mcid: float
    faam_sports_mcid: float
    psfs_mcid: float
    # Current minus baseline of each measure, from the exact scores as the finding takes it
    # (``function_changes``): 3.125 reads "+3.1" here and in the finding, although the two
    # rounded scores (28.1, 31.3) differ by 3.2.
    faam_adl_change: float | None = None
    faam_sports_change: float | None = None
    psfs_change: float | None = None

    @property
    def faam(self) -> tuple[FunctionPoint, ...]:
        return tuple(p for p in self.points if p.instrument == FAAM)

    @property
    def psfs(self) -> tuple[FunctionPoint, ...]:
        return tuple(p for p in self.points if p.instrument == PSFS)

    def anchors(self, attr: str) -> tuple[FunctionPoint | None, FunctionPoint | None]:
        """The responses the rules take as baseline and current of one score (``"faam_adl"``,
        ``"faam_sports"``, ``"psfs"``; clinical-rules.md, "Metrics"): the first valid score
        within trial days 1–7, else the first valid score; the latest valid one after it."""
        valid = [p for p in self.points if getattr(p, attr) is not None]
        baseline = next((p for p in valid if 1 <= p.day <= 7), valid[0] if valid else None)
        later = [p for p in valid if baseline is not None and p.date > baseline.date]
        return baseline, later[-1] if later else None

    @property
    def known(self) -> bool:
        """Whether any score has a baseline."""
        return any(
            v is not None
            for v in (self.faam_adl_baseline, self.faam_sports_baseline, self.psfs_baseline)
        )

    @property
    def judged_subscale(self) -> str | None:
        """The FAAM subscale ``FUNCTION_NOT_IMPROVING`` judges: Sports when its baseline and
        current are known, else ADL when those are; before a follow-up, the one with a
        baseline (Sports first). None without any FAAM baseline."""
        if self.faam_sports_baseline is not None and self.faam_sports_current is not None:
            return SPORTS
        if self.faam_adl_baseline is not None and self.faam_adl_current is not None:
            return ADL
        if self.faam_sports_baseline is not None:
            return SPORTS
        if self.faam_adl_baseline is not None:
            return ADL
        return None

    def faam_target(self, subscale: str) -> float | None:
        """The score at or above which the change from the baseline is clinically important."""
        baseline = self.faam_sports_baseline if subscale == SPORTS else self.faam_adl_baseline
        mcid = self.faam_sports_mcid if subscale == SPORTS else self.faam_adl_mcid
        return None if baseline is None else round(baseline + mcid, 2)

    @property
    def psfs_target(self) -> float | None:
        return None if self.psfs_baseline is None else round(self.psfs_baseline + self.psfs_mcid, 2)


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
    # The FAAM and PSFS responses with the rules' baselines (None: not asked for, as on the
    # patient's phone chart).
    function: FunctionSeries | None = None

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
    metrics: rules.Metrics | None = None,
) -> CourseSeries:
    """Lay out the episode's data up to ``as_of`` for drawing.

    ``baseline``, ``rom_reference``, ``pain_current`` and ``pain_change`` come from the rules'
    metrics (``Evaluation.metrics``) so the lines drawn and the captions are the numbers the
    findings and the page use. With ``metrics`` (the same evaluation's), the series carries the
    function questionnaires too (``CourseSeries.function``).
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
        function=(
            function_series(episode, thresholds, as_of, metrics) if metrics is not None else None
        ),
    )


def function_series(
    episode: rules.EpisodeData,
    thresholds: rules.Thresholds,
    as_of: dt.date,
    metrics: rules.Metrics,
) -> FunctionSeries:
    """The questionnaire responses dated from the start to ``as_of``, with the rules' figures."""
    start = episode.start_date
    points = tuple(
        FunctionPoint(
            date=q.date,
            day=(q.date - start).days + 1,
            instrument=q.instrument,
            # Drawn to 0.1, as the page and the report state them (the rules keep the exact).
            faam_adl=_drawn(q.faam_adl),
            faam_sports=_drawn(q.faam_sports),
            psfs=_drawn(q.psfs),
        )
        for q in sorted(episode.questionnaires, key=lambda q: (q.date, q.instrument))
        if start <= q.date <= as_of
    )
    return FunctionSeries(
        points=points,
        faam_adl_baseline=metrics.faam_adl_baseline,
        faam_adl_current=metrics.faam_adl_current,
        faam_sports_baseline=metrics.faam_sports_baseline,
        faam_sports_current=metrics.faam_sports_current,
        psfs_baseline=metrics.psfs_baseline,
        psfs_current=metrics.psfs_current,
        faam_adl_mcid=float(thresholds.faam_adl_mcid),
        faam_sports_mcid=float(thresholds.faam_sports_mcid),
        psfs_mcid=float(thresholds.psfs_mcid),
        **{
            f"{measure}_change": change
            for measure, change in function_changes(episode, thresholds, as_of).items()
        },
    )


MEASURES = ("faam_adl", "faam_sports", "psfs")


def function_changes(
    episode: rules.EpisodeData, thresholds: rules.Thresholds, as_of: dt.date
) -> dict[str, float | None]:
    """Current minus baseline of FAAM ADL, FAAM Sports and PSFS, by measure, None where either
    is unknown: from the exact scores, with the rules' choice of baseline and current (the first
    valid score within trial days 1–7, else the first; the latest valid one after it, up to
    ``as_of``), rounded to 0.1. A change short of the clinic's MCID is never shown as reaching
    it (8.96 of 9 reads 8.9), as in the finding's sentence."""
    start = episode.start_date
    week1_last = shift_days(start, BASELINE_DAYS - 1)
    responses = sorted(
        (q for q in episode.questionnaires if start <= q.date <= as_of), key=lambda q: q.date
    )
    changes: dict[str, float | None] = {}
    for measure in MEASURES:
        valid = [(q.date, _exact(v)) for q in responses if (v := getattr(q, measure)) is not None]
        in_week1 = [s for s in valid if s[0] <= week1_last]
        baseline = in_week1[0] if in_week1 else valid[0] if valid else None
        later = [s for s in valid if baseline is not None and s[0] > baseline[0]]
        if baseline is None or not later:
            changes[measure] = None
            continue
        change = later[-1][1] - baseline[1]
        mcid = _exact(getattr(thresholds, f"{measure}_mcid"))
        shown = Fraction(repr(round_score(change)))
        if change < mcid <= shown:
            shown = Fraction(math.floor(change * 10), 10)
        changes[measure] = float(shown)
    return changes


def _exact(value: Fraction | float | int) -> Fraction:
    return Fraction(repr(value)) if isinstance(value, float) else Fraction(value)


def _drawn(score: Fraction | float | None) -> float | None:
    return None if score is None else round_score(score)


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
