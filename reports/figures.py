"""Plotly figures of an episode's course, built from a ``CourseSeries`` alone: no Django here.

Five pictures, drawn for a therapist on a clinic tablet: pain (with the baseline, the band where
the improvement would be clinically important, the review and overdue days and the
interventions), plantar flexion (affected against healthy side, the deficit shaded, the normal
range as a band), weekly exercise adherence (with the 80% line), and function: the FAAM
subscales and the PSFS, each with the band where the change from its baseline is clinically
important (the MCID).

Choices a reader should know before changing anything:

* All the charts share one time axis, from the episode's start to a few days past the overdue
  day (or past ``as_of`` if later), so the charts line up when read top to bottom and the
  review and overdue days are visible before they are reached.
* Nothing is hover-only: every band and line carries a printed label, and the page prints a text
  summary (``reports.charts``). Hovering adds the trial day and exact values, nothing more.
* Zooming and panning are off (``fixedrange``): on a tablet a drag must scroll the page, not
  rescale a chart by accident.
* No Plotly template: the figure JSON stays small and the look does not change with Plotly's
  defaults. Colours are the Okabe–Ito palette (distinguishable with common colour-vision
  deficiencies), and meaning is never carried by colour alone (labels, line styles, patterns).
* Bands and vertical markers are layout shapes with a ``name`` (``"mcid_band"``,
  ``"review_day"`` ...), and their labels named annotations (``"mcid_label"`` ...), so tests and
  other callers can find them without relying on order. Horizontal references are labelled in
  the right margin, where no data point can hide them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import plotly.graph_objects as go
from django.utils.translation import gettext, gettext_noop

from rehab import numbers
from rehab.dates import shift_days
from reports.l10n import day_month, day_month_year, fixed, general
from reports.series import ADL, SPORTS, CourseSeries, InterventionSpan, WeekAdherence

# Normal plantar flexion is "about 35–50°" (clinical-rules.md, "Why these numbers").
NORMAL_PF_MIN: Final = 35.0
NORMAL_PF_MAX: Final = 50.0

# Days of the time axis shown after the overdue day (or after as_of), so its label fits.
AXIS_TAIL_DAYS: Final = 3

IMMOBILIZATION: Final = "immobilization"
INJECTION: Final = "corticosteroid_injection"

# Marked here, translated where they are drawn (gettext(NO_ENTRIES)).
NO_ENTRIES: Final = gettext_noop("No entries yet")
NO_ROM: Final = gettext_noop("No plantar flexion measured yet")

# Okabe–Ito colours, and the product's ink and muted greys (static/css/app.css).
BLUE: Final = "#0072B2"
NAVY: Final = "#0b3d6b"
ORANGE: Final = "#E69F00"
GREEN: Final = "#009E73"
DARK_GREEN: Final = "#0b6e4f"
VERMILLION: Final = "#D55E00"
PURPLE: Final = "#CC79A7"
INK: Final = "#1b1f23"
MUTED: Final = "#4a5560"
GRID: Final = "#e3e7eb"
REVIEW_COLOUR: Final = "#8a5a00"
OVERDUE_COLOUR: Final = "#b3261e"

FONT: Final = (
    'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", '
    '"Liberation Sans", sans-serif'
)
FONT_SIZE: Final = 14
LABEL_SIZE: Final = 12

DAY_MS: Final = 24 * 60 * 60 * 1000
# Room right of the plot for the labels of the horizontal references (baseline, target band,
# normal range, adherence line): there they never sit on top of the data.
RIGHT_MARGIN: Final = 112


# --- Shared layout ------------------------------------------------------------------------------


def axis_range(series: CourseSeries) -> tuple[dt.date, dt.date]:
    """The time axis of all the charts: start − 1 day to past the overdue day or as_of."""
    end = shift_days(max(series.as_of, series.overdue_date), AXIS_TAIL_DAYS)
    return shift_days(series.start_date, -1), end


def _base_layout(series: CourseSeries, *, height: int, y_title: str) -> dict[str, Any]:
    x0, x1 = axis_range(series)
    return {
        "template": "none",
        "height": height,
        "autosize": True,
        "margin": {"l": 60, "r": RIGHT_MARGIN, "t": 36, "b": 40},
        "font": {"family": FONT, "size": FONT_SIZE, "color": INK},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "dragmode": False,
        "hovermode": "closest",
        "hoverlabel": {"font": {"family": FONT, "size": FONT_SIZE}},
        "showlegend": True,
        "legend": {
            "orientation": "h",
            "x": 0,
            "xanchor": "left",
            "y": -0.14,
            "yanchor": "top",
            "font": {"size": LABEL_SIZE + 1},
        },
        "xaxis": {
            "type": "date",
            "range": [x0.isoformat(), x1.isoformat()],
            "fixedrange": True,
            "tickformat": "%-d %b",
            "hoverformat": "%-d %b %Y",
            "showgrid": True,
            "gridcolor": GRID,
            "linecolor": MUTED,
            "ticks": "outside",
            "tickcolor": MUTED,
            "zeroline": False,
        },
        "yaxis": {
            "title": {"text": y_title, "font": {"size": LABEL_SIZE + 1}},
            "fixedrange": True,
            "showgrid": True,
            "gridcolor": GRID,
            "linecolor": MUTED,
            "ticks": "outside",
            "tickcolor": MUTED,
            "zeroline": False,
        },
    }


def _day_marker_shapes(series: CourseSeries) -> list[dict[str, Any]]:
    """Vertical dashed lines at the review and overdue days, full height, labelled."""
    review_day = series.trial_day(series.review_date)
    overdue_day = series.trial_day(series.overdue_date)
    return [
        _vline(
            name="review_day",
            date=series.review_date,
            colour=REVIEW_COLOUR,
            text=gettext("Day %(day)s: review") % {"day": review_day},
        ),
        _vline(
            name="overdue_day",
            date=series.overdue_date,
            colour=OVERDUE_COLOUR,
            text=gettext("Day %(day)s: overdue") % {"day": overdue_day},
        ),
    ]


def _vline(*, name: str, date: dt.date, colour: str, text: str) -> dict[str, Any]:
    return {
        "type": "line",
        "name": name,
        "xref": "x",
        "yref": "paper",
        "x0": date.isoformat(),
        "x1": date.isoformat(),
        "y0": 0,
        "y1": 1,
        "line": {"color": colour, "width": 2, "dash": "dash"},
        "layer": "above",
        "label": {
            "text": text,
            "textposition": "end",
            "textangle": 0,
            "xanchor": "right",
            "yanchor": "bottom",
            "padding": 4,
            "font": {"size": LABEL_SIZE, "color": colour},
        },
    }


def _as_of_shape(series: CourseSeries, *, label: bool = True) -> dict[str, Any]:
    """A thin line at the date the picture describes; the trial's future lies to its right."""
    shape: dict[str, Any] = {
        "type": "line",
        "name": "as_of",
        "xref": "x",
        "yref": "paper",
        "x0": series.as_of.isoformat(),
        "x1": series.as_of.isoformat(),
        "y0": 0,
        "y1": 1,
        "line": {"color": MUTED, "width": 1, "dash": "dot"},
        "layer": "between",
        "label": {
            "text": gettext("Day %(day)s") % {"day": series.trial_day(series.as_of)},
            "textposition": "start",
            "textangle": 0,
            # Right of the line, over the days still to come; but where the axis ends only a
            # few days later (a trial past its overdue day), left of it, or the label is cut
            # off at the plot's edge ("Day 5" of "Day 58").
            "xanchor": "right" if _near_axis_end(series) else "left",
            "yanchor": "bottom",
            "padding": 4,
            "font": {"size": LABEL_SIZE - 1, "color": MUTED},
        },
    }
    if not label:
        # Where a bar may stand behind the label (adherence), the line speaks for itself.
        del shape["label"]
    return shape


