"""The referral report as an A4 PDF, drawn with ReportLab (pure Python, no browser).

Everything on the page comes from one ``ReferralReport``; the four charts are drawn from its
``CourseSeries`` with ``reportlab.graphics``, so they show the same numbers as the page's Plotly
charts and the findings. The text uses the Bitstream Vera font that ships inside ReportLab, so
the PDF looks the same on every installation (the slim production image has no system fonts).
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any
from xml.sax.saxutils import escape

import reportlab
from django.utils.formats import date_format
from django.utils.translation import gettext, gettext_noop, pgettext
from reportlab.graphics.shapes import Drawing, Line, Polygon, PolyLine, Rect, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from rehab import numbers
from rehab.templatetags.catalogue import catalogue_text
from rehab.templatetags.records import intervention_site
from reports.l10n import day_month_year, general
from reports.referral import ReferralReport
from reports.series import CourseSeries

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 16 * mm
CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN

BRAND = colors.HexColor("#0b6e4f")
INK = colors.HexColor("#1b1f23")
MUTED = colors.HexColor("#4a5560")
LINE = colors.HexColor("#c5ccd3")
WASH = colors.HexColor("#f4f6f8")
ACTIVITY = colors.HexColor("#1f5fbf")
REST = colors.HexColor("#8a9bb0")
MEAN = colors.HexColor("#0b3d91")
TARGET = colors.HexColor("#d9f0e3")
AFFECTED = colors.HexColor("#c0392b")
HEALTHY = colors.HexColor("#0b6e4f")
DEFICIT = colors.HexColor("#f6d5cf")
NORMAL = colors.HexColor("#e6e9ed")
GOOD = colors.HexColor("#2e8b57")
LOW = colors.HexColor("#d98c1f")
INTERVENTION = colors.HexColor("#7b4fa0")
SEVERITY_COLOURS = {
    "critical": colors.HexColor("#8b1a12"),
    "high": colors.HexColor("#b3261e"),
    "warning": colors.HexColor("#8a5a00"),
    "info": colors.HexColor("#1f5fbf"),
}

FONT = "Vera"
BOLD = "Vera-Bold"
ITALIC = "Vera-Italic"


# Vera lacks a few characters the rules' sentences use; these read the same in words, in the
# reader's language ("6.9 → 6.6" is "6.9 to 6.6", "6,9 a 6,6").
def _replacements() -> dict[str, str]:
    return {
        "→": pgettext("an arrow between two values, in words", "to"),
        "✓": pgettext("a check mark, in words", "yes"),
    }


@cache
def _fonts() -> None:
    folder = os.path.join(os.path.dirname(reportlab.__file__), "fonts")
    for name, file in (
        (FONT, "Vera.ttf"),
        (BOLD, "VeraBd.ttf"),
        (ITALIC, "VeraIt.ttf"),
        ("Vera-BoldItalic", "VeraBI.ttf"),
    ):
        pdfmetrics.registerFont(TTFont(name, os.path.join(folder, file)))
    pdfmetrics.registerFontFamily(
        FONT, normal=FONT, bold=BOLD, italic=ITALIC, boldItalic="Vera-BoldItalic"
    )


@cache
def _glyphs() -> frozenset[int]:
    _fonts()
    font: Any = pdfmetrics.getFont(FONT)
    return frozenset(font.face.charToGlyph)


def plain(text: object) -> str:
    """Text the font can draw: known substitutes, then "?" for any other missing glyph."""
    value = str(text)
    for char, words in _replacements().items():
        value = value.replace(char, words)
    glyphs = _glyphs()
    return "".join(c if ord(c) in glyphs or c in "\n\t" else "?" for c in value)


def para_text(text: object) -> str:
    """Paragraph markup from untrusted text (a note may hold "<" or "&")."""
    return escape(plain(text))


# --- Styles -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Styles:
    title: ParagraphStyle
    subtitle: ParagraphStyle
    h2: ParagraphStyle
    body: ParagraphStyle
    small: ParagraphStyle
    cell: ParagraphStyle
    cell_bold: ParagraphStyle
    right: ParagraphStyle


@cache
def _styles() -> _Styles:
    _fonts()
    body = ParagraphStyle("body", fontName=FONT, fontSize=9, leading=12, textColor=INK)
    return _Styles(
        title=ParagraphStyle(
            "title", parent=body, fontName=BOLD, fontSize=16, leading=20, textColor=BRAND
        ),
        subtitle=ParagraphStyle("subtitle", parent=body, fontSize=9.5, textColor=MUTED),
        h2=ParagraphStyle(
            "h2",
            parent=body,
            fontName=BOLD,
            fontSize=11,
            leading=14,
            spaceBefore=8,
            spaceAfter=4,
            textColor=BRAND,
            # A heading is never left alone at the foot of a page: it moves with what follows.
            keepWithNext=1,
        ),
        body=body,
        small=ParagraphStyle("small", parent=body, fontSize=7.5, leading=9.5, textColor=MUTED),
        cell=ParagraphStyle("cell", parent=body, fontSize=8.5, leading=10.5),
        cell_bold=ParagraphStyle("cell_bold", parent=body, fontName=BOLD, fontSize=8.5),
        right=ParagraphStyle("right", parent=body, alignment=TA_RIGHT, textColor=MUTED),
    )


def _table(rows: list[list[Any]], widths: Sequence[float], *, header: bool = True) -> Table:
    if header and rows:
        # Headings wrap inside their column: a translated heading may be longer than the
        # English one ("Día de tratamiento" ran into the next column as plain text).
        heading = _styles().cell_bold
        rows = [
            [
                Paragraph(para_text(cell), heading) if isinstance(cell, str) else cell
                for cell in rows[0]
            ],
            *rows[1:],
        ]
    table = Table(rows, colWidths=list(widths), repeatRows=1 if header else 0, hAlign="LEFT")
    style: list[Any] = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("FONT", (0, 0), (-1, -1), FONT, 8.5),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, LINE),
    ]
    if header:
        style += [
            ("BACKGROUND", (0, 0), (-1, 0), WASH),
            ("FONT", (0, 0), (-1, 0), BOLD, 8.5),
            ("LINEBELOW", (0, 0), (-1, 0), 0.75, MUTED),
        ]
    table.setStyle(TableStyle(style))
    return table


# --- Charts -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Frame:
    """A plot area: trial days on x, values on y, in drawing coordinates."""

    left: float
    bottom: float
    width: float
    height: float
    x_min: float
    x_max: float
    y_min: float
    y_max: float

    def x(self, day: float) -> float:
        return self.left + (day - self.x_min) / (self.x_max - self.x_min) * self.width

    def y(self, value: float) -> float:
        span = self.y_max - self.y_min
        clamped = min(max(value, self.y_min), self.y_max)
        return self.bottom + (clamped - self.y_min) / span * self.height

    @property
    def right(self) -> float:
        return self.left + self.width

    @property
    def top(self) -> float:
        return self.bottom + self.height


def _text(
    drawing: Drawing,
    x: float,
    y: float,
    text: str,
    *,
    size: float = 6.5,
    colour: Any = MUTED,
    anchor: str = "start",
    bold: bool = False,
    backdrop: bool = False,
) -> None:
    if backdrop:
        # A label on top of lines and bands stays legible on a paler patch of paper.
        width = pdfmetrics.stringWidth(plain(text), BOLD if bold else FONT, size)
        left = {"start": x, "middle": x - width / 2, "end": x - width}[anchor]
        drawing.add(
            Rect(
                left - 1.5,
                y - 1.5,
                width + 3,
                size + 2,
                fillColor=colors.white,
                fillOpacity=0.85,
                strokeColor=None,
            )
        )
    drawing.add(
        String(
            x,
            y,
            plain(text),
            fontName=BOLD if bold else FONT,
            fontSize=size,
            fillColor=colour,
            textAnchor=anchor,
        )
    )


def _day_range(series: CourseSeries, overdue_day: int) -> tuple[float, float]:
    # Always show the reassessment days, so a course in week 3 is read against day 42 and 56.
    last = max(series.trial_day(series.as_of), overdue_day + 3)
    return 0.5, last + 0.5


def _axes(
    drawing: Drawing, frame: _Frame, y_ticks: Iterable[float], y_unit: str, *, weeks: bool = False
) -> None:
    drawing.add(
        Rect(
            frame.left,
            frame.bottom,
            frame.width,
            frame.height,
            fillColor=None,
            strokeColor=LINE,
            strokeWidth=0.5,
        )
    )
    for value in y_ticks:
        y = frame.y(value)
        drawing.add(Line(frame.left, y, frame.right, y, strokeColor=WASH, strokeWidth=0.5))
        _text(drawing, frame.left - 3, y - 2, f"{general(value)}{y_unit}", anchor="end")
    if weeks:
        return
    # A tick a week; every second or fourth week on long courses, so the labels stay apart.
    step = 7 if frame.x_max <= 100 else 14 if frame.x_max <= 200 else 28
    day = step
    while day <= frame.x_max:
        x = frame.x(day)
        drawing.add(Line(x, frame.bottom, x, frame.bottom - 2, strokeColor=MUTED, strokeWidth=0.5))
        _text(drawing, x, frame.bottom - 9, str(day), anchor="middle")
        day += step
    _text(drawing, frame.right, frame.bottom - 17, gettext("trial day"), anchor="end")


def _reference_line(drawing: Drawing, frame: _Frame, y: float, colour: Any) -> None:
    """A dashed horizontal line across the plot: a baseline, a reference side, a target."""
    drawing.add(
        Line(
            frame.left,
            y,
            frame.right,
            y,
            strokeColor=colour,
            strokeWidth=0.8,
            strokeDashArray=[5, 2],
        )
    )


def _day_markers(drawing: Drawing, frame: _Frame, review_day: int, overdue_day: int) -> None:
    review_label = gettext("day %(day)s review") % {"day": review_day}
    # On a long course the two markers stand close: the second label then goes a line lower.
    crowded = (
        frame.x(overdue_day) - frame.x(review_day)
        < pdfmetrics.stringWidth(review_label, FONT, 6.5) + 6
    )
    for day, label, drop in (
        (review_day, review_label, 0),
        (overdue_day, gettext("day %(day)s") % {"day": overdue_day}, 8 if crowded else 0),
    ):
        x = frame.x(day)
        drawing.add(
            Line(
                x,
                frame.bottom,
                x,
                frame.top,
                strokeColor=MUTED,
                strokeWidth=0.7,
                strokeDashArray=[3, 2],
            )
        )
        _text(drawing, x + 2, frame.top - 8 - drop, label, colour=MUTED, backdrop=True)


def _polyline(
    drawing: Drawing,
    points: Sequence[tuple[float, float]],
    *,
    colour: Any,
    width: float,
    dash: list[float] | None = None,
) -> None:
    if len(points) >= 2:
        flat = [c for point in points for c in point]
        drawing.add(PolyLine(flat, strokeColor=colour, strokeWidth=width, strokeDashArray=dash))


def _dots(
    drawing: Drawing, points: Sequence[tuple[float, float]], *, colour: Any, size: float = 1.6
) -> None:
    for x, y in points:
        drawing.add(
            Rect(x - size / 2, y - size / 2, size, size, fillColor=colour, strokeColor=None)
        )


def _legend(drawing: Drawing, x: float, y: float, items: Sequence[tuple[str, Any, str]]) -> None:
    """Legend entries left to right: (label, colour, kind) with kind "line", "dash" or "box"."""
    for label, colour, kind in items:
        if kind == "box":
            drawing.add(Rect(x, y - 1, 9, 6, fillColor=colour, strokeColor=None))
        else:
            drawing.add(
                Line(
                    x,
                    y + 2,
                    x + 10,
                    y + 2,
                    strokeColor=colour,
                    strokeWidth=1.5,
                    strokeDashArray=[3, 2] if kind == "dash" else None,
                )
            )
        _text(drawing, x + 13, y, label, colour=INK)
        x += 13 + pdfmetrics.stringWidth(plain(label), FONT, 6.5) + 10


def _split_runs(
    values: Sequence[tuple[int, float | None]],
) -> list[list[tuple[int, float]]]:
    """Consecutive known values, broken where a value is unknown (a gap, not a line)."""
    runs: list[list[tuple[int, float]]] = [[]]
    for day, value in values:
        if value is None:
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append((day, value))
    return [run for run in runs if run]


_SINGLE_DAY = {"corticosteroid_injection"}


def pain_chart(series: CourseSeries, review_day: int, overdue_day: int) -> Drawing:
    """Daily pain (activity, rest), the 7-day mean, baseline, MCID target zone, day markers."""
    height = 176
    drawing = Drawing(CONTENT_WIDTH, height)
    x_min, x_max = _day_range(series, overdue_day)
    frame = _Frame(28, 36, CONTENT_WIDTH - 34, height - 58, x_min, x_max, 0, 10)
    if series.mcid_target is not None:
        top = frame.y(series.mcid_target)
        drawing.add(
            Rect(
                frame.left,
                frame.bottom,
                frame.width,
                top - frame.bottom,
                fillColor=TARGET,
                strokeColor=None,
            )
        )
        _text(
            drawing,
            frame.right - 3,
            top - 8,
            gettext("important improvement: %(target)s or less")
            % {"target": numbers.pain(series.mcid_target)},
            colour=HEALTHY,
            anchor="end",
            backdrop=True,
        )
    _axes(drawing, frame, range(0, 11, 2), "")
    _day_markers(drawing, frame, review_day, overdue_day)
    if series.baseline is not None:
        y = frame.y(series.baseline)
        _reference_line(drawing, frame, y, INK)
        _text(
            drawing,
            frame.right - 3,
            y + 2.5,
            gettext("baseline %(value)s") % {"value": numbers.pain(series.baseline)},
            colour=INK,
            anchor="end",
            backdrop=True,
        )
    for span in series.interventions:
        # One begun before the trial is drawn from the chart's left edge, not off the page.
        start = frame.x(max(series.trial_day(span.start), x_min))
        label = span.kind.replace("_", " ")
        if span.kind in _SINGLE_DAY:
            drawing.add(
                Polygon(
                    [
                        start - 3,
                        frame.bottom + 1,
                        start + 3,
                        frame.bottom + 1,
                        start,
                        frame.bottom + 7,
                    ],
                    fillColor=INTERVENTION,
                    strokeColor=None,
                )
            )
            _text(drawing, start + 4, frame.bottom + 2, label, colour=INTERVENTION)
            continue
        end_date = span.end or series.as_of
        end = frame.x(series.trial_day(end_date) + 0.5)
        drawing.add(
            Rect(
                start - frame.width / (x_max - x_min) / 2,
                frame.bottom + 1,
                max(end - start, 2),
                5,
                fillColor=INTERVENTION,
                strokeColor=None,
            )
        )
        _text(drawing, start, frame.bottom + 8, label, colour=INTERVENTION)
    rest = _split_runs([(p.day, p.rest) for p in series.pain])
    for run in rest:
        points = [(frame.x(d), frame.y(v)) for d, v in run]
        _polyline(drawing, points, colour=REST, width=0.7)
        _dots(drawing, points, colour=REST)
    activity = [(frame.x(p.day), frame.y(p.activity)) for p in series.pain]
    _polyline(drawing, activity, colour=ACTIVITY, width=0.7)
    _dots(drawing, activity, colour=ACTIVITY, size=2.2)
    for run in _split_runs([(p.day, p.mean_7d) for p in series.pain]):
        _polyline(drawing, [(frame.x(d), frame.y(v)) for d, v in run], colour=MEAN, width=2.2)
    _legend(
        drawing,
        frame.left,
        height - 12,
        [
            (gettext("pain during activity"), ACTIVITY, "line"),
            (gettext("7-day mean"), MEAN, "line"),
            (gettext("pain at rest"), REST, "line"),
            (gettext("baseline"), INK, "dash"),
            (gettext("target zone (MCID)"), TARGET, "box"),
            (gettext("intervention"), INTERVENTION, "box"),
        ],
    )
    if not series.pain:
        _text(
            drawing,
            frame.x((x_min + x_max) / 2),
            frame.y(5),
            gettext("No entries yet"),
            anchor="middle",
        )
    return drawing


NORMAL_PF_RANGE = (35.0, 50.0)


def rom_chart(series: CourseSeries, review_day: int, overdue_day: int) -> Drawing:
    """Plantar flexion of the affected side against the healthy side, deficit shaded."""
    height = 170
    drawing = Drawing(CONTENT_WIDTH, height)
    x_min, x_max = _day_range(series, overdue_day)
    values = [v for p in series.rom for v in (p.affected, p.unaffected) if v is not None]
    top = max([NORMAL_PF_RANGE[1], *values, series.rom_reference or 0]) + 5
    y_max = min(90.0, float(-(-top // 10) * 10))
    frame = _Frame(28, 38, CONTENT_WIDTH - 34, height - 62, x_min, x_max, 0, y_max)
    low, high = NORMAL_PF_RANGE
    drawing.add(
        Rect(
            frame.left,
            frame.y(low),
            frame.width,
            frame.y(high) - frame.y(low),
            fillColor=NORMAL,
            strokeColor=None,
        )
    )
    both = [(p.day, p.affected, p.unaffected) for p in series.rom]
    pairs = [(d, a, u) for d, a, u in both if a is not None and u is not None]
    for first, second in itertools.pairwise(pairs):
        d1, a1, u1 = first
        d2, a2, u2 = second
        drawing.add(
            Polygon(
                [
                    frame.x(d1),
                    frame.y(a1),
                    frame.x(d2),
                    frame.y(a2),
                    frame.x(d2),
                    frame.y(u2),
                    frame.x(d1),
                    frame.y(u1),
                ],
                fillColor=DEFICIT,
                strokeColor=None,
            )
        )
    _axes(drawing, frame, range(0, int(y_max) + 1, 10), "°")
    _day_markers(drawing, frame, review_day, overdue_day)
    if series.rom_reference is not None:
        y = frame.y(series.rom_reference)
        _reference_line(drawing, frame, y, HEALTHY)
        _text(
            drawing,
            frame.left + 3,
            y + 2,
            gettext("reference %(degrees)s°") % {"degrees": numbers.number(series.rom_reference)},
            colour=HEALTHY,
            backdrop=True,
        )
    for attr, colour in (("unaffected", HEALTHY), ("affected", AFFECTED)):
        points = [
            (frame.x(p.day), frame.y(getattr(p, attr)))
            for p in series.rom
            if getattr(p, attr) is not None
        ]
        _polyline(drawing, points, colour=colour, width=1.2)
        _dots(drawing, points, colour=colour, size=2.4)
    _legend(
        drawing,
        frame.left,
        height - 12,
        [
            (gettext("affected side"), AFFECTED, "line"),
            (gettext("healthy side"), HEALTHY, "line"),
            (gettext("reference"), HEALTHY, "dash"),
            (gettext("deficit"), DEFICIT, "box"),
            (gettext("normal range"), NORMAL, "box"),
        ],
    )
    # Drawn last, over the lines, so it stays readable.
    _text(
        drawing,
        frame.right - 3,
        frame.y(low) + 2.5,
        gettext("normal range %(low)s–%(high)s°") % {"low": general(low), "high": general(high)},
        anchor="end",
        backdrop=True,
    )
    if not series.rom:
        _text(
            drawing,
            frame.x((x_min + x_max) / 2),
            frame.y(y_max / 2),
            gettext("No plantar-flexion measurements yet"),
            anchor="middle",
        )
    return drawing


def adherence_chart(series: CourseSeries) -> Drawing:
    """Weekly share of prescribed sets done, with the adequate-adherence line."""
    height = 150
    drawing = Drawing(CONTENT_WIDTH, height)
    # At least one slot, even before the trial starts (a start date in the future).
    weeks = max([1, (series.trial_day(series.as_of) + 6) // 7, *(w.week for w in series.adherence)])
    frame = _Frame(28, 30, CONTENT_WIDTH - 34, height - 54, 0.5, weeks + 0.5, 0, 100)
    _axes(drawing, frame, range(0, 101, 20), "%", weeks=True)
    slot = frame.width / weeks
    for week in series.adherence:
        centre = frame.x(week.week)
        narrow = slot < 22
        # Translators: a short "week 3" under a bar of the PDF chart.
        label = str(week.week) if narrow else gettext("wk %(week)s") % {"week": week.week}
        _text(drawing, centre, frame.bottom - 9, label, anchor="middle")
        percent = week.percent
        if percent is None:
            _text(drawing, centre, frame.bottom + 3, gettext("none due"), anchor="middle")
            continue
        colour = GOOD if percent >= series.adherence_min_percent else LOW
        bar = min(slot * 0.6, 28)
        drawing.add(
            Rect(
                centre - bar / 2,
                frame.bottom,
                bar,
                frame.y(percent) - frame.bottom,
                fillColor=colour,
                strokeColor=None,
            )
        )
        _text(
            drawing,
            centre,
            frame.y(percent) + 2,
            f"{percent:.0f}" if narrow else f"{percent:.0f}%",
            anchor="middle",
            colour=INK,
            size=5 if narrow else 6.5,
        )
    y = frame.y(series.adherence_min_percent)
    _reference_line(drawing, frame, y, INK)
    minimum = {"minimum": general(series.adherence_min_percent)}
    _legend(
        drawing,
        frame.left,
        height - 12,
        [
            (gettext("%(minimum)s%% or more") % minimum, GOOD, "box"),
            (gettext("below %(minimum)s%%") % minimum, LOW, "box"),
            (gettext("adequate from %(minimum)s%%") % minimum, INK, "dash"),
        ],
    )
    if not series.adherence:
        _text(
            drawing,
            frame.x((weeks + 1) / 2),
            frame.y(50),
            gettext("No entries with prescribed exercises yet"),
            anchor="middle",
        )
    return drawing


FAAM_ADL = colors.HexColor("#1f5fbf")
FAAM_SPORTS = colors.HexColor("#c0392b")
PSFS_COLOUR = colors.HexColor("#a05a00")


def function_chart(series: CourseSeries, review_day: int, overdue_day: int) -> Drawing:
    """FAAM ADL and Sports (0–100, left axis) and the PSFS (0–10, right axis) over the trial.

    The two scales share the grid (20 FAAM points = 2 PSFS points). The band is where the
    subscale the rules judge (Sports, else ADL) would be clinically improved: its baseline plus
    its MCID and above; the PSFS target is a dashed line.
    """
    height = 176
    drawing = Drawing(CONTENT_WIDTH, height)
    x_min, x_max = _day_range(series, overdue_day)
    # The same frame as the other charts, so the trial days line up down the page; the PSFS
    # scale is written just inside the right edge, where the days still to come are.
    frame = _Frame(28, 36, CONTENT_WIDTH - 34, height - 58, x_min, x_max, 0, 100)
    function = series.function
    judged = function.judged_subscale if function is not None else None
    if function is not None and judged is not None:
        target = function.faam_target(judged)
        if target is not None and target < 100:
            top = frame.y(target)
            drawing.add(
                Rect(
                    frame.left,
                    top,
                    frame.width,
                    frame.top - top,
                    fillColor=TARGET,
                    strokeColor=None,
                )
            )
            _text(
                drawing,
                frame.left + 3,
                frame.top - 9,
                gettext("important improvement of FAAM %(subscale)s: %(target)s or more")
                % {
                    "subscale": gettext("Sports") if judged == "sports" else gettext("ADL"),
                    "target": numbers.score(target),
                },
                colour=HEALTHY,
                backdrop=True,
            )
    _axes(drawing, frame, range(0, 101, 20), "")
    for value in range(2, 9, 2):
        _text(
            drawing,
            frame.right - 2,
            frame.y(value * 10) - 2.5,
            str(value),
            colour=PSFS_COLOUR,
            anchor="end",
            backdrop=True,
        )
    _text(
        drawing,
        frame.right,
        frame.top + 4,
        "PSFS 0–10",
        colour=PSFS_COLOUR,
        bold=True,
        anchor="end",
    )
    _text(drawing, frame.left - 3, frame.top + 4, "FAAM", anchor="end", bold=True)
    _day_markers(drawing, frame, review_day, overdue_day)
    if function is not None and function.psfs_target is not None:
        y = frame.y(min(function.psfs_target, 10) * 10)
        _reference_line(drawing, frame, y, PSFS_COLOUR)
        _text(
            drawing,
            frame.right - 16,
            y + 2.5,
            gettext("PSFS target %(target)s") % {"target": numbers.score(function.psfs_target)},
            colour=PSFS_COLOUR,
            anchor="end",
            backdrop=True,
        )
    points = function.points if function is not None else ()
    for attr, colour, dash, scale in (
        ("faam_adl", FAAM_ADL, None, 1.0),
        ("faam_sports", FAAM_SPORTS, [4.0, 2.0], 1.0),
        ("psfs", PSFS_COLOUR, [1.5, 1.5], 10.0),
    ):
        drawn = [
            (frame.x(p.day), frame.y(getattr(p, attr) * scale))
            for p in points
            if getattr(p, attr) is not None
        ]
        _polyline(drawing, drawn, colour=colour, width=1.4, dash=dash)
        _dots(drawing, drawn, colour=colour, size=3.2)
    _legend(
        drawing,
        frame.left,
        height - 12,
        [
            (gettext("FAAM ADL"), FAAM_ADL, "line"),
            (gettext("FAAM Sports"), FAAM_SPORTS, "dash"),
            (gettext("PSFS (right axis)"), PSFS_COLOUR, "dash"),
            (gettext("important improvement (MCID)"), TARGET, "box"),
        ],
    )
    if not points:
        _text(
            drawing,
            frame.x((x_min + x_max) / 2),
            frame.y(50),
            gettext("No questionnaire answered yet"),
            anchor="middle",
        )
    return drawing


# --- The document -------------------------------------------------------------------------------


def _date(value: dt.date | None) -> str:
    return day_month_year(value) if value else "–"


def _two_columns(pairs: Sequence[tuple[str, str]]) -> Table:
    s = _styles()
    cells = [
        [
            Paragraph(para_text(label), s.cell_bold),
            Paragraph(para_text(value), s.cell),
        ]
        for label, value in pairs
    ]
    half = (len(cells) + 1) // 2
    rows = []
    for i in range(half):
        left = cells[i]
        right = cells[half + i] if half + i < len(cells) else ["", ""]
        rows.append([*left, *right])
    quarter = CONTENT_WIDTH / 4
    return _table(
        rows, [quarter * 0.75, quarter * 1.25, quarter * 0.75, quarter * 1.25], header=False
    )


def _parties(report: ReferralReport) -> Table:
    """To whom, from whom, and the date: the head of the letter."""
    s = _styles()
    rows = [
        [
            Paragraph(para_text(pgettext("letter recipient", "To")), s.cell_bold),
            Paragraph(para_text(report.recipient), s.cell),
            Paragraph(para_text(pgettext("letter sender", "From")), s.cell_bold),
            Paragraph("<br/>".join(para_text(line) for line in report.sender_lines), s.cell),
        ],
        [
            Paragraph(para_text(gettext("Date")), s.cell_bold),
            Paragraph(para_text(_date(report.generated_at.date())), s.cell),
            "",
            "",
        ],
    ]
    quarter = CONTENT_WIDTH / 4
    return _table(rows, [quarter * 0.5, quarter * 1.5, quarter * 0.5, quarter * 1.5], header=False)


def _reason(report: ReferralReport) -> Table:
    """The reason first, set apart: the headline with its numbers, then the supporting facts."""
    s = _styles()
    content: list[Any] = [
        Paragraph(f"<b>{para_text(report.reason.headline)}</b>", s.body),
        *(Paragraph(para_text(line), s.body, bulletText="•") for line in report.reason.details),
        Spacer(1, 3),
        Paragraph(
            f"<b>{para_text(gettext('Recommendation of the rules:'))}</b> "
            f"{para_text(report.recommendation_label)}",
            s.body,
        ),
    ]
    table = Table([[content]], colWidths=[CONTENT_WIDTH])
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#e3f2ec")),
                ("BOX", (0, 0), (-1, -1), 0.75, BRAND),
                ("LEFTPADDING", (0, 0), (-1, -1), 8),
                ("RIGHTPADDING", (0, 0), (-1, -1), 8),
                ("TOPPADDING", (0, 0), (-1, -1), 6),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
            ]
        )
    )
    return table


def _facts(report: ReferralReport) -> Table:
    episode = report.episode
    ev = report.evaluation
    pairs = [
        *report.patient_facts,
        (gettext("Trial started"), _date(episode.start_date)),
        (gettext("Status"), str(episode.get_status_display())),
        (
            gettext("Report as of"),
            gettext("%(date)s (%(note)s)")
            % {"date": _date(report.as_of), "note": report.as_of_note},
        ),
        (
            gettext("Trial day"),
            gettext("day %(day)s, week %(week)s") % {"day": ev.trial_day, "week": ev.trial_week},
        ),
    ]
    return _two_columns(pairs)


_TIMELINE_STATES = {
    "past": "",
    "planned": gettext_noop("(planned)"),
    "not_reached": gettext_noop("(not reached: the trial had ended)"),
}


def _timeline_state(state: str) -> str:
    words = _TIMELINE_STATES[state]
    return f" <i>{para_text(gettext(words))}</i>" if words else ""


def _timeline(report: ReferralReport) -> Table:
    s = _styles()
    rows: list[list[Any]] = [
        [gettext("Date"), gettext("Trial day"), gettext("Event"), gettext("Note")]
    ]
    for item in report.timeline:
        rows.append(
            [
                _date(item.date),
                str(item.day),
                Paragraph(
                    para_text(item.label) + _timeline_state(item.state),
                    s.cell,
                ),
                Paragraph(para_text(item.note), s.cell),
            ]
        )
    w = CONTENT_WIDTH
    # The day column fits a translated heading's longest word ("tratamiento").
    return _table(rows, [w * 0.14, w * 0.14, w * 0.3, w * 0.42])


def _metrics(report: ReferralReport) -> Table:
    s = _styles()
    rows: list[list[Any]] = [[gettext("Measure"), gettext("Value"), gettext("How it is read")]]
    for row in report.metrics:
        rows.append(
            [
                Paragraph(para_text(row.label), s.cell),
                Paragraph(f"<b>{para_text(row.value)}</b>", s.cell),
                Paragraph(para_text(row.note), s.cell),
            ]
        )
    w = CONTENT_WIDTH
    return _table(rows, [w * 0.36, w * 0.17, w * 0.47])


def _findings(report: ReferralReport) -> list[Any]:
    s = _styles()
    if not report.findings:
        return [
            Paragraph(
                para_text(gettext("No findings: nothing needed attention as of this date.")),
                s.body,
            )
        ]
    flow: list[Any] = []
    for finding in report.findings:
        colour = SEVERITY_COLOURS.get(finding.severity, INK).hexval()[2:]
        evidence = " · ".join(f"{k}: {v}" for k, v in finding.evidence)
        sources = "; ".join(
            f"{source.citation}" + (f", doi:{source.doi}" if source.doi else "")
            for source in finding.sources
        )
        block = [
            Paragraph(
                f'<font color="#{colour}"><b>{para_text(finding.severity_label.upper())}</b></font>'
                f" &nbsp;<b>{para_text(finding.label)}</b>",
                s.body,
            ),
            Paragraph(para_text(finding.message), s.body),
            Paragraph(f"<b>{para_text(gettext('Evidence:'))}</b> {para_text(evidence)}", s.small),
            Paragraph(f"<b>{para_text(gettext('Sources:'))}</b> {para_text(sources)}", s.small),
            Spacer(1, 5),
        ]
        flow.append(KeepTogether(block))
    return flow


def _care(report: ReferralReport) -> list[Any]:
    s = _styles()
    w = CONTENT_WIDTH
    flow: list[Any] = [Paragraph(para_text(gettext("Interventions")), s.h2)]
    if report.interventions:
        rows: list[list[Any]] = [
            [gettext("Kind"), gettext("From"), gettext("Until"), gettext("Site"), gettext("Note")]
        ]
        for i in report.interventions:
            rows.append(
                [
                    Paragraph(para_text(i.get_kind_display()), s.cell),
                    _date(i.start_date),
                    _date(i.end_date),
                    Paragraph(para_text(intervention_site(i) or "–"), s.cell),
                    Paragraph(para_text(i.note), s.cell),
                ]
            )
        flow.append(_table(rows, [w * 0.22, w * 0.13, w * 0.13, w * 0.17, w * 0.35]))
    else:
        flow.append(Paragraph(para_text(gettext("None recorded.")), s.body))
    flow.append(Paragraph(para_text(gettext("Prescribed exercises")), s.h2))
    if report.prescriptions:
        rows = [
            [
                gettext("Exercise"),
                gettext("Sets"),
                gettext("Reps"),
                gettext("From"),
                gettext("Until"),
            ]
        ]
        for p in report.prescriptions:
            rows.append(
                [
                    Paragraph(para_text(catalogue_text(p.name)), s.cell),
                    str(p.sets),
                    Paragraph(para_text(catalogue_text(p.reps) or "–"), s.cell),
                    _date(p.start_date),
                    _date(p.end_date) if p.end_date else pgettext("no end date", "open"),
                ]
            )
        flow.append(_table(rows, [w * 0.44, w * 0.08, w * 0.16, w * 0.16, w * 0.16]))
    else:
        flow.append(Paragraph(para_text(gettext("Nothing prescribed.")), s.body))
    return flow


def _referral(report: ReferralReport) -> list[Any]:
    s = _styles()
    flow: list[Any] = []
    episode = report.episode
    if episode.referral_date is not None:
        flow.append(Paragraph(para_text(gettext("Referral")), s.h2))
        day = _date(episode.referral_date)
        if episode.referred_to:
            text = gettext("Referred on %(day)s to %(to)s.") % {
                "day": day,
                "to": episode.referred_to,
            }
        else:
            text = gettext("Referred on %(day)s.") % {"day": day}
        flow.append(Paragraph(para_text(text), s.body))
        # The therapist's note is in the reason for referral, at the top.
    return flow


def _footer(report: ReferralReport) -> Any:
    generated = date_format(report.generated_at, "j M Y H:i T").strip()

    def draw(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setStrokeColor(LINE)
        canvas.setLineWidth(0.5)
        canvas.line(MARGIN, 14 * mm, PAGE_WIDTH - MARGIN, 14 * mm)
        canvas.setFont(FONT, 7)
        canvas.setFillColor(MUTED)
        disclaimer = plain(report.disclaimer)
        # The disclaimer stays on one line within the margins, whatever its length.
        size = min(7.0, 7.0 * CONTENT_WIDTH / pdfmetrics.stringWidth(disclaimer, FONT, 7))
        canvas.drawString(
            MARGIN,
            10 * mm,
            plain(
                gettext(
                    "Generated on %(generated)s · decision rules version %(ruleset)s · our "
                    "reference: episode %(episode_id)s · %(patient)s"
                )
                % {
                    "generated": generated,
                    "ruleset": report.ruleset,
                    "episode_id": report.episode.pk,
                    "patient": report.patient_name,
                }
            ),
        )
        canvas.drawRightString(
            PAGE_WIDTH - MARGIN, 10 * mm, plain(gettext("page %(number)s") % {"number": doc.page})
        )
        canvas.setFont(FONT, size)
        canvas.drawString(MARGIN, 6.5 * mm, disclaimer)
        canvas.restoreState()

    return draw


# Room below which a heading and a long table go to the next page together; with more room the
# heading stays and the table starts under it (its header row repeats on the next page), rather
# than leaving a third of a page blank.
_ROOM_FOR_A_START = 130.0


class _KeepWithNext(KeepTogether):
    """What ReportLab wraps a heading (``keepWithNext``) and the block after it in. A table of
    several rows may start under its heading when there is room for a few of them; anything
    else moves to the next page with its heading, whole."""

    def __init__(self, flowables: list[Any], maxHeight: float | None = None) -> None:
        super().__init__(flowables, maxHeight=maxHeight)
        follower = flowables[-1] if flowables else None
        self._room: float | None = (
            _ROOM_FOR_A_START
            if isinstance(follower, Table) and len(follower._cellvalues) >= 4
            else None
        )

    def split(self, aW: float, aH: float) -> list[Any]:
        if self._room is not None and aH >= self._room:
            self.wrap(aW, aH)
            if aH < self._H:
                # Room for the heading and the table's first rows: start here.
                return list(self._content)
        return list(super().split(aW, aH))


class _LetterTemplate(SimpleDocTemplate):
    """The document template, noting on which page each flowable was drawn (``placed``): what
    ``referral_pdf_layout`` reports, so that a test can see that no page ends with a heading."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, keepTogetherClass=_KeepWithNext, **kwargs)
        self.placed: list[tuple[int, Any]] = []

    def afterFlowable(self, flowable: Any) -> None:  # ReportLab's hook
        self.placed.append((self.page, flowable))


