"""The spec's terms: trial day and week, baseline, current pain, change, MCID, adherence, ROM."""

from __future__ import annotations

import dataclasses
import json
import random

import pytest

from rehab.rules import (
    RULESET_VERSION,
    EntryData,
    PrescriptionData,
    Thresholds,
    evaluate,
)
from tests.rules.helpers import (
    RX,
    START,
    codes,
    day,
    entries,
    episode,
    flat,
    immobilization,
    on_day,
)

# --- trial day and week -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "week"),
    [(1, 1), (7, 1), (8, 2), (14, 2), (15, 3), (42, 6), (43, 7), (56, 8), (57, 9)],
)
def test_trial_day_counts_the_start_as_day_one(n, week):
    result = evaluate(episode(), Thresholds(), day(n))

    assert result.trial_day == n == (day(n) - START).days + 1
    assert result.trial_week == week


@pytest.mark.parametrize(("n", "week"), [(0, 0), (-6, 0), (-7, -1)])
def test_before_the_start_day_and_week_follow_the_same_formula(n, week):
    result = on_day(episode(), n)

    assert result.trial_day == n
    assert result.trial_week == week


# --- baseline -----------------------------------------------------------------------------------


def test_baseline_is_the_week_one_mean_when_week_one_is_usable():
    ep = episode(entries(1, [7, 7, 8, 7]), intake_pain_activity=3)  # 4 entries: usable

    assert on_day(ep, 10).metrics.pain_baseline == 7.25


def test_baseline_falls_back_to_intake_when_week_one_is_not_usable():
    ep = episode(entries(1, [7, 7, 8]), intake_pain_activity=3)  # 3 entries: not usable

    result = on_day(ep, 10)

    assert result.metrics.pain_baseline == 3.0
    assert "BASELINE_MISSING" not in codes(result)


def test_baseline_is_unknown_without_usable_week_or_intake():
    ep = episode(entries(1, [7, 7, 8]))

    assert on_day(ep, 10).metrics.pain_baseline is None


def test_baseline_ignores_entries_after_day_7():
    ep = episode(entries(1, [7, 7, 7]), entries(8, [1, 1, 1, 1]))

    assert on_day(ep, 11).metrics.pain_baseline is None


def test_min_entries_per_week_decides_what_is_usable():
    ep = episode(entries(1, [6, 6, 9]))

    assert on_day(ep, 10).metrics.pain_baseline is None
    assert on_day(ep, 10, Thresholds(min_entries_per_week=3)).metrics.pain_baseline == 7.0


def test_baseline_only_uses_entries_up_to_as_of():
    ep = episode(entries(1, [8, 8, 8, 8, 2, 2, 2]))

    assert on_day(ep, 4).metrics.pain_baseline == 8.0
    assert on_day(ep, 7).metrics.pain_baseline == 5.43  # 38 / 7


# --- current pain -------------------------------------------------------------------------------


def test_current_pain_is_the_mean_of_the_seven_days_ending_on_as_of():
    # Day 13 falls outside the window of day 20 (days 14-20).
    ep = episode(flat(1, 7, 7), entries(13, [0]), entries(14, [5, 5]), entries(19, [4, 6]))

    result = on_day(ep, 20)

    assert result.metrics.entries_last_7_days == 4
    assert result.metrics.pain_current == 5.0


def test_current_pain_needs_a_usable_window():
    ep = episode(flat(1, 7, 7), entries(14, [5, 5, 5]))

    result = on_day(ep, 20)

    assert result.metrics.entries_last_7_days == 3
    assert result.metrics.pain_current is None
    assert result.metrics.pain_change is None
    assert result.metrics.pain_change_pct is None


# --- change and MCID ----------------------------------------------------------------------------


def test_change_and_percent_are_baseline_minus_current():
    ep = episode(flat(1, 7, 8), flat(14, 20, 6))

    metrics = on_day(ep, 20).metrics

    assert (metrics.pain_baseline, metrics.pain_current) == (8.0, 6.0)
    assert metrics.pain_change == 2.0
    assert metrics.pain_change_pct == 25.0


def test_a_rise_in_pain_is_a_negative_change():
    ep = episode(flat(1, 7, 4), flat(14, 20, 6))

    metrics = on_day(ep, 20).metrics

    assert metrics.pain_change == -2.0
    assert metrics.pain_change_pct == -50.0


