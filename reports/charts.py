"""The charts of an episode for the pages: figures as JSON for ``json_script``, and text summaries.

``templates/reports/_charts.html`` draws a list of ``Chart`` (a container, the figure's JSON in a
``<script type="application/json">`` block, and the summary); ``static/js/charts.js`` hands each
figure to plotly.js, which is served from our own static files. The summaries say in words what
each picture shows, for screen readers and for anybody who cannot hover on a tablet.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go

from rehab import rules
from rehab.evaluation import thresholds_for_clinic
from rehab.models import Episode, InterventionKind
from rehab.rule_inputs import prefetched_episode_data
from reports.course import Course
from reports.figures import (
    IMMOBILIZATION,
    NORMAL_PF_MAX,
    NORMAL_PF_MIN,
    adherence_figure,
    adherence_weeks,
    latest_deficit,
    pain_figure,
    rom_figure,
)
from reports.series import CourseSeries, InterventionSpan, course_series

INTERVENTION_LABELS: dict[str, str] = {str(k): str(v) for k, v in InterventionKind.choices}


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    summary: str
    figure: dict[str, Any]
    prefix: str = "chart"

    @property
    def dom_id(self) -> str:
        return f"{self.prefix}-{self.key}"

    @property
    def data_id(self) -> str:
        return f"{self.dom_id}-data"

    @property
    def summary_id(self) -> str:
        return f"{self.dom_id}-summary"


def figure_data(figure: go.Figure) -> dict[str, Any]:
    """Plain JSON types (dates as ISO strings), ready for ``json_script``."""
    data: dict[str, Any] = json.loads(figure.to_json())
    return data


def charts_for_series(series: CourseSeries, *, prefix: str = "chart") -> list[Chart]:
    """The three charts of a course: pain, plantar flexion, weekly adherence."""
    builders: Sequence[tuple[str, str, Callable[[], go.Figure], str]] = (
        (
            "pain",
            "Pain",
            lambda: pain_figure(series, intervention_labels=INTERVENTION_LABELS),
            # The notes of what could not be drawn as recorded, visible under the first chart.
            " ".join([pain_summary(series), *series.notes]),
        ),
        ("rom", "Plantar flexion", lambda: rom_figure(series), rom_summary(series)),
        (
            "adherence",
            "Exercise adherence by week",
            lambda: adherence_figure(series),
            adherence_summary(series),
        ),
    )
    return [
        Chart(key=key, title=title, summary=summary, figure=figure_data(build()), prefix=prefix)
        for key, title, build, summary in builders
    ]


def charts_for_course(course: Course, *, prefix: str = "chart") -> list[Chart]:
    """The charts of a course loaded by ``reports.course.episode_course`` (referral report)."""
    return charts_for_series(course.series, prefix=prefix)


def charts_for_episode_page(
    *, episode: Episode, evaluation: rules.Evaluation, as_of: dt.date
) -> list[Chart]:
    """The charts of an episode loaded by ``rehab.selectors.episode_detail_for``.

    Its entries, exercise logs, prescriptions and interventions are already prefetched, so the
    charts cost one query (the clinic's thresholds) whatever the episode's length. The baseline
    and reference come from the page's own evaluation, so the lines drawn are the numbers its
    findings used.
    """
    data = prefetched_episode_data(episode, as_of=as_of)
    series = course_series(
        data,
        thresholds_for_clinic(episode.patient.user.clinic_id),
        as_of,
        baseline=evaluation.metrics.pain_baseline,
        rom_reference=evaluation.metrics.rom_reference,
    )
    return charts_for_series(series)


# --- Summaries ----------------------------------------------------------------------------------


def _when(series: CourseSeries, date: dt.date) -> str:
    delta = (date - series.as_of).days
    if delta == 0:
        return f"today, {date:%-d %b %Y}"
    count = f"{abs(delta)} day{'s' if abs(delta) != 1 else ''}"
    return f"{date:%-d %b %Y}, in {count}" if delta > 0 else f"{date:%-d %b %Y}, {count} ago"


def _points(value: float) -> str:
    return f"{value:.1f} points"


def _span_phrase(series: CourseSeries, span: InterventionSpan) -> str:
    label = INTERVENTION_LABELS.get(span.kind, span.kind.replace("_", " ").capitalize())
    first = series.trial_day(span.start)
    if span.end is None and span.kind == IMMOBILIZATION:
        return f"{label} from day {first}, still going on"
    if span.end is None or span.end == span.start:
        return f"{label} on day {first}"
    return f"{label} on days {first}–{series.trial_day(span.end)}"


def pain_summary(series: CourseSeries) -> str:
    """The pain chart in words: baseline to latest mean, the target, the review days."""
    sentences: list[str] = []
    latest = next((p for p in reversed(series.pain) if p.mean_7d is not None), None)
    if not series.pain:
        sentences.append("No pain entries yet")
        if series.baseline is not None:
            sentences.append(f"The baseline pain during activity is {series.baseline:.1f}")
    elif series.baseline is not None and latest is not None and latest.mean_7d is not None:
        change = latest.mean_7d - series.baseline
        if round(change, 1) < 0:
            verb = f"fell by {_points(-change)}"
        elif round(change, 1) > 0:
            verb = f"rose by {_points(change)}"
        else:
            verb = "did not change"
        sentences.append(
            f"Pain during activity {verb}, from a baseline of {series.baseline:.1f} to a 7-day "
            f"mean of {latest.mean_7d:.1f} on day {latest.day}, over "
            f"{series.trial_day(series.as_of)} days of the trial"
        )
    else:
        last = series.pain[-1]
        known = (
            f"The baseline is {series.baseline:.1f}"
            if series.baseline is not None
            else "The baseline is unknown"
        )
        mean = (
            f"the latest 7-day mean is {latest.mean_7d:.1f} (day {latest.day})"
            if latest is not None and latest.mean_7d is not None
            else "no 7-day window holds enough entries for a mean yet"
        )
        sentences.append(
            f"{known}; {mean}; the last entry, on day {last.day}, scored pain during activity "
            f"{last.activity} of 10"
        )
    if series.mcid_target is not None:
        target = f"The clinically important target is {series.mcid_target:.1f} or below"
        if latest is not None and latest.mean_7d is not None:
            reached = latest.mean_7d <= series.mcid_target
            target += "; the latest mean is " + ("within it" if reached else "above it")
        sentences.append(target)
    rest = [p for p in series.pain if p.rest is not None]
    if rest:
        sentences.append(f"Pain at rest was {rest[-1].rest} of 10 on day {rest[-1].day}")
    if series.interventions:
        sentences.append(
            "Interventions: " + "; ".join(_span_phrase(series, s) for s in series.interventions)
        )
    sentences.append(
        f"Review day {series.trial_day(series.review_date)}: "
        f"{_when(series, series.review_date)}; referral overdue from day "
        f"{series.trial_day(series.overdue_date)}: {_when(series, series.overdue_date)}"
    )
    return ". ".join(sentences) + "."


def rom_summary(series: CourseSeries) -> str:
    """The plantar flexion chart in words: first and latest, healthy side, deficit, range."""
    affected = [p for p in series.rom if p.affected is not None]
    healthy = [p for p in series.rom if p.unaffected is not None]
    sentences: list[str] = []
    if not affected and not healthy:
        sentences.append("No plantar flexion measured yet")
    if affected:
        first, last = affected[0], affected[-1]
        if first is last:
            sentences.append(
                f"Plantar flexion of the affected side was {first.affected:g}° on day {first.day}"
            )
        else:
            sentences.append(
                f"Plantar flexion of the affected side went from {first.affected:g}° on day "
                f"{first.day} to {last.affected:g}° on day {last.day}, over "
                f"{len(affected)} measurements"
            )
    if healthy:
        latest = healthy[-1]
        sentences.append(f"The healthy side measured {latest.unaffected:g}° on day {latest.day}")
    elif series.rom_reference is not None:
        sentences.append(f"The healthy side measured {series.rom_reference:g}° at intake")
    deficit = latest_deficit(series)
    if deficit is not None:
        if deficit.degrees > 0:
            sentences.append(
                f"On day {series.trial_day(deficit.date)} the affected side was "
                f"{deficit.degrees:g}° short of the healthy side's {deficit.reference:.1f}° "
                "(shaded)"
            )
        else:
            sentences.append(
                f"On day {series.trial_day(deficit.date)} the affected side was not short of "
                f"the healthy side's {deficit.reference:.1f}°"
            )
    sentences.append(f"The normal range is about {NORMAL_PF_MIN:g}–{NORMAL_PF_MAX:g}° (band)")
    return ". ".join(sentences) + "."


def adherence_summary(series: CourseSeries) -> str:
    """The adherence chart in words: every week's percentage, gaps named, weeks on target."""
    minimum = series.adherence_min_percent
    if not series.adherence:
        return (
            f"No exercise entries yet. The line marks {minimum:g}% of the prescribed sets, "
            "the adequate adherence."
        )
    parts: list[str] = []
    judged = on_target = 0
    for week, data in adherence_weeks(series):
        if data is None:
            parts.append(f"week {week} no entries")
        elif data.percent is None:
            parts.append(f"week {week} nothing prescribed")
        else:
            judged += 1
            on_target += data.percent >= minimum
            so_far = " so far" if data.end > series.as_of else ""
            parts.append(f"week {week} {data.percent:.0f}%{so_far}")
    return (
        f"Share of the prescribed exercise sets done, by trial week: {', '.join(parts)}. "
        f"{on_target} of {judged} week{'s' if judged != 1 else ''} with exercises reached the "
        f"{minimum:g}% line."
    )
