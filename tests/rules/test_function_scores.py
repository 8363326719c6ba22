"""FAAM and PSFS scoring (rehab/function_scores.py): worked by hand, then properties (hypothesis).

The hand-worked examples follow the published scoring (Martin et al. 2005): a subscale's score
is the sum of its 0–4 answers ÷ (4 × the number of 0–4 answers) × 100, valid only with at least
19 of 21 ADL and 7 of 8 Sports items answered 0–4; N/A and blank items are left out of both.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rehab import function_scores as fs
from rehab.function_scores import (
    FAAM_ADL_MIN_ANSWERED,
    FAAM_ITEMS,
    FAAM_SPORTS_MIN_ANSWERED,
    NA,
    FaamScores,
    faam_exact,
    faam_scores,
    psfs_score,
    questionnaire_windows,
    round_score,
)
from rehab.rules import Thresholds

PROPERTY = settings(max_examples=300, deadline=None)
ADL_IDS = [item.link_id for item in FAAM_ITEMS if item.subscale == "adl"]
SPORTS_IDS = [item.link_id for item in FAAM_ITEMS if item.subscale == "sports"]


def answers_of(adl: list[Any], sports: list[Any]) -> dict[str, Any]:
    """ADL and Sports answers in item order (a shorter list leaves the last items out)."""
    return dict(zip(ADL_IDS, adl, strict=False)) | dict(zip(SPORTS_IDS, sports, strict=False))


# --- The items ----------------------------------------------------------------------------------


def test_the_form_has_21_adl_and_8_sports_items_in_the_published_order():
    assert [f"adl-{n}" for n in range(1, 22)] == ADL_IDS
    assert [f"sports-{n}" for n in range(1, 9)] == SPORTS_IDS
    assert [item.number for item in FAAM_ITEMS] == [*range(1, 22), *range(1, 9)]
    by_id = fs.FAAM_ITEMS_BY_LINK_ID
    # Spot checks of the published wording (Martin et al. 2005, appendix).
    assert by_id["adl-1"].text == "Standing"
    assert by_id["adl-11"].text == "Coming up on your toes"
    assert by_id["adl-21"].text == "Recreational activities"
    assert by_id["sports-1"].text == "Running"
    assert by_id["sports-8"].text == (
        "Ability to participate in your desired sport as long as you would like"
    )
    assert list(fs.FAAM_ANSWERS) == [4, 3, 2, 1, 0, "na"]
    assert fs.FAAM_ANSWERS[0] == "Unable to do"


# --- Worked by hand -------------------------------------------------------------------------------


def test_adl_with_an_na_and_a_blank_is_scored_on_the_19_answered():
    # adl-1..10 answered 4, adl-11..15 answered 3, adl-16..19 answered 2: 40 + 15 + 8 = 63.
    # adl-20 N/A, adl-21 left blank: 19 items answered, so 63 / (4 × 19) × 100 = 82.894...
    answers = answers_of([4] * 10 + [3] * 5 + [2] * 4 + [NA], [])

    exact = faam_exact(answers)

    assert exact.adl == Fraction(6300, 76)
    assert round_score(exact.adl) == 82.9
    assert exact.sports is None  # nothing answered


def test_the_19_of_21_edge():
    nineteen = answers_of([3] * 19 + [NA, None], [])
    eighteen = answers_of([3] * 18 + [NA, NA, None], [])

    assert faam_scores(nineteen).adl == 75.0
    assert faam_scores(eighteen).adl is None


def test_sports_the_7_of_8_edge():
    # 4 + 4 + 3 + 3 + 2 + 1 + 0 = 17 of 28: 60.714...; with the 8th answered 4: 21 of 32, 65.625.
    seven = answers_of([], [4, 4, 3, 3, 2, 1, 0, NA])
    eight = answers_of([], [4, 4, 3, 3, 2, 1, 0, 4])
    six = answers_of([], [4, 4, 3, 3, 2, 1, NA, NA])

    assert faam_exact(seven).sports == Fraction(1700, 28)
    assert round_score(faam_exact(seven).sports) == 60.7
    assert faam_scores(eight).sports == 65.625
    assert round_score(faam_exact(eight).sports) == 65.6
    assert faam_scores(six).sports is None


def test_the_extremes_and_the_subscales_stay_apart():
    assert faam_scores(answers_of([4] * 21, [0] * 8)) == FaamScores(adl=100.0, sports=0.0)
    assert faam_scores(answers_of([0] * 21, [4] * 8)) == FaamScores(adl=0.0, sports=100.0)
    assert faam_scores({}) == FaamScores(adl=None, sports=None)


def test_a_whole_float_answer_counts_as_its_integer():
    assert faam_scores(answers_of([3.0] * 21, [])).adl == 75.0


@pytest.mark.parametrize(
    "answers",
    [{"adl-22": 4}, {"sports-0": 4}, {"adl-1": 5}, {"adl-1": -1}, {"adl-1": True}, {"adl-1": "3"}],
)
def test_anything_but_an_answer_is_refused(answers):
    with pytest.raises(ValueError):
        faam_scores(answers)


@pytest.mark.parametrize(
    ("ratings", "score"),
    [([3, 4], 3.5), ([0], 0.0), ([10] * 5, 10.0), ([1, 2, 2], 5 / 3), ([7, 2, 9, 4], 5.5)],
)
def test_psfs_is_the_mean_rating(ratings, score):
    assert psfs_score(ratings) == score


def test_psfs_rounds_for_display_only():
    assert fs.psfs_exact([1, 2, 2]) == Fraction(5, 3)
    assert round_score(fs.psfs_exact([1, 2, 2])) == 1.7


@pytest.mark.parametrize("ratings", [[], [5] * 6, [11], [-1], [True], [2.5]])
def test_psfs_needs_1_to_5_whole_ratings_0_to_10(ratings):
    with pytest.raises(ValueError):
        psfs_score(ratings)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (62.25, 62.3),
        (62.35, 62.4),  # the float 62.35 is read as the decimal it prints as
        (Fraction(1, 20), 0.1),
        (Decimal("90.625"), 90.6),
        (Fraction(-1, 20), -0.1),
        (Fraction(6300, 76), 82.9),
        (100, 100.0),
    ],
)
def test_round_score_is_to_a_tenth_half_away_from_zero(value, shown):
    assert round_score(value) == shown


# --- Windows -----------------------------------------------------------------------------------


def test_the_windows_of_the_default_trial():
    start = dt.date(2026, 1, 5)

    windows = questionnaire_windows(start, Thresholds())

    def trial_day(date: dt.date) -> int:
        return (date - start).days + 1

    assert [(w.name, trial_day(w.start), trial_day(w.end)) for w in windows] == [
        ("baseline", 1, 7),
        ("review", 39, 49),
        ("overdue", 53, 63),
    ]


def test_the_windows_follow_the_clinics_review_and_overdue_days():
    start = dt.date(2026, 1, 5)
    windows = questionnaire_windows(start, Thresholds(review_day=30, overdue_day=45))

    assert windows[1].start == start + dt.timedelta(days=26)
    assert windows[2].end == start + dt.timedelta(days=51)


def test_the_windows_stay_within_the_calendar():
    windows = questionnaire_windows(dt.date(9999, 12, 1), Thresholds())

    assert windows[2].end == dt.date.max


# --- Properties -----------------------------------------------------------------------------------

ANSWER = st.sampled_from([0, 1, 2, 3, 4, NA, None])


@st.composite
def faam_answers(draw: st.DrawFn) -> dict[str, Any]:
    """Any mix of 0–4, N/A and blank over any subset of the items (blanks sometimes left out)."""
    answers = {}
    for link_id in fs.FAAM_ITEMS_BY_LINK_ID:
        value = draw(ANSWER)
        if value is None and draw(st.booleans()):
            continue
        answers[link_id] = value
    return answers


@PROPERTY
@given(faam_answers())
def test_a_known_score_lies_within_0_and_100(answers):
    for score in faam_scores(answers):
        assert score is None or 0 <= score <= 100


@PROPERTY
@given(faam_answers(), st.data())
def test_na_and_a_blank_give_the_same_score(answers, data):
    na_items = [link_id for link_id, value in answers.items() if value == NA]
    if not na_items:
        return
    chosen = data.draw(st.sampled_from(na_items))
    as_blank = answers | {chosen: None}
    left_out = {k: v for k, v in answers.items() if k != chosen}

    assert faam_exact(as_blank) == faam_exact(answers) == faam_exact(left_out)


@PROPERTY
@given(faam_answers(), st.data())
def test_raising_one_answer_never_lowers_its_subscale(answers, data):
    raisable = [k for k, v in answers.items() if isinstance(v, int) and v < 4]
    if not raisable:
        return
    chosen = data.draw(st.sampled_from(raisable))
    raised = answers | {chosen: answers[chosen] + data.draw(st.integers(1, 4 - answers[chosen]))}
    before, after = faam_exact(answers), faam_exact(raised)

    subscale = fs.FAAM_ITEMS_BY_LINK_ID[chosen].subscale
    own_before, own_after = getattr(before, subscale), getattr(after, subscale)
    assert (own_before is None) == (own_after is None)
    if own_before is not None:
        assert own_after > own_before
    other = "sports" if subscale == "adl" else "adl"
    assert getattr(before, other) == getattr(after, other)


@PROPERTY
@given(st.integers(0, 21), st.integers(0, 8), st.data())
def test_the_90_percent_rule_at_its_edge(adl_answered, sports_answered, data):
    """A subscale is known exactly when at least 19 (7) of its items have a 0–4 answer."""
    value = st.integers(0, 4)
    missing = st.sampled_from([NA, None])
    adl = [data.draw(value) for _ in range(adl_answered)]
    adl += [data.draw(missing) for _ in range(21 - adl_answered)]
    sports = [data.draw(value) for _ in range(sports_answered)]
    sports += [data.draw(missing) for _ in range(8 - sports_answered)]
    # The answered items anywhere in the form, not only first.
    order = data.draw(st.permutations(range(21)))
    adl = [adl[i] for i in order]

    scores = faam_exact(answers_of(adl, sports))

    assert (scores.adl is not None) == (adl_answered >= FAAM_ADL_MIN_ANSWERED)
    assert (scores.sports is not None) == (sports_answered >= FAAM_SPORTS_MIN_ANSWERED)
    if scores.adl is not None:
        answered = [a for a in adl if isinstance(a, int)]
        assert scores.adl == Fraction(100 * sum(answered), 4 * len(answered))


@PROPERTY
@given(st.lists(st.integers(0, 10), min_size=1, max_size=5))
def test_psfs_lies_within_0_and_10_and_is_the_exact_mean(ratings):
    assert fs.psfs_exact(ratings) == Fraction(sum(ratings), len(ratings))
    assert 0 <= psfs_score(ratings) <= 10


@PROPERTY
@given(st.fractions(min_value=-1000, max_value=1000))
def test_round_score_is_never_more_than_half_a_tenth_away(value):
    shown = round_score(value)
    assert abs(Fraction(repr(shown)) - value) <= Fraction(1, 20)
