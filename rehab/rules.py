"""The clinical rules of the conservative trial, as pure Python.

Plain data in (``EpisodeData``, ``Thresholds``, an ``as_of`` date), an ``Evaluation`` out: the
trial day and week, the metrics, the findings and one recommendation, exactly as the product's
clinical specification describes them (docs/clinical-rules.md explains them for clinicians).
Nothing here touches Django or the database, so the rules can be read, tested and benchmarked on
their own, and the same inputs always give the same output.

Decisions worth knowing before reading the code:

* Comparisons are exact. Pain and range of motion are means of whole numbers, and floating point
  would put a change of exactly 2 points at 1.9999999999999996 (for example 41/7 - 27/7), which
  would silently miss a threshold that the clinician can see is met. So every mean is a
  ``Fraction`` and every threshold is read as the decimal the clinic typed (``Fraction("2.0")``).
  Only the output is rounded: metrics and evidence to 2 decimals (half away from zero), messages
  to 1 decimal for pain and degrees and whole numbers for percentages. A message never shows a
  rounded value that appears to reach a threshold the exact value misses.
* Data outside the trial is ignored: entries dated before the episode's start (the API refuses
  them anyway) or after ``as_of``, prescriptions and immobilizations that start after ``as_of``.
  Before the trial starts (``trial_day <= 0``) the only finding that can fire is BMI_ELEVATED,
  which is a fact about the patient rather than about the trial, and the recommendation follows
  the usual order (so it is ``continue`` unless the episode is referred or closed).
* Where the spec leaves room, we read it so:
  - a baseline of 0 has no percentage change, and never meets the MCID: there is nothing to
    improve on, and the change is 0 or negative anyway;
  - the "day 42" of ROM_DEFICIT is ``review_day`` (the reassessment the deficit supports), the
    "day 8" and "day 7" gates and PAIN_WORSENING's "2 entries in 3 days" are fixed;
  - an episode with a referral recorded is "referred" for the recommendation, even if its status
    still says active; a closed episode is "closed" even if it was referred before;
  - several immobilizations give one finding, about the longest;
  - two entries on one date are a caller's bug (the database forbids them): ValueError.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from fractions import Fraction
from functools import lru_cache
from types import MappingProxyType
from typing import Any, Final, NamedTuple

RULESET_VERSION: Final = "pais-2026.1"

# Severities, mildest first. Warning and above become alerts; info findings are only shown.
INFO: Final = "info"
WARNING: Final = "warning"
HIGH: Final = "high"
CRITICAL: Final = "critical"
SEVERITIES: Final = (INFO, WARNING, HIGH, CRITICAL)
ALERT_SEVERITIES: Final = frozenset({WARNING, HIGH, CRITICAL})

BASELINE_MISSING: Final = "BASELINE_MISSING"
LOGGING_GAP: Final = "LOGGING_GAP"
PAIN_WORSENING: Final = "PAIN_WORSENING"
IMPROVING: Final = "IMPROVING"
RESOLVED: Final = "RESOLVED"
ADHERENCE_LOW: Final = "ADHERENCE_LOW"
REFERRAL_CONSIDER: Final = "REFERRAL_CONSIDER"
REFERRAL_OVERDUE: Final = "REFERRAL_OVERDUE"
ROM_DECLINE: Final = "ROM_DECLINE"
ROM_DEFICIT: Final = "ROM_DEFICIT"
IMMOBILIZATION_PROLONGED: Final = "IMMOBILIZATION_PROLONGED"
BMI_ELEVATED: Final = "BMI_ELEVATED"

# Every finding code with its fixed severity, in the order of the spec's table.
FINDING_SEVERITY: Final[Mapping[str, str]] = {
    BASELINE_MISSING: WARNING,
    LOGGING_GAP: WARNING,
    PAIN_WORSENING: HIGH,
    IMPROVING: INFO,
    RESOLVED: INFO,
    ADHERENCE_LOW: WARNING,
    REFERRAL_CONSIDER: HIGH,
    REFERRAL_OVERDUE: CRITICAL,
    ROM_DECLINE: WARNING,
    ROM_DEFICIT: INFO,
    IMMOBILIZATION_PROLONGED: HIGH,
    BMI_ELEVATED: INFO,
}
REFERRAL_CODES: Final = frozenset({REFERRAL_CONSIDER, REFERRAL_OVERDUE})

# Recommendations in the order they are tried; the first that applies wins.
RECOMMENDATIONS: Final = (
    "referred",
    "closed",
    "refer_now",
    "consider_referral",
    "resolved",
    "insufficient_data",
    "address_adherence",
    "continue",
)

STATUSES: Final = ("active", "referred", "closed")
IMMOBILIZATION: Final = "immobilization"

# PAIN_WORSENING looks at the last 3 days and needs at least 2 entries there; the spec fixes both.
_RECENT_DAYS: Final = 3
_RECENT_MIN_ENTRIES: Final = 2
# Week 1 must be over before baseline, resolution and worsening are judged; logging from day 7.
_AFTER_WEEK_ONE: Final = 8
_FULL_WINDOW_DAY: Final = 7


# --------------------------------------------------------------------------------------------
# Thresholds


# name -> (kind, lowest allowed, highest allowed). Bounds keep a clinic's override clinically
# meaningful (a percentage within 0-100, a pain threshold within the 0-10 scale).
_THRESHOLD_RULES: Final[Mapping[str, tuple[type, float, float]]] = {
    "review_day": (int, 1, 730),
    "overdue_day": (int, 2, 731),
    "min_entries_per_week": (int, 1, 7),
    "mcid_points": (float, 0, 10),
    "mcid_percent": (float, 0, 100),
    "low_baseline_max": (float, 0, 10),
    "resolved_max_pain": (float, 0, 10),
    "worsening_points": (float, 0, 10),
    "adherence_min_percent": (float, 0, 100),
    "adherence_from_day": (int, 1, 730),
    "rom_change_deg": (float, 0, 90),
    "rom_deficit_deg": (float, 0, 90),
    "immobilization_max_days": (int, 1, 365),
    "bmi_flag": (float, 10, 80),
}


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The numbers the rules use; every one is a default a clinic may override.

    Constructing one validates it (``ValueError`` naming the field), so a ``Thresholds`` in hand
    is always usable. Float fields are stored as floats, so ``Thresholds(mcid_percent=30)`` equals
    the default.
    """

    review_day: int = 42
    overdue_day: int = 56
    min_entries_per_week: int = 4
    mcid_points: float = 2.0
    mcid_percent: float = 30.0
    low_baseline_max: float = 4.0
    resolved_max_pain: float = 1.0
    worsening_points: float = 2.0
    adherence_min_percent: float = 80.0
    adherence_from_day: int = 14
    rom_change_deg: float = 10.0
    rom_deficit_deg: float = 10.0
    immobilization_max_days: int = 10
    bmi_flag: float = 30.0

    def __post_init__(self) -> None:
        for name, (kind, low, high) in _THRESHOLD_RULES.items():
            value = getattr(self, name)
            # bool is an int subclass, but "review_day": true is a mistake, not a number.
            if isinstance(value, bool):
                raise ValueError(f"{name}: must be a number, not {value!r}.")
            if kind is int:
                if not isinstance(value, int):
                    raise ValueError(f"{name}: must be a whole number (got {value!r}).")
            else:
                if not isinstance(value, int | float) or not math.isfinite(value):
                    raise ValueError(f"{name}: must be a finite number (got {value!r}).")
                value = float(value)
                object.__setattr__(self, name, value)
            if not low <= value <= high:
                raise ValueError(f"{name}: must be between {low:g} and {high:g} (got {value!r}).")
        if self.overdue_day <= self.review_day:
            raise ValueError(
                f"overdue_day: must be later than review_day ({self.review_day}) "
                f"(got {self.overdue_day})."
            )

    def as_dict(self) -> dict[str, int | float]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> Thresholds:
        """Defaults overridden by ``mapping``; unknown names and bad values raise ValueError."""
        if not isinstance(mapping, Mapping):
            raise ValueError(f"Thresholds must be a mapping (got {type(mapping).__name__}).")
        unknown = sorted(str(key) for key in mapping if key not in _THRESHOLD_RULES)
        if unknown:
            raise ValueError(f"Unknown threshold(s): {', '.join(unknown)}.")
        return cls(**mapping)


