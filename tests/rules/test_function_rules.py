"""The function questionnaires in the rules: baseline and current, FUNCTION_NOT_IMPROVING, the
referral findings' evidence and questionnaires_due (docs/clinical-rules.md, "Function")."""

from __future__ import annotations

import dataclasses

import pytest

from rehab.rules import (
    FUNCTION_NOT_IMPROVING,
    INFO,
    REFERRAL_CONSIDER,
    EpisodeData,
    QuestionnaireScore,
    Thresholds,
)
from tests.days import day
from tests.rules.helpers import codes, episode, example_one, faam, on_day, psfs

FUNCTION_METRICS = (
    "faam_adl_baseline",
    "faam_adl_current",
    "faam_sports_baseline",
    "faam_sports_current",
    "psfs_baseline",
    "psfs_current",
)


def metrics(ep: EpisodeData, n: int) -> dict[str, float | None]:
    shown = on_day(ep, n).metrics.as_dict()
    return {name: shown[name] for name in FUNCTION_METRICS}


def with_questionnaires(ep: EpisodeData, *scores: QuestionnaireScore) -> EpisodeData:
    return dataclasses.replace(ep, questionnaires=scores)


# --- Baseline and current -------------------------------------------------------------------------


def test_baseline_is_the_first_valid_score_and_current_the_latest_after_it():
    ep = episode(
        questionnaires=(
            faam(3, adl=60, sports=40),
            faam(20, adl=70, sports=45),
            faam(40, adl=75.25, sports=50.125),
            psfs(3, 2.5),
            psfs(40, 4.75),
        )
    )

    assert metrics(ep, 42) == {
        "faam_adl_baseline": 60.0,
        "faam_adl_current": 75.3,  # 75.25, half away from zero
        "faam_sports_baseline": 40.0,
        "faam_sports_current": 50.1,
        "psfs_baseline": 2.5,
        "psfs_current": 4.8,
    }
    # As of day 30 the day-40 responses do not count yet.
    assert metrics(ep, 30)["faam_adl_current"] == 70.0
    assert metrics(ep, 30)["psfs_current"] is None


def test_an_unknown_subscale_is_skipped_for_baseline_and_current():
    # Sports was all N/A in week 1 (unknown), first known on day 12; unknown again on day 40.
    ep = episode(
        questionnaires=(
            faam(2, adl=60, sports=None),
            faam(12, adl=62, sports=30),
            faam(40, adl=64, sports=None),
        )
    )

    shown = metrics(ep, 42)

    assert (shown["faam_sports_baseline"], shown["faam_sports_current"]) == (30.0, None)
    assert (shown["faam_adl_baseline"], shown["faam_adl_current"]) == (60.0, 64.0)


def test_a_single_score_is_a_baseline_without_a_current():
    ep = episode(questionnaires=(faam(45, adl=50, sports=40),))

    # Answered outside every window, the first response is still the baseline.
    assert metrics(ep, 50)["faam_adl_baseline"] == 50.0
    assert metrics(ep, 50)["faam_adl_current"] is None


def test_responses_before_the_start_or_after_as_of_do_not_count():
    ep = episode(questionnaires=(faam(0, adl=10), faam(5, adl=60), faam(50, adl=90)))

    assert metrics(ep, 42)["faam_adl_baseline"] == 60.0
    assert metrics(ep, 42)["faam_adl_current"] is None


def test_no_questionnaires_leave_every_metric_unknown():
    assert set(metrics(episode(), 42).values()) == {None}


# --- FUNCTION_NOT_IMPROVING -----------------------------------------------------------------------


def finding(ep: EpisodeData, n: int, thresholds: Thresholds | None = None):
    return on_day(ep, n, thresholds or Thresholds()).finding(FUNCTION_NOT_IMPROVING)