# The share of the time axis a "Day 123" label needs to the right of its line on a narrow
# chart (a tablet's, about 500 px of plot): below it, the label goes left of the line.
LABEL_ROOM: Final = 0.12


def _near_axis_end(series: CourseSeries) -> bool:
    x0, x1 = axis_range(series)
    total = (x1 - x0).days
    return total > 0 and (x1 - series.as_of).days / total < LABEL_ROOM


def _side_label(
    *, name: str, text: str, y: float, colour: str, yanchor: str = "middle"
) -> dict[str, Any]:
    """A label in the right margin, level with the horizontal reference it names."""
    return {
        "name": name,
        "text": text,
        "xref": "paper",
        "x": 1,
        "xanchor": "left",
        "xshift": 6,
        "yref": "y",
        "y": y,
        "yanchor": yanchor,
        "align": "left",
        "showarrow": False,
        "font": {"size": LABEL_SIZE, "color": colour},
    }


def _empty_note(text: str) -> dict[str, Any]:
    return {
        "name": "empty",
        "text": text,
        "xref": "paper",
        "yref": "paper",
        "x": 0.5,
        "y": 0.5,
        "showarrow": False,
        "font": {"size": FONT_SIZE + 2, "color": MUTED},
        "bgcolor": "rgba(255,255,255,0.85)",
    }