@dataclass(frozen=True, slots=True)
class _Exact:
    """The thresholds as exact fractions, computed once per Thresholds value."""

    mcid_points: Fraction
    mcid_percent: Fraction
    low_baseline_max: Fraction
    resolved_max_pain: Fraction
    worsening_points: Fraction
    adherence_min_percent: Fraction
    rom_change_deg: Fraction
    rom_deficit_deg: Fraction


@lru_cache(maxsize=256)
def _exact(thresholds: Thresholds) -> _Exact:
    return _Exact(**{f.name: _fraction(getattr(thresholds, f.name)) for f in fields(_Exact)})


def _fraction(value: Fraction | float) -> Fraction:
    # repr() is the shortest decimal that round-trips, i.e. what the clinic typed: 1.1 -> 11/10,
    # where Fraction(1.1) would be 2476979795053773/2251799813685248.
    if isinstance(value, int | Fraction):
        return Fraction(value)
    return Fraction(repr(float(value)))


# --------------------------------------------------------------------------------------------
# Inputs


# The per-row inputs are named tuples rather than dataclasses: the nightly job builds one per
# diary entry of every active episode (half a million for 10,000 patients), and a tuple is
# several times cheaper to build than a frozen dataclass, while reading just the same.

# The sets of an entry with no exercise logged (shared: it is read-only).
NO_SETS: Final[Mapping[int, int]] = MappingProxyType({})