def test_sports_decides_when_known_even_if_adl_improved():
    ep = episode(questionnaires=(faam(2, adl=50, sports=40), faam(40, adl=80, sports=45)))

    found = finding(ep, 42)

    assert found is not None and found.severity == INFO
    assert found.evidence == {
        "trial_day": 42,
        "subscale": "sports",
        "faam_sports_baseline": 40.0,
        "faam_sports_current": 45.0,
        "faam_sports_change": 5.0,
        "faam_sports_mcid": 9.0,
        "baseline_date": day(2).isoformat(),
        "current_date": day(40).isoformat(),
        "review_day": 42,
    }
    assert found.message == (
        "FAAM Sports went from 40 to 45 (2026-01-06 to 2026-02-13), a change of 5, short of the "
        "9-point important difference: sport function is not improving."
    )


def test_sports_improving_by_the_mcid_is_enough_even_if_adl_did_not():
    ep = episode(questionnaires=(faam(2, adl=50, sports=40), faam(40, adl=50, sports=49)))

    assert finding(ep, 42) is None


def test_when_sports_is_unknown_adl_decides():
    ep = episode(questionnaires=(faam(2, adl=50), faam(40, adl=57.5)))

    found = finding(ep, 42)

    assert found is not None
    assert found.evidence["subscale"] == "adl"
    assert found.evidence["faam_adl_change"] == 7.5
    assert found.evidence["faam_adl_mcid"] == 8.0
    assert found.message.startswith("FAAM ADL went from 50 to 57.5")
    assert "daily function is not improving" in found.message


def test_when_sports_has_a_baseline_but_no_current_adl_decides():
    # Our reading of "when Sports is unknown": it cannot be compared (docs/questionnaires.md).
    ep = episode(questionnaires=(faam(2, adl=50, sports=40), faam(40, adl=52, sports=None)))

    found = finding(ep, 42)

    assert found is not None and found.evidence["subscale"] == "adl"


@pytest.mark.parametrize(
    ("sports_now", "fires"),
    [(49, False), (48.96875, True), (45, True), (30, True)],
    ids=["exactly the MCID", "just short", "short", "worse"],
)
def test_the_mcid_boundary_is_exact(sports_now, fires):
    ep = episode(questionnaires=(faam(2, sports=40), faam(40, sports=sports_now)))

    assert (finding(ep, 42) is not None) is fires


def test_a_change_just_short_of_the_mcid_is_never_shown_as_reaching_it():
    # 8.96875 rounds to 9.0, which would read as "met": the sentence says 8.9.
    ep = episode(questionnaires=(faam(2, sports=40), faam(40, sports=48.96875)))

    found = finding(ep, 42)

    assert found is not None
    assert "a change of 8.9," in found.message


def test_a_fall_is_shown_as_a_negative_change():
    ep = episode(questionnaires=(faam(2, sports=60), faam(40, sports=52.5)))

    found = finding(ep, 42)

    assert found is not None
    assert "a change of -7.5," in found.message
    assert found.evidence["faam_sports_change"] == -7.5


def test_not_before_review_day():
    ep = episode(questionnaires=(faam(2, sports=40), faam(30, sports=40)))

    assert finding(ep, 41) is None
    assert finding(ep, 42) is not None
    assert finding(ep, 35, Thresholds(review_day=35, overdue_day=50)) is not None


def test_the_clinics_mcids_apply():
    ep = episode(questionnaires=(faam(2, adl=50, sports=40), faam(40, adl=55, sports=45)))

    assert finding(ep, 42, Thresholds(faam_sports_mcid=5)) is None
    adl_only = episode(questionnaires=(faam(2, adl=50), faam(40, adl=55)))
    assert finding(adl_only, 42, Thresholds(faam_adl_mcid=5)) is None
    assert finding(adl_only, 42, Thresholds(faam_adl_mcid=5.5)) is not None


def test_psfs_alone_never_fires_it():
    ep = episode(questionnaires=(psfs(2, 3), psfs(40, 3)))

    assert finding(ep, 42) is None


def test_it_never_changes_the_recommendation_nor_the_referral_rules():
    stalled = example_one()
    function_stalled = with_questionnaires(
        stalled, faam(2, adl=50, sports=40), faam(40, adl=52, sports=41), psfs(2, 3)
    )
    improving = example_one(late_pain=4)
    function_improving_pain = with_questionnaires(
        improving, faam(2, adl=50, sports=40), faam(40, adl=50, sports=40)
    )

    for without, with_ in ((stalled, function_stalled), (improving, function_improving_pain)):
        for n in (41, 42, 56):
            before, after = on_day(without, n), on_day(with_, n)
            assert after.recommendation == before.recommendation
            assert codes(after) - {FUNCTION_NOT_IMPROVING} == codes(before)
    assert FUNCTION_NOT_IMPROVING in codes(on_day(function_improving_pain, 42))