def _figure(traces: Sequence[go.Scatter | go.Bar], layout: Mapping[str, Any]) -> go.Figure:
    return go.Figure(data=list(traces), layout=go.Layout(**layout))


def _kind_label(kind: str, labels: Mapping[str, str] | None) -> str:
    if labels and kind in labels:
        return labels[kind]
    return kind.replace("_", " ").capitalize()


def _fmt(value: float) -> str:
    return fixed(value)


# --- Pain ---------------------------------------------------------------------------------------


def pain_figure(
    series: CourseSeries, *, intervention_labels: Mapping[str, str] | None = None
) -> go.Figure:
    """Daily pain during activity and at rest, the 7-day mean, baseline, MCID band, markers.

    ``intervention_labels`` maps intervention kinds to the words shown (the model's choices);
    without it the code is turned into words.
    """
    dates = [p.date.isoformat() for p in series.pain]
    days = [p.day for p in series.pain]
    traces: list[go.Scatter] = [
        go.Scatter(
            name=gettext("Pain during activity (daily)"),
            x=dates,
            y=[p.activity for p in series.pain],
            customdata=days,
            mode="lines+markers",
            line={"color": BLUE, "width": 1},
            marker={"color": BLUE, "size": 7},
            opacity=0.75,
            # Translators: plotly fills in %{customdata}, %{x} and %{y}; keep them as they are.
            hovertemplate=gettext("Day %{customdata} · %{x}<br>Activity pain %{y}/10")
            + "<extra></extra>",
        ),
        go.Scatter(
            name=gettext("Pain at rest (daily)"),
            x=[p.date.isoformat() for p in series.pain if p.rest is not None],
            y=[p.rest for p in series.pain if p.rest is not None],
            customdata=[p.day for p in series.pain if p.rest is not None],
            mode="lines+markers",
            line={"color": ORANGE, "width": 1, "dash": "dot"},
            marker={"color": ORANGE, "size": 5, "symbol": "square"},
            opacity=0.8,
            hovertemplate=gettext("Day %{customdata} · %{x}<br>Rest pain %{y}/10")
            + "<extra></extra>",
        ),
        go.Scatter(
            # A gap where the 7-day window holds too few entries to count (as in the rules).
            name=gettext("7-day mean, activity"),
            x=dates,
            y=[p.mean_7d for p in series.pain],
            customdata=days,
            mode="lines",
            connectgaps=False,
            line={"color": NAVY, "width": 4},
            hovertemplate=gettext("Day %{customdata} · %{x}<br>7-day mean %{y:.1f}/10")
            + "<extra></extra>",
        ),
    ]
    x0, x1 = axis_range(series)
    if series.baseline is not None:
        traces.append(
            go.Scatter(
                name=gettext("Baseline %(value)s") % {"value": _fmt(series.baseline)},
                x=[x0.isoformat(), x1.isoformat()],
                y=[series.baseline, series.baseline],
                mode="lines",
                line={"color": MUTED, "width": 2, "dash": "dash"},
                hovertemplate=gettext("Baseline %(value)s/10") % {"value": _fmt(series.baseline)}
                + "<extra></extra>",
            )
        )

    layout = _base_layout(series, height=400, y_title=gettext("Pain (0–10)"))
    layout["yaxis"].update({"range": [0, 10], "dtick": 1})
    shapes: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    if series.baseline is not None:
        annotations.append(
            _side_label(
                name="baseline_label",
                text=gettext("Baseline %(value)s") % {"value": _fmt(series.baseline)},
                y=series.baseline,
                yanchor="bottom",
                colour=MUTED,
            )
        )
    if series.mcid_target is not None:
        shapes.append(
            {
                "type": "rect",
                "name": "mcid_band",
                "xref": "paper",
                "yref": "y",
                "x0": 0,
                "x1": 1,
                "y0": 0,
                "y1": series.mcid_target,
                "fillcolor": GREEN,
                "opacity": 0.13,
                "line": {"width": 0},
                "layer": "between",
            }
        )
        annotations.append(
            _side_label(
                name="mcid_label",
                # Translators: a label beside the chart; <br> breaks the line, keep the lines short.
                text=gettext("Target %(value)s<br>or below:<br>clinically<br>important")
                % {"value": _fmt(series.mcid_target)},
                y=series.mcid_target,
                yanchor="top",
                colour=DARK_GREEN,
            )
        )
    traces += _intervention_traces(
        series.interventions, intervention_labels, shapes, annotations, series.as_of
    )
    shapes += _day_marker_shapes(series)
    shapes.append(_as_of_shape(series))
    if not series.pain:
        annotations.append(_empty_note(gettext(NO_ENTRIES)))
    layout["shapes"] = shapes
    layout["annotations"] = annotations
    return _figure(traces, layout)


