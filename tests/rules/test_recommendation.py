"""The recommendation: the first of the spec's seven steps that applies."""

from __future__ import annotations

import pytest

from rehab.rules import RECOMMENDATIONS, PrescriptionData
from tests.rules.helpers import START, codes, entries, episode, flat, immobilization, on_day

RX_5 = PrescriptionData(id=1, sets=5, start_date=START)
HALF = {1: 2}


def overdue(**fields):
    """Stalled at 6 from a baseline of 7, logged daily to day 70, worsening at the very end."""
    return episode(flat(1, 7, 7), flat(8, 67, 6), entries(68, [10, 10, 10]), **fields)


def test_there_are_eight_recommendations():
    assert set(RECOMMENDATIONS) == {
        "insufficient_data",
        "continue",
        "address_adherence",
        "consider_referral",
        "refer_now",
        "resolved",
        "referred",
        "closed",
    }


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"status": "referred"}, "referred"),
        ({"status": "closed"}, "closed"),
        ({"has_referral": True}, "referred"),
        ({"status": "closed", "has_referral": True}, "closed"),
    ],
)
def test_step_1_referred_or_closed_comes_first(fields, expected):
    result = on_day(overdue(**fields), 70)

    assert result.recommendation == expected
    # Other findings are still reported; only the referral findings are withheld.
    assert "PAIN_WORSENING" in codes(result)
    assert not codes(result) & {"REFERRAL_CONSIDER", "REFERRAL_OVERDUE"}


def test_step_1_beats_resolved_and_insufficient_data():
    ep = episode(entries(1, [0]), flat(30, 36, 1), status="referred")

    result = on_day(ep, 36)

    assert codes(result) == {"RESOLVED", "BASELINE_MISSING"}
    assert result.recommendation == "referred"


def test_step_2_refer_now_beats_everything_after_it():
    ep = overdue(interventions=(immobilization(1, 30),), bmi=31.0)

    result = on_day(ep, 70)

    assert codes(result) >= {"REFERRAL_OVERDUE", "PAIN_WORSENING", "IMMOBILIZATION_PROLONGED"}
    assert result.recommendation == "refer_now"


def test_step_3_consider_referral_beats_continue_findings():
    ep = episode(flat(1, 7, 7, rom=40), flat(8, 45, 6, rom=25))

    result = on_day(ep, 45)

    assert codes(result) == {"REFERRAL_CONSIDER", "ROM_DECLINE"}
    assert result.recommendation == "consider_referral"


def test_step_4_resolved_beats_insufficient_data():
    # Week 1 was not logged and no intake was recorded, but the pain is gone now.
    ep = episode(flat(14, 20, 0))

    result = on_day(ep, 20)

    assert codes(result) == {"RESOLVED", "BASELINE_MISSING"}
    assert result.recommendation == "resolved"


def test_step_4_resolved_beats_address_adherence():
    ep = episode(flat(1, 20, 0, done=HALF), prescriptions=(RX_5,))

    result = on_day(ep, 20)

    assert codes(result) == {"RESOLVED", "ADHERENCE_LOW"}
    assert result.recommendation == "resolved"


def test_step_5_baseline_missing_is_insufficient_data():
    result = on_day(episode(flat(5, 20, 5)), 20)  # week 1 holds 3 entries

    assert codes(result) == {"BASELINE_MISSING"}
    assert result.recommendation == "insufficient_data"


def test_step_5_logging_gap_beats_address_adherence():
    ep = episode(flat(1, 14, 5, done=HALF), entries(20, [5]), prescriptions=(RX_5,))

    result = on_day(ep, 20)

    assert codes(result) == {"LOGGING_GAP", "ADHERENCE_LOW"}
    assert result.recommendation == "insufficient_data"


def test_step_6_address_adherence_beats_continue_even_when_improving():
    ep = episode(flat(1, 7, 8, done=HALF), flat(8, 20, 3, done=HALF), prescriptions=(RX_5,))

    result = on_day(ep, 20)

    assert codes(result) == {"IMPROVING", "ADHERENCE_LOW"}
    assert result.recommendation == "address_adherence"


def test_step_7_continue_despite_alerts_that_are_not_in_the_order():
    ep = episode(
        flat(1, 7, 5, rom=40),
        flat(8, 20, 5, rom=25),
        entries(21, [8, 8]),
        interventions=(immobilization(1, 15),),
    )

    result = on_day(ep, 22)

    assert codes(result) == {"PAIN_WORSENING", "ROM_DECLINE", "IMMOBILIZATION_PROLONGED"}
    assert result.recommendation == "continue"


def test_step_7_continue_with_nothing_to_say():
    result = on_day(episode(flat(1, 20, 5)), 20)

    assert result.findings == []
    assert result.recommendation == "continue"


def test_before_the_start_the_order_still_applies():
    assert on_day(episode(), 0).recommendation == "continue"
    assert on_day(episode(status="closed"), -3).recommendation == "closed"
