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
from django.utils.translation import gettext, ngettext

from rehab import numbers, rules
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
    function_figure,
    latest_deficit,
    pain_figure,
    psfs_figure,
    rom_figure,
    subscale_label,
)
from reports.l10n import day_month_year, general
from reports.series import (
    ADL,
    SPORTS,
    CourseSeries,
    FunctionSeries,
    InterventionSpan,
    course_series,
)


def intervention_labels() -> dict[str, str]:
    """The intervention kinds in words, in the active language (the model's choices)."""
    return {str(k): str(v) for k, v in InterventionKind.choices}


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
    """The charts of a course: pain, plantar flexion, weekly adherence, and, when the series
    carries the questionnaires (staff pages, the referral report), FAAM and PSFS."""
    builders: Sequence[tuple[str, str, Callable[[], go.Figure], str]] = (
        (
            "pain",
            gettext("Pain"),
            lambda: pain_figure(series, intervention_labels=intervention_labels()),
            # The notes of what could not be drawn as recorded, visible under the first chart.
            " ".join([pain_summary(series), *series.notes]),
        ),
        ("rom", gettext("Plantar flexion"), lambda: rom_figure(series), rom_summary(series)),
        (
            "adherence",
            gettext("Exercise adherence by week"),
            lambda: adherence_figure(series),
            adherence_summary(series),
        ),
    )
    if series.function is not None:
        # Function beside pain: the two things the referral question turns on.
        function = series.function
        builders = (
            builders[0],
            (
                "faam",
                gettext("Function: FAAM"),
                lambda: function_figure(series),
                faam_summary(series, function),
            ),
            (
                "psfs",
                gettext("Function: PSFS"),
                lambda: psfs_figure(series),
                psfs_summary(series, function),
            ),
            *builders[1:],
        )
    return [
        Chart(key=key, title=title, summary=summary, figure=figure_data(build()), prefix=prefix)
        for key, title, build, summary in builders
    ]


def charts_for_course(course: Course, *, prefix: str = "chart") -> list[Chart]:
    """The charts of a course loaded by ``reports.course.episode_course`` (referral report)."""
    return charts_for_series(course.series, prefix=prefix)


def episode_page_series(
    *, episode: Episode, evaluation: rules.Evaluation, as_of: dt.date
) -> CourseSeries:
    """The drawable course of an episode loaded by ``rehab.selectors.episode_detail_for``.

    Its entries, exercise logs, prescriptions, interventions and questionnaire responses are
    already prefetched, so the series costs one query (the clinic's thresholds) whatever the
    episode's length. The baseline and reference come from the page's own evaluation, so the
    lines drawn are the numbers its findings used.
    """
    data = prefetched_episode_data(episode, as_of=as_of)
    return course_series(
        data,
        thresholds_for_clinic(episode.patient.user.clinic_id),
        as_of,
        baseline=evaluation.metrics.pain_baseline,
        rom_reference=evaluation.metrics.rom_reference,
        pain_current=evaluation.metrics.pain_current,
        pain_change=evaluation.metrics.pain_change,
        metrics=evaluation.metrics,
    )


def charts_for_episode_page(
    *, episode: Episode, evaluation: rules.Evaluation, as_of: dt.date
) -> list[Chart]:
    """The charts of an episode loaded by ``rehab.selectors.episode_detail_for``."""
    return charts_for_series(
        episode_page_series(episode=episode, evaluation=evaluation, as_of=as_of)
    )


# --- Summaries ----------------------------------------------------------------------------------
# Each sentence is one translatable message with named placeholders; the sentences are joined
# with ". " as before. Numbers go through reports.l10n (English unchanged, "5,5" in Spanish).


def _when(series: CourseSeries, date: dt.date) -> str:
    delta = (date - series.as_of).days
    day = day_month_year(date)
    if delta == 0:
        return gettext("today, %(date)s") % {"date": day}
    count = abs(delta)
    if delta > 0:
        return ngettext("%(date)s, in %(count)s day", "%(date)s, in %(count)s days", count) % {
            "date": day,
            "count": count,
        }
    return ngettext("%(date)s, %(count)s day ago", "%(date)s, %(count)s days ago", count) % {
        "date": day,
        "count": count,
    }


def _span_phrase(series: CourseSeries, span: InterventionSpan) -> str:
    label = intervention_labels().get(span.kind, span.kind.replace("_", " ").capitalize())
    first = series.trial_day(span.start)
    if span.end is None and span.kind == IMMOBILIZATION:
        return gettext("%(label)s from day %(day)s, still going on") % {
            "label": label,
            "day": first,
        }
    if span.end is None or span.end == span.start:
        return gettext("%(label)s on day %(day)s") % {"label": label, "day": first}
    return gettext("%(label)s on days %(first)s–%(last)s") % {
        "label": label,
        "first": first,
        "last": series.trial_day(span.end),
    }