def _intervention_traces(
    interventions: Sequence[InterventionSpan],
    labels: Mapping[str, str] | None,
    shapes: list[dict[str, Any]],
    annotations: list[dict[str, Any]],
    as_of: dt.date,
) -> list[go.Scatter]:
    """Immobilizations as shaded spans (added to ``shapes``); everything else as markers.

    Markers sit on the time axis (y = 0). An injection gets a large marker and a dotted line up
    the chart, since a short relief after it is what a reader looks for; the other treatments get
    small markers, one legend entry per kind. Span and injection labels are annotations with a
    backing, so grid lines never run through them.
    """
    traces: list[go.Scatter] = []
    markers: dict[str, list[InterventionSpan]] = {}
    for index, span in enumerate(interventions):
        if span.kind != IMMOBILIZATION:
            markers.setdefault(span.kind, []).append(span)
            continue
        # No end date: the boot is still on, as of the picture's date.
        end = span.end or as_of
        name = f"immobilization_{index}"
        shapes.append(
            {
                "type": "rect",
                "name": name,
                "xref": "x",
                "yref": "paper",
                # The span covers whole days: from the start of its first to the end of its
                # last, so a one-week boot is as wide as seven daily points.
                "x0": _noon(shift_days(span.start, -1)),
                "x1": _noon(end),
                "y0": 0,
                "y1": 1,
                "fillcolor": PURPLE,
                "opacity": 0.18,
                "line": {"width": 0},
                "layer": "between",
            }
        )
        annotations.append(
            _top_label(
                name=f"{name}_label",
                text=_kind_label(span.kind, labels),
                x=_noon(shift_days(span.start, -1)),
                colour="#7a2f5b",
            )
        )
    for kind, spans in markers.items():
        label = _kind_label(kind, labels)
        injection = kind == INJECTION
        if injection:
            for number, span in enumerate(spans):
                shapes.append(
                    {
                        "type": "line",
                        "name": f"injection_{number}",
                        "xref": "x",
                        "yref": "paper",
                        "x0": span.start.isoformat(),
                        "x1": span.start.isoformat(),
                        "y0": 0,
                        "y1": 1,
                        "line": {"color": VERMILLION, "width": 2, "dash": "dot"},
                        "layer": "between",
                    }
                )
                annotations.append(
                    _top_label(
                        name=f"injection_{number}_label",
                        text=gettext("Injection"),
                        x=span.start.isoformat(),
                        colour=VERMILLION,
                    )
                )
        traces.append(
            go.Scatter(
                name=label,
                x=[s.start.isoformat() for s in spans],
                y=[0] * len(spans),
                customdata=[_span_text(s) for s in spans],
                mode="markers",
                cliponaxis=False,
                marker={
                    "symbol": "triangle-up",
                    "size": 16 if injection else 11,
                    "color": VERMILLION if injection else PURPLE,
                    "line": {"color": "#ffffff", "width": 1},
                },
                hovertemplate=f"{label}<br>%{{customdata}}<extra></extra>",
            )
        )
    return traces


def _top_label(*, name: str, text: str, x: str, colour: str) -> dict[str, Any]:
    """A label just inside the top of the plot, starting at ``x``."""
    return {
        "name": name,
        "text": text,
        "xref": "x",
        "x": x,
        "xanchor": "left",
        "xshift": 3,
        "yref": "paper",
        "y": 1,
        "yanchor": "top",
        "yshift": -4,
        "showarrow": False,
        "bgcolor": "rgba(255,255,255,0.85)",
        "borderpad": 2,
        "font": {"size": LABEL_SIZE, "color": colour},
    }


def _noon(date: dt.date) -> str:
    return f"{date.isoformat()} 12:00"


def _span_text(span: InterventionSpan) -> str:
    if span.end is None or span.end == span.start:
        return day_month_year(span.start)
    return f"{day_month(span.start)} – {day_month_year(span.end)}"