class EntryData(NamedTuple):
    """One daily entry. ``sets_done`` maps a prescription id to the sets completed that day."""

    date: dt.date
    pain_activity: int
    pain_rest: int | None = None
    pf_rom_affected: Fraction | float | None = None
    pf_rom_unaffected: Fraction | float | None = None
    sets_done: Mapping[int, int] = NO_SETS


class PrescriptionData(NamedTuple):
    """An exercise prescription, active from ``start_date`` to ``end_date`` (open when None)."""

    id: int
    sets: int
    start_date: dt.date
    end_date: dt.date | None = None


class InterventionData(NamedTuple):
    kind: str
    start_date: dt.date
    end_date: dt.date | None = None


@dataclass(frozen=True, slots=True)
class EpisodeData:
    """Everything the rules read about one episode; sequences may be in any order."""

    start_date: dt.date
    status: str = "active"
    has_referral: bool = False
    intake_pain_activity: float | None = None
    intake_pf_rom_affected: Fraction | float | None = None
    intake_pf_rom_unaffected: Fraction | float | None = None
    bmi: float | None = None
    entries: Sequence[EntryData] = ()
    prescriptions: Sequence[PrescriptionData] = ()
    interventions: Sequence[InterventionData] = ()


# --------------------------------------------------------------------------------------------
# Outputs


@dataclass(frozen=True, slots=True)
class Metrics:
    """What the rules measured, rounded to 2 decimals for display; None where unknown."""

    pain_baseline: float | None
    pain_current: float | None
    pain_change: float | None
    pain_change_pct: float | None
    adherence_pct: float | None
    entries_last_7_days: int
    rom_week1: float | None
    rom_current: float | None
    rom_reference: float | None
    rom_deficit: float | None

    def as_dict(self) -> dict[str, float | int | None]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    severity: str
    message: str
    evidence: dict[str, Any]

    @property
    def is_alert(self) -> bool:
        return self.severity in ALERT_SEVERITIES

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "evidence": dict(self.evidence),
        }


@dataclass(frozen=True, slots=True)
class Evaluation:
    trial_day: int
    trial_week: int
    metrics: Metrics
    findings: list[Finding]
    recommendation: str
    ruleset: str = RULESET_VERSION

    @property
    def codes(self) -> frozenset[str]:
        return frozenset(f.code for f in self.findings)

    def finding(self, code: str) -> Finding | None:
        return next((f for f in self.findings if f.code == code), None)

    def as_dict(self) -> dict[str, Any]:
        return {
            "trial_day": self.trial_day,
            "trial_week": self.trial_week,
            "recommendation": self.recommendation,
            "metrics": self.metrics.as_dict(),
            "findings": [f.as_dict() for f in self.findings],
            "ruleset": self.ruleset,
        }


# --------------------------------------------------------------------------------------------
# Evaluation


@dataclass(slots=True)
class _Tally:
    """Sums gathered in the one pass over the entries."""

    week1_entries: int = 0
    week1_pain: int = 0
    week1_rom_count: int = 0
    week1_rom: float = 0
    window_entries: int = 0
    window_pain: int = 0
    window_rom_count: int = 0
    window_rom: float = 0
    recent_entries: int = 0
    recent_pain: int = 0
    reference_rom_count: int = 0
    reference_rom: float = 0
    sets_done: int = 0
    sets_prescribed: int = 0


