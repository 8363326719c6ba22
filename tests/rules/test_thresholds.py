"""Thresholds: the spec's names and defaults, clinic overrides, and validation."""

from __future__ import annotations

import dataclasses
import json
import math

import pytest

from rehab.rules import RULESET_VERSION, Thresholds

SPEC_DEFAULTS = {
    "review_day": 42,
    "overdue_day": 56,
    "min_entries_per_week": 4,
    "mcid_points": 2.0,
    "mcid_percent": 30,
    "low_baseline_max": 4.0,
    "resolved_max_pain": 1.0,
    "worsening_points": 2.0,
    "adherence_min_percent": 80,
    "adherence_from_day": 14,
    "rom_change_deg": 10.0,
    "rom_deficit_deg": 10.0,
    "immobilization_max_days": 10,
    "bmi_flag": 30,
    "faam_adl_mcid": 8,
    "faam_sports_mcid": 9,
    "psfs_mcid": 2.0,
}


def test_defaults_are_the_specs_names_and_values():
    as_dict = Thresholds().as_dict()

    assert list(as_dict) == list(SPEC_DEFAULTS)
    assert as_dict == SPEC_DEFAULTS
    assert json.loads(json.dumps(as_dict)) == as_dict


def test_ruleset_version_is_named():
    assert RULESET_VERSION.startswith("pais-")


def test_from_mapping_overrides_some_and_keeps_the_rest():
    thresholds = Thresholds.from_mapping({"review_day": 35, "mcid_percent": 33.5})

    assert thresholds.review_day == 35
    assert thresholds.mcid_percent == 33.5
    assert thresholds.overdue_day == 56
    assert Thresholds.from_mapping({}) == Thresholds()


def test_as_dict_round_trips():
    thresholds = Thresholds(review_day=30, overdue_day=45, bmi_flag=32.5)

    assert Thresholds.from_mapping(thresholds.as_dict()) == thresholds
    assert Thresholds.from_mapping(json.loads(json.dumps(thresholds.as_dict()))) == thresholds


def test_whole_numbers_are_accepted_for_decimal_thresholds():
    thresholds = Thresholds.from_mapping({"mcid_points": 2, "bmi_flag": 30})

    assert thresholds == Thresholds()
    assert isinstance(thresholds.mcid_points, float)


def test_thresholds_are_immutable_and_hashable():
    thresholds = Thresholds()

    with pytest.raises(dataclasses.FrozenInstanceError):
        thresholds.review_day = 1  # type: ignore[misc]
    assert hash(thresholds) == hash(Thresholds.from_mapping({}))


def test_unknown_names_are_refused():
    with pytest.raises(ValueError, match="Unknown threshold"):
        Thresholds.from_mapping({"review_day": 35, "reveiw_day": 35})


def test_a_non_mapping_is_refused():
    with pytest.raises(ValueError, match="mapping"):
        Thresholds.from_mapping([("review_day", 35)])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("review_day", "42"),
        ("review_day", 42.0),
        ("review_day", True),
        ("review_day", None),
        ("min_entries_per_week", 4.5),
        ("mcid_points", "2"),
        ("mcid_points", False),
        ("mcid_percent", math.nan),
        ("mcid_percent", math.inf),
        ("bmi_flag", None),
        ("adherence_min_percent", [80]),
    ],
)
def test_bad_types_are_refused(name, value):
    with pytest.raises(ValueError, match=name):
        Thresholds.from_mapping({name: value})


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("review_day", 0),
        ("min_entries_per_week", 0),
        ("min_entries_per_week", 8),
        ("mcid_points", -0.5),
        ("mcid_percent", 101),
        ("low_baseline_max", 11),
        ("resolved_max_pain", -1),
        ("adherence_min_percent", 100.5),
        ("adherence_from_day", 0),
        ("rom_change_deg", 91),
        ("rom_deficit_deg", -1),
        ("immobilization_max_days", 0),
        ("bmi_flag", 5),
    ],
)
def test_out_of_range_values_are_refused(name, value):
    with pytest.raises(ValueError, match=name):
        Thresholds.from_mapping({name: value})


@pytest.mark.parametrize("overdue_day", [42, 40])
def test_overdue_day_must_come_after_review_day(overdue_day):
    with pytest.raises(ValueError, match="overdue_day"):
        Thresholds(overdue_day=overdue_day)


def test_direct_construction_validates_too():
    with pytest.raises(ValueError, match="review_day"):
        Thresholds(review_day="soon")  # type: ignore[arg-type]


def test_boundary_values_are_accepted():
    thresholds = Thresholds.from_mapping(
        {"min_entries_per_week": 7, "mcid_percent": 100, "mcid_points": 0, "review_day": 1}
    )

    assert (thresholds.min_entries_per_week, thresholds.review_day) == (7, 1)
