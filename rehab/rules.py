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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from types import MappingProxyType
from typing import Any, Final, NamedTuple

from rehab import function_scores
from rehab.function_scores import FAAM, PSFS

RULESET_VERSION: Final = "pais-2026.2"

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
FUNCTION_NOT_IMPROVING: Final = "FUNCTION_NOT_IMPROVING"

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
    FUNCTION_NOT_IMPROVING: INFO,
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
    "faam_adl_mcid": (float, 0, 100),
    "faam_sports_mcid": (float, 0, 100),
    "psfs_mcid": (float, 0, 10),
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
    faam_adl_mcid: float = 8.0
    faam_sports_mcid: float = 9.0
    psfs_mcid: float = 2.0

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
    faam_adl_mcid: Fraction
    faam_sports_mcid: Fraction
    psfs_mcid: Fraction


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


class QuestionnaireScore(NamedTuple):
    """One questionnaire response: its date, instrument ("faam" or "psfs") and scores.

    A score is None where unknown (a FAAM subscale short of the 90% rule; the subscales of a
    PSFS response, the PSFS of a FAAM one). Pass the exact scores (``function_scores.faam_exact``
    and ``psfs_exact``): the finding compares a change with the MCID exactly, as with pain.
    """

    date: dt.date
    instrument: str
    faam_adl: Fraction | float | None = None
    faam_sports: Fraction | float | None = None
    psfs: Fraction | float | None = None


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
    questionnaires: Sequence[QuestionnaireScore] = ()


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
    # The function questionnaires (docs/clinical-rules.md, "Function"), rounded to 0.1.
    faam_adl_baseline: float | None = None
    faam_adl_current: float | None = None
    faam_sports_baseline: float | None = None
    faam_sports_current: float | None = None
    psfs_baseline: float | None = None
    psfs_current: float | None = None

    def as_dict(self) -> dict[str, float | int | None]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


# The questionnaire metrics, in the order of Metrics: (metric prefix, QuestionnaireScore field).
FUNCTION_MEASURES: Final = (
    ("faam_adl", "faam_adl"),
    ("faam_sports", "faam_sports"),
    ("psfs", "psfs"),
)


class QuestionnaireDue(NamedTuple):
    """An instrument whose window is open on as_of with no response in it: a to-do."""

    instrument: str
    window_start: dt.date
    window_end: dt.date

    def as_dict(self) -> dict[str, str]:
        return {
            "instrument": self.instrument,
            "window_start": self.window_start.isoformat(),
            "window_end": self.window_end.isoformat(),
        }


# --------------------------------------------------------------------------------------------
# Messages that other languages can word: each finding's sentence is an English template with
# named values. rules.py stays free of Django: ``gettext_noop`` and ``ngettext_lazy`` only mark
# the templates for ``makemessages`` (xgettext knows both names) and the Django layer
# (rehab/finding_text.py) translates them and localises the numbers. ``message`` is the English.


def gettext_noop(message: str) -> str:
    """Marks an English template for translation; translated later, by rehab/finding_text.py."""
    return message


class PluralText(NamedTuple):
    """A template with a singular and a plural form, chosen by ``number``."""

    singular: str
    plural: str
    number: int


def ngettext_lazy(singular: str, plural: str, number: int) -> PluralText:
    """Marks a template with plural forms; the form for ``number`` is chosen when it is worded."""
    return PluralText(singular, plural, number)


Template = str | PluralText


@dataclass(frozen=True, slots=True)
class Phrase:
    """A template and its values: numbers (int, or a Decimal already rounded for reading), ISO
    dates as text, or another Phrase (a part of the sentence that is worded on its own)."""

    template: Template
    params: Mapping[str, Any]

    def english(self) -> str:
        return _english(self.template, self.params)


def _english(template: Template, params: Mapping[str, Any]) -> str:
    if isinstance(template, PluralText):
        template = template.singular if template.number == 1 else template.plural
    return template % {
        name: value.english() if isinstance(value, Phrase) else value
        for name, value in params.items()
    }


# A phrase as plain JSON, so that a stored alert can be worded in any language later
# (rehab.models.Alert.message_phrase). Values: ints and strs as themselves, a Decimal as
# {"decimal": "31.5"} (its exact digits), a nested Phrase as {"phrase": {...}}; a plural
# template as {"singular", "plural", "number"}.


def phrase_to_json(template: Template, params: Mapping[str, Any]) -> dict[str, Any]:
    """The template and its values as JSON-safe data; ``phrase_from_json`` reads it back."""
    shown: Template | dict[str, Any] = template
    if isinstance(template, PluralText):
        shown = {
            "singular": template.singular,
            "plural": template.plural,
            "number": template.number,
        }
    return {"template": shown, "params": {name: _value_to_json(v) for name, v in params.items()}}