def evaluate(episode: EpisodeData, thresholds: Thresholds, as_of: dt.date) -> Evaluation:
    """Judge the episode as of ``as_of``; only data dated on or before it counts."""
    if episode.status not in STATUSES:
        raise ValueError(f"status: must be one of {', '.join(STATUSES)} (got {episode.status!r}).")
    exact = _exact(thresholds)
    start = episode.start_date.toordinal()
    today = as_of.toordinal()
    trial_day = today - start + 1
    trial_week = math.ceil(trial_day / 7)

    tally = _tally(episode, start, today)

    # Pain ------------------------------------------------------------------------------------
    baseline: Fraction | None = None
    baseline_source = "unknown"
    if tally.week1_entries >= thresholds.min_entries_per_week:
        baseline = _mean(tally.week1_pain, tally.week1_entries)
        baseline_source = "week1"
    elif episode.intake_pain_activity is not None:
        baseline = _fraction(episode.intake_pain_activity)
        baseline_source = "intake"
    current: Fraction | None = None
    if tally.window_entries >= thresholds.min_entries_per_week:
        current = _mean(tally.window_pain, tally.window_entries)
    change: Fraction | None = None
    change_pct: Fraction | None = None
    if baseline is not None and current is not None:
        change = baseline - current
        if baseline != 0:
            change_pct = change / baseline * 100
    # Nothing to improve on from a baseline of 0 (the change is 0 or negative), so an unknown
    # percentage never counts as an important improvement.
    low_baseline = baseline is not None and baseline <= exact.low_baseline_max
    mcid_met = (
        change is not None
        and change_pct is not None
        and change_pct >= exact.mcid_percent
        and (low_baseline or change >= exact.mcid_points)
    )

    # Adherence -------------------------------------------------------------------------------
    adherence: Fraction | None = None
    if tally.sets_prescribed:
        adherence = Fraction(tally.sets_done * 100, tally.sets_prescribed)
    adherence_ok = adherence is None or adherence >= exact.adherence_min_percent

    # Range of motion -------------------------------------------------------------------------
    rom_week1 = _mean_or(tally.week1_rom, tally.week1_rom_count, episode.intake_pf_rom_affected)
    rom_current = _mean_or(tally.window_rom, tally.window_rom_count, None)
    rom_reference = _mean_or(
        tally.reference_rom, tally.reference_rom_count, episode.intake_pf_rom_unaffected
    )
    rom_deficit = (
        rom_reference - rom_current
        if rom_reference is not None and rom_current is not None
        else None
    )

    metrics = Metrics(
        pain_baseline=_round(baseline),
        pain_current=_round(current),
        pain_change=_round(change),
        pain_change_pct=_round(change_pct),
        adherence_pct=_round(adherence),
        entries_last_7_days=tally.window_entries,
        rom_week1=_round(rom_week1),
        rom_current=_round(rom_current),
        rom_reference=_round(rom_reference),
        rom_deficit=_round(rom_deficit),
    )

    # Findings, in the order of the spec's table ----------------------------------------------
    found: list[Finding] = []
    add = found.append
    window = (as_of - dt.timedelta(days=6)).isoformat(), as_of.isoformat()
    started = trial_day >= 1
    resolved = (
        trial_day >= _AFTER_WEEK_ONE and current is not None and current <= exact.resolved_max_pain
    )

    if trial_day >= _AFTER_WEEK_ONE and baseline is None:
        add(_baseline_missing(trial_day, tally, thresholds))
    if trial_day >= _FULL_WINDOW_DAY and tally.window_entries < thresholds.min_entries_per_week:
        add(_logging_gap(trial_day, tally, thresholds, window))
    if (
        trial_day >= _AFTER_WEEK_ONE
        and baseline is not None
        and tally.recent_entries >= _RECENT_MIN_ENTRIES
    ):
        recent = _mean(tally.recent_pain, tally.recent_entries)
        if recent >= baseline + exact.worsening_points:
            add(_pain_worsening(trial_day, baseline, recent, tally, thresholds, as_of))
    if started and baseline is not None and change is not None and mcid_met and not resolved:
        assert current is not None and change_pct is not None
        add(_improving(trial_day, baseline, current, change, change_pct, low_baseline, thresholds))
    if resolved:
        assert current is not None
        add(_resolved(trial_day, current, tally, thresholds, window))
    if trial_day >= thresholds.adherence_from_day and adherence is not None and not adherence_ok:
        add(_adherence_low(trial_day, adherence, tally, thresholds))
    if (
        trial_day >= thresholds.review_day
        and episode.status == "active"
        and not episode.has_referral
        and baseline is not None
        and current is not None
        and not mcid_met
        and adherence_ok
        and not resolved
    ):
        assert change is not None
        overdue = trial_day >= thresholds.overdue_day
        add(
            _referral(
                overdue=overdue,
                trial_day=trial_day,
                baseline=baseline,
                baseline_source=baseline_source,
                current=current,
                change=change,
                change_pct=change_pct,
                low_baseline=low_baseline,
                adherence=adherence,
                thresholds=thresholds,
            )
        )
    if (
        started
        and rom_week1 is not None
        and rom_current is not None
        and rom_current <= rom_week1 - exact.rom_change_deg
    ):
        add(_rom_decline(trial_day, rom_week1, rom_current, thresholds))
    if (
        trial_day >= thresholds.review_day
        and rom_deficit is not None
        and rom_deficit >= exact.rom_deficit_deg
    ):
        assert rom_reference is not None and rom_current is not None
        add(_rom_deficit(trial_day, rom_reference, rom_current, rom_deficit, tally, thresholds))
    if started:
        immobilization = _longest_immobilization(episode.interventions, as_of)
        if immobilization is not None and immobilization[1] > thresholds.immobilization_max_days:
            add(_immobilization_prolonged(immobilization, as_of, thresholds))
    if episode.bmi is not None and episode.bmi >= thresholds.bmi_flag:
        add(_bmi_elevated(episode.bmi, thresholds))

    # Most severe first; within a severity the spec's order (list.sort is stable).
    found.sort(key=lambda f: -SEVERITIES.index(f.severity))
    return Evaluation(
        trial_day=trial_day,
        trial_week=trial_week,
        metrics=metrics,
        findings=found,
        recommendation=_recommend(episode, {f.code for f in found}),
    )