def test_percent_is_unknown_when_baseline_is_zero():
    ep = episode(flat(14, 20, 3), intake_pain_activity=0)

    metrics = on_day(ep, 20).metrics

    assert metrics.pain_baseline == 0.0
    assert metrics.pain_change == -3.0
    assert metrics.pain_change_pct is None


def test_a_zero_baseline_never_counts_as_an_important_improvement():
    # With nothing to improve on, "MCID met" would be meaningless; the rise is simply no
    # improvement, so at the review the trial is judged as not improving.
    ep = episode(flat(36, 42, 3), intake_pain_activity=0)

    result = on_day(ep, 42)

    assert "IMPROVING" not in codes(result)
    referral = result.finding("REFERRAL_CONSIDER")
    assert referral is not None
    assert "activity pain rose 3 points (0 → 3), short of the 30% threshold" in referral.message


def test_exact_arithmetic_where_floats_would_miss_a_threshold():
    # 41/7 - 27/7 is exactly 2, but 1.9999999999999996 in floating point.
    ep = episode(entries(1, [6, 6, 6, 6, 6, 6, 5]), entries(14, [4, 4, 4, 4, 4, 4, 3]))

    result = on_day(ep, 20)

    assert result.metrics.pain_change == 2.0
    assert "IMPROVING" in codes(result)


def test_exact_arithmetic_for_the_percentage_too():
    # 64/7 -> 32/5 is exactly 30%, but 29.999999999999993% in floating point.
    ep = episode(entries(1, [9, 9, 9, 9, 9, 9, 10]), entries(16, [7, 7, 6, 6, 6]))

    result = on_day(ep, 20)

    assert result.metrics.pain_change_pct == 30.0
    assert "IMPROVING" in codes(result)


# --- adherence ----------------------------------------------------------------------------------


def test_adherence_sums_sets_over_entry_dates_and_active_prescriptions():
    a = PrescriptionData(id=1, sets=3, start_date=START)
    b = PrescriptionData(id=2, sets=2, start_date=day(3), end_date=day(4))
    ep = episode(
        entries(1, [5], done={1: 3}),  # a only: 3 of 3
        entries(3, [5], done={1: 1, 2: 2}),  # a and b: 3 of 5
        entries(4, [5], done={1: 3}),  # b not logged counts as 0: 3 of 5
        entries(5, [5], done={1: 3, 2: 2}),  # b has ended: 3 of 3
        prescriptions=(a, b),
    )

    assert on_day(ep, 5).metrics.adherence_pct == pytest.approx(12 / 16 * 100)


def test_days_without_an_entry_are_left_out_of_adherence():
    ep = episode(entries(1, [5], done={1: 3}), entries(10, [5], done={1: 3}), prescriptions=(RX,))

    assert on_day(ep, 14).metrics.adherence_pct == 100.0


def test_extra_sets_do_not_make_up_for_missed_ones():
    ep = episode(entries(1, [5], done={1: 9}), entries(2, [5], done={1: 0}), prescriptions=(RX,))

    assert on_day(ep, 2).metrics.adherence_pct == 50.0


def test_adherence_is_unknown_when_nothing_was_prescribed():
    ep = episode(flat(1, 20, 5))
    later = PrescriptionData(id=1, sets=3, start_date=day(21))

    assert on_day(ep, 20).metrics.adherence_pct is None
    assert on_day(dataclasses.replace(ep, prescriptions=(later,)), 20).metrics.adherence_pct is None


# --- range of motion ----------------------------------------------------------------------------


def test_week_one_rom_is_the_mean_of_week_one_measurements():
    ep = episode(entries(1, [5], rom=30), entries(5, [5], rom=35), entries(6, [5]))

    assert on_day(ep, 20).metrics.rom_week1 == 32.5


def test_week_one_rom_falls_back_to_intake():
    ep = episode(entries(1, [5]), entries(8, [5], rom=20), intake_pf_rom_affected=33)

    assert on_day(ep, 20).metrics.rom_week1 == 33.0


