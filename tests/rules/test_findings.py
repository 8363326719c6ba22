"""Every finding at its threshold and just either side of it.

"Just either side" is as close as the data allow: pain scores are whole numbers, so a mean of up
to 7 of them moves in steps of 1/7 at most; where a step is coarse, the threshold is moved by
a clinic override instead.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from rehab.rules import (
    FINDING_SEVERITY,
    InterventionData,
    PrescriptionData,
    Thresholds,
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

REFERRALS = {"REFERRAL_CONSIDER", "REFERRAL_OVERDUE"}


def stalled(**fields):
    """Baseline 7, then 6 every day from day 8 on: never an important improvement."""
    return episode(flat(1, 7, 7), flat(8, 70, 6), **fields)


# --- BASELINE_MISSING ---------------------------------------------------------------------------


def test_baseline_missing_from_day_8():
    ep = episode(entries(1, [6, 6, 6]))  # 3 entries in week 1, no intake

    assert "BASELINE_MISSING" not in codes(on_day(ep, 7))
    result = on_day(ep, 8)
    finding = result.finding("BASELINE_MISSING")
    assert finding is not None
    assert finding.severity == "warning"
    assert finding.evidence == {
        "trial_day": 8,
        "week1_entries": 3,
        "min_entries_per_week": 4,
        "intake_pain_activity": None,
    }
    assert finding.message == (
        "Day 8 of the conservative trial: no baseline pain is known, because week 1 has 3 "
        "entries (at least 4 needed) and no intake pain score was recorded."
    )


def test_baseline_missing_needs_fewer_than_4_week_one_entries():
    assert "BASELINE_MISSING" not in codes(on_day(episode(entries(1, [6, 6, 6, 6])), 8))


def test_intake_pain_prevents_baseline_missing():
    ep = episode(entries(1, [6, 6, 6]), intake_pain_activity=6)

    assert "BASELINE_MISSING" not in codes(on_day(ep, 30))


# --- LOGGING_GAP --------------------------------------------------------------------------------


def test_no_logging_gap_before_day_7():
    assert "LOGGING_GAP" not in codes(on_day(episode(), 6))


def test_logging_gap_on_day_7_with_3_entries():
    result = on_day(episode(entries(1, [5, 5, 5])), 7)

    finding = result.finding("LOGGING_GAP")
    assert finding is not None
    assert finding.severity == "warning"
    assert finding.evidence == {
        "trial_day": 7,
        "entries_last_7_days": 3,
        "min_entries_per_week": 4,
        "window_start": "2026-01-05",
        "window_end": "2026-01-11",
    }
    assert finding.message == (
        "Only 3 entries in the last 7 days (2026-01-05 to 2026-01-11), fewer than the 4 needed "
        "to judge current pain."
    )


def test_no_logging_gap_with_4_entries():
    assert "LOGGING_GAP" not in codes(on_day(episode(entries(1, [5, 5, 5, 5])), 7))


def test_logging_gap_counts_only_the_last_7_days():
    ep = episode(flat(1, 20, 5), entries(24, [5, 5, 5]))

    assert "LOGGING_GAP" not in codes(on_day(ep, 23))  # days 17-23 hold 4 entries (17-20)
    assert "LOGGING_GAP" in codes(on_day(ep, 27))  # days 21-27 hold 3


def test_logging_gap_follows_min_entries_per_week():
    ep = episode(entries(1, [5, 5, 5]))

    assert "LOGGING_GAP" not in codes(on_day(ep, 7, Thresholds(min_entries_per_week=3)))


# --- PAIN_WORSENING -----------------------------------------------------------------------------


def test_pain_worsening_at_exactly_baseline_plus_2():
    ep = episode(flat(1, 7, 5), entries(9, [7, 7]))

    finding = on_day(ep, 10).finding("PAIN_WORSENING")

    assert finding is not None
    assert finding.severity == "high"
    assert finding.evidence == {
        "trial_day": 10,
        "pain_baseline": 5.0,
        "pain_recent": 7.0,
        "pain_rise": 2.0,
        "recent_entries": 2,
        "window_start": "2026-01-12",
        "window_end": "2026-01-14",
        "worsening_points": 2.0,
    }
    assert finding.message == (
        "Activity pain over the last 3 days averages 7 (2 entries), 2 points above the baseline "
        "of 5; the alert is set at 2 points above baseline."
    )


def test_no_pain_worsening_just_below_baseline_plus_2():
    ep = episode(entries(1, [5, 5, 5, 5, 5, 5, 6]), entries(9, [7, 7]))  # 7 - 36/7 = 1.86

    assert "PAIN_WORSENING" not in codes(on_day(ep, 10))


def test_pain_worsening_needs_2_entries_in_the_last_3_days():
    one = episode(flat(1, 7, 5), entries(10, [10]))
    # Day 7 lies outside days 8-10, so this is still one entry there.
    one_in_window = episode(flat(1, 6, 5), entries(7, [10]), entries(10, [10]))
    two = episode(flat(1, 7, 5), entries(8, [10]), entries(10, [10]))

    assert "PAIN_WORSENING" not in codes(on_day(one, 10))
    assert "PAIN_WORSENING" not in codes(on_day(one_in_window, 10))
    assert "PAIN_WORSENING" in codes(on_day(two, 10))


def test_pain_worsening_waits_for_day_8():
    ep = episode(entries(1, [2, 2, 2, 2, 2, 8, 8]), entries(8, [8]))  # baseline 26/7 = 3.71

    assert "PAIN_WORSENING" not in codes(on_day(ep, 7))
    assert "PAIN_WORSENING" in codes(on_day(ep, 8))


def test_pain_worsening_against_an_intake_baseline():
    ep = episode(entries(9, [5, 5]), intake_pain_activity=3)

    assert "PAIN_WORSENING" in codes(on_day(ep, 10))


def test_pain_worsening_needs_a_baseline():
    assert "PAIN_WORSENING" not in codes(on_day(episode(entries(9, [10, 10])), 10))


def test_worsening_points_override():
    ep = episode(flat(1, 7, 5), entries(9, [7, 7]))

    assert "PAIN_WORSENING" not in codes(on_day(ep, 10, Thresholds(worsening_points=2.5)))


# --- IMPROVING and the MCID ---------------------------------------------------------------------


def test_improving_at_exactly_2_points_and_more_than_30_percent():
    ep = episode(entries(1, [6, 6, 6, 6, 6, 6, 5]), entries(14, [4, 4, 4, 4, 4, 4, 3]))

    finding = on_day(ep, 20).finding("IMPROVING")

    assert finding is not None
    assert finding.severity == "info"
    assert finding.evidence["pain_change"] == 2.0
    assert finding.evidence["pain_change_pct"] == 34.15
    assert finding.evidence["mcid_rule"] == "points_and_percent"
    assert finding.message == (
        "Activity pain fell 2 points (5.9 → 3.9, 34%), meeting the 2-point / 30% threshold for "
        "an important improvement."
    )


def test_not_improving_just_below_2_points():
    ep = episode(entries(1, [6, 6, 6, 6, 6, 6, 5]), flat(14, 20, 4))  # 41/7 - 4 = 1.86, 32%

    result = on_day(ep, 20)

    assert result.metrics.pain_change == 1.86
    assert "IMPROVING" not in codes(result)


def test_improving_at_exactly_30_percent():
    ep = episode(entries(1, [7, 7, 7, 7, 6, 6]), entries(14, [5, 5, 5, 5, 4, 4]))  # 40/6 -> 28/6

    result = on_day(ep, 20)

    assert (result.metrics.pain_change, result.metrics.pain_change_pct) == (2.0, 30.0)
    assert "IMPROVING" in codes(result)


def test_not_improving_just_below_30_percent():
    ep = episode(entries(1, [7, 7, 7, 7, 7, 7, 6]), entries(14, [5, 5, 5, 5, 5, 5, 4]))

    result = on_day(ep, 20)

    assert (result.metrics.pain_change, result.metrics.pain_change_pct) == (2.0, 29.17)
    assert "IMPROVING" not in codes(result)


def test_low_baseline_of_4_needs_only_30_percent():
    ep = episode(flat(1, 7, 4), entries(14, [3, 3, 3, 3, 2]))  # 4 -> 2.8: 1.2 points, 30%

    finding = on_day(ep, 20).finding("IMPROVING")

    assert finding is not None
    assert finding.evidence["mcid_rule"] == "percent_only"
    assert finding.message == (
        "Activity pain fell 1.2 points (4 → 2.8, 30%), meeting the 30% threshold that applies to "
        "a baseline of 4 or less for an important improvement."
    )


def test_baseline_just_above_4_needs_the_points_too():
    ep = episode(entries(1, [4, 4, 4, 4, 4, 4, 5]), entries(14, [3, 3, 3, 3, 2]))  # 29/7 = 4.14

    result = on_day(ep, 20)

    assert result.metrics.pain_change_pct == 32.41
    assert "IMPROVING" not in codes(result)


def test_low_baseline_max_override():
    ep = episode(entries(1, [4, 4, 4, 4, 4, 4, 5]), entries(14, [3, 3, 3, 3, 2]))

    assert "IMPROVING" in codes(on_day(ep, 20, Thresholds(low_baseline_max=4.2)))


def test_mcid_overrides():
    ep = episode(flat(1, 7, 8), flat(14, 20, 6))  # 2 points, 25%

    assert "IMPROVING" not in codes(on_day(ep, 20))
    assert "IMPROVING" in codes(on_day(ep, 20, Thresholds(mcid_percent=25)))
    assert "IMPROVING" not in codes(on_day(ep, 20, Thresholds(mcid_percent=25, mcid_points=2.1)))


def test_improving_has_no_trial_day_gate():
    ep = episode(flat(1, 7, 8), flat(10, 16, 3))

    assert "IMPROVING" in codes(on_day(ep, 16))


def test_improving_gives_way_to_resolved():
    ep = episode(flat(1, 7, 8), flat(10, 16, 1))

    result = on_day(ep, 16)

    assert "RESOLVED" in codes(result)
    assert "IMPROVING" not in codes(result)


# --- RESOLVED -----------------------------------------------------------------------------------


def test_resolved_at_exactly_1():
    ep = episode(flat(1, 7, 6), flat(14, 20, 1))

    finding = on_day(ep, 20).finding("RESOLVED")

    assert finding is not None
    assert finding.severity == "info"
    assert finding.evidence == {
        "trial_day": 20,
        "pain_current": 1.0,
        "entries_last_7_days": 7,
        "window_start": "2026-01-18",
        "window_end": "2026-01-24",
        "resolved_max_pain": 1.0,
    }
    assert finding.message == (
        "Activity pain over the last 7 days averages 1, at or below 1, so the complaint looks "
        "resolved."
    )


def test_not_resolved_just_above_1():
    ep = episode(flat(1, 7, 6), entries(14, [1, 1, 1, 1, 1, 1, 2]))  # 8/7 = 1.14

    result = on_day(ep, 20)

    assert "RESOLVED" not in codes(result)
    assert "IMPROVING" in codes(result)


def test_resolved_waits_for_day_8():
    ep = episode(flat(1, 8, 0))

    assert "RESOLVED" not in codes(on_day(ep, 7))
    assert "RESOLVED" in codes(on_day(ep, 8))


def test_resolved_needs_current_pain():
    assert "RESOLVED" not in codes(on_day(episode(flat(1, 7, 0), flat(14, 16, 0)), 20))


# --- ADHERENCE_LOW ------------------------------------------------------------------------------

TWO_RX = (
    PrescriptionData(id=1, sets=5, start_date=START),
    PrescriptionData(id=2, sets=5, start_date=START),
)


def logged_sets(sets_per_day: list[tuple[int, int]]):
    return episode(
        *(entries(n + 1, [5], done={1: a, 2: b}) for n, (a, b) in enumerate(sets_per_day)),
        prescriptions=TWO_RX,
    )


def test_no_adherence_low_at_exactly_80_percent():
    result = on_day(logged_sets([(4, 4)] * 20), 20)

    assert result.metrics.adherence_pct == 80.0
    assert "ADHERENCE_LOW" not in codes(result)


def test_adherence_low_just_below_80_percent():
    result = on_day(logged_sets([(4, 4)] * 19 + [(4, 3)]), 20)  # 159 of 200

    finding = result.finding("ADHERENCE_LOW")
    assert finding is not None
    assert finding.severity == "warning"
    assert finding.evidence == {
        "trial_day": 20,
        "adherence_pct": 79.5,
        "sets_done": 159,
        "sets_prescribed": 200,
        "adherence_min_percent": 80.0,
        "adherence_from_day": 14,
    }
    # 79.5 would round to 80; the message never shows a value that seems to reach the threshold.
    assert finding.message == (
        "Only 79% of the prescribed sets were done on the days logged (159 of 200), below 80%, "
        "so the trial cannot be judged until the exercises are done."
    )


def test_adherence_low_waits_for_day_14():
    ep = logged_sets([(1, 1)] * 14)

    assert "ADHERENCE_LOW" not in codes(on_day(ep, 13))
    assert "ADHERENCE_LOW" in codes(on_day(ep, 14))


def test_adherence_low_thresholds_override():
    ep = logged_sets([(1, 1)] * 14)

    assert "ADHERENCE_LOW" in codes(on_day(ep, 10, Thresholds(adherence_from_day=10)))
    assert "ADHERENCE_LOW" not in codes(on_day(ep, 14, Thresholds(adherence_min_percent=20)))


def test_no_adherence_low_when_nothing_was_prescribed():
    assert "ADHERENCE_LOW" not in codes(on_day(episode(flat(1, 20, 5)), 20))


# --- REFERRAL_CONSIDER and REFERRAL_OVERDUE -----------------------------------------------------


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (41, set()),
        (42, {"REFERRAL_CONSIDER"}),
        (55, {"REFERRAL_CONSIDER"}),
        (56, {"REFERRAL_OVERDUE"}),
        (70, {"REFERRAL_OVERDUE"}),
    ],
)
def test_referral_window_by_trial_day(n, expected):
    assert codes(on_day(stalled(), n)) & REFERRALS == expected


def test_referral_severities():
    assert on_day(stalled(), 42).findings[0].severity == "high"
    assert on_day(stalled(), 56).findings[0].severity == "critical"


def test_review_day_override_moves_consider():
    thresholds = Thresholds(review_day=35)

    assert not codes(on_day(stalled(), 34, thresholds)) & REFERRALS
    assert "REFERRAL_CONSIDER" in codes(on_day(stalled(), 35, thresholds))


def test_overdue_day_override_moves_overdue():
    thresholds = Thresholds(overdue_day=49)

    assert "REFERRAL_CONSIDER" in codes(on_day(stalled(), 48, thresholds))
    assert "REFERRAL_OVERDUE" in codes(on_day(stalled(), 49, thresholds))


@pytest.mark.parametrize(
    "fields",
    [{"status": "referred"}, {"status": "closed"}, {"has_referral": True}],
    ids=["referred", "closed", "referral-recorded"],
)
@pytest.mark.parametrize("n", [42, 56])
def test_referred_or_closed_episodes_get_no_referral_finding(fields, n):
    assert not codes(on_day(stalled(**fields), n)) & REFERRALS


def test_referral_needs_baseline_and_current():
    no_baseline = episode(entries(1, [7, 7, 7]), flat(8, 42, 6))
    no_current = episode(flat(1, 7, 7), flat(8, 38, 6))

    assert not codes(on_day(no_baseline, 42)) & REFERRALS
    assert not codes(on_day(no_current, 42)) & REFERRALS


def test_referral_with_an_intake_baseline():
    ep = episode(flat(36, 42, 6), intake_pain_activity=7)

    finding = on_day(ep, 42).finding("REFERRAL_CONSIDER")

    assert finding is not None
    assert finding.evidence["baseline_source"] == "intake"


def test_no_referral_when_mcid_is_met():
    ep = episode(flat(1, 7, 7), flat(36, 56, 4))

    assert not codes(on_day(ep, 42)) & REFERRALS
    assert not codes(on_day(ep, 56)) & REFERRALS


def stalled_with_adherence(per_day: list[tuple[int, int]]):
    """Stalled pain on days 1-42, with the given sets of two 5-set exercises on days 23-42."""
    return episode(
        flat(1, 7, 7),
        *(entries(23 + n, [6], done={1: a, 2: b}) for n, (a, b) in enumerate(per_day)),
        prescriptions=tuple(
            PrescriptionData(id=p.id, sets=p.sets, start_date=day(23)) for p in TWO_RX
        ),
    )


def test_referral_at_exactly_80_percent_adherence():
    result = on_day(stalled_with_adherence([(4, 4)] * 20), 42)

    assert result.metrics.adherence_pct == 80.0
    assert codes(result) == {"REFERRAL_CONSIDER"}
    assert "80% adherence" in result.findings[0].message


def test_low_adherence_replaces_the_referral():
    result = on_day(stalled_with_adherence([(4, 4)] * 19 + [(4, 3)]), 42)

    assert codes(result) == {"ADHERENCE_LOW"}


def test_referral_when_adherence_is_unknown():
    finding = on_day(stalled(), 42).finding("REFERRAL_CONSIDER")

    assert finding is not None
    assert finding.evidence["adherence_pct"] is None
    assert "with no exercise sets prescribed to judge adherence" in finding.message


def test_no_referral_when_resolved_even_though_mcid_is_not_met():
    ep = episode(flat(36, 56, 1), intake_pain_activity=1)  # no change, but no pain either

    result = on_day(ep, 56)

    assert codes(result) == {"RESOLVED"}


def test_referral_message_never_rounds_up_to_a_threshold():
    # 44/7 -> 31/7: change 1.857 (29.55%); whole-number rounding would print 30%.
    ep = episode(entries(1, [6, 6, 6, 6, 6, 7, 7]), entries(36, [5, 5, 5, 4, 4, 4, 4]))

    result = on_day(ep, 42)

    assert result.metrics.pain_change_pct == 29.55
    assert result.findings[0].message == (
        "Day 42 of the conservative trial: activity pain fell 1.9 points (6.3 → 4.4, 29%), short "
        "of the 2-point / 30% threshold, with no exercise sets prescribed to judge adherence; "
        "consider surgical referral."
    )


def test_referral_evidence_names_numbers_and_thresholds():
    finding = on_day(stalled(prescriptions=()), 43).findings[0]

    assert finding.evidence == {
        "trial_day": 43,
        "pain_baseline": 7.0,
        "pain_current": 6.0,
        "pain_change": 1.0,
        "pain_change_pct": 14.29,
        "mcid_met": False,
        "mcid_rule": "points_and_percent",
        "mcid_points": 2.0,
        "mcid_percent": 30.0,
        "low_baseline_max": 4.0,
        "baseline_source": "week1",
        "adherence_pct": None,
        "adherence_min_percent": 80.0,
        "review_day": 42,
        "overdue_day": 56,
    }


def test_referral_message_when_pain_did_not_change():
    ep = episode(flat(1, 7, 6, done={1: 3}), flat(36, 42, 6, done={1: 3}), prescriptions=(RX,))

    assert on_day(ep, 42).findings[0].message == (
        "Day 42 of the conservative trial: activity pain did not change (6 → 6, 0%), short of "
        "the 2-point / 30% threshold, with 100% adherence; consider surgical referral."
    )


# --- ROM_DECLINE --------------------------------------------------------------------------------


def test_rom_decline_at_exactly_10_degrees():
    ep = episode(entries(1, [5], rom=40), entries(20, [5], rom=30))

    finding = on_day(ep, 20).finding("ROM_DECLINE")

    assert finding is not None
    assert finding.severity == "warning"
    assert finding.evidence == {
        "trial_day": 20,
        "rom_week1": 40.0,
        "rom_current": 30.0,
        "rom_change": -10.0,
        "rom_change_deg": 10.0,
    }
    assert finding.message == (
        "Plantar flexion of the affected ankle fell from 40° in week 1 to 30° over the last 7 "
        "days, a loss of 10° (flagged from 10°)."
    )


def test_no_rom_decline_just_below_10_degrees():
    ep = episode(entries(1, [5], rom=40), entries(18, [5, 5], rom=30), entries(20, [5], rom=31))

    result = on_day(ep, 20)

    assert result.metrics.rom_current == 30.33
    assert "ROM_DECLINE" not in codes(result)


def test_rom_decline_against_intake():
    ep = episode(entries(20, [5], rom=20), intake_pf_rom_affected=35)

    assert "ROM_DECLINE" in codes(on_day(ep, 20))


def test_rom_decline_needs_a_current_measurement():
    ep = episode(entries(10, [5], rom=20), intake_pf_rom_affected=35)

    assert "ROM_DECLINE" in codes(on_day(ep, 16))
    assert "ROM_DECLINE" not in codes(on_day(ep, 17))


def test_rom_change_override():
    ep = episode(entries(1, [5], rom=40), entries(20, [5], rom=30))

    assert "ROM_DECLINE" not in codes(on_day(ep, 20, Thresholds(rom_change_deg=10.5)))


# --- ROM_DEFICIT --------------------------------------------------------------------------------


def test_rom_deficit_at_exactly_10_degrees_from_day_42():
    ep = episode(entries(40, [5], rom=30, rom_other=40))

    assert "ROM_DEFICIT" not in codes(on_day(ep, 41))
    finding = on_day(ep, 42).finding("ROM_DEFICIT")
    assert finding is not None
    assert finding.severity == "info"
    assert finding.evidence == {
        "trial_day": 42,
        "rom_reference": 40.0,
        "rom_reference_source": "entries",
        "rom_current": 30.0,
        "rom_deficit": 10.0,
        "rom_deficit_deg": 10.0,
    }
    assert finding.message == (
        "Plantar flexion of the affected ankle is 30°, 10° short of the other side (40°); "
        "supporting evidence, not a reason to refer on its own."
    )


def test_no_rom_deficit_just_below_10_degrees():
    ep = episode(entries(40, [5, 5], rom=30, rom_other=40), entries(42, [5], rom=31))

    result = on_day(ep, 42)

    assert result.metrics.rom_deficit == 9.67
    assert "ROM_DEFICIT" not in codes(result)


def test_rom_deficit_against_intake_reference():
    ep = episode(entries(40, [5], rom=30), intake_pf_rom_unaffected=45)

    finding = on_day(ep, 42).finding("ROM_DEFICIT")

    assert finding is not None
    assert finding.evidence["rom_reference_source"] == "intake"


def test_rom_deficit_follows_review_day():
    ep = episode(entries(30, [5], rom=30, rom_other=45))

    assert "ROM_DEFICIT" in codes(on_day(ep, 35, Thresholds(review_day=35)))


def test_rom_deficit_alone_never_triggers_referral():
    ep = episode(flat(1, 7, 7), flat(36, 42, 4, rom=20, rom_other=45))

    result = on_day(ep, 42)

    assert codes(result) == {"IMPROVING", "ROM_DEFICIT"}
    assert result.recommendation == "continue"


# --- IMMOBILIZATION_PROLONGED -------------------------------------------------------------------


@pytest.mark.parametrize(("last_day", "fires"), [(10, False), (11, True)])
def test_immobilization_of_10_and_11_days(last_day, fires):
    ep = episode(interventions=(immobilization(1, last_day),))

    assert ("IMMOBILIZATION_PROLONGED" in codes(on_day(ep, 30))) is fires


def test_open_immobilization_counts_up_to_as_of():
    ep = episode(interventions=(immobilization(1, None),))

    assert "IMMOBILIZATION_PROLONGED" not in codes(on_day(ep, 10))
    finding = on_day(ep, 11).finding("IMMOBILIZATION_PROLONGED")
    assert finding is not None
    assert finding.severity == "high"
    assert finding.evidence == {
        "start_date": "2026-01-05",
        "end_date": None,
        "ongoing": True,
        "days": 11,
        "immobilization_max_days": 10,
    }
    assert finding.message == (
        "Immobilization since 2026-01-05 has lasted 11 days so far, longer than the 10 days "
        "advised; longer immobilization is linked with worse outcomes."
    )


def test_an_end_date_after_as_of_is_cut_at_as_of():
    ep = episode(interventions=(immobilization(1, 30),))

    assert "IMMOBILIZATION_PROLONGED" not in codes(on_day(ep, 10))
    assert on_day(ep, 11).findings[0].evidence["ongoing"] is True


def test_finished_immobilization_message():
    ep = episode(interventions=(immobilization(1, 12),))

    assert on_day(ep, 20).findings[0].message == (
        "Immobilization from 2026-01-05 to 2026-01-16 lasted 12 days, longer than the 10 days "
        "advised; longer immobilization is linked with worse outcomes."
    )


def test_immobilization_starting_before_the_trial_counts():
    ep = episode(interventions=(immobilization(-5, 6),))  # days -5 .. 6: 12 days

    assert "IMMOBILIZATION_PROLONGED" in codes(on_day(ep, 6))


def test_immobilization_starting_after_as_of_and_other_kinds_are_ignored():
    ep = episode(
        interventions=(
            immobilization(25, None),
            InterventionData(kind="orthosis", start_date=day(1)),
            InterventionData(kind="heel_lift", start_date=day(1), end_date=day(20)),
        )
    )

    assert "IMMOBILIZATION_PROLONGED" not in codes(on_day(ep, 24))


def test_the_longest_immobilization_is_reported():
    ep = episode(interventions=(immobilization(1, 12), immobilization(20, None)))

    assert on_day(ep, 40).findings[0].evidence["days"] == 21


def test_immobilization_max_days_override():
    ep = episode(interventions=(immobilization(1, 11),))

    assert "IMMOBILIZATION_PROLONGED" not in codes(
        on_day(ep, 30, Thresholds(immobilization_max_days=11))
    )


# --- BMI_ELEVATED -------------------------------------------------------------------------------


@pytest.mark.parametrize(("bmi", "fires"), [(None, False), (29.9, False), (30.0, True), (41, True)])
def test_bmi_flag_at_30(bmi, fires):
    assert ("BMI_ELEVATED" in codes(on_day(episode(bmi=bmi), 1))) is fires


def test_bmi_finding():
    finding = on_day(episode(bmi=30.0), 1).findings[0]

    assert (finding.code, finding.severity) == ("BMI_ELEVATED", "info")
    assert finding.evidence == {"bmi": 30.0, "bmi_flag": 30.0}
    assert finding.message == "BMI is 30, at or above 30, which can slow recovery."


def test_bmi_from_a_decimal_field():
    finding = on_day(episode(bmi=Decimal("30.0")), 1).findings[0]

    assert finding.code == "BMI_ELEVATED"
    assert json.dumps(finding.evidence) == '{"bmi": 30.0, "bmi_flag": 30.0}'


def test_bmi_flag_override():
    assert "BMI_ELEVATED" not in codes(on_day(episode(bmi=32.0), 1, Thresholds(bmi_flag=35)))


# --- before the trial starts --------------------------------------------------------------------


def test_before_the_start_only_bmi_can_fire():
    ep = episode(
        intake_pain_activity=0,
        intake_pf_rom_affected=40,
        intake_pf_rom_unaffected=60,
        interventions=(immobilization(-30, None),),
        bmi=33.0,
    )

    result = on_day(ep, 0)

    assert codes(result) == {"BMI_ELEVATED"}
    assert result.recommendation == "continue"
    assert result.metrics.pain_baseline == 0.0  # the intake is still shown
    assert result.metrics.entries_last_7_days == 0


# --- all findings -------------------------------------------------------------------------------


def test_findings_are_ordered_most_severe_first():
    ep = episode(
        flat(1, 7, 5, rom=40, rom_other=45),
        flat(50, 56, 6, rom=25),
        entries(57, [9, 9]),
        interventions=(immobilization(1, 20),),
        bmi=35.0,
    )

    result = on_day(ep, 58)

    assert [f.code for f in result.findings] == [
        "REFERRAL_OVERDUE",
        "PAIN_WORSENING",
        "IMMOBILIZATION_PROLONGED",
        "ROM_DECLINE",
        "ROM_DEFICIT",
        "BMI_ELEVATED",
    ]
    for finding in result.findings:
        assert finding.severity == FINDING_SEVERITY[finding.code]
        assert json.loads(json.dumps(finding.evidence)) == finding.evidence
        assert finding.message.endswith(".") and "\n" not in finding.message
