"""The window a stored clinical date must fall in, and date arithmetic that cannot overflow.

Pure Python, no Django: the services check dates with ``clinical_date_problem`` before anything
is written, and the reports shift dates with ``shift_days`` so that rows stored before the rule
(or written straight to the tables) cannot make a page fail with ``OverflowError``
(issue 10, finding 6; docs/security.md, "Clinical dates").

The window: a clinical date lies within ``WINDOW_YEARS`` of the episode's start (on or after the
start itself unless the kind of date may precede it), and never later than the patient's local
today, or today plus ``PLANNED_AHEAD_YEARS`` for what may be planned ahead (a prescription's or an
intervention's dates). Questionnaire dates (issue 15) take the same function.
"""

from __future__ import annotations

import datetime as dt
import enum

WINDOW_YEARS = 2
PLANNED_AHEAD_YEARS = 1


class Ahead(enum.Enum):
    """How far past the patient's local today a kind of date may lie."""

    NOT_AFTER_TODAY = "today"
    PLANNED = "planned"


def shift_days(day: dt.date, days: int) -> dt.date:
    """``day + days``, held at the calendar's ends instead of raising ``OverflowError``."""
    try:
        return day + dt.timedelta(days=days)
    except OverflowError:
        return dt.date.max if days > 0 else dt.date.min


def shift_years(day: dt.date, years: int) -> dt.date:
    """The same day ``years`` later (29 February becomes 28 February), held at the ends."""
    year = day.year + years
    if year > dt.MAXYEAR:
        return dt.date.max
    if year < dt.MINYEAR:
        return dt.date.min
    try:
        return day.replace(year=year)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=year, day=28)


def clinical_date_problem(
    value: dt.date,
    *,
    episode_start: dt.date,
    today: dt.date,
    may_precede_start: bool = False,
    ahead: Ahead = Ahead.NOT_AFTER_TODAY,
    years_after_start: int | None = WINDOW_YEARS,
) -> str | None:
    """Why ``value`` is outside its clinical window, in words for a 400; None when it is inside.

    ``today`` is the patient's local today. ``may_precede_start``: the date may lie up to
    ``WINDOW_YEARS`` before the episode's start (a boot or a drug started before the trial did).
    ``years_after_start=None``: no limit after the start but today (closing an episode that was
    forgotten for years must stay possible).
    """
    start = f"{episode_start:%Y-%m-%d}"
    if not may_precede_start and value < episode_start:
        return f"Cannot be before the episode's start ({start})."
    if value < shift_years(episode_start, -WINDOW_YEARS):
        return f"Must be within {WINDOW_YEARS} years of the episode's start ({start})."
    if years_after_start is not None and value > shift_years(episode_start, years_after_start):
        return f"Must be within {years_after_start} years of the episode's start ({start})."
    if ahead is Ahead.NOT_AFTER_TODAY and value > today:
        return f"Cannot be after today ({today:%Y-%m-%d} in the patient's time zone)."
    if ahead is Ahead.PLANNED and value > shift_years(today, PLANNED_AHEAD_YEARS):
        return (
            f"Cannot be more than {PLANNED_AHEAD_YEARS} year after today "
            f"({today:%Y-%m-%d} in the patient's time zone)."
        )
    return None