def _tally(episode: EpisodeData, start: int, today: int) -> _Tally:
    """One pass over the entries (days as ordinals), plus the few prescriptions per entry.

    The sums are kept in local variables and stored once at the end: this loop runs for every
    entry of every active episode each night, and a local is much cheaper to update than an
    attribute.
    """
    week1_last = start + 6
    window_first = today - 6
    recent_first = today - (_RECENT_DAYS - 1)
    # (id, sets, first day, last day) of every prescription that could be active by as_of.
    prescriptions = [
        (
            p.id,
            p.sets,
            p.start_date.toordinal(),
            p.end_date.toordinal() if p.end_date is not None else today,
        )
        for p in episode.prescriptions
        if p.start_date.toordinal() <= today
    ]
    week1_entries = week1_pain = week1_rom_count = 0
    window_entries = window_pain = window_rom_count = 0
    recent_entries = recent_pain = 0
    reference_rom_count = 0
    week1_rom: float = 0
    window_rom: float = 0
    reference_rom: float = 0
    sets_done = sets_prescribed = 0
    seen: set[int] = set()
    for entry in episode.entries:
        day = entry.date.toordinal()
        if day < start or day > today:
            continue
        if day in seen:
            raise ValueError(f"entries: more than one entry dated {entry.date.isoformat()}.")
        seen.add(day)
        pain = entry.pain_activity
        rom = entry.pf_rom_affected
        if day <= week1_last:
            week1_entries += 1
            week1_pain += pain
            if rom is not None:
                week1_rom_count += 1
                week1_rom += rom
        if day >= window_first:
            window_entries += 1
            window_pain += pain
            if rom is not None:
                window_rom_count += 1
                window_rom += rom
            if day >= recent_first:
                recent_entries += 1
                recent_pain += pain
        if entry.pf_rom_unaffected is not None:
            reference_rom_count += 1
            reference_rom += entry.pf_rom_unaffected
        if prescriptions:
            done_that_day = entry.sets_done.get
            for prescription_id, sets, first, last in prescriptions:
                if first <= day <= last:
                    sets_prescribed += sets
                    # Sets beyond the prescription do not make up for another day's shortfall;
                    # an exercise not logged that day counts as 0 sets.
                    done = done_that_day(prescription_id, 0)
                    sets_done += done if done < sets else sets
    return _Tally(
        week1_entries=week1_entries,
        week1_pain=week1_pain,
        week1_rom_count=week1_rom_count,
        week1_rom=week1_rom,
        window_entries=window_entries,
        window_pain=window_pain,
        window_rom_count=window_rom_count,
        window_rom=window_rom,
        recent_entries=recent_entries,
        recent_pain=recent_pain,
        reference_rom_count=reference_rom_count,
        reference_rom=reference_rom,
        sets_done=sets_done,
        sets_prescribed=sets_prescribed,
    )


def _mean(total: float, count: int) -> Fraction:
    # Scores are whole numbers, and Fraction(int, int) is several times cheaper than dividing.
    if type(total) is int:
        return Fraction(total, count)
    return _fraction(total) / count