def _pain_change_sentence(change: float, params: dict[str, object]) -> str:
    days = params["days"]
    assert isinstance(days, int)
    if numbers.rounded(change, 1) < 0:
        message = ngettext(
            "Pain during activity fell by %(points)s points, from a baseline of %(baseline)s "
            "to a 7-day mean of %(mean)s on day %(day)s, over %(days)s day of the trial",
            "Pain during activity fell by %(points)s points, from a baseline of %(baseline)s "
            "to a 7-day mean of %(mean)s on day %(day)s, over %(days)s days of the trial",
            days,
        )
    elif numbers.rounded(change, 1) > 0:
        message = ngettext(
            "Pain during activity rose by %(points)s points, from a baseline of %(baseline)s "
            "to a 7-day mean of %(mean)s on day %(day)s, over %(days)s day of the trial",
            "Pain during activity rose by %(points)s points, from a baseline of %(baseline)s "
            "to a 7-day mean of %(mean)s on day %(day)s, over %(days)s days of the trial",
            days,
        )
    else:
        message = ngettext(
            "Pain during activity did not change, from a baseline of %(baseline)s to a 7-day "
            "mean of %(mean)s on day %(day)s, over %(days)s day of the trial",
            "Pain during activity did not change, from a baseline of %(baseline)s to a 7-day "
            "mean of %(mean)s on day %(day)s, over %(days)s days of the trial",
            days,
        )
    return message % {**params, "points": numbers.number(abs(change), 1)}


def pain_summary(series: CourseSeries) -> str:
    """The pain chart in words: baseline to latest mean, the target, the review days."""
    sentences: list[str] = []
    latest = next((p for p in reversed(series.pain) if p.mean_7d is not None), None)
    if not series.pain:
        sentences.append(gettext("No pain entries yet"))
        if series.baseline is not None:
            sentences.append(
                gettext("The baseline pain during activity is %(baseline)s")
                % {"baseline": numbers.pain(series.baseline)}
            )
    elif (
        series.baseline is not None
        and series.pain_current is not None
        and series.pain_change is not None
    ):
        # The rules' figures, as the page's Progress and the report state them: the mean of
        # the last 7 days to as_of and its change (the line's last point may be an earlier day).
        sentences.append(
            _pain_change_sentence(
                -series.pain_change,
                {
                    "baseline": numbers.pain(series.baseline),
                    "mean": numbers.pain(series.pain_current),
                    "day": series.trial_day(series.as_of),
                    "days": series.trial_day(series.as_of),
                },
            )
        )
    elif series.baseline is not None and latest is not None and latest.mean_7d is not None:
        sentences.append(
            _pain_change_sentence(
                latest.mean_7d - series.baseline,
                {
                    "baseline": numbers.pain(series.baseline),
                    "mean": numbers.pain(latest.mean_7d),
                    "day": latest.day,
                    "days": series.trial_day(series.as_of),
                },
            )
        )
    else:
        last = series.pain[-1]
        known = (
            gettext("The baseline is %(baseline)s") % {"baseline": numbers.pain(series.baseline)}
            if series.baseline is not None
            else gettext("The baseline is unknown")
        )
        mean = (
            gettext("the latest 7-day mean is %(mean)s (day %(day)s)")
            % {"mean": numbers.pain(latest.mean_7d), "day": latest.day}
            if latest is not None and latest.mean_7d is not None
            else gettext("no 7-day window holds enough entries for a mean yet")
        )
        last_entry = gettext(
            "the last entry, on day %(day)s, scored pain during activity %(score)s of 10"
        ) % {"day": last.day, "score": last.activity}
        # Translators: three clauses of one sentence about the pain chart, joined by "; ".
        sentences.append(
            gettext("%(baseline)s; %(mean)s; %(last_entry)s")
            % {"baseline": known, "mean": mean, "last_entry": last_entry}
        )
    if series.mcid_target is not None:
        params = {"target": numbers.pain(series.mcid_target)}
        now = series.pain_current
        if now is None and latest is not None:
            now = latest.mean_7d
        if now is not None:
            if now <= series.mcid_target:
                target = gettext(
                    "The clinically important target is %(target)s or below; the latest mean "
                    "is within it"
                )
            else:
                target = gettext(
                    "The clinically important target is %(target)s or below; the latest mean "
                    "is above it"
                )
        else:
            target = gettext("The clinically important target is %(target)s or below")
        sentences.append(target % params)
    rest = [p for p in series.pain if p.rest is not None]
    if rest:
        sentences.append(
            gettext("Pain at rest was %(score)s of 10 on day %(day)s")
            % {"score": rest[-1].rest, "day": rest[-1].day}
        )
    if series.interventions:
        sentences.append(
            gettext("Interventions: %(list)s")
            % {"list": "; ".join(_span_phrase(series, s) for s in series.interventions)}
        )
    sentences.append(
        gettext(
            "Review day %(review_day)s: %(review_when)s; referral overdue from day "
            "%(overdue_day)s: %(overdue_when)s"
        )
        % {
            "review_day": series.trial_day(series.review_date),
            "review_when": _when(series, series.review_date),
            "overdue_day": series.trial_day(series.overdue_date),
            "overdue_when": _when(series, series.overdue_date),
        }
    )
    return ". ".join(sentences) + "."


