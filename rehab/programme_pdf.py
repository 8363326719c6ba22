"""The one-page home exercise programme as a PDF (A4), with the catalogue's drawings.

The drawings are the same SVG files the pages show (static/img/exercises/). They use a small
subset of SVG on purpose (rect, circle, line and paths of M/L/Q commands, presentation attributes
only), which ``svg_drawing`` turns into a ReportLab drawing without a third-party converter.
The programme must fit one page: it is built with smaller type until it does.
"""

from __future__ import annotations

import io
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any
from xml.sax.saxutils import escape

import reportlab
from django.contrib.staticfiles import finders
from django.core.files.storage import default_storage
from django.utils.formats import date_format
from django.utils.translation import gettext
from PIL import Image as PILImage
from reportlab.graphics.shapes import Circle, Drawing, Group, Line, Path, Rect
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from rehab.exercise_library import ExerciseSheet, Programme

SVG_NS = "{http://www.w3.org/2000/svg}"
MARGIN = 12 * mm
INK = colors.HexColor("#1b1f23")
BRAND = colors.HexColor("#0b6e4f")
MUTED = colors.HexColor("#4a5560")
RULE = colors.HexColor("#c9d1d9")
# ReportLab's bundled Bitstream Vera, as in the referral PDF (rehab does not import reports).
FONT = "Vera"
BOLD = "Vera-Bold"


@cache
def _fonts() -> None:
    folder = os.path.join(os.path.dirname(reportlab.__file__), "fonts")
    for name, file in ((FONT, "Vera.ttf"), (BOLD, "VeraBd.ttf")):
        pdfmetrics.registerFont(TTFont(name, os.path.join(folder, file)))


@cache
def _glyphs() -> frozenset[int]:
    _fonts()
    font: Any = pdfmetrics.getFont(FONT)
    return frozenset(font.face.charToGlyph)


def plain(text: object) -> str:
    """Text the font can draw ("?" for a missing glyph)."""
    glyphs = _glyphs()
    return "".join(c if ord(c) in glyphs or c in "\n\t" else "?" for c in str(text))


def para_text(text: object) -> str:
    """Paragraph markup from text that may hold "<" or "&" (a clinic's own exercise)."""
    return escape(plain(text))


# --- SVG to drawing -----------------------------------------------------------------------------


def _colour(value: str | None) -> Any:
    if not value or value == "none":
        return None
    return colors.HexColor(value)


def _path_tokens(d: str) -> Iterator[str]:
    yield from re.findall(r"[MLQZmlqz]|-?\d+(?:\.\d+)?", d)


def _path(d: str) -> Path:
    """A path of absolute M, L, Q and Z commands (quadratic curves become cubic ones)."""
    path = Path()
    tokens = list(_path_tokens(d))
    i = 0
    command = ""
    x = y = 0.0
    while i < len(tokens):
        token = tokens[i]
        if token.isalpha():
            command = token.upper()
            i += 1
            if command == "Z":
                path.closePath()
            continue
        numbers = [float(t) for t in tokens[i : i + (4 if command == "Q" else 2)]]
        if command == "M":
            x, y = numbers
            path.moveTo(x, y)
            command = "L"  # further pairs after an M are lines
        elif command == "L":
            x, y = numbers
            path.lineTo(x, y)
        elif command == "Q":
            qx, qy, ex, ey = numbers
            path.curveTo(
                x + 2 / 3 * (qx - x),
                y + 2 / 3 * (qy - y),
                ex + 2 / 3 * (qx - ex),
                ey + 2 / 3 * (qy - ey),
                ex,
                ey,
            )
            x, y = ex, ey
        else:
            raise ValueError(f"Unsupported path command {command!r}")
        i += len(numbers)
    return path


def _style(shape: Any, element: ET.Element) -> Any:
    if not isinstance(shape, Line):
        shape.fillColor = _colour(element.get("fill"))
    shape.strokeColor = _colour(element.get("stroke"))
    shape.strokeWidth = float(element.get("stroke-width", "1"))
    cap = element.get("stroke-linecap")
    shape.strokeLineCap = 1 if cap == "round" else 0
    shape.strokeLineJoin = 1 if element.get("stroke-linejoin") == "round" else 0
    dash = element.get("stroke-dasharray")
    if dash:
        shape.strokeDashArray = [float(n) for n in dash.split()]
    return shape


@cache
def _svg_group(static_path: str) -> tuple[Group, float, float]:
    found = finders.find(static_path)
    if not isinstance(found, str):
        raise FileNotFoundError(static_path)
    # Our own files under static/img/exercises/, never uploads (those are pictures, not SVG):
    # no untrusted XML reaches this parser, so bandit's B314 does not apply.
    root = ET.parse(found).getroot()  # noqa: S314  # nosec B314
    _x, _y, width, height = (float(n) for n in root.get("viewBox", "0 0 320 200").split())
    group = Group()
    for element in root.iter():
        tag = element.tag.removeprefix(SVG_NS)

        def n(name: str, element: ET.Element = element) -> float:
            return float(element.get(name) or 0)

        if tag == "rect":
            shape: Any = Rect(n("x"), n("y"), n("width"), n("height"))
        elif tag == "circle":
            shape = Circle(n("cx"), n("cy"), n("r"))
        elif tag == "line":
            shape = Line(n("x1"), n("y1"), n("x2"), n("y2"))
        elif tag == "path":
            shape = _path(element.get("d") or "")
        else:
            continue
        group.add(_style(shape, element))
    # SVG's y axis points down, PDF's up.
    group.transform = (1, 0, 0, -1, 0, height)
    return group, width, height