def _value_to_json(value: Any) -> Any:
    if isinstance(value, Phrase):
        return {"phrase": phrase_to_json(value.template, value.params)}
    if isinstance(value, Decimal):
        return {"decimal": str(value)}
    if isinstance(value, (int, str)) and not isinstance(value, bool):
        return value
    raise TypeError(f"A phrase value cannot be stored: {value!r}")


def phrase_from_json(data: Mapping[str, Any]) -> tuple[Template, dict[str, Any]]:
    """The template and values ``phrase_to_json`` wrote."""
    stored = data["template"]
    template: Template = (
        PluralText(stored["singular"], stored["plural"], int(stored["number"]))
        if isinstance(stored, Mapping)
        else str(stored)
    )
    return template, {name: _value_from_json(v) for name, v in data["params"].items()}


def _value_from_json(value: Any) -> Any:
    if isinstance(value, Mapping):
        if "phrase" in value:
            return Phrase(*phrase_from_json(value["phrase"]))
        return Decimal(value["decimal"])
    return value


def finding_phrase_json(finding: Finding) -> dict[str, Any] | None:
    """A finding's message as JSON, or None for a finding built without a template."""
    if not finding.message_template:
        return None
    return phrase_to_json(finding.message_template, finding.message_params)


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    severity: str
    message: str
    evidence: dict[str, Any]
    # The message as a template and its values, for other languages (rehab/finding_text.py);
    # ``message`` is their English. Not part of equality: two findings with one message agree.
    message_template: Template = field(default="", compare=False)
    message_params: Mapping[str, Any] = field(default_factory=dict, compare=False)

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
    questionnaires_due: tuple[QuestionnaireDue, ...] = ()

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
            "questionnaires_due": [due.as_dict() for due in self.questionnaires_due],
            "ruleset": self.ruleset,
        }


# --------------------------------------------------------------------------------------------
# Evaluation: measure once, ask each finding of the spec's table in turn, recommend.


def evaluate(episode: EpisodeData, thresholds: Thresholds, as_of: dt.date) -> Evaluation:
    """Judge the episode as of ``as_of``; only data dated on or before it counts."""
    facts = _measure(episode, thresholds, as_of)
    found = [finding for rule in _FINDING_RULES_IN_ORDER if (finding := rule(facts)) is not None]
    # Most severe first; within a severity the spec's order (list.sort is stable).
    found.sort(key=lambda f: -SEVERITIES.index(f.severity))
    return Evaluation(
        trial_day=facts.trial_day,
        trial_week=math.ceil(facts.trial_day / 7),
        metrics=_metrics(facts),
        findings=found,
        recommendation=_recommend(episode, {f.code for f in found}),
        questionnaires_due=_questionnaires_due(episode, thresholds, as_of),
    )


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


@dataclass(slots=True)
class _Facts:
    """What the finding rules read: the spec's terms for one episode on one day, exact.

    Measured once per evaluation and shared by every rule, which only reads it. None where the
    spec says "unknown". Slots and not frozen: the rules read a dozen of these fields on every
    evaluation of the nightly run, and a slot is the cheapest attribute to read and to set.
    """

    episode: EpisodeData
    thresholds: Thresholds
    exact: _Exact
    as_of: dt.date
    trial_day: int
    last_7_days: tuple[str, str]  # the window of current pain, as the evidence shows it
    tally: _Tally
    baseline: Fraction | None
    baseline_source: str  # "week1", "intake" or "unknown"
    current: Fraction | None
    change: Fraction | None
    change_pct: Fraction | None
    low_baseline: bool
    mcid_met: bool
    adherence: Fraction | None
    rom_week1: Fraction | None
    rom_current: Fraction | None
    rom_reference: Fraction | None
    rom_deficit: Fraction | None
    # Per measure ("faam_adl", "faam_sports", "psfs"): the baseline and current scores.
    function: Mapping[str, _FunctionPair]


class _Scored(NamedTuple):
    date: dt.date
    score: Fraction


class _FunctionPair(NamedTuple):
    """A measure's baseline and current score (None where unknown)."""

    baseline: _Scored | None
    current: _Scored | None

    @property
    def change(self) -> Fraction | None:
        if self.baseline is None or self.current is None:
            return None
        return self.current.score - self.baseline.score


_NO_FUNCTION: Final = _FunctionPair(None, None)