def _mean_or(total: float, count: int, fallback: Fraction | float | None) -> Fraction | None:
    if count:
        return _mean(total, count)
    if fallback is not None:
        return _fraction(fallback)
    return None


def _longest_immobilization(
    interventions: Sequence[InterventionData], as_of: dt.date
) -> tuple[InterventionData, int] | None:
    """The immobilization started by as_of that has lasted longest (in days, both ends counted)."""
    longest: tuple[InterventionData, int] | None = None
    for intervention in interventions:
        if intervention.kind != IMMOBILIZATION or intervention.start_date > as_of:
            continue
        end = as_of if intervention.end_date is None else min(intervention.end_date, as_of)
        days = (end - intervention.start_date).days + 1
        if longest is None or days > longest[1]:
            longest = (intervention, days)
    return longest


def _recommend(episode: EpisodeData, codes: set[str]) -> str:
    # A recorded referral makes the episode referred even if its status lags behind; a closed
    # episode is closed whatever happened before.
    if episode.status == "closed":
        return "closed"
    if episode.status == "referred" or episode.has_referral:
        return "referred"
    if REFERRAL_OVERDUE in codes:
        return "refer_now"
    if REFERRAL_CONSIDER in codes:
        return "consider_referral"
    if RESOLVED in codes:
        return "resolved"
    if BASELINE_MISSING in codes or LOGGING_GAP in codes:
        return "insufficient_data"
    if ADHERENCE_LOW in codes:
        return "address_adherence"
    return "continue"


# --------------------------------------------------------------------------------------------
# One builder per finding: the sentence a clinician reads aloud and the numbers behind it.


def _finding(code: str, message: str, evidence: dict[str, Any]) -> Finding:
    return Finding(code=code, severity=FINDING_SEVERITY[code], message=message, evidence=evidence)


def _baseline_missing(trial_day: int, tally: _Tally, t: Thresholds) -> Finding:
    return _finding(
        BASELINE_MISSING,
        f"Day {trial_day} of the conservative trial: no baseline pain is known, because week 1 "
        f"has {_count(tally.week1_entries, 'entry', 'entries')} (at least "
        f"{t.min_entries_per_week} needed) and no intake pain score was recorded.",
        {
            "trial_day": trial_day,
            "week1_entries": tally.week1_entries,
            "min_entries_per_week": t.min_entries_per_week,
            "intake_pain_activity": None,
        },
    )


def _logging_gap(trial_day: int, tally: _Tally, t: Thresholds, window: tuple[str, str]) -> Finding:
    return _finding(
        LOGGING_GAP,
        f"Only {_count(tally.window_entries, 'entry', 'entries')} in the last 7 days "
        f"({window[0]} to {window[1]}), fewer than the {t.min_entries_per_week} needed to judge "
        "current pain.",
        {
            "trial_day": trial_day,
            "entries_last_7_days": tally.window_entries,
            "min_entries_per_week": t.min_entries_per_week,
            "window_start": window[0],
            "window_end": window[1],
        },
    )


def _pain_worsening(
    trial_day: int,
    baseline: Fraction,
    recent: Fraction,
    tally: _Tally,
    t: Thresholds,
    as_of: dt.date,
) -> Finding:
    rise = recent - baseline
    window_start = (as_of - dt.timedelta(days=_RECENT_DAYS - 1)).isoformat()
    return _finding(
        PAIN_WORSENING,
        f"Activity pain over the last {_RECENT_DAYS} days averages {_num(recent)} "
        f"({_count(tally.recent_entries, 'entry', 'entries')}), "
        f"{_points(rise)} above the baseline of {_num(baseline)}; "
        f"the alert is set at {_num(t.worsening_points)} points above baseline.",
        {
            "trial_day": trial_day,
            "pain_baseline": _round(baseline),
            "pain_recent": _round(recent),
            "pain_rise": _round(rise),
            "recent_entries": tally.recent_entries,
            "window_start": window_start,
            "window_end": as_of.isoformat(),
            "worsening_points": t.worsening_points,
        },
    )


def _improving(
    trial_day: int,
    baseline: Fraction,
    current: Fraction,
    change: Fraction,
    change_pct: Fraction,
    low_baseline: bool,
    t: Thresholds,
) -> Finding:
    rule = (
        f"the {_num(t.mcid_percent)}% threshold that applies to a baseline of "
        f"{_num(t.low_baseline_max)} or less"
        if low_baseline
        else f"the {_num(t.mcid_points)}-point / {_num(t.mcid_percent)}% threshold"
    )
    return _finding(
        IMPROVING,
        f"Activity pain fell {_points(change)} ({_num(baseline)} → {_num(current)}, "
        f"{_num(change_pct, 0)}%), meeting {rule} for an important improvement.",
        {
            "trial_day": trial_day,
            **_pain_evidence(baseline, current, change, change_pct, low_baseline, True, t),
        },
    )


