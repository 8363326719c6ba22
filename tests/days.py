"""Trial days, for every test: ``day(1)`` is a trial's first day.

Kept free of Django so that the pure rule tests (tests/rules) can use it without the ORM;
tests/courses.py builds database courses on the same days.
"""

from __future__ import annotations

import datetime as dt

# The start of the clinical rules' worked examples (docs/clinical-rules.md).
START = dt.date(2026, 1, 5)
# Week-1 activity pain of worked example 1: baseline 7.0.
WEEK_ONE = (7, 7, 8, 7, 7, 6, 7)


def day(n: int, *, start: dt.date = START) -> dt.date:
    """The date of trial day ``n`` of a trial that started on ``start`` (day 0: the day before)."""
    return start + dt.timedelta(days=n - 1)