# --- Plantar flexion ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Deficit:
    date: dt.date
    affected: float
    reference: float

    @property
    def degrees(self) -> float:
        return round(self.reference - self.affected, 1)


def latest_deficit(series: CourseSeries) -> Deficit | None:
    """How far the latest affected-side measurement falls short of the healthy side.

    The healthy side is the rules' reference (the mean of its measurements, else the intake's),
    so the number agrees with the ROM findings; without one, its latest measurement.
    """
    measured = [(p.date, p.affected) for p in series.rom if p.affected is not None]
    if not measured:
        return None
    date, affected = measured[-1]
    reference = series.rom_reference
    if reference is None:
        healthy = [p.unaffected for p in series.rom if p.unaffected is not None]
        reference = healthy[-1] if healthy else None
    if reference is None:
        return None
    return Deficit(date=date, affected=float(affected), reference=float(reference))


def rom_figure(series: CourseSeries) -> go.Figure:
    """Plantar flexion of the affected side against the healthy side, the deficit shaded.

    The deficit is shaded between the two sides on the dates both were measured; when the healthy
    side was never measured in the diary, against the reference (the intake measurement).
    """
    affected = [p for p in series.rom if p.affected is not None]
    healthy = [p for p in series.rom if p.unaffected is not None]
    traces: list[go.Scatter] = []

    both = [p for p in series.rom if p.affected is not None and p.unaffected is not None]
    upper: list[float] = []
    lower: list[float] = []
    x_fill: list[str] = []
    if both:
        x_fill = [p.date.isoformat() for p in both]
        upper = [float(p.unaffected) for p in both if p.unaffected is not None]
        lower = [float(p.affected) for p in both if p.affected is not None]
    elif affected and series.rom_reference is not None:
        x_fill = [p.date.isoformat() for p in affected]
        upper = [series.rom_reference] * len(affected)
        lower = [float(p.affected) for p in affected if p.affected is not None]
    if x_fill:
        # One closed polygon: along the healthy side, back along the affected side.
        traces.append(
            go.Scatter(
                name=gettext("Deficit (healthy − affected)"),
                x=x_fill + x_fill[::-1],
                y=upper + lower[::-1],
                fill="toself",
                fillcolor="rgba(213, 94, 0, 0.18)",
                mode="lines",
                line={"width": 0},
                hoverinfo="skip",
            )
        )
    if healthy:
        traces.append(
            go.Scatter(
                name=gettext("Healthy side"),
                x=[p.date.isoformat() for p in healthy],
                y=[p.unaffected for p in healthy],
                customdata=[p.day for p in healthy],
                mode="lines+markers",
                line={"color": MUTED, "width": 2, "dash": "dash"},
                marker={"color": MUTED, "size": 7, "symbol": "square"},
                hovertemplate=gettext("Day %{customdata} · %{x}<br>Healthy side %{y}°")
                + "<extra></extra>",
            )
        )
    elif series.rom_reference is not None:
        x0, x1 = axis_range(series)
        traces.append(
            go.Scatter(
                name=gettext("Healthy side (intake) %(degrees)s°")
                % {"degrees": general(series.rom_reference)},
                x=[x0.isoformat(), x1.isoformat()],
                y=[series.rom_reference, series.rom_reference],
                mode="lines",
                line={"color": MUTED, "width": 2, "dash": "dash"},
                hovertemplate=gettext("Healthy side at intake %(degrees)s°")
                % {"degrees": general(series.rom_reference)}
                + "<extra></extra>",
            )
        )
    traces.append(
        go.Scatter(
            name=gettext("Affected side"),
            x=[p.date.isoformat() for p in affected],
            y=[p.affected for p in affected],
            customdata=[p.day for p in affected],
            mode="lines+markers",
            line={"color": BLUE, "width": 3},
            marker={"color": BLUE, "size": 8},
            hovertemplate=gettext("Day %{customdata} · %{x}<br>Affected side %{y}°")
            + "<extra></extra>",
        )
    )

    values = [v for p in series.rom for v in (p.affected, p.unaffected) if v is not None]
    if series.rom_reference is not None:
        values.append(series.rom_reference)
    top = min(90.0, max([60.0, *values]) + 5)
    layout = _base_layout(series, height=340, y_title=gettext("Plantar flexion (°)"))
    layout["yaxis"].update({"range": [0, top], "dtick": 10, "ticksuffix": "°"})
    layout["shapes"] = [
        {
            "type": "rect",
            "name": "normal_range",
            "xref": "paper",
            "yref": "y",
            "x0": 0,
            "x1": 1,
            "y0": NORMAL_PF_MIN,
            "y1": NORMAL_PF_MAX,
            "fillcolor": GREEN,
            "opacity": 0.10,
            "line": {"width": 0},
            "layer": "between",
        },
        *_day_marker_shapes(series),
        _as_of_shape(series),
    ]
    annotations = [
        _side_label(
            name="normal_range_label",
            text=gettext("Normal range<br>%(low)s–%(high)s°")
            % {"low": general(NORMAL_PF_MIN), "high": general(NORMAL_PF_MAX)},
            y=(NORMAL_PF_MIN + NORMAL_PF_MAX) / 2,
            colour=DARK_GREEN,
        )
    ]
    deficit = latest_deficit(series)
    if deficit is not None and deficit.degrees > 0:
        annotations.append(
            {
                "name": "deficit_label",
                "text": gettext("%(degrees)s° short")
                % {"degrees": numbers.number(deficit.degrees)},
                "xref": "x",
                "x": deficit.date.isoformat(),
                "xanchor": "left",
                "xshift": 10,
                "yref": "y",
                "y": (deficit.reference + deficit.affected) / 2,
                "showarrow": False,
                "font": {"size": LABEL_SIZE + 1, "color": "#9c3d00"},
                "bgcolor": "rgba(255,255,255,0.8)",
            }
        )
    if not affected and not healthy:
        annotations.append(_empty_note(gettext(NO_ROM)))
    layout["annotations"] = annotations
    return _figure(traces, layout)