def rom_summary(series: CourseSeries) -> str:
    """The plantar flexion chart in words: first and latest, healthy side, deficit, range."""
    affected = [p for p in series.rom if p.affected is not None]
    healthy = [p for p in series.rom if p.unaffected is not None]
    sentences: list[str] = []
    if not affected and not healthy:
        sentences.append(gettext("No plantar flexion measured yet"))
    if affected:
        first, last = affected[0], affected[-1]
        assert first.affected is not None and last.affected is not None
        if first is last:
            sentences.append(
                gettext("Plantar flexion of the affected side was %(degrees)s° on day %(day)s")
                % {"degrees": numbers.number(first.affected), "day": first.day}
            )
        else:
            sentences.append(
                ngettext(
                    "Plantar flexion of the affected side went from %(first)s° on day "
                    "%(first_day)s to %(last)s° on day %(last_day)s, over %(count)s measurement",
                    "Plantar flexion of the affected side went from %(first)s° on day "
                    "%(first_day)s to %(last)s° on day %(last_day)s, over %(count)s measurements",
                    len(affected),
                )
                % {
                    "first": numbers.number(first.affected),
                    "first_day": first.day,
                    "last": numbers.number(last.affected),
                    "last_day": last.day,
                    "count": len(affected),
                }
            )
    if healthy:
        latest = healthy[-1]
        assert latest.unaffected is not None
        sentences.append(
            gettext("The healthy side measured %(degrees)s° on day %(day)s")
            % {"degrees": numbers.number(latest.unaffected), "day": latest.day}
        )
    elif series.rom_reference is not None:
        sentences.append(
            gettext("The healthy side measured %(degrees)s° at intake")
            % {"degrees": numbers.number(series.rom_reference)}
        )
    deficit = latest_deficit(series)
    if deficit is not None:
        params = {
            "day": series.trial_day(deficit.date),
            "degrees": numbers.number(deficit.degrees),
            "reference": numbers.number(deficit.reference),
        }
        if deficit.degrees > 0:
            sentences.append(
                gettext(
                    "On day %(day)s the affected side was %(degrees)s° short of the healthy "
                    "side's %(reference)s° (shaded)"
                )
                % params
            )
        else:
            sentences.append(
                gettext(
                    "On day %(day)s the affected side was not short of the healthy side's "
                    "%(reference)s°"
                )
                % params
            )
    sentences.append(
        gettext("The normal range is about %(low)s–%(high)s° (band)")
        % {"low": general(NORMAL_PF_MIN), "high": general(NORMAL_PF_MAX)}
    )
    return ". ".join(sentences) + "."


def adherence_summary(series: CourseSeries) -> str:
    """The adherence chart in words: every week's percentage, gaps named, weeks on target."""
    minimum = series.adherence_min_percent
    if not series.adherence:
        return gettext(
            "No exercise entries yet. The line marks %(minimum)s%% of the prescribed sets, "
            "the adequate adherence."
        ) % {"minimum": general(minimum)}
    parts: list[str] = []
    judged = on_target = 0
    for week, data in adherence_weeks(series):
        if data is None:
            parts.append(gettext("week %(week)s no entries") % {"week": week})
        elif data.percent is None:
            parts.append(gettext("week %(week)s nothing prescribed") % {"week": week})
        else:
            judged += 1
            on_target += data.percent >= minimum
            params = {"week": week, "percent": numbers.number(data.percent, 0)}
            if data.end > series.as_of:
                parts.append(gettext("week %(week)s %(percent)s%% so far") % params)
            else:
                parts.append(gettext("week %(week)s %(percent)s%%") % params)
    return (
        gettext("Share of the prescribed exercise sets done, by trial week: %(weeks)s.")
        % {"weeks": ", ".join(parts)}
        + " "
        + ngettext(
            "%(on_target)s of %(judged)s week with exercises reached the %(minimum)s%% line.",
            "%(on_target)s of %(judged)s weeks with exercises reached the %(minimum)s%% line.",
            judged,
        )
        % {"on_target": on_target, "judged": judged, "minimum": general(minimum)}
    )