def _function_pairs(episode: EpisodeData, as_of: dt.date) -> dict[str, _FunctionPair]:
    """The spec's baseline and current of each measure.

    Baseline: the first valid score dated within trial days 1–7, else the first valid score;
    current: the latest valid score dated on or before as_of and after the baseline. Only
    responses from the episode's start to as_of count (like the entries).
    """
    if not episode.questionnaires:
        return {}
    start = episode.start_date
    week1_last = function_scores.shifted(start, function_scores.BASELINE_DAYS - 1)
    responses = sorted(
        (q for q in episode.questionnaires if start <= q.date <= as_of), key=lambda q: q.date
    )
    pairs: dict[str, _FunctionPair] = {}
    for measure, attribute in FUNCTION_MEASURES:
        valid = [
            _Scored(q.date, _fraction(score))
            for q in responses
            if (score := getattr(q, attribute)) is not None
        ]
        if not valid:
            continue
        in_week1 = [s for s in valid if s.date <= week1_last]
        baseline = in_week1[0] if in_week1 else valid[0]
        later = [s for s in valid if s.date > baseline.date]
        pairs[measure] = _FunctionPair(baseline, later[-1] if later else None)
    return pairs


def _questionnaires_due(
    episode: EpisodeData, thresholds: Thresholds, as_of: dt.date
) -> tuple[QuestionnaireDue, ...]:
    """Each instrument whose window is open on as_of and has no response in it.

    Only while the episode is active and not referred: afterwards the patient can no longer
    answer (the diary rules), so nothing is a to-do.
    """
    if episode.status != "active" or episode.has_referral:
        return ()
    due: list[QuestionnaireDue] = []
    listed: set[str] = set()
    for window in function_scores.questionnaire_windows(episode.start_date, thresholds):
        if not window.holds(as_of):
            continue
        for instrument in (FAAM, PSFS):
            if instrument in listed:
                continue
            # Only responses dated on or before as_of count, as everywhere in the rules.
            answered = any(
                q.instrument == instrument and window.holds(q.date) and q.date <= as_of
                for q in episode.questionnaires
            )
            if not answered:
                due.append(QuestionnaireDue(instrument, window.start, window.end))
                listed.add(instrument)
    return tuple(due)


def _measure(episode: EpisodeData, thresholds: Thresholds, as_of: dt.date) -> _Facts:
    """The spec's "Terms": trial day, baseline and current pain, change, MCID, adherence, ROM."""
    if episode.status not in STATUSES:
        raise ValueError(f"status: must be one of {', '.join(STATUSES)} (got {episode.status!r}).")
    exact = _exact(thresholds)
    start = episode.start_date.toordinal()
    today = as_of.toordinal()
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

    return _Facts(
        episode=episode,
        thresholds=thresholds,
        exact=exact,
        as_of=as_of,
        trial_day=today - start + 1,
        last_7_days=((as_of - dt.timedelta(days=6)).isoformat(), as_of.isoformat()),
        tally=tally,
        baseline=baseline,
        baseline_source=baseline_source,
        current=current,
        change=change,
        change_pct=change_pct,
        low_baseline=low_baseline,
        mcid_met=mcid_met,
        adherence=adherence,
        rom_week1=rom_week1,
        rom_current=rom_current,
        rom_reference=rom_reference,
        rom_deficit=rom_deficit,
        function=_function_pairs(episode, as_of),
    )


def _metrics(f: _Facts) -> Metrics:
    return Metrics(
        pain_baseline=_round(f.baseline),
        pain_current=_round(f.current),
        pain_change=_round(f.change),
        pain_change_pct=_round(f.change_pct),
        adherence_pct=_round(f.adherence),
        entries_last_7_days=f.tally.window_entries,
        rom_week1=_round(f.rom_week1),
        rom_current=_round(f.rom_current),
        rom_reference=_round(f.rom_reference),
        rom_deficit=_round(f.rom_deficit),
        **_function_metrics(f),
    )


def _function_metrics(f: _Facts) -> dict[str, float | None]:
    """The six questionnaire metrics (rounded to 0.1; None where unknown)."""
    metrics: dict[str, float | None] = {}
    for measure, _attribute in FUNCTION_MEASURES:
        pair = f.function.get(measure, _NO_FUNCTION)
        metrics[f"{measure}_baseline"] = _score(pair.baseline)
        metrics[f"{measure}_current"] = _score(pair.current)
    return metrics