def _resolved(
    trial_day: int, current: Fraction, tally: _Tally, t: Thresholds, window: tuple[str, str]
) -> Finding:
    return _finding(
        RESOLVED,
        f"Activity pain over the last 7 days averages {_num(current)}, at or below "
        f"{_num(t.resolved_max_pain)}, so the complaint looks resolved.",
        {
            "trial_day": trial_day,
            "pain_current": _round(current),
            "entries_last_7_days": tally.window_entries,
            "window_start": window[0],
            "window_end": window[1],
            "resolved_max_pain": t.resolved_max_pain,
        },
    )


def _adherence_low(trial_day: int, adherence: Fraction, tally: _Tally, t: Thresholds) -> Finding:
    limit = _fraction(t.adherence_min_percent)
    return _finding(
        ADHERENCE_LOW,
        f"Only {_below(adherence, limit, 0)}% of the prescribed sets were done on the days "
        f"logged ({tally.sets_done} of {tally.sets_prescribed}), below "
        f"{_num(t.adherence_min_percent)}%, so the trial cannot be judged until the exercises "
        "are done.",
        {
            "trial_day": trial_day,
            "adherence_pct": _round(adherence),
            "sets_done": tally.sets_done,
            "sets_prescribed": tally.sets_prescribed,
            "adherence_min_percent": t.adherence_min_percent,
            "adherence_from_day": t.adherence_from_day,
        },
    )


def _referral(
    *,
    overdue: bool,
    trial_day: int,
    baseline: Fraction,
    baseline_source: str,
    current: Fraction,
    change: Fraction,
    change_pct: Fraction | None,
    low_baseline: bool,
    adherence: Fraction | None,
    thresholds: Thresholds,
) -> Finding:
    t = thresholds
    exact = _exact(t)
    # Display the change so that it never seems to reach a threshold it misses.
    if change > 0:
        # Under the low-baseline rule the points do not count, so there is nothing to guard.
        shown = _num(change) if low_baseline else _below(change, exact.mcid_points, 1)
        movement = f"fell {shown} point{'' if shown == '1' else 's'}"
    elif change < 0:
        movement = f"rose {_points(-change)}"
    else:
        movement = "did not change"
    numbers = f"{_num(baseline)} → {_num(current)}"
    if change_pct is not None:
        numbers += f", {_below(change_pct, exact.mcid_percent, 0)}%"
    target = (
        f"the {_num(t.mcid_percent)}% threshold for a baseline of {_num(t.low_baseline_max)} "
        "or less"
        if low_baseline
        else f"the {_num(t.mcid_points)}-point / {_num(t.mcid_percent)}% threshold"
    )
    if adherence is None:
        effort = "no exercise sets prescribed to judge adherence"
    else:
        effort = f"{_num(adherence, 0)}% adherence"
    if overdue:
        opening = (
            f"Day {trial_day} of the conservative trial (reassessment due by day {t.overdue_day})"
        )
        action = "refer for a surgical opinion now"
    else:
        opening = f"Day {trial_day} of the conservative trial"
        action = "consider surgical referral"
    return _finding(
        REFERRAL_OVERDUE if overdue else REFERRAL_CONSIDER,
        f"{opening}: activity pain {movement} ({numbers}), short of {target}, with {effort}; "
        f"{action}.",
        {
            "trial_day": trial_day,
            **_pain_evidence(baseline, current, change, change_pct, low_baseline, False, t),
            "baseline_source": baseline_source,
            "adherence_pct": _round(adherence),
            "adherence_min_percent": t.adherence_min_percent,
            "review_day": t.review_day,
            "overdue_day": t.overdue_day,
        },
    )


def _pain_evidence(
    baseline: Fraction,
    current: Fraction,
    change: Fraction,
    change_pct: Fraction | None,
    low_baseline: bool,
    mcid_met: bool,
    t: Thresholds,
) -> dict[str, Any]:
    return {
        "pain_baseline": _round(baseline),
        "pain_current": _round(current),
        "pain_change": _round(change),
        "pain_change_pct": _round(change_pct),
        "mcid_met": mcid_met,
        "mcid_rule": "percent_only" if low_baseline else "points_and_percent",
        "mcid_points": t.mcid_points,
        "mcid_percent": t.mcid_percent,
        "low_baseline_max": t.low_baseline_max,
    }