# --- Adherence ----------------------------------------------------------------------------------


def adherence_weeks(series: CourseSeries) -> list[tuple[int, WeekAdherence | None]]:
    """Every trial week up to as_of, with its adherence or None when it has no entry at all."""
    by_week = {w.week: w for w in series.adherence}
    elapsed = (series.as_of - series.start_date).days
    current = elapsed // 7 + 1 if elapsed >= 0 else 0
    last = max([current, *by_week])
    return [(week, by_week.get(week)) for week in range(1, last + 1)]


def adherence_figure(series: CourseSeries) -> go.Figure:
    """Weekly adherence bars (percent of prescribed sets) and the adherence line (80%).

    Weeks with nothing prescribed, or with no entry at all, are gaps with a short note, not a
    zero: no bar means "nothing to judge", which is different from "did none of it".
    """
    minimum = series.adherence_min_percent
    weeks = [w for w in series.adherence if w.percent is not None]
    percents = [w.percent for w in weeks]
    traces: list[go.Bar] = [
        go.Bar(
            name=gettext("Exercise adherence (week)"),
            x=[_week_middle(w.start).isoformat() for w in weeks],
            y=percents,
            width=[6 * DAY_MS] * len(weeks),
            customdata=[
                [w.week, f"{day_month(w.start)}–{day_month(w.end)}", w.sets_done, w.sets_prescribed]
                for w in weeks
            ],
            # The week still under way says so: its percentage can still change.
            text=[
                f"{w.percent:.0f}%" + ("<br>" + gettext("so far") if w.end > series.as_of else "")
                for w in weeks
            ],
            textposition="outside",
            cliponaxis=False,
            textfont={"size": LABEL_SIZE, "color": INK},
            marker={
                "color": [GREEN if (p or 0) >= minimum else ORANGE for p in percents],
                # Weeks below the line are hatched as well as coloured (not colour alone).
                "pattern": {
                    "shape": ["" if (p or 0) >= minimum else "/" for p in percents],
                    "fgcolor": "#7a4d00",
                    "solidity": 0.25,
                },
                "line": {"color": "#ffffff", "width": 1},
                "opacity": [0.55 if w.end > series.as_of else 1.0 for w in weeks],
            },
            hovertemplate=gettext(
                "Week %{customdata[0]} (%{customdata[1]})<br>"
                "%{customdata[2]} of %{customdata[3]} sets: %{y:.0f}%"
            )
            + "<extra></extra>",
        )
    ]
    layout = _base_layout(series, height=300, y_title=gettext("Sets done (%)"))
    layout["yaxis"].update({"range": [0, 118], "tickvals": [0, 20, 40, 60, 80, 100]})
    layout["yaxis"]["ticksuffix"] = "%"
    layout["bargap"] = 0
    layout["shapes"] = [
        {
            "type": "line",
            "name": "adherence_min",
            "xref": "paper",
            "yref": "y",
            "x0": 0,
            "x1": 1,
            "y0": minimum,
            "y1": minimum,
            "line": {"color": INK, "width": 2, "dash": "dash"},
            "layer": "above",
        },
        *_day_marker_shapes(series),
        _as_of_shape(series, label=False),
    ]
    notes: list[dict[str, Any]] = [
        _side_label(
            name="adherence_min_label",
            text=gettext("%(minimum)s%%: adequate<br>adherence") % {"minimum": general(minimum)},
            y=minimum,
            colour=INK,
        )
    ]
    for week, data in adherence_weeks(series):
        if data is not None and data.percent is not None:
            continue
        start = shift_days(series.start_date, (week - 1) * 7)
        notes.append(
            {
                "name": f"gap_week_{week}",
                "text": gettext("nothing<br>prescribed")
                if data is not None
                else gettext("no<br>entries"),
                "x": _week_middle(start).isoformat(),
                "xref": "x",
                "y": 4,
                "yref": "y",
                "yanchor": "bottom",
                "showarrow": False,
                "font": {"size": LABEL_SIZE - 1, "color": MUTED},
            }
        )
    if not series.adherence:
        notes.append(_empty_note(gettext(NO_ENTRIES)))
    layout["annotations"] = notes
    return _figure(traces, layout)