def _score(scored: _Scored | None) -> float | None:
    return None if scored is None else function_scores.round_score(scored.score)


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
# The findings: one function per row of the spec's table, in its order. Each decides whether its
# finding fires (returning None when it does not) and builds it: the sentence a clinician reads
# aloud and the numbers behind it. The severity is the table's (FINDING_SEVERITY).
#
# Before day 1 only BMI_ELEVATED can fire: the rules without a later day gate say
# ``f.trial_day >= 1``.


def _baseline_missing(f: _Facts) -> Finding | None:
    """From day 8, no baseline pain: no usable week 1 and no intake pain score."""
    if not (f.trial_day >= _AFTER_WEEK_ONE and f.baseline is None):
        return None
    t, tally = f.thresholds, f.tally
    return _finding(
        BASELINE_MISSING,
        ngettext_lazy(
            "Day %(trial_day)s of the conservative trial: no baseline pain is known, because "
            "week 1 has %(entries)s entry (at least %(needed)s needed) and no intake pain score "
            "was recorded.",
            "Day %(trial_day)s of the conservative trial: no baseline pain is known, because "
            "week 1 has %(entries)s entries (at least %(needed)s needed) and no intake pain "
            "score was recorded.",
            tally.week1_entries,
        ),
        {
            "trial_day": f.trial_day,
            "entries": tally.week1_entries,
            "needed": t.min_entries_per_week,
        },
        {
            "trial_day": f.trial_day,
            "week1_entries": tally.week1_entries,
            "min_entries_per_week": t.min_entries_per_week,
            "intake_pain_activity": None,
        },
    )


def _logging_gap(f: _Facts) -> Finding | None:
    """From day 7, fewer than min_entries_per_week entries in the last 7 days."""
    t, tally = f.thresholds, f.tally
    if not (f.trial_day >= _FULL_WINDOW_DAY and tally.window_entries < t.min_entries_per_week):
        return None
    window_start, window_end = f.last_7_days
    return _finding(
        LOGGING_GAP,
        ngettext_lazy(
            "Only %(entries)s entry in the last 7 days (%(start)s to %(end)s), fewer than the "
            "%(needed)s needed to judge current pain.",
            "Only %(entries)s entries in the last 7 days (%(start)s to %(end)s), fewer than the "
            "%(needed)s needed to judge current pain.",
            tally.window_entries,
        ),
        {
            "entries": tally.window_entries,
            "start": window_start,
            "end": window_end,
            "needed": t.min_entries_per_week,
        },
        {
            "trial_day": f.trial_day,
            "entries_last_7_days": tally.window_entries,
            "min_entries_per_week": t.min_entries_per_week,
            "window_start": window_start,
            "window_end": window_end,
        },
    )


def _pain_worsening(f: _Facts) -> Finding | None:
    """From day 8, baseline known, at least 2 entries in the last 3 days, their mean at least
    worsening_points above the baseline."""
    t, tally, baseline = f.thresholds, f.tally, f.baseline
    if not (
        f.trial_day >= _AFTER_WEEK_ONE
        and baseline is not None
        and tally.recent_entries >= _RECENT_MIN_ENTRIES
    ):
        return None
    recent = _mean(tally.recent_pain, tally.recent_entries)
    if not recent >= baseline + f.exact.worsening_points:
        return None
    rise = recent - baseline
    window_start = (f.as_of - dt.timedelta(days=_RECENT_DAYS - 1)).isoformat()
    return _finding(
        PAIN_WORSENING,
        gettext_noop(
            "Activity pain over the last %(days)s days averages %(recent)s (%(entries)s), "
            "%(rise)s above the baseline of %(baseline)s; the alert is set at %(threshold)s "
            "points above baseline."
        ),
        {
            "days": _RECENT_DAYS,
            "recent": _dec(recent),
            "entries": _entries(tally.recent_entries),
            "rise": _points_phrase(_num(rise)),
            "baseline": _dec(baseline),
            "threshold": _dec(t.worsening_points),
        },
        {
            "trial_day": f.trial_day,
            "pain_baseline": _round(baseline),
            "pain_recent": _round(recent),
            "pain_rise": _round(rise),
            "recent_entries": tally.recent_entries,
            "window_start": window_start,
            "window_end": f.as_of.isoformat(),
            "worsening_points": t.worsening_points,
        },
    )