@dataclass(frozen=True)
class Placed:
    """One drawn block of the PDF: its page, and whether it is a section heading."""

    page: int
    heading: bool
    text: str
    # The kind of block (ReportLab's class name: "Paragraph", "Table", "Spacer", …).
    kind: str


def referral_pdf(report: ReferralReport) -> bytes:
    """The letter as PDF bytes (A4)."""
    return _build(report)[0]


def referral_pdf_layout(report: ReferralReport) -> list[Placed]:
    """Where each block of the letter's PDF landed (page by page, in order)."""
    return _build(report)[1]


def _build(report: ReferralReport) -> tuple[bytes, list[Placed]]:
    s = _styles()
    buffer = io.BytesIO()
    doc = _LetterTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=20 * mm,
        title=plain(gettext("Referral letter: %(patient)s") % {"patient": report.patient_name}),
        author=plain(report.clinic_name),
        subject=plain(gettext("Posterior ankle impingement: conservative trial")),
        creator=plain(gettext("Rehab diary")),
    )
    series = report.course.series
    t = report.course.thresholds
    story: list[Any] = [
        Paragraph(para_text(report.clinic_name), s.right),
        Paragraph(para_text(gettext("Referral letter: posterior ankle impingement")), s.title),
        Paragraph(
            para_text(
                gettext(
                    "The course of the conservative trial of %(patient)s, %(side)s ankle, "
                    "as of %(day)s."
                )
                % {
                    "patient": report.patient_name,
                    "side": report.side_label.lower(),
                    "day": _date(report.as_of),
                }
            ),
            s.subtitle,
        ),
        Spacer(1, 6),
        _parties(report),
        # The reason first.
        Paragraph(para_text(report.reason.title), s.h2),
        _reason(report),
        Paragraph(para_text(gettext("Patient")), s.h2),
        _facts(report),
        Paragraph(para_text(gettext("Course of the trial")), s.h2),
        _timeline(report),
        Paragraph(para_text(gettext("Measures")), s.h2),
        _metrics(report),
        *_care(report),
        # A chart never leaves its heading behind at the foot of a page.
        KeepTogether(
            [
                Paragraph(para_text(gettext("Pain")), s.h2),
                pain_chart(series, t.review_day, t.overdue_day),
            ]
        ),
        KeepTogether(
            [
                Paragraph(para_text(gettext("Function: FAAM and PSFS")), s.h2),
                function_chart(series, t.review_day, t.overdue_day),
            ]
        ),
        KeepTogether(
            [
                Paragraph(para_text(gettext("Plantar flexion")), s.h2),
                rom_chart(series, t.review_day, t.overdue_day),
            ]
        ),
        KeepTogether(
            [
                Paragraph(para_text(gettext("Exercise adherence by week")), s.h2),
                adherence_chart(series),
            ]
        ),
        # What the charts could not draw as recorded (dates outside the clinical window).
        *(Paragraph(para_text(note), s.body) for note in series.notes),
        Paragraph(para_text(gettext("Findings, with their evidence and sources")), s.h2),
        *_findings(report),
        *_referral(report),
    ]
    footer = _footer(report)
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    heading = _styles().h2.name
    placed = [
        Placed(
            page=page,
            heading=isinstance(flowable, Paragraph) and flowable.style.name == heading,
            text=flowable.getPlainText() if isinstance(flowable, Paragraph) else "",
            kind=type(flowable).__name__,
        )
        for page, flowable in doc.placed
    ]
    return buffer.getvalue(), placed