def _rom_decline(trial_day: int, week1: Fraction, current: Fraction, t: Thresholds) -> Finding:
    loss = week1 - current
    return _finding(
        ROM_DECLINE,
        f"Plantar flexion of the affected ankle fell from {_num(week1)}° in week 1 to "
        f"{_num(current)}° over the last 7 days, a loss of {_num(loss)}° "
        f"(flagged from {_num(t.rom_change_deg)}°).",
        {
            "trial_day": trial_day,
            "rom_week1": _round(week1),
            "rom_current": _round(current),
            "rom_change": _round(-loss),
            "rom_change_deg": t.rom_change_deg,
        },
    )


def _rom_deficit(
    trial_day: int,
    reference: Fraction,
    current: Fraction,
    deficit: Fraction,
    tally: _Tally,
    t: Thresholds,
) -> Finding:
    return _finding(
        ROM_DEFICIT,
        f"Plantar flexion of the affected ankle is {_num(current)}°, {_num(deficit)}° short of "
        f"the other side ({_num(reference)}°); supporting evidence, not a reason to refer on its "
        "own.",
        {
            "trial_day": trial_day,
            "rom_reference": _round(reference),
            "rom_reference_source": "entries" if tally.reference_rom_count else "intake",
            "rom_current": _round(current),
            "rom_deficit": _round(deficit),
            "rom_deficit_deg": t.rom_deficit_deg,
        },
    )


def _immobilization_prolonged(
    longest: tuple[InterventionData, int], as_of: dt.date, t: Thresholds
) -> Finding:
    intervention, days = longest
    ongoing = intervention.end_date is None or intervention.end_date > as_of
    if ongoing:
        span = f"since {intervention.start_date.isoformat()} has lasted {days} days so far"
    else:
        assert intervention.end_date is not None
        span = (
            f"from {intervention.start_date.isoformat()} to {intervention.end_date.isoformat()} "
            f"lasted {days} days"
        )
    return _finding(
        IMMOBILIZATION_PROLONGED,
        f"Immobilization {span}, longer than the {t.immobilization_max_days} days advised; "
        "longer immobilization is linked with worse outcomes.",
        {
            "start_date": intervention.start_date.isoformat(),
            "end_date": intervention.end_date.isoformat() if intervention.end_date else None,
            "ongoing": ongoing,
            "days": days,
            "immobilization_max_days": t.immobilization_max_days,
        },
    )


def _bmi_elevated(bmi: float, t: Thresholds) -> Finding:
    return _finding(
        BMI_ELEVATED,
        f"BMI is {_num(bmi)}, at or above {_num(t.bmi_flag)}, which can slow recovery.",
        # float(): the model keeps BMI as a Decimal, which JSON cannot carry.
        {"bmi": float(bmi), "bmi_flag": t.bmi_flag},
    )


# --------------------------------------------------------------------------------------------
# Rounding and wording


def _scaled_half_up(value: Fraction, digits: int) -> int:
    """value * 10**digits rounded exactly, halves away from zero (0.125 -> 0.13, not 0.12).

    Integer arithmetic on purpose: this runs for every metric of every evaluation.
    """
    n, d = value.numerator, value.denominator
    magnitude = (2 * abs(n) * 10**digits + d) // (2 * d)
    return -magnitude if n < 0 else magnitude


def _round(value: Fraction | None, digits: int = 2) -> float | None:
    if value is None:
        return None
    # int / int is correctly rounded to the nearest float; "+ 0.0" turns -0.0 into 0.0.
    return _scaled_half_up(value, digits) / 10**digits + 0.0


def _num(value: Fraction | float, digits: int = 1) -> str:
    """A number for a sentence: rounded, without a trailing '.0' (7 rather than 7.0)."""
    exact = value if isinstance(value, Fraction) else _fraction(value)
    text = f"{_scaled_half_up(exact, digits) / 10**digits + 0.0:.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _below(value: Fraction, limit: Fraction, digits: int) -> str:
    """Like _num, but a value under ``limit`` is never rounded up to seem to reach it."""
    text = _num(value, digits)
    if value < limit and Fraction(text) >= limit:
        truncated = Fraction(math.floor(value * 10**digits), 10**digits)
        text = _num(truncated, digits)
    return text


def _points(value: Fraction) -> str:
    text = _num(value)
    return f"{text} point{'' if text == '1' else 's'}"


def _count(n: int, singular: str, plural: str) -> str:
    return f"{n} {singular if n == 1 else plural}"