def _improving(f: _Facts) -> Finding | None:
    """Baseline and current known, an important improvement (MCID met), and not RESOLVED."""
    if not (f.trial_day >= 1 and f.mcid_met and not _is_resolved(f)):
        return None
    t = f.thresholds
    baseline, current, change, change_pct = f.baseline, f.current, f.change, f.change_pct
    # The MCID is met only on a known change and percentage, so from a known baseline and current.
    assert baseline is not None and current is not None
    assert change is not None and change_pct is not None
    rule = (
        Phrase(
            gettext_noop(
                "the %(percent)s%% threshold that applies to a baseline of %(low_max)s or less"
            ),
            {"percent": _dec(t.mcid_percent), "low_max": _dec(t.low_baseline_max)},
        )
        if f.low_baseline
        else _mcid_threshold_phrase(t)
    )
    return _finding(
        IMPROVING,
        gettext_noop(
            "Activity pain fell %(change)s (%(baseline)s → %(current)s, %(change_percent)s%%), "
            "meeting %(rule)s for an important improvement."
        ),
        {
            "change": _points_phrase(_num(change)),
            "baseline": _dec(baseline),
            "current": _dec(current),
            "change_percent": _dec(change_pct, 0),
            "rule": rule,
        },
        {
            "trial_day": f.trial_day,
            **_pain_evidence(f, baseline, current, change, mcid_met=True),
        },
    )


def _resolved(f: _Facts) -> Finding | None:
    """From day 8, current pain known and at most resolved_max_pain."""
    if not _is_resolved(f):
        return None
    t, current = f.thresholds, f.current
    assert current is not None
    window_start, window_end = f.last_7_days
    return _finding(
        RESOLVED,
        gettext_noop(
            "Activity pain over the last 7 days averages %(current)s, at or below %(max)s, so "
            "the complaint looks resolved."
        ),
        {"current": _dec(current), "max": _dec(t.resolved_max_pain)},
        {
            "trial_day": f.trial_day,
            "pain_current": _round(current),
            "entries_last_7_days": f.tally.window_entries,
            "window_start": window_start,
            "window_end": window_end,
            "resolved_max_pain": t.resolved_max_pain,
        },
    )


def _is_resolved(f: _Facts) -> bool:
    """RESOLVED's condition; IMPROVING and the referral findings give way to it."""
    return (
        f.trial_day >= _AFTER_WEEK_ONE
        and f.current is not None
        and f.current <= f.exact.resolved_max_pain
    )


def _adherence_low(f: _Facts) -> Finding | None:
    """From adherence_from_day, adherence known and below adherence_min_percent."""
    t, tally, adherence = f.thresholds, f.tally, f.adherence
    if not (
        f.trial_day >= t.adherence_from_day
        and adherence is not None
        and adherence < f.exact.adherence_min_percent
    ):
        return None
    return _finding(
        ADHERENCE_LOW,
        gettext_noop(
            "Only %(adherence)s%% of the prescribed sets were done on the days logged (%(done)s "
            "of %(prescribed)s), below %(min)s%%, so the trial cannot be judged until the "
            "exercises are done."
        ),
        {
            "adherence": Decimal(_below(adherence, f.exact.adherence_min_percent, 0)),
            "done": tally.sets_done,
            "prescribed": tally.sets_prescribed,
            "min": _dec(t.adherence_min_percent),
        },
        {
            "trial_day": f.trial_day,
            "adherence_pct": _round(adherence),
            "sets_done": tally.sets_done,
            "sets_prescribed": tally.sets_prescribed,
            "adherence_min_percent": t.adherence_min_percent,
            "adherence_from_day": t.adherence_from_day,
        },
    )


def _referral_consider(f: _Facts) -> Finding | None:
    """From review_day to the day before overdue_day, when the referral conditions hold."""
    t = f.thresholds
    if not (t.review_day <= f.trial_day < t.overdue_day and _referral_conditions_hold(f)):
        return None
    return _referral(f, overdue=False)


def _referral_overdue(f: _Facts) -> Finding | None:
    """From overdue_day on, when the referral conditions hold."""
    if not (f.trial_day >= f.thresholds.overdue_day and _referral_conditions_hold(f)):
        return None
    return _referral(f, overdue=True)


def _referral_conditions_hold(f: _Facts) -> bool:
    """Both referral findings need all of these (the spec's paragraph under the table).

    Low adherence blocks them on purpose: a trial whose exercises were not done has not failed,
    it has not been tried, and ADHERENCE_LOW says so instead.
    """
    return (
        f.episode.status == "active"
        and not f.episode.has_referral
        and f.baseline is not None
        and f.current is not None
        and not f.mcid_met
        and (f.adherence is None or f.adherence >= f.exact.adherence_min_percent)
        and not _is_resolved(f)
    )