# --- Function (FAAM, PSFS) ----------------------------------------------------------------------


def _function_sentence(
    *,
    name: str,
    function: FunctionSeries,
    attr: str,
    baseline: float | None,
    current: float | None,
    change: float | None,
) -> str:
    first, last = function.anchors(attr)
    if baseline is None or first is None:
        return gettext("%(name)s could not be scored yet: too few items answered") % {"name": name}
    if current is None or last is None:
        return gettext("%(name)s baseline %(baseline)s on day %(day)s; no later score yet") % {
            "name": name,
            "baseline": numbers.score(baseline),
            "day": first.day,
        }
    return gettext(
        "%(name)s went from %(baseline)s on day %(first_day)s to %(current)s on day "
        "%(last_day)s (%(change)s)"
    ) % {
        "name": name,
        "baseline": numbers.score(baseline),
        "first_day": first.day,
        "current": numbers.score(current),
        "last_day": last.day,
        "change": numbers.score_change(change),
    }


def _target_sentence(*, name: str, target: float, current: float | None, mcid: float) -> str:
    params = {"name": name, "target": numbers.score(target), "mcid": numbers.number(mcid)}
    if current is None:
        return (
            gettext(
                "A clinically important improvement of %(name)s is %(mcid)s points, to "
                "%(target)s or above (band)"
            )
            % params
        )
    if numbers.rounded(current) >= numbers.rounded(target):
        return (
            gettext(
                "A clinically important improvement of %(name)s is %(mcid)s points, to "
                "%(target)s or above (band); the latest score reaches it"
            )
            % params
        )
    return (
        gettext(
            "A clinically important improvement of %(name)s is %(mcid)s points, to "
            "%(target)s or above (band); the latest score is below it"
        )
        % params
    )


def faam_summary(series: CourseSeries, function: FunctionSeries) -> str:
    """The FAAM chart in words: each subscale from baseline to latest, the MCID band."""
    points = function.faam
    if not points:
        return gettext(
            "No FAAM answered yet. It is due in days 1–7 and around the review and overdue days."
        )
    sentences = [
        _function_sentence(
            name=gettext("FAAM %(subscale)s") % {"subscale": subscale_label(subscale)},
            function=function,
            attr=attr,
            baseline=baseline,
            current=current,
            change=change,
        )
        for subscale, attr, baseline, current, change in (
            (
                ADL,
                "faam_adl",
                function.faam_adl_baseline,
                function.faam_adl_current,
                function.faam_adl_change,
            ),
            (
                SPORTS,
                "faam_sports",
                function.faam_sports_baseline,
                function.faam_sports_current,
                function.faam_sports_change,
            ),
        )
    ]
    judged = function.judged_subscale
    if judged is not None:
        target = function.faam_target(judged)
        assert target is not None
        sports = judged == SPORTS
        sentences.append(
            _target_sentence(
                name=gettext("FAAM %(subscale)s") % {"subscale": subscale_label(judged)},
                target=target,
                current=function.faam_sports_current if sports else function.faam_adl_current,
                mcid=function.faam_sports_mcid if sports else function.faam_adl_mcid,
            )
        )
    unscored = [p.day for p in points if p.faam_adl is None or p.faam_sports is None]
    if unscored:
        sentences.append(
            ngettext(
                "On day %(days)s too few items of a subscale were answered to score it (cross)",
                "On days %(days)s too few items of a subscale were answered to score it (crosses)",
                len(unscored),
            )
            % {"days": ", ".join(str(day) for day in unscored)}
        )
    return ". ".join(sentences) + "."


def psfs_summary(series: CourseSeries, function: FunctionSeries) -> str:
    """The PSFS chart in words: the mean from baseline to latest, the MCID band."""
    points = function.psfs
    if not points:
        return gettext(
            "No PSFS answered yet. It is due in days 1–7 and around the review and overdue days."
        )
    name = gettext("The PSFS")
    sentences = [
        _function_sentence(
            name=name,
            function=function,
            attr="psfs",
            baseline=function.psfs_baseline,
            current=function.psfs_current,
            change=function.psfs_change,
        )
    ]
    target = function.psfs_target
    if target is not None:
        sentences.append(
            # Mid-sentence: "an important improvement of the PSFS", not "of The PSFS".
            _target_sentence(
                name=gettext("the PSFS"),
                target=target,
                current=function.psfs_current,
                mcid=function.psfs_mcid,
            )
        )
    return ". ".join(sentences) + "."
