"""Small server-rendered SVG pictures: the caseload's pain sparkline and the phone's pain chart.

Pure Python, no Django and no JavaScript: the markup is built here and dropped into the page as
inline ``<svg>``. Styling uses SVG presentation attributes (``stroke``, ``fill``...) and class
names, never ``style=`` attributes, so the pages keep working under a strict
Content-Security-Policy. Every picture carries ``role="img"`` and a text summary, because a line
means nothing to a screen reader.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from django.utils.translation import gettext, ngettext

from rehab.read_model import RECENT_PAIN_DAYS
from reports.series import CourseSeries

# Activity pain is scored 0-10; drawing every sparkline on that fixed scale lets a therapist
# compare rows at a glance (a flat line at 8 must not look like a flat line at 2).
PAIN_LOW = 0.0
PAIN_HIGH = 10.0
# The days the stored evaluations keep for it (rehab.read_model).
SPARKLINE_DAYS = RECENT_PAIN_DAYS

BRAND = "#0b6e4f"
INK = "#1b1f23"
MUTED = "#4a5560"
GRID = "#c5ccd3"
DOT = "#7fb8a4"


class Svg(str):
    """SVG markup that Django templates insert as it is (``__html__``), like ``mark_safe``.

    Only this module makes one, and it escapes every piece of text it puts inside.
    """

    __slots__ = ()

    def __html__(self) -> str:
        return str(self)


def _num(value: float) -> str:
    """A coordinate or a score for markup and sentences: 1 decimal at most, no trailing '.0'."""
    text = f"{round(value, 1):.1f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _attr(value: str) -> str:
    return escape(value, quote=True)


def scale(value: float, low: float, high: float, start: float, end: float) -> float:
    """Map ``value`` from [low, high] onto [start, end]; a flat domain maps to the middle."""
    if high == low:
        return (start + end) / 2
    return start + (value - low) * (end - start) / (high - low)


def sparkline(
    values: Sequence[float | None],
    *,
    label: str,
    width: int = 104,
    height: int = 32,
    low: float | None = None,
    high: float | None = None,
    pad: float = 3.0,
    css_class: str = "sparkline",
) -> Svg:
    """A line through ``values``, evenly spaced left to right; None is a day with no value.

    The line joins the values either side of a gap (a trend, not a record of every day); the
    latest value is marked with a dot. ``low``/``high`` fix the vertical scale (default: the
    data's own range). With no values at all the picture is an empty frame with its label.
    """
    present = [(i, float(v)) for i, v in enumerate(values) if v is not None]
    lo = low if low is not None else min((v for _, v in present), default=0.0)
    hi = high if high is not None else max((v for _, v in present), default=1.0)
    last_index = max(len(values) - 1, 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{_attr(css_class)}" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{_attr(label)}" focusable="false">',
        f"<title>{escape(label)}</title>",
        # The floor of the scale, so that a row without data still shows where a line would be.
        f'<line x1="{_num(pad)}" y1="{_num(height - pad)}" x2="{_num(width - pad)}" '
        f'y2="{_num(height - pad)}" stroke="{GRID}" stroke-width="1"/>',
    ]
    if present:
        points = [
            (
                scale(i, 0, last_index, pad, width - pad) if len(values) > 1 else width / 2,
                scale(v, lo, hi, height - pad, pad),
            )
            for i, v in present
        ]
        if len(points) > 1:
            coords = " ".join(f"{_num(x)},{_num(y)}" for x, y in points)
            parts.append(
                f'<polyline points="{coords}" fill="none" stroke="{BRAND}" stroke-width="1.5" '
                'stroke-linejoin="round" stroke-linecap="round"/>'
            )
        x, y = points[-1]
        parts.append(f'<circle cx="{_num(x)}" cy="{_num(y)}" r="2.5" fill="{INK}"/>')
    parts.append("</svg>")
    return Svg("".join(parts))


def pain_sparkline(
    pain: Sequence[tuple[dt.date, int]], *, as_of: dt.date, days: int = SPARKLINE_DAYS
) -> Svg:
    """Activity pain over the ``days`` days ending on ``as_of``, one slot per calendar day.

    ``pain`` holds (date, activity pain) pairs in any order (``CourseSeries.pain`` gives them as
    ``(p.date, p.activity)``); dates outside the window are left out.
    """
    first = as_of - dt.timedelta(days=days - 1)
    slots: list[float | None] = [None] * days
    for date, score in pain:
        if first <= date <= as_of:
            slots[(date - first).days] = score
    return pain_slots_sparkline(slots)


def pain_slots_sparkline(slots: Sequence[float | None]) -> Svg:
    """The same picture from one slot per day, oldest first (the caseload's stored form)."""
    return sparkline(
        slots, label=pain_summary(slots, days=len(slots)), low=PAIN_LOW, high=PAIN_HIGH
    )


def pain_summary(slots: Sequence[float | None], *, days: int) -> str:
    """The sparkline in words: how many days were logged, first and latest score, the range."""
    scores = [s for s in slots if s is not None]
    if not scores:
        return ngettext(
            "Activity pain, last %(days)s day: nothing logged.",
            "Activity pain, last %(days)s days: nothing logged.",
            days,
        ) % {"days": days}
    count = ngettext("%(count)s day logged", "%(count)s days logged", len(scores)) % {
        "count": len(scores)
    }
    if len(scores) == 1:
        return gettext("Activity pain, last %(days)s days: %(count)s, score %(score)s.") % {
            "days": days,
            "count": count,
            "score": _num(scores[0]),
        }
    return gettext(
        "Activity pain, last %(days)s days: %(count)s, from %(first)s to %(latest)s "
        "(range %(low)s–%(high)s)."
    ) % {
        "days": days,
        "count": count,
        "first": _num(scores[0]),
        "latest": _num(scores[-1]),
        "low": _num(min(scores)),
        "high": _num(max(scores)),
    }


# --- The patient's phone chart -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChartBox:
    width: int = 320
    height: int = 190
    left: int = 30
    right: int = 10
    top: int = 12
    bottom: int = 30

    @property
    def x0(self) -> float:
        return float(self.left)

    @property
    def x1(self) -> float:
        return float(self.width - self.right)

    @property
    def y_top(self) -> float:
        return float(self.top)

    @property
    def y_bottom(self) -> float:
        return float(self.height - self.bottom)


def pain_trend_chart(series: CourseSeries, *, title: str, summary: str) -> Svg:
    """The patient's pain over the trial: daily scores as dots, the 7-day average as a line,
    and a dashed line at the starting level (the baseline), on a fixed 0-10 scale.

    ``title`` and ``summary`` become the chart's accessible name and description; the caller
    writes them in the patient's words.
    """
    box = ChartBox()
    last_day = max(series.trial_day(series.as_of), 7)

    def x(day: int) -> float:
        return scale(day, 1, last_day, box.x0, box.x1)

    def y(score: float) -> float:
        return scale(score, PAIN_LOW, PAIN_HIGH, box.y_bottom, box.y_top)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="pain-chart" '
        f'viewBox="0 0 {box.width} {box.height}" role="img" '
        'aria-labelledby="pain-chart-title pain-chart-desc" focusable="false">',
        f'<title id="pain-chart-title">{escape(title)}</title>',
        f'<desc id="pain-chart-desc">{escape(summary)}</desc>',
    ]
    # Horizontal guides at 0, 5 and 10 with their scores.
    for score in (0, 5, 10):
        gy = _num(y(score))
        parts.append(
            f'<line x1="{_num(box.x0)}" y1="{gy}" x2="{_num(box.x1)}" y2="{gy}" '
            f'stroke="{GRID}" stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{_num(box.x0 - 6)}" y="{_num(y(score) + 4)}" text-anchor="end" '
            f'font-size="11" fill="{MUTED}">{score}</text>'
        )
    if series.baseline is not None:
        by = _num(y(series.baseline))
        parts.append(
            f'<line class="pain-chart-baseline" x1="{_num(box.x0)}" y1="{by}" '
            f'x2="{_num(box.x1)}" y2="{by}" stroke="{MUTED}" stroke-width="1.5" '
            'stroke-dasharray="5 4"/>'
        )
    for point in series.pain:
        parts.append(
            f'<circle cx="{_num(x(point.day))}" cy="{_num(y(point.activity))}" r="2.5" '
            f'fill="{DOT}"/>'
        )
    # The 7-day average, broken where a week had too few entries to average.
    segment: list[str] = []
    segments: list[list[str]] = []
    previous_day: int | None = None
    for point in series.pain:
        if point.mean_7d is None or (previous_day is not None and point.day - previous_day > 7):
            if segment:
                segments.append(segment)
            segment = []
        if point.mean_7d is not None:
            segment.append(f"{_num(x(point.day))},{_num(y(point.mean_7d))}")
        previous_day = point.day
    if segment:
        segments.append(segment)
    for coords in segments:
        if len(coords) == 1:
            cx, cy = coords[0].split(",")
            parts.append(f'<circle cx="{cx}" cy="{cy}" r="3" fill="{BRAND}"/>')
        else:
            parts.append(
                f'<polyline class="pain-chart-trend" points="{" ".join(coords)}" fill="none" '
                f'stroke="{BRAND}" stroke-width="3" stroke-linejoin="round" '
                'stroke-linecap="round"/>'
            )
    # The time axis: the first day and today.
    axis_y = _num(box.y_bottom + 18)
    first_day = escape(gettext("Day %(day)s") % {"day": 1})
    today = escape(gettext("Today (day %(day)s)") % {"day": series.trial_day(series.as_of)})
    parts.append(
        f'<text x="{_num(box.x0)}" y="{axis_y}" font-size="11" fill="{MUTED}">{first_day}</text>'
    )
    parts.append(
        f'<text x="{_num(box.x1)}" y="{axis_y}" text-anchor="end" font-size="11" '
        f'fill="{MUTED}">{today}</text>'
    )
    parts.append("</svg>")
    return Svg("".join(parts))