def _referral(f: _Facts, *, overdue: bool) -> Finding:
    """REFERRAL_CONSIDER or REFERRAL_OVERDUE: the same sentence, a different opening and action."""
    t, exact, adherence = f.thresholds, f.exact, f.adherence
    baseline, current, change, change_pct = f.baseline, f.current, f.change, f.change_pct
    assert baseline is not None and current is not None and change is not None
    # Display the change so that it never seems to reach a threshold it misses.
    if change > 0:
        # Under the low-baseline rule the points do not count, so there is nothing to guard.
        shown = _num(change) if f.low_baseline else _below(change, exact.mcid_points, 1)
        movement = Phrase(
            ngettext_lazy("fell %(points)s point", "fell %(points)s points", _plural_of(shown)),
            {"points": Decimal(shown)},
        )
    elif change < 0:
        movement = Phrase(
            gettext_noop("rose %(points)s"), {"points": _points_phrase(_num(-change))}
        )
    else:
        movement = Phrase(gettext_noop("did not change"), {})
    numbers = (
        Phrase(
            gettext_noop("%(baseline)s → %(current)s"),
            {"baseline": _dec(baseline), "current": _dec(current)},
        )
        if change_pct is None
        else Phrase(
            gettext_noop("%(baseline)s → %(current)s, %(percent)s%%"),
            {
                "baseline": _dec(baseline),
                "current": _dec(current),
                "percent": Decimal(_below(change_pct, exact.mcid_percent, 0)),
            },
        )
    )
    target = (
        Phrase(
            gettext_noop("the %(percent)s%% threshold for a baseline of %(low_max)s or less"),
            {"percent": _dec(t.mcid_percent), "low_max": _dec(t.low_baseline_max)},
        )
        if f.low_baseline
        else _mcid_threshold_phrase(t)
    )
    if adherence is None:
        effort = Phrase(gettext_noop("no exercise sets prescribed to judge adherence"), {})
    else:
        effort = Phrase(
            gettext_noop("%(adherence)s%% adherence"), {"adherence": _dec(adherence, 0)}
        )
    parts = {"movement": movement, "numbers": numbers, "target": target, "effort": effort}
    if overdue:
        template = gettext_noop(
            "Day %(trial_day)s of the conservative trial (reassessment due by day "
            "%(overdue_day)s): activity pain %(movement)s (%(numbers)s), short of %(target)s, "
            "with %(effort)s; refer for a surgical opinion now."
        )
        params = {"trial_day": f.trial_day, "overdue_day": t.overdue_day, **parts}
    else:
        template = gettext_noop(
            "Day %(trial_day)s of the conservative trial: activity pain %(movement)s "
            "(%(numbers)s), short of %(target)s, with %(effort)s; consider surgical referral."
        )
        params = {"trial_day": f.trial_day, **parts}
    return _finding(
        REFERRAL_OVERDUE if overdue else REFERRAL_CONSIDER,
        template,
        params,
        {
            "trial_day": f.trial_day,
            **_pain_evidence(f, baseline, current, change, mcid_met=False),
            "baseline_source": f.baseline_source,
            "adherence_pct": _round(adherence),
            "adherence_min_percent": t.adherence_min_percent,
            "review_day": t.review_day,
            "overdue_day": t.overdue_day,
            **_function_evidence(f),
        },
    )


def _function_evidence(f: _Facts) -> dict[str, float]:
    """The FAAM and PSFS metrics that are known, for the referral findings' evidence."""
    return {name: value for name, value in _function_metrics(f).items() if value is not None}


def _pain_evidence(
    f: _Facts, baseline: Fraction, current: Fraction, change: Fraction, *, mcid_met: bool
) -> dict[str, Any]:
    t = f.thresholds
    return {
        "pain_baseline": _round(baseline),
        "pain_current": _round(current),
        "pain_change": _round(change),
        "pain_change_pct": _round(f.change_pct),
        "mcid_met": mcid_met,
        "mcid_rule": "percent_only" if f.low_baseline else "points_and_percent",
        "mcid_points": t.mcid_points,
        "mcid_percent": t.mcid_percent,
        "low_baseline_max": t.low_baseline_max,
    }


def _rom_decline(f: _Facts) -> Finding | None:
    """Week-1 and current plantar flexion known, current at least rom_change_deg lower."""
    t, week1, current = f.thresholds, f.rom_week1, f.rom_current
    if not (
        f.trial_day >= 1
        and week1 is not None
        and current is not None
        and current <= week1 - f.exact.rom_change_deg
    ):
        return None
    loss = week1 - current
    return _finding(
        ROM_DECLINE,
        gettext_noop(
            # Translators: plantar flexion is the ankle pointing the foot down; ° is degrees.
            "Plantar flexion of the affected ankle fell from %(week1)s° in week 1 to "
            "%(current)s° over the last 7 days, a loss of %(loss)s° (flagged from "
            "%(threshold)s°)."
        ),
        {
            "week1": _dec(week1),
            "current": _dec(current),
            "loss": _dec(loss),
            "threshold": _dec(t.rom_change_deg),
        },
        {
            "trial_day": f.trial_day,
            "rom_week1": _round(week1),
            "rom_current": _round(current),
            "rom_change": _round(-loss),
            "rom_change_deg": t.rom_change_deg,
        },
    )