# --- The referral findings' evidence ------------------------------------------------------------


def test_the_referral_findings_carry_the_known_function_metrics():
    ep = with_questionnaires(example_one(), faam(2, adl=50, sports=40), psfs(2, 3), psfs(40, 3.5))

    referral = on_day(ep, 42).finding(REFERRAL_CONSIDER)
    plain = on_day(example_one(), 42).finding(REFERRAL_CONSIDER)

    assert referral is not None and plain is not None
    added = {k: v for k, v in referral.evidence.items() if k not in plain.evidence}
    assert added == {
        "faam_adl_baseline": 50.0,
        "faam_sports_baseline": 40.0,
        "psfs_baseline": 3.0,
        "psfs_current": 3.5,
    }
    # Everything else is as before; the message too.
    assert {k: referral.evidence[k] for k in plain.evidence} == plain.evidence
    assert referral.message == plain.message


# --- questionnaires_due ------------------------------------------------------------------------


def due(
    ep: EpisodeData, n: int, thresholds: Thresholds | None = None
) -> list[tuple[str, int, int]]:
    """(instrument, first trial day, last trial day) of each questionnaire due on day n."""
    evaluation = on_day(ep, n, thresholds or Thresholds())
    start = ep.start_date
    return [
        (d.instrument, (d.window_start - start).days + 1, (d.window_end - start).days + 1)
        for d in evaluation.questionnaires_due
    ]


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (0, []),
        (1, [("faam", 1, 7), ("psfs", 1, 7)]),
        (7, [("faam", 1, 7), ("psfs", 1, 7)]),
        (8, []),
        (38, []),
        (39, [("faam", 39, 49), ("psfs", 39, 49)]),
        (49, [("faam", 39, 49), ("psfs", 39, 49)]),
        (50, []),
        (52, []),
        (53, [("faam", 53, 63), ("psfs", 53, 63)]),
        (63, [("faam", 53, 63), ("psfs", 53, 63)]),
        (64, []),
    ],
)
def test_both_are_due_in_each_window_without_a_response(n, expected):
    assert due(episode(), n) == expected


def test_a_response_in_the_window_clears_it_and_one_outside_does_not():
    ep = episode(
        questionnaires=(
            faam(3, adl=50, sports=40),
            # Answered on day 37, before the review window opened (day 39).
            psfs(37, 3),
            # A FAAM with Sports all N/A and ADL short of 19 is still an answer.
            faam(41, adl=None, sports=None),
        )
    )

    assert due(ep, 5) == [("psfs", 1, 7)]
    assert due(ep, 42) == [("psfs", 39, 49)]


def test_a_response_dated_after_as_of_does_not_count_yet():
    ep = episode(questionnaires=(psfs(45, 3), faam(45, adl=50)))

    assert due(ep, 42) == [("faam", 39, 49), ("psfs", 39, 49)]
    assert due(ep, 45) == []


def test_the_windows_follow_the_clinics_days():
    assert due(episode(), 27, Thresholds(review_day=30, overdue_day=45)) == [
        ("faam", 27, 37),
        ("psfs", 27, 37),
    ]


@pytest.mark.parametrize(
    "fields", [{"status": "closed"}, {"status": "referred"}, {"has_referral": True}]
)
def test_nothing_is_due_once_the_episode_is_referred_or_closed(fields):
    assert due(episode(**fields), 42) == []


def test_overlapping_windows_list_each_instrument_once():
    thresholds = Thresholds(review_day=42, overdue_day=44)

    assert due(episode(), 43, thresholds) == [("faam", 39, 49), ("psfs", 39, 49)]
    # Answered in the review window (day 40), the overdue window (41–51) still asks.
    answered = episode(questionnaires=(faam(40, adl=50), psfs(40, 4)))
    assert due(answered, 43, thresholds) == [("faam", 41, 51), ("psfs", 41, 51)]