def test_current_rom_needs_one_measurement_in_the_last_seven_days():
    ep = episode(entries(13, [5], rom=20), entries(16, [5], rom=25), intake_pf_rom_affected=33)

    assert on_day(ep, 20).metrics.rom_current == 25.0
    assert on_day(ep, 23).metrics.rom_current is None


def test_reference_is_the_mean_of_all_unaffected_measurements_else_intake():
    ep = episode(
        entries(1, [5], rom_other=40),
        entries(30, [5], rom_other=45),
        entries(50, [5], rom_other=90),  # after as_of: ignored
        intake_pf_rom_unaffected=50,
    )

    assert on_day(ep, 42).metrics.rom_reference == 42.5
    assert on_day(episode(intake_pf_rom_unaffected=50), 42).metrics.rom_reference == 50.0
    assert on_day(episode(), 42).metrics.rom_reference is None


def test_deficit_is_reference_minus_current():
    ep = episode(entries(40, [5], rom=28, rom_other=45))

    metrics = on_day(ep, 42).metrics

    assert (metrics.rom_reference, metrics.rom_current, metrics.rom_deficit) == (45.0, 28.0, 17.0)


# --- which data count ---------------------------------------------------------------------------


def test_data_after_as_of_is_ignored():
    base = episode(
        flat(1, 7, 7), flat(36, 42, 6, done={1: 3}), prescriptions=(RX,), interventions=()
    )
    noisy = dataclasses.replace(
        base,
        entries=(*base.entries, *flat(43, 60, 0, rom=5, rom_other=80)),
        prescriptions=(RX, PrescriptionData(id=2, sets=5, start_date=day(43))),
        interventions=(immobilization(43, None),),
        bmi=None,
    )

    assert on_day(noisy, 42) == on_day(base, 42)


def test_entries_before_the_start_are_ignored():
    ep = episode(flat(1, 7, 7))
    with_stray = dataclasses.replace(ep, entries=(*ep.entries, *flat(-5, 0, 0)))

    assert on_day(with_stray, 3) == on_day(ep, 3)
    assert on_day(with_stray, 3).metrics.entries_last_7_days == 3


def test_order_of_entries_does_not_matter():
    ep = episode(entries(1, [7, 6, 8, 7, 5]), flat(20, 44, 6, rom=30, rom_other=40))
    shuffled = list(ep.entries)
    random.Random(4).shuffle(shuffled)

    assert on_day(dataclasses.replace(ep, entries=tuple(shuffled)), 44) == on_day(ep, 44)


def test_two_entries_on_one_date_are_refused():
    twice = [EntryData(date=day(3), pain_activity=4), EntryData(date=day(3), pain_activity=5)]

    with pytest.raises(ValueError, match="more than one entry dated 2026-01-07"):
        on_day(episode(twice), 10)


def test_an_unknown_status_is_refused():
    with pytest.raises(ValueError, match="status"):
        on_day(episode(status="paused"), 10)


# --- rounding and output ------------------------------------------------------------------------


def test_metrics_are_rounded_to_two_decimals_half_up():
    # 321/8 = 40.125 exactly: half-up gives 40.13 (Python's round() would give 40.12).
    rom_others = [40, 40, 40, 40, 40, 40, 40, 41]
    ep = episode(
        [
            EntryData(date=day(n + 1), pain_activity=5, pf_rom_unaffected=r)
            for n, r in enumerate(rom_others)
        ]
    )

    assert on_day(ep, 8).metrics.rom_reference == 40.13


def test_evaluation_is_json_ready():
    ep = episode(
        flat(1, 7, 7),
        flat(36, 60, 6, rom=20, rom_other=45),
        prescriptions=(RX,),
        interventions=(),
        bmi=31.5,
    )

    as_dict = on_day(ep, 58).as_dict()

    assert json.loads(json.dumps(as_dict)) == as_dict
    assert as_dict["ruleset"] == RULESET_VERSION
    assert set(as_dict["metrics"]) == {
        "pain_baseline",
        "pain_current",
        "pain_change",
        "pain_change_pct",
        "adherence_pct",
        "entries_last_7_days",
        "rom_week1",
        "rom_current",
        "rom_reference",
        "rom_deficit",
        "faam_adl_baseline",
        "faam_adl_current",
        "faam_sports_baseline",
        "faam_sports_current",
        "psfs_baseline",
        "psfs_current",
    }