def _rom_deficit(f: _Facts) -> Finding | None:
    """From review_day, a deficit (healthy-side reference minus current) of at least
    rom_deficit_deg; supporting evidence, never a reason to refer on its own."""
    t, deficit = f.thresholds, f.rom_deficit
    if not (
        f.trial_day >= t.review_day and deficit is not None and deficit >= f.exact.rom_deficit_deg
    ):
        return None
    reference, current = f.rom_reference, f.rom_current
    assert reference is not None and current is not None
    return _finding(
        ROM_DEFICIT,
        gettext_noop(
            # Translators: the other side is the patient's healthy ankle, the reference.
            "Plantar flexion of the affected ankle is %(current)s°, %(deficit)s° short of the "
            "other side (%(reference)s°); supporting evidence, not a reason to refer on its own."
        ),
        {"current": _dec(current), "deficit": _dec(deficit), "reference": _dec(reference)},
        {
            "trial_day": f.trial_day,
            "rom_reference": _round(reference),
            "rom_reference_source": "entries" if f.tally.reference_rom_count else "intake",
            "rom_current": _round(current),
            "rom_deficit": _round(deficit),
            "rom_deficit_deg": t.rom_deficit_deg,
        },
    )


def _immobilization_prolonged(f: _Facts) -> Finding | None:
    """An immobilization started by as_of has lasted more than immobilization_max_days (both
    ends counted, an ongoing one up to as_of); of several, the longest."""
    t, as_of = f.thresholds, f.as_of
    if f.trial_day < 1:
        return None
    longest = _longest_immobilization(f.episode.interventions, as_of)
    if longest is None or not longest[1] > t.immobilization_max_days:
        return None
    intervention, days = longest
    ongoing = intervention.end_date is None or intervention.end_date > as_of
    if ongoing:
        template = gettext_noop(
            "Immobilization since %(start)s has lasted %(days)s days so far, longer than the "
            "%(max_days)s days advised; longer immobilization is linked with worse outcomes."
        )
        params: dict[str, Any] = {"start": intervention.start_date.isoformat()}
    else:
        assert intervention.end_date is not None
        template = gettext_noop(
            "Immobilization from %(start)s to %(end)s lasted %(days)s days, longer than the "
            "%(max_days)s days advised; longer immobilization is linked with worse outcomes."
        )
        params = {
            "start": intervention.start_date.isoformat(),
            "end": intervention.end_date.isoformat(),
        }
    return _finding(
        IMMOBILIZATION_PROLONGED,
        template,
        {**params, "days": days, "max_days": t.immobilization_max_days},
        {
            "start_date": intervention.start_date.isoformat(),
            "end_date": intervention.end_date.isoformat() if intervention.end_date else None,
            "ongoing": ongoing,
            "days": days,
            "immobilization_max_days": t.immobilization_max_days,
        },
    )


def _bmi_elevated(f: _Facts) -> Finding | None:
    """The episode's BMI is at least bmi_flag (on any day, even before the trial starts)."""
    t, bmi = f.thresholds, f.episode.bmi
    if not (bmi is not None and bmi >= t.bmi_flag):
        return None
    return _finding(
        BMI_ELEVATED,
        gettext_noop("BMI is %(bmi)s, at or above %(flag)s, which can slow recovery."),
        {"bmi": _dec(bmi), "flag": _dec(t.bmi_flag)},
        # float(): the model keeps BMI as a Decimal, which JSON cannot carry.
        {"bmi": float(bmi), "bmi_flag": t.bmi_flag},
    )