def svg_drawing(static_path: str, *, width: float) -> Drawing:
    """One of our drawings as a ReportLab drawing ``width`` points wide."""
    group, svg_width, svg_height = _svg_group(static_path)
    scale = width / svg_width
    drawing = Drawing(width, svg_height * scale)
    outer = Group(group)
    outer.transform = (scale, 0, 0, scale, 0, 0)
    drawing.add(outer)
    return drawing


def stored_picture(name: str, *, width: float) -> Any:
    """A clinic's own uploaded picture (already checked and re-encoded when it was stored,
    docs/clinic-exercises.md) ``width`` points wide, read through the storage; "" if missing."""
    try:
        with default_storage.open(name, "rb") as handle:
            data = handle.read()
        with PILImage.open(io.BytesIO(data)) as probe:
            pixels_wide, pixels_high = probe.size
    except (OSError, ValueError):
        return ""
    return Image(io.BytesIO(data), width=width, height=width * pixels_high / pixels_wide)


# --- The page -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Styles:
    title: ParagraphStyle
    body: ParagraphStyle
    name: ParagraphStyle
    small: ParagraphStyle


def _styles(size: float) -> _Styles:
    _fonts()
    body = ParagraphStyle(
        "programme", fontName=FONT, fontSize=size, leading=size * 1.25, textColor=INK
    )
    return _Styles(
        title=ParagraphStyle(
            "programme-title", parent=body, fontName=BOLD, fontSize=15, leading=18, textColor=BRAND
        ),
        body=body,
        name=ParagraphStyle(
            "programme-name", parent=body, fontName=BOLD, fontSize=size + 1.5, leading=size * 1.5
        ),
        small=ParagraphStyle("programme-small", parent=body, textColor=MUTED),
    )


def _card(sheet: ExerciseSheet, s: _Styles, width: float, picture: float, steps: bool) -> Table:
    text: list[Any] = [
        Paragraph(para_text(sheet.name), s.name),
        Paragraph(f"<b>{para_text(sheet.dose)}</b>", s.body),
    ]
    if steps and sheet.steps:
        text.append(
            Paragraph(
                "<br/>".join(
                    f"{number}. {para_text(step)}" for number, step in enumerate(sheet.steps, 1)
                ),
                s.body,
            )
        )
    feel_label = para_text(gettext("Should feel:"))
    stop_label = para_text(gettext("Stop if:"))
    if sheet.feel:
        text.append(Paragraph(f"<b>{feel_label}</b> {para_text(sheet.feel)}", s.body))
    if sheet.stop_if:
        text.append(Paragraph(f"<b>{stop_label}</b> {para_text(sheet.stop_if)}", s.body))
    left: Any = svg_drawing(sheet.illustration, width=picture) if sheet.illustration else ""
    if not left and sheet.image_name:
        left = stored_picture(sheet.image_name, width=picture)
    table = Table([[left, text]], colWidths=[picture + 2 * mm, width - picture - 2 * mm])
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 1.5 * mm),
                ("RIGHTPADDING", (0, 0), (-1, -1), 1.5 * mm),
                ("TOPPADDING", (0, 0), (-1, -1), 1.2 * mm),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1.2 * mm),
                ("BOX", (0, 0), (-1, -1), 0.5, RULE),
            ]
        )
    )
    return table


def _build(programme: Programme, size: float, picture: float, steps: bool) -> tuple[bytes, int]:
    s = _styles(size)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=plain(gettext("Your exercise programme")),
        author=plain(programme.clinic_name),
        creator=plain(gettext("Rehab diary")),
    )
    half = (A4[0] - 2 * MARGIN) / 2
    cards = [_card(sheet, s, half - 1 * mm, picture, steps) for sheet in programme.sheets]
    grid_rows = [
        cards[i : i + 2] + ([""] if len(cards[i : i + 2]) == 1 else [])
        for i in range(0, len(cards), 2)
    ]
    story: list[Any] = [
        Paragraph(para_text(gettext("Your exercise programme")), s.title),
        Paragraph(
            para_text(
                gettext("%(patient)s, %(side)s ankle · from %(therapist)s, %(clinic)s · %(day)s")
                % {
                    "patient": programme.patient_name,
                    "side": programme.side_label.lower(),
                    "therapist": programme.therapist_name or "–",
                    "clinic": programme.clinic_name,
                    "day": date_format(programme.as_of, "j M Y"),  # as on the page: "6 Dec 2026"
                }
            ),
            s.small,
        ),
        Paragraph(
            para_text(
                gettext(
                    "Move within a pain-free range. Never force the foot to point down; pain or "
                    "pinching at the back of the ankle means stop and tell your therapist."
                )
            ),
            s.body,
        ),
        Spacer(1, 3 * mm),
    ]
    if grid_rows:
        grid = Table(grid_rows, colWidths=[half, half])
        grid.setStyle(
            TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 1 * mm),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 1 * mm),
                ]
            )
        )
        story.append(grid)
    else:
        story.append(Paragraph(para_text(gettext("No exercises are prescribed today.")), s.body))
    doc.build(story)
    return buffer.getvalue(), int(doc.page)


# From roomy to compact: type size, picture width, whether the numbered steps are printed.
_LAYOUTS = (
    (8.5, 34 * mm, True),
    (7.5, 30 * mm, True),
    (6.8, 26 * mm, True),
    (6.2, 22 * mm, True),
    (6.8, 26 * mm, False),
)


def programme_pdf(programme: Programme) -> bytes:
    """The programme on one A4 page: the roomiest layout that fits."""
    body = b""
    for size, picture, steps in _LAYOUTS:
        body, pages = _build(programme, size, picture, steps)
        if pages == 1:
            return body
    return body
