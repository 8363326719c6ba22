"""rehab/numbers.py: one rounding and one wording per figure, in English and Spanish."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import translation

from rehab import numbers


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (4.57, "4.6"),
        (4.55, "4.6"),  # half up, as rehab.rules rounds (Python's :.1f gives 4.5 here)
        (2.25, "2.3"),
        (-2.25, "\u22122.3"),
        (7, "7.0"),
        (6.571, "6.6"),
        (Decimal("5.65"), "5.7"),
        (-0.04, "0.0"),  # no "−0.0"
    ],
)
def test_one_decimal_half_up(value, shown):
    assert numbers.pain(value) == shown


def test_each_figure_has_its_unit_and_rounding():
    assert numbers.pain_of_ten(4.57) == "4.6/10"
    assert numbers.degrees(45.06) == "45.1°"
    assert numbers.degrees(29) == "29.0°"
    assert numbers.percent(93.29) == "93%"
    assert numbers.percent(13.5) == "14%"
    assert numbers.pain(None) == numbers.percent(None) == "unknown"


def test_the_change_reads_as_current_minus_baseline():
    # rehab.rules counts a fall as positive (baseline − current); shown as it reads in captions.
    assert numbers.pain_change(0.9, 13.77) == "\u22120.9 points (\u221214%)"
    assert numbers.pain_change(1.0, 14.29) == "\u22121.0 point (\u221214%)"
    assert numbers.pain_change(-1.25, -20.0) == "+1.3 points (+20%)"
    assert numbers.pain_change(0.0, 0.0) == "0.0 points (0%)"
    assert numbers.pain_change(0.5, None) == "\u22120.5 points"
    assert numbers.pain_change(None, None) == "unknown"


def test_the_deficit_names_both_sides_never_a_range():
    assert numbers.rom_deficit(16.06, 29.0, 45.06) == (
        "deficit 16.1° (sore side 29.0° vs other side 45.1°)"
    )
    assert numbers.rom_deficit(None, 29.0, 45.0) == ""


def test_adherence_says_nothing_prescribed_only_without_a_prescription():
    assert numbers.adherence(93.3, has_prescriptions=True) == "93%"
    assert numbers.adherence(None, has_prescriptions=True) == "no sets due on the days logged"
    assert numbers.adherence(None, has_prescriptions=False) == "nothing prescribed"


def test_evidence_figures_share_the_rounding_and_thresholds_stay_as_they_are():
    assert numbers.evidence_value("pain_current", 4.57) == "4.6"
    assert numbers.evidence_value("pain_change_pct", 13.77) == "14%"
    assert numbers.evidence_value("rom_deficit", 16.06) == "16.1°"
    assert numbers.evidence_value("mcid_points", 2) is None
    assert numbers.evidence_value("mcid_met", True) is None


def test_spanish_uses_a_decimal_comma():
    with translation.override("es"):
        assert numbers.pain(4.57) == "4,6"
        assert numbers.degrees(45.06) == "45,1°"
        assert numbers.pain_change(0.9, 13.77).startswith("\u22120,9")