def _function_not_improving(f: _Facts) -> Finding | None:
    """From review_day, FAAM Sports (or, when Sports cannot be compared, FAAM ADL) has a known
    baseline and current, and has not risen by that subscale's MCID. Information only: it never
    raises an alert and never changes the recommendation."""
    t = f.thresholds
    if f.trial_day < t.review_day:
        return None
    sports = f.function.get("faam_sports", _NO_FUNCTION)
    if sports.change is not None:
        measure, pair = "faam_sports", sports
        mcid, exact_mcid = t.faam_sports_mcid, f.exact.faam_sports_mcid
        template = gettext_noop(
            "FAAM Sports went from %(baseline)s to %(current)s (%(baseline_date)s to "
            "%(current_date)s), a change of %(change)s, short of the %(mcid)s-point important "
            "difference: sport function is not improving."
        )
    else:
        adl = f.function.get("faam_adl", _NO_FUNCTION)
        if adl.change is None:
            return None
        measure, pair = "faam_adl", adl
        mcid, exact_mcid = t.faam_adl_mcid, f.exact.faam_adl_mcid
        template = gettext_noop(
            "FAAM ADL went from %(baseline)s to %(current)s (%(baseline_date)s to "
            "%(current_date)s), a change of %(change)s, short of the %(mcid)s-point important "
            "difference: daily function is not improving."
        )
    change = pair.change
    assert change is not None and pair.baseline is not None and pair.current is not None
    if not change < exact_mcid:
        return None
    return _finding(
        FUNCTION_NOT_IMPROVING,
        template,
        {
            "baseline": _dec(pair.baseline.score),
            "current": _dec(pair.current.score),
            "baseline_date": pair.baseline.date.isoformat(),
            "current_date": pair.current.date.isoformat(),
            # Never shown as reaching the MCID it misses (7.96 is "7.9", not "8").
            "change": Decimal(_below(change, exact_mcid, 1)),
            "mcid": _dec(mcid),
        },
        {
            "trial_day": f.trial_day,
            "subscale": "sports" if measure == "faam_sports" else "adl",
            f"{measure}_baseline": _score(pair.baseline),
            f"{measure}_current": _score(pair.current),
            f"{measure}_change": _round(change, 1),
            f"{measure}_mcid": mcid,
            "baseline_date": pair.baseline.date.isoformat(),
            "current_date": pair.current.date.isoformat(),
            "review_day": t.review_day,
        },
    )


# The spec's table of findings, row by row and in its order: each code and the one function that
# decides it. A new row of docs/clinical-rules.md needs its line here and in FINDING_SEVERITY
# (tests/rules/test_finding_table.py checks that the three agree).
_FINDING_RULES: Final[Mapping[str, Callable[[_Facts], Finding | None]]] = MappingProxyType(
    {
        BASELINE_MISSING: _baseline_missing,
        LOGGING_GAP: _logging_gap,
        PAIN_WORSENING: _pain_worsening,
        IMPROVING: _improving,
        RESOLVED: _resolved,
        ADHERENCE_LOW: _adherence_low,
        REFERRAL_CONSIDER: _referral_consider,
        REFERRAL_OVERDUE: _referral_overdue,
        ROM_DECLINE: _rom_decline,
        ROM_DEFICIT: _rom_deficit,
        IMMOBILIZATION_PROLONGED: _immobilization_prolonged,
        BMI_ELEVATED: _bmi_elevated,
        FUNCTION_NOT_IMPROVING: _function_not_improving,
    }
)
# What evaluate() walks: a tuple, built once, so each evaluation only calls the functions.
_FINDING_RULES_IN_ORDER: Final = tuple(_FINDING_RULES.values())


def _finding(
    code: str, template: Template, params: Mapping[str, Any], evidence: dict[str, Any]
) -> Finding:
    return Finding(
        code=code,
        severity=FINDING_SEVERITY[code],
        message=_english(template, params),
        evidence=evidence,
        message_template=template,
        message_params=MappingProxyType(dict(params)),
    )


def _mcid_threshold_phrase(t: Thresholds) -> Phrase:
    return Phrase(
        gettext_noop("the %(points)s-point / %(percent)s%% threshold"),
        {"points": _dec(t.mcid_points), "percent": _dec(t.mcid_percent)},
    )


# --------------------------------------------------------------------------------------------
# Reading the inputs


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


def _dec(value: Fraction | float, digits: int = 1) -> Decimal:
    """_num as a Decimal: the rounded number, which the Django layer shows in the reader's
    locale (31,5 in Spanish) and Python prints as _num does in English."""
    return Decimal(_num(value, digits))


def _plural_of(text: str) -> int:
    """The number that picks a plural form for a shown number: 1 for exactly "1", else 2
    (English and Spanish read 0, 1.5 and 2 alike as plural)."""
    return 1 if text == "1" else 2


def _points_phrase(text: str) -> Phrase:
    return Phrase(
        ngettext_lazy("%(points)s point", "%(points)s points", _plural_of(text)),
        {"points": Decimal(text)},
    )


def _entries(n: int) -> Phrase:
    return Phrase(ngettext_lazy("%(count)s entry", "%(count)s entries", n), {"count": n})
