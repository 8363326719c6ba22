"""The progress page's words for rest pain and the foot angle (pure): honest with little data."""

from __future__ import annotations

import datetime as dt

import pytest

from rehab import rules
from reports.patient_progress import rest_pain_message, rom_message
from tests.courses import START, day

T = rules.Thresholds()  # 4 scored days a week


def _data(
    days: dict[int, tuple[int | None, float | None, float | None]], status: str = "active"
) -> rules.EpisodeData:
    """{trial day: (rest pain, sore ankle °, other ankle °)}."""
    return rules.EpisodeData(
        start_date=START,
        status=status,
        entries=[
            rules.EntryData(
                date=day(d), pain_activity=5, pain_rest=r, pf_rom_affected=a, pf_rom_unaffected=o
            )
            for d, (r, a, o) in days.items()
        ],
    )


def _as_of(trial_day: int) -> dt.date:
    return day(trial_day)


def _rest(days, trial_day: int = 21, status: str = "active") -> str | None:
    return rest_pain_message(
        data=_data(days, status), as_of=_as_of(trial_day), trial_day=trial_day, thresholds=T
    )


def _rom(days, trial_day: int = 21, status: str = "active") -> str | None:
    return rom_message(data=_data(days, status), as_of=_as_of(trial_day), trial_day=trial_day)


def _week(first: int, values: list, field: int) -> dict[int, tuple]:
    rows = {}
    for i, value in enumerate(values):
        row = [None, None, None]
        row[field] = value
        rows[first + i] = tuple(row)
    return rows


def test_rest_pain_says_nothing_when_never_scored_or_after_the_programme():
    assert _rest({1: (None, None, None)}) is None
    assert _rest({1: (3, None, None)}, status="closed") is None


def test_rest_pain_waits_for_the_first_week_and_for_enough_scores():
    assert "after your first week" in _rest({1: (3, None, None)}, trial_day=5)
    few = _rest({**_week(1, [3, 3, 3], 0), **_week(15, [1, 1, 1, 1], 0)})
    assert "scored on 3 days of your first week, fewer than the 4 needed" in few
    no_recent = _rest({**_week(1, [3, 3, 3, 3], 0), **_week(19, [1, 1], 0)})
    assert no_recent.startswith("When you started, your pain at rest was about 3 out of 10.")


@pytest.mark.parametrize(
    ("first", "latest", "words"),
    [
        ([4, 4, 3, 3], [1, 1, 1, 2], "has come down from about 4 to about 1 out of 10"),
        ([1, 1, 1, 1], [3, 3, 3, 3], "about 3 out of 10 this week, higher than when you started"),
        ([2, 2, 2, 2], [2, 2, 2, 2], "about 2 out of 10, much the same as when you started"),
        ([0, 0, 0, 0], [0, 0, 0, 0], "You have had no pain at rest"),
    ],
)
def test_rest_pain_words(first, latest, words):
    assert words in _rest({**_week(1, first, 0), **_week(15, latest, 0)})


def test_the_foot_angle_asks_to_measure_when_never_measured():
    assert "You have not measured how far your feet point down yet" in _rom({1: (2, None, None)})


def test_no_angle_trend_from_one_reading_in_a_week():
    words = _rom({**_week(1, [25], 1), **_week(15, [35, 36], 1)})
    assert "You have measured your sore ankle 3 times so far, latest about 36°" in words
    assert "further" not in words and "less far" not in words


@pytest.mark.parametrize(
    ("first", "latest", "words"),
    [
        (
            [25, 27],
            [33, 33],
            "now points down about 33°, further than when you started (about 26°)",
        ),
        ([33, 33], [27, 27], "less far than when you started (about 33°). If it keeps getting"),
        # 4° apart: within one measurement's error, not a trend.
        ([30, 30], [34, 34], "points down about 34°, much the same as when you started (about 30°"),
    ],
)
def test_foot_angle_words(first, latest, words):
    assert words in _rom({**_week(1, first, 1), **_week(15, latest, 1)})


def test_the_other_ankle_is_given_for_comparison():
    days = {**_week(1, [25, 26], 1), 15: (None, 33.0, 44.0), 16: (None, 33.0, 46.0)}
    assert _rom(days).endswith("Your other ankle, for comparison, points down about 45°.")
