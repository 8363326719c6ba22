"""The four worked examples of the clinical spec, as written there."""

from __future__ import annotations

from rehab.rules import PrescriptionData
from tests.rules.helpers import (
    START,
    WEEK_ONE,
    codes,
    entries,
    episode,
    example_one,
    flat,
    on_day,
)


def test_start_date_is_the_specs():
    assert START.isoformat() == "2026-01-05"


def test_example_1_consider_referral_on_day_42():
    result = on_day(example_one(), 42)

    assert result.trial_day == 42
    assert result.metrics.pain_baseline == 7.0
    assert result.metrics.pain_current == 6.0
    assert result.metrics.pain_change == 1.0
    assert result.metrics.pain_change_pct == 14.29
    assert result.metrics.adherence_pct == 100.0
    assert [(f.code, f.severity) for f in result.findings] == [("REFERRAL_CONSIDER", "high")]
    assert result.recommendation == "consider_referral"
    finding = result.findings[0]
    assert finding.message == (
        "Day 42 of the conservative trial: activity pain fell 1 point (7 → 6, 14%), short of "
        "the 2-point / 30% threshold, with 100% adherence; consider surgical referral."
    )
    assert finding.evidence["pain_baseline"] == 7.0
    assert finding.evidence["pain_current"] == 6.0
    assert finding.evidence["pain_change"] == 1.0
    assert finding.evidence["mcid_points"] == 2.0
    assert finding.evidence["mcid_percent"] == 30.0
    assert finding.evidence["adherence_pct"] == 100.0
    assert finding.evidence["trial_day"] == 42


def test_example_1_no_referral_finding_on_day_41():
    result = on_day(example_one(), 41)

    assert not codes(result) & {"REFERRAL_CONSIDER", "REFERRAL_OVERDUE"}
    assert result.recommendation == "continue"


def test_example_2_improving_and_continue():
    result = on_day(example_one(late_pain=4), 42)

    assert result.metrics.pain_change == 3.0
    assert result.metrics.pain_change_pct == 42.86
    assert [(f.code, f.severity) for f in result.findings] == [("IMPROVING", "info")]
    assert result.recommendation == "continue"


def test_example_3_half_the_sets_is_low_adherence_not_failure():
    rx = PrescriptionData(id=1, sets=4, start_date=START)
    half = {rx.id: 2}
    ep = episode(entries(1, WEEK_ONE, done=half), flat(36, 42, 6, done=half), prescriptions=(rx,))

    result = on_day(ep, 42)

    assert result.metrics.adherence_pct == 50.0
    assert [(f.code, f.severity) for f in result.findings] == [("ADHERENCE_LOW", "warning")]
    assert result.recommendation == "address_adherence"


def test_example_4_overdue_on_day_56():
    # "Same as 1": the patient keeps logging 6 through day 56, so the last 7 days are usable.
    result = on_day(example_one(last_day=56), 56)

    assert [(f.code, f.severity) for f in result.findings] == [("REFERRAL_OVERDUE", "critical")]
    assert result.recommendation == "refer_now"
    assert result.findings[0].message.startswith("Day 56 of the conservative trial")
    assert result.findings[0].message.endswith("refer for a surgical opinion now.")