def _week_middle(start: dt.date) -> dt.date:
    # Daily points sit at midnight of their date, so a 6-day-wide bar centred on the fourth day
    # spans exactly the week's seven points in the pain chart above it.
    return shift_days(start, 3)


# --- Function: FAAM and PSFS --------------------------------------------------------------------

NO_FAAM: Final = gettext_noop("No FAAM answered yet")
NO_PSFS: Final = gettext_noop("No PSFS answered yet")


def subscale_label(subscale: str) -> str:
    """ "ADL" or "Sports": the FAAM subscale's short name, in the active language."""
    return gettext("Sports") if subscale == SPORTS else gettext("ADL")


def _target_band(*, name: str, low: float, high: float) -> dict[str, Any]:
    """The band where a function score's change from its baseline is clinically important."""
    return {
        "type": "rect",
        "name": name,
        "xref": "paper",
        "yref": "y",
        "x0": 0,
        "x1": 1,
        "y0": low,
        "y1": high,
        "fillcolor": GREEN,
        "opacity": 0.13,
        "line": {"width": 0},
        "layer": "between",
    }


def _hline(*, name: str, y: float, colour: str, dash: str = "dot") -> dict[str, Any]:
    return {
        "type": "line",
        "name": name,
        "xref": "paper",
        "yref": "y",
        "x0": 0,
        "x1": 1,
        "y0": y,
        "y1": y,
        "line": {"color": colour, "width": 2, "dash": dash},
        "layer": "between",
    }


