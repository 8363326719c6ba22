"""Scoring the function questionnaires, FAAM and PSFS, as pure Python (no Django).

Beside ``rules.py`` and under the same rule: plain data in, numbers out, nothing read from the
database, so the scoring can be checked by hand and by property tests on its own
(docs/questionnaires.md explains the measures for clinicians).

* **FAAM**, the Foot and Ankle Ability Measure (Martin RL, Irrgang JJ, Burdett RG, Conti SF,
  Van Swearingen JM. Evidence of validity for the Foot and Ankle Ability Measure (FAAM). Foot
  Ankle Int. 2005;26(11):968-983, doi:10.1177/107110070502601113). Free to use. An ADL subscale
  of 21 items and a Sports subscale of 8, each item answered 4 "No difficulty at all" … 0
  "Unable to do", or N/A. A subscale's score is the sum of its 0–4 answers ÷ (4 × the number of
  0–4 answers) × 100, valid only when at least 19 of the 21 ADL (7 of the 8 Sports) items have a
  0–4 answer (the published 90% rule): N/A and blank both leave an item out of the score and
  both count against that minimum. The subscales are never added together.
* **PSFS**, the Patient-Specific Functional Scale (Stratford P, Gill C, Westaway M, Binkley J.
  Physiother Can 1995;47(4):258-263; Horn KK et al., J Orthop Sports Phys Ther 2012;42(1):30-42):
  1–5 activities the patient names, each rated 0 (unable) … 10 (as before the injury); the
  score is their mean.

Scores are exact (``Fraction``) where the rules compare them with a threshold, and rounded only
for display (``round_score``: 0.1, halves away from zero), as ``rules.py`` does with pain.

The item wording is the published English, marked with ``gettext_noop`` (as ``rules.py`` marks
its messages) so that the Django layer translates it; the Spanish in locale/ is our own
translation, not the validated Spanish FAAM (Cervera-Garvi et al., J Foot Ankle Res 2017;10:39,
doi:10.1186/s13047-017-0221-6).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from types import MappingProxyType
from typing import Final, Literal, NamedTuple, Protocol


def gettext_noop(message: str) -> str:
    """Marks English text for translation; translated later by the Django layer."""
    return message


FAAM: Final = "faam"
PSFS: Final = "psfs"
INSTRUMENTS: Final = (FAAM, PSFS)

ADL: Final = "adl"
SPORTS: Final = "sports"
Subscale = Literal["adl", "sports"]

# The answer N/A: the activity is limited by something other than the foot or ankle.
NA: Final = "na"

# The answers in the order of the published form, each with its wording.
FAAM_ANSWERS: Final[Mapping[int | str, str]] = MappingProxyType(
    {
        4: gettext_noop("No difficulty at all"),
        3: gettext_noop("Slight difficulty"),
        2: gettext_noop("Moderate difficulty"),
        1: gettext_noop("Extreme difficulty"),
        0: gettext_noop("Unable to do"),
        NA: gettext_noop("N/A"),
    }
)
FAAM_ITEM_MIN, FAAM_ITEM_MAX = 0, 4

FAAM_ADL_ITEM_COUNT: Final = 21
FAAM_SPORTS_ITEM_COUNT: Final = 8
# The published 90% rule: the fewest 0–4 answers a subscale needs to have a score.
FAAM_ADL_MIN_ANSWERED: Final = 19
FAAM_SPORTS_MIN_ANSWERED: Final = 7

# The question each subscale's items answer, as printed on the form.
FAAM_ADL_QUESTION: Final = gettext_noop(
    "Because of your foot and ankle, how much difficulty do you have with:"
)
FAAM_SPORTS_QUESTION: Final = FAAM_ADL_QUESTION

PSFS_MIN_ACTIVITIES: Final = 1
PSFS_MAX_ACTIVITIES: Final = 5
PSFS_SCORE_MIN, PSFS_SCORE_MAX = 0, 10
PSFS_ACTIVITY_MAX_LENGTH: Final = 120


class FaamItem(NamedTuple):
    """One item of the FAAM: its ``link_id`` (the API's and FHIR's name), subscale, number on
    the form, and published wording."""

    link_id: str
    subscale: Subscale
    number: int
    text: str


def _items(subscale: Subscale, texts: Sequence[str]) -> tuple[FaamItem, ...]:
    return tuple(
        FaamItem(f"{subscale}-{number}", subscale, number, text)
        for number, text in enumerate(texts, start=1)
    )


# The published form, in its order (Martin et al. 2005, appendix).
FAAM_ADL_ITEMS: Final = _items(
    ADL,
    (
        gettext_noop("Standing"),
        gettext_noop("Walking on even ground"),
        gettext_noop("Walking on even ground without shoes"),
        gettext_noop("Walking up hills"),
        gettext_noop("Walking down hills"),
        gettext_noop("Going up stairs"),
        gettext_noop("Going down stairs"),
        gettext_noop("Walking on uneven ground"),
        gettext_noop("Stepping up and down curbs"),
        gettext_noop("Squatting"),
        gettext_noop("Coming up on your toes"),
        gettext_noop("Walking initially"),
        gettext_noop("Walking 5 minutes or less"),
        gettext_noop("Walking approximately 10 minutes"),
        gettext_noop("Walking 15 minutes or greater"),
        gettext_noop("Home responsibilities"),
        gettext_noop("Activities of daily living"),
        gettext_noop("Personal care"),
        gettext_noop("Light to moderate work (standing, walking)"),
        gettext_noop("Heavy work (push/pulling, climbing, carrying)"),
        gettext_noop("Recreational activities"),
    ),
)
FAAM_SPORTS_ITEMS: Final = _items(
    SPORTS,
    (
        gettext_noop("Running"),
        gettext_noop("Jumping"),
        gettext_noop("Landing"),
        gettext_noop("Starting and stopping quickly"),
        gettext_noop("Cutting/lateral movements"),
        gettext_noop("Low impact activities"),
        gettext_noop("Ability to perform activity with your normal technique"),
        gettext_noop("Ability to participate in your desired sport as long as you would like"),
    ),
)
FAAM_ITEMS: Final[tuple[FaamItem, ...]] = FAAM_ADL_ITEMS + FAAM_SPORTS_ITEMS
FAAM_ITEMS_BY_LINK_ID: Final[Mapping[str, FaamItem]] = MappingProxyType(
    {item.link_id: item for item in FAAM_ITEMS}
)

FaamAnswer = int | str | None


class FaamScores(NamedTuple):
    """The two subscale scores (0–100, exact, unrounded); None where fewer items than the 90%
    rule needs have a 0–4 answer."""

    adl: float | None
    sports: float | None


class FaamExact(NamedTuple):
    """``FaamScores`` as exact fractions, for comparisons with a threshold."""

    adl: Fraction | None
    sports: Fraction | None


def faam_answer_value(value: object) -> int | None:
    """The 0–4 answer ``value`` gives (a JSON number with an integral value, 7.0, counts as
    that integer), None for N/A or blank; ``ValueError`` for anything else (true, "3", 5)."""
    if value is None or value == NA:
        return None
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    if (
        isinstance(value, int)
        and not isinstance(value, bool)
        and FAAM_ITEM_MIN <= value <= FAAM_ITEM_MAX
    ):
        return value
    raise ValueError(f"{value!r} is not 0–4, 'na' or blank.")


def faam_exact(answers: Mapping[str, FaamAnswer]) -> FaamExact:
    """The exact subscale scores of ``answers`` ({link_id: 0–4 | "na" | None}; items left out
    are blank). An unknown link id or a value that is not an answer raises ``ValueError``."""
    totals = {ADL: 0, SPORTS: 0}
    answered = {ADL: 0, SPORTS: 0}
    for link_id, raw in answers.items():
        item = FAAM_ITEMS_BY_LINK_ID.get(link_id)
        if item is None:
            raise ValueError(f"{link_id!r}: not a FAAM item.")
        value = faam_answer_value(raw)
        if value is not None:
            totals[item.subscale] += value
            answered[item.subscale] += 1
    return FaamExact(
        adl=_subscale(totals[ADL], answered[ADL], FAAM_ADL_MIN_ANSWERED),
        sports=_subscale(totals[SPORTS], answered[SPORTS], FAAM_SPORTS_MIN_ANSWERED),
    )


def _subscale(total: int, answered: int, minimum: int) -> Fraction | None:
    if answered < minimum:
        return None
    return Fraction(total * 100, 4 * answered)


def faam_scores(answers: Mapping[str, FaamAnswer]) -> FaamScores:
    """The FAAM ADL and Sports scores of ``answers``, unrounded (see ``faam_exact``)."""
    exact = faam_exact(answers)
    return FaamScores(adl=_float(exact.adl), sports=_float(exact.sports))


def psfs_exact(ratings: Sequence[int]) -> Fraction:
    """The PSFS score: the mean of 1–5 ratings 0–10, exact. Anything else raises ValueError."""
    if not PSFS_MIN_ACTIVITIES <= len(ratings) <= PSFS_MAX_ACTIVITIES:
        raise ValueError(
            f"PSFS needs {PSFS_MIN_ACTIVITIES}–{PSFS_MAX_ACTIVITIES} activities "
            f"(got {len(ratings)})."
        )
    for rating in ratings:
        if (
            isinstance(rating, bool)
            or not isinstance(rating, int)
            or not PSFS_SCORE_MIN <= rating <= PSFS_SCORE_MAX
        ):
            raise ValueError(f"{rating!r} is not a whole number 0–10.")
    return Fraction(sum(ratings), len(ratings))


def psfs_score(ratings: Sequence[int]) -> float:
    """The PSFS score (the mean of the ratings), unrounded."""
    return float(psfs_exact(ratings))


def _float(value: Fraction | None) -> float | None:
    return None if value is None else float(value)


def round_score(value: Fraction | Decimal | float) -> float:
    """A score for display: to 0.1, halves away from zero (62.25 → 62.3), computed exactly."""
    exact = Fraction(repr(value)) if isinstance(value, float) else Fraction(value)
    n, d = exact.numerator, exact.denominator
    magnitude = (2 * abs(n) * 10 + d) // (2 * d)
    return (-magnitude if n < 0 else magnitude) / 10 + 0.0


# --- When the questionnaires are due ------------------------------------------------------------

BASELINE: Final = "baseline"
REVIEW: Final = "review"
OVERDUE: Final = "overdue"
# Trial days 1–7; around review_day and overdue_day from 3 days before to 7 days after.
BASELINE_DAYS: Final = 7
WINDOW_DAYS_BEFORE: Final = 3
WINDOW_DAYS_AFTER: Final = 7


class _HasReviewDays(Protocol):
    @property
    def review_day(self) -> int: ...

    @property
    def overdue_day(self) -> int: ...


def shifted(date: dt.date, days: int) -> dt.date:
    """``date`` moved by ``days``, kept within the calendar (a window of an episode dated near
    the year 1 or 9999 ends there rather than overflowing)."""
    ordinal = date.toordinal() + days
    return dt.date.fromordinal(min(max(ordinal, 1), dt.date.max.toordinal()))


class QuestionnaireWindow(NamedTuple):
    """When the questionnaires are due: ``name`` (baseline, review, overdue) and its first and
    last date, both included."""

    name: str
    start: dt.date
    end: dt.date

    def holds(self, date: dt.date) -> bool:
        return self.start <= date <= self.end


def questionnaire_windows(
    start_date: dt.date, thresholds: _HasReviewDays
) -> tuple[QuestionnaireWindow, ...]:
    """The three windows of an episode starting on ``start_date`` (trial day 1): baseline days
    1–7, then review_day and overdue_day each from 3 days before to 7 days after."""

    def on(trial_day: int) -> dt.date:
        return shifted(start_date, trial_day - 1)

    return (
        QuestionnaireWindow(BASELINE, on(1), on(BASELINE_DAYS)),
        QuestionnaireWindow(
            REVIEW,
            on(thresholds.review_day - WINDOW_DAYS_BEFORE),
            on(thresholds.review_day + WINDOW_DAYS_AFTER),
        ),
        QuestionnaireWindow(
            OVERDUE,
            on(thresholds.overdue_day - WINDOW_DAYS_BEFORE),
            on(thresholds.overdue_day + WINDOW_DAYS_AFTER),
        ),
    )