def function_figure(series: CourseSeries) -> go.Figure:
    """FAAM ADL and Sports over time (0–100), the MCID band of the subscale the rules judge.

    The band starts at the judged subscale's baseline plus its MCID (Sports, else ADL, as in
    ``FUNCTION_NOT_IMPROVING``); the other subscale's target is a dotted line. A response with
    too few items answered to score a subscale is a grey cross on the axis, not a zero.
    """
    function = series.function
    points = function.faam if function is not None else ()
    traces: list[go.Scatter] = []
    for subscale, attr, colour, dash, symbol, hover in (
        (
            ADL,
            "faam_adl",
            BLUE,
            "solid",
            "circle",
            # Translators: plotly fills in %{customdata}, %{x} and %{y}; keep them as they are.
            gettext("Day %{customdata} · %{x}<br>FAAM ADL %{y:.1f}"),
        ),
        (
            SPORTS,
            "faam_sports",
            VERMILLION,
            "dash",
            "square",
            gettext("Day %{customdata} · %{x}<br>FAAM Sports %{y:.1f}"),
        ),
    ):
        scored = [p for p in points if getattr(p, attr) is not None]
        traces.append(
            go.Scatter(
                name=gettext("FAAM %(subscale)s") % {"subscale": subscale_label(subscale)},
                x=[p.date.isoformat() for p in scored],
                y=[getattr(p, attr) for p in scored],
                customdata=[p.day for p in scored],
                mode="lines+markers",
                line={"color": colour, "width": 3, "dash": dash},
                marker={"color": colour, "size": 9, "symbol": symbol},
                hovertemplate=hover + "<extra></extra>",
            )
        )
    unscored = [p for p in points if p.faam_adl is None or p.faam_sports is None]
    if unscored:
        traces.append(
            go.Scatter(
                name=gettext("Not scored (too few items answered)"),
                x=[p.date.isoformat() for p in unscored],
                y=[0] * len(unscored),
                customdata=[p.day for p in unscored],
                mode="markers",
                cliponaxis=False,
                marker={"color": MUTED, "size": 10, "symbol": "x-thin-open", "line": {"width": 2}},
                hovertemplate=gettext("Day %{customdata} · %{x}<br>Too few items answered")
                + "<extra></extra>",
            )
        )
    layout = _base_layout(series, height=360, y_title=gettext("FAAM score (0–100)"))
    layout["yaxis"].update({"range": [0, 100], "dtick": 20})
    shapes: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    judged = function.judged_subscale if function is not None else None
    if function is not None and judged is not None:
        for subscale in (judged, ADL if judged == SPORTS else SPORTS):
            target = function.faam_target(subscale)
            if target is None:
                continue
            words = {"subscale": subscale_label(subscale), "value": _fmt(target)}
            if subscale == judged:
                if target < 100:
                    shapes.append(_target_band(name="mcid_band", low=target, high=100))
                annotations.append(
                    _side_label(
                        name="mcid_label",
                        # Translators: a label beside the chart; <br> breaks the line.
                        text=gettext(
                            "%(subscale)s target<br>%(value)s or above:<br>clinically<br>important"
                        )
                        % words,
                        # At the band's top: the other subscale's label stays inside the plot.
                        y=100,
                        yanchor="top",
                        colour=DARK_GREEN,
                    )
                )
            else:
                shapes.append(_hline(name="other_target", y=min(target, 100), colour=BLUE))
                # Inside the plot, above the dotted line at its left end: the subscale's
                # baseline lies a whole MCID below it, so no point of its line is covered.
                annotations.append(
                    {
                        "name": "other_target_label",
                        "text": gettext("%(subscale)s target %(value)s") % words,
                        "xref": "paper",
                        "x": 0,
                        "xanchor": "left",
                        "xshift": 4,
                        "yref": "y",
                        "y": min(target, 100),
                        "yanchor": "top" if target >= 94 else "bottom",
                        "showarrow": False,
                        "bgcolor": "rgba(255,255,255,0.85)",
                        "font": {"size": LABEL_SIZE, "color": BLUE},
                    }
                )
    shapes += _day_marker_shapes(series)
    shapes.append(_as_of_shape(series))
    if not points:
        annotations.append(_empty_note(gettext(NO_FAAM)))
    layout["shapes"] = shapes
    layout["annotations"] = annotations
    return _figure(traces, layout)


def psfs_figure(series: CourseSeries) -> go.Figure:
    """The PSFS mean over time (0–10) and its MCID band (baseline plus the MCID and above)."""
    function = series.function
    points = [p for p in (function.psfs if function is not None else ()) if p.psfs is not None]
    traces = [
        go.Scatter(
            name=gettext("PSFS (mean of the activities)"),
            x=[p.date.isoformat() for p in points],
            y=[p.psfs for p in points],
            customdata=[p.day for p in points],
            mode="lines+markers",
            line={"color": NAVY, "width": 3},
            marker={"color": NAVY, "size": 9, "symbol": "diamond"},
            hovertemplate=gettext("Day %{customdata} · %{x}<br>PSFS %{y:.1f}/10")
            + "<extra></extra>",
        )
    ]
    layout = _base_layout(series, height=300, y_title=gettext("PSFS (0–10)"))
    layout["yaxis"].update({"range": [0, 10], "dtick": 2})
    shapes: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    target = function.psfs_target if function is not None else None
    if target is not None:
        if target < 10:
            shapes.append(_target_band(name="mcid_band", low=target, high=10))
        annotations.append(
            _side_label(
                name="mcid_label",
                text=gettext("Target %(value)s<br>or above:<br>clinically<br>important")
                % {"value": _fmt(target)},
                y=10,
                yanchor="top",
                colour=DARK_GREEN,
            )
        )
    shapes += _day_marker_shapes(series)
    shapes.append(_as_of_shape(series))
    if not points:
        annotations.append(_empty_note(gettext(NO_PSFS)))
    layout["shapes"] = shapes
    layout["annotations"] = annotations
    return _figure(traces, layout)
