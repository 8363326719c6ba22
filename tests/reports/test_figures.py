"""The figure builders (reports.figures) and the chart summaries, on plain course data.

Every series here comes from the real pipeline: plain episode data -> ``rules.evaluate`` (for the
baseline and the ROM reference) -> ``reports.series.course_series`` -> a figure. The worked
example of the clinical spec is the backbone: start 5 Jan 2026, week-1 pain 7,7,8,7,7,6,7
(baseline 7.0), then 6 every day, so the MCID target is 7.0 − max(2.0, 30% of 7.0) = 4.9.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from typing import Any

import plotly.graph_objects as go
import pytest

from rehab import rules
from reports import figures
from reports.charts import adherence_summary, charts_for_series, pain_summary, rom_summary
from reports.series import CourseSeries, course_series
from tests.courses import START, WEEK_ONE, day


def iso(n: int) -> str:
    return day(n).isoformat()


def series_of(
    *,
    as_of_day: int,
    pain: Mapping[int, int] | None = None,
    rest_below: int | None = 3,
    rom: Mapping[int, tuple[float | None, float | None]] | None = None,
    prescriptions: Iterable[rules.PrescriptionData] = (),
    sets_done: Mapping[int, Mapping[int, int]] | None = None,
    interventions: Iterable[rules.InterventionData] = (),
    intake_pain: float | None = None,
    intake_rom: tuple[float | None, float | None] = (None, None),
    thresholds: rules.Thresholds | None = None,
) -> CourseSeries:
    thresholds = thresholds or rules.Thresholds()
    pain = pain or {}
    rom = rom or {}
    sets_done = sets_done or {}
    entries = tuple(
        rules.EntryData(
            date=day(n),
            pain_activity=value,
            pain_rest=max(0, value - rest_below) if rest_below is not None else None,
            pf_rom_affected=rom.get(n, (None, None))[0],
            pf_rom_unaffected=rom.get(n, (None, None))[1],
            sets_done=dict(sets_done.get(n, {})),
        )
        for n, value in sorted(pain.items())
    )
    data = rules.EpisodeData(
        start_date=START,
        intake_pain_activity=intake_pain,
        intake_pf_rom_affected=intake_rom[0],
        intake_pf_rom_unaffected=intake_rom[1],
        entries=entries,
        prescriptions=tuple(prescriptions),
        interventions=tuple(interventions),
    )
    as_of = day(as_of_day)
    evaluation = rules.evaluate(data, thresholds, as_of)
    return course_series(
        data,
        thresholds,
        as_of,
        baseline=evaluation.metrics.pain_baseline,
        rom_reference=evaluation.metrics.rom_reference,
    )


def worked_example(*, missing: Iterable[int] = (20,), **kwargs: Any) -> CourseSeries:
    """Days 1-7 as in the spec, then 6 every day up to day 44; as of day 45 (no entry yet)."""
    pain = {n: WEEK_ONE[n - 1] for n in range(1, 8)}
    pain.update({n: 6 for n in range(8, 45) if n not in set(missing)})
    return series_of(as_of_day=45, pain=pain, **kwargs)


def trace(figure: go.Figure, name: str) -> Any:
    found = [t for t in figure.data if t.name == name]
    assert len(found) == 1, f"expected one trace {name!r}, found {[t.name for t in figure.data]}"
    return found[0]


def shape(figure: go.Figure, name: str) -> Any:
    found = [s for s in figure.layout.shapes if s.name == name]
    assert len(found) == 1, f"expected one shape {name!r}, found {[s.name for s in found]}"
    return found[0]


def annotation(figure: go.Figure, name: str) -> Any:
    found = [a for a in figure.layout.annotations if a.name == name]
    assert len(found) == 1, f"expected one annotation {name!r}, found {len(found)}"
    return found[0]


def shape_names(figure: go.Figure) -> list[str]:
    return [s.name for s in figure.layout.shapes]


# --- Pain ---------------------------------------------------------------------------------------


def test_pain_figure_draws_daily_pain_the_7_day_mean_and_the_baseline():
    series = worked_example()
    figure = figures.pain_figure(series)

    assert [t.name for t in figure.data] == [
        "Pain during activity (daily)",
        "Pain at rest (daily)",
        "7-day mean, activity",
        "Baseline 7.0",
    ]
    logged = [n for n in range(1, 45) if n != 20]
    activity = trace(figure, "Pain during activity (daily)")
    assert list(activity.x) == [iso(n) for n in logged]
    assert list(activity.y) == [*WEEK_ONE, *([6] * (len(logged) - 7))]
    # Hover shows the trial day: it travels as customdata.
    assert list(activity.customdata) == logged
    assert "Day %{customdata}" in activity.hovertemplate

    rest = trace(figure, "Pain at rest (daily)")
    assert list(rest.y) == [max(0, v - 3) for v in activity.y]

    mean = trace(figure, "7-day mean, activity")
    # Fewer than 4 entries in the window: no mean, a gap in the line (as in the rules).
    assert list(mean.y[:3]) == [None, None, None]
    assert mean.y[3] == pytest.approx((7 + 7 + 8 + 7) / 4, abs=0.01)
    assert mean.y[-1] == 6.0
    assert mean.connectgaps is False

    baseline = trace(figure, "Baseline 7.0")
    assert list(baseline.y) == [7.0, 7.0]
    x0, x1 = figures.axis_range(series)
    assert list(baseline.x) == [x0.isoformat(), x1.isoformat()]
    # Named again in the right margin, level with the line (readable without the legend).
    label = annotation(figure, "baseline_label")
    assert (label.text, label.y, label.xref, label.x) == ("Baseline 7.0", 7.0, "paper", 1)

    assert figure.layout.yaxis.range == (0, 10)
    assert figure.layout.xaxis.type == "date"
    # The axis runs from the day before the start to past the overdue day (day 56 + 3).
    assert figure.layout.xaxis.range == (day(0).isoformat(), day(59).isoformat())


def test_the_mcid_band_runs_from_zero_to_the_target():
    figure = figures.pain_figure(worked_example())
    band = shape(figure, "mcid_band")
    assert (band.y0, band.y1) == (0, 4.9)
    assert (band.xref, band.x0, band.x1) == ("paper", 0, 1)
    label = annotation(figure, "mcid_label")
    assert label.text == "Target 4.9<br>or below:<br>clinically<br>important"
    assert (label.y, label.yanchor) == (4.9, "top")


@pytest.mark.parametrize(
    ("week_one_pain", "target"),
    [
        (3, 2.1),  # baseline <= 4: 30% alone
        (10, 7.0),  # 30% of 10 = 3 points beats 2 points
        (5, 3.0),  # 30% of 5 = 1.5 points: the 2 points win
    ],
)
def test_the_band_follows_the_baseline(week_one_pain, target):
    series = series_of(as_of_day=10, pain={n: week_one_pain for n in range(1, 8)})
    assert series.mcid_target == target
    band = shape(figures.pain_figure(series), "mcid_band")
    assert [band.y0, band.y1] == [0, target]


def test_without_a_baseline_there_is_no_baseline_line_and_no_band():
    # Only two entries in week 1 and no intake pain: the baseline is unknown.
    series = series_of(as_of_day=12, pain={2: 6, 5: 6, 9: 5, 10: 5, 11: 5, 12: 5})
    assert series.baseline is None
    figure = figures.pain_figure(series)
    assert not [t for t in figure.data if t.name.startswith("Baseline")]
    assert "mcid_band" not in shape_names(figure)


def test_review_and_overdue_days_are_marked_at_their_dates():
    figure = figures.pain_figure(worked_example())
    review, overdue = shape(figure, "review_day"), shape(figure, "overdue_day")
    assert (review.x0, review.x1) == (iso(42), iso(42))
    assert (overdue.x0, overdue.x1) == (iso(56), iso(56))
    assert (review.yref, review.y0, review.y1) == ("paper", 0, 1)
    assert review.label.text == "Day 42: review"
    assert overdue.label.text == "Day 56: overdue"
    assert shape(figure, "as_of").x0 == iso(45)


def test_review_markers_follow_the_clinics_thresholds():
    thresholds = rules.Thresholds(review_day=35, overdue_day=49)
    series = worked_example(thresholds=thresholds)
    for figure in (
        figures.pain_figure(series),
        figures.rom_figure(series),
        figures.adherence_figure(series),
    ):
        assert shape(figure, "review_day").x0 == iso(35)
        assert shape(figure, "overdue_day").x0 == iso(49)
    assert shape(figures.pain_figure(series), "overdue_day").label.text == "Day 49: overdue"


def test_interventions_are_marked_on_the_time_axis():
    series = worked_example(
        interventions=[
            rules.InterventionData("immobilization", day(1), day(7)),
            rules.InterventionData("nsaid", day(3), day(12)),
            rules.InterventionData("corticosteroid_injection", day(28)),
            # Starts after as_of: not part of the picture.
            rules.InterventionData("heel_lift", day(50)),
        ]
    )
    figure = figures.pain_figure(
        series, intervention_labels={"corticosteroid_injection": "Corticosteroid injection"}
    )

    # Immobilization: a shaded span over its whole days, full height.
    span = shape(figure, "immobilization_0")
    assert (span.type, span.xref, span.yref) == ("rect", "x", "paper")
    assert (span.x0, span.x1) == (f"{iso(0)} 12:00", f"{iso(7)} 12:00")
    label = annotation(figure, "immobilization_0_label")
    assert (label.text, label.x, label.yref, label.y) == ("Immobilization", span.x0, "paper", 1)

    # The injection: a large marker on the axis and a dotted line up the chart.
    injection = trace(figure, "Corticosteroid injection")
    assert (list(injection.x), list(injection.y)) == ([iso(28)], [0])
    assert injection.marker.size == 16
    line = shape(figure, "injection_0")
    assert (line.x0, line.x1, line.line.dash) == (iso(28), iso(28), "dot")
    assert annotation(figure, "injection_0_label").text == "Injection"

    # Anything else: a small marker at its start, named (label falls back to the code in words).
    nsaid = trace(figure, "Nsaid")
    assert (list(nsaid.x), list(nsaid.y)) == ([iso(3)], [0])
    assert nsaid.marker.size < injection.marker.size
    assert list(nsaid.customdata) == ["7 Jan – 16 Jan 2026"]
    assert not [t for t in figure.data if t.name == "Heel lift"]


def test_an_immobilization_still_going_on_is_shaded_up_to_as_of():
    series = worked_example(interventions=[rules.InterventionData("immobilization", day(40))])
    span = shape(figures.pain_figure(series), "immobilization_0")
    assert (span.x0, span.x1) == (f"{iso(39)} 12:00", f"{iso(45)} 12:00")


# --- Plantar flexion ----------------------------------------------------------------------------


def test_rom_figure_shades_the_deficit_between_the_two_sides():
    rom = {1: (24.0, 45.0), 4: (25.0, None), 8: (27.0, 46.0), 15: (30.0, 44.0)}
    series = worked_example(rom=rom)
    figure = figures.rom_figure(series)

    assert [t.name for t in figure.data] == [
        "Deficit (healthy − affected)",
        "Healthy side",
        "Affected side",
    ]
    affected = trace(figure, "Affected side")
    assert list(affected.x) == [iso(1), iso(4), iso(8), iso(15)]
    assert list(affected.y) == [24.0, 25.0, 27.0, 30.0]
    assert list(affected.customdata) == [1, 4, 8, 15]
    healthy = trace(figure, "Healthy side")
    assert list(healthy.y) == [45.0, 46.0, 44.0]

    # One closed polygon on the dates both sides were measured: along the healthy side, back
    # along the affected side.
    deficit = trace(figure, "Deficit (healthy − affected)")
    assert deficit.fill == "toself"
    assert list(deficit.x) == [iso(1), iso(8), iso(15), iso(15), iso(8), iso(1)]
    assert list(deficit.y) == [45.0, 46.0, 44.0, 30.0, 27.0, 24.0]

    normal = shape(figure, "normal_range")
    assert (normal.y0, normal.y1) == (35.0, 50.0)
    assert annotation(figure, "normal_range_label").text == "Normal range<br>35–50°"
    # The latest deficit is printed beside the last measurement, against the rules' reference
    # (the mean of the healthy side, 45°, as in ROM_DEFICIT): 45 − 30 on day 15.
    assert series.rom_reference == 45.0
    deficit = annotation(figure, "deficit_label")
    assert (deficit.text, deficit.x, deficit.y) == ("15.0° short", iso(15), 37.5)
    assert figure.layout.yaxis.range[0] == 0
    assert figure.layout.yaxis.range[1] >= 60


def test_without_healthy_side_measurements_the_deficit_is_against_the_intake_reference():
    series = worked_example(rom={1: (24.0, None), 8: (28.0, None)}, intake_rom=(24.0, 46.0))
    assert series.rom_reference == 46.0
    figure = figures.rom_figure(series)
    reference = trace(figure, "Healthy side (intake) 46°")
    assert list(reference.y) == [46.0, 46.0]
    deficit = trace(figure, "Deficit (healthy − affected)")
    assert list(deficit.y) == [46.0, 46.0, 28.0, 24.0]


def test_a_dancers_range_above_60_degrees_fits_the_axis():
    figure = figures.rom_figure(worked_example(rom={1: (70.0, 82.0)}))
    assert figure.layout.yaxis.range == (0, 87.0)


# --- Adherence ----------------------------------------------------------------------------------


def adherence_course(**kwargs: Any) -> CourseSeries:
    """3 sets/day in weeks 1-2, nothing prescribed in week 3, 2 sets/day from week 4 on.

    Week 1: every set done (100%); week 2: 2 of 3 sets on each day (66.7%); week 3: entries but
    nothing prescribed; week 4: all sets (100%); week 5: no entry at all; week 6: 1 of 2 on each
    day (50%; days 36-40, as of day 40).
    """
    pain: dict[int, int] = {}
    sets: dict[int, dict[int, int]] = {}
    for n in range(1, 41):
        week = (n - 1) // 7 + 1
        if week == 5:
            continue
        pain[n] = 5
        sets[n] = {1: {1: 3, 2: 2}.get(week, 0), 2: {4: 2, 6: 1}.get(week, 0)}
    prescriptions = [
        rules.PrescriptionData(id=1, sets=3, start_date=day(1), end_date=day(14)),
        rules.PrescriptionData(id=2, sets=2, start_date=day(22)),
    ]
    return series_of(as_of_day=40, pain=pain, sets_done=sets, prescriptions=prescriptions, **kwargs)


def test_adherence_bars_show_each_weeks_percentage_with_the_80_percent_line():
    series = adherence_course()
    figure = figures.adherence_figure(series)

    assert len(figure.data) == 1
    bars = figure.data[0]
    assert bars.type == "bar"
    assert list(bars.y) == [100.0, 66.7, 100.0, 50.0]
    # Each bar sits on its week: centred on the week's 4th day, 6 days wide.
    assert list(bars.x) == [iso(4), iso(11), iso(25), iso(39)]
    assert list(bars.width) == [6 * figures.DAY_MS] * 4
    # Week 6 is still under way on day 40: it says so, and is drawn paler.
    assert list(bars.text) == ["100%", "67%", "100%", "50%<br>so far"]
    assert list(bars.marker.opacity) == [1.0, 1.0, 1.0, 0.55]
    assert [row[2:] for row in bars.customdata] == [[21, 21], [14, 21], [14, 14], [5, 10]]
    # Below the line: another colour and a hatch pattern (never colour alone).
    assert list(bars.marker.pattern.shape) == ["", "/", "", "/"]
    assert bars.marker.color[1] != bars.marker.color[0]

    line = shape(figure, "adherence_min")
    assert (line.y0, line.y1, line.xref) == (80.0, 80.0, "paper")
    label = annotation(figure, "adherence_min_label")
    assert (label.text, label.y) == ("80%: adequate<br>adherence", 80.0)


def test_weeks_with_nothing_prescribed_or_no_entries_are_gaps_with_a_note():
    figure = figures.adherence_figure(adherence_course())
    notes = {a.name: (a.text, a.x) for a in figure.layout.annotations if a.name.startswith("gap_")}
    assert notes == {
        "gap_week_3": ("nothing<br>prescribed", iso(18)),
        "gap_week_5": ("no<br>entries", iso(32)),
    }
    assert iso(18) not in list(figure.data[0].x)


def test_the_adherence_line_follows_the_clinics_threshold():
    series = adherence_course(thresholds=rules.Thresholds(adherence_min_percent=60))
    figure = figures.adherence_figure(series)
    assert shape(figure, "adherence_min").y0 == 60.0
    assert list(figure.data[0].marker.pattern.shape) == ["", "", "", "/"]


# --- Empty and early episodes -------------------------------------------------------------------


def test_an_episode_with_no_entries_gives_figures_that_say_so():
    series = series_of(as_of_day=3)
    pain = figures.pain_figure(series)
    assert annotation(pain, "empty").text == figures.NO_ENTRIES
    assert all(len(t.x) == 0 for t in pain.data)
    # The trial's landmarks are still there, so the empty chart shows what lies ahead.
    assert {"review_day", "overdue_day", "as_of"} <= set(shape_names(pain))
    assert annotation(figures.rom_figure(series), "empty").text == figures.NO_ROM
    adherence = figures.adherence_figure(series)
    assert annotation(adherence, "empty").text == figures.NO_ENTRIES
    assert list(adherence.data[0].y) == []
    # And the whole set serialises for the page.
    charts = charts_for_series(series)
    assert [c.key for c in charts] == ["pain", "rom", "adherence"]
    json.dumps([c.figure for c in charts])


def test_with_no_entries_the_intake_baseline_and_its_band_are_still_drawn():
    series = series_of(as_of_day=9, intake_pain=6)
    assert series.baseline == 6
    figure = figures.pain_figure(series)
    assert list(trace(figure, "Baseline 6.0").y) == [6, 6]
    assert shape(figure, "mcid_band").y1 == 4.0
    assert annotation(figure, "empty").text == figures.NO_ENTRIES


def test_a_long_course_stretches_the_axis_to_as_of():
    series = series_of(as_of_day=80, pain={n: 5 for n in range(1, 81)})
    assert figures.axis_range(series) == (day(0), day(83))


# --- Look and size ------------------------------------------------------------------------------


def test_figures_do_not_zoom_under_a_finger_and_carry_no_plotly_template():
    series = worked_example(rom={1: (24.0, 45.0)})
    for figure in (
        figures.pain_figure(series),
        figures.rom_figure(series),
        figures.adherence_figure(series),
    ):
        layout = figure.layout
        assert layout.dragmode is False
        assert layout.xaxis.fixedrange is True and layout.yaxis.fixedrange is True
        assert layout.font.size >= 14
        data = json.loads(figure.to_json())
        assert data["layout"]["template"] == {"data": {"scatter": [{"type": "scatter"}]}}
        # A 45-day course is a few kilobytes, not Plotly's 7 kB default template per chart.
        assert len(figure.to_json()) < 12_000


# --- Summaries ----------------------------------------------------------------------------------


def test_pain_summary_says_what_the_chart_shows():
    series = worked_example(
        interventions=[
            rules.InterventionData("immobilization", day(1), day(7)),
            rules.InterventionData("corticosteroid_injection", day(28)),
        ]
    )
    assert pain_summary(series) == (
        "Pain during activity fell by 1.0 points, from a baseline of 7.0 to a 7-day mean of 6.0 "
        "on day 44, over 45 days of the trial. "
        "The clinically important target is 4.9 or below; the latest mean is above it. "
        "Pain at rest was 3 of 10 on day 44. "
        "Interventions: Immobilization on days 1–7; Corticosteroid injection on day 28. "
        "Review day 42: 15 Feb 2026, 3 days ago; "
        "referral overdue from day 56: 1 Mar 2026, in 11 days."
    )


def test_pain_summary_of_an_improving_course_says_the_target_is_reached():
    pain = {n: WEEK_ONE[n - 1] for n in range(1, 8)} | {n: 4 for n in range(8, 43)}
    series = series_of(as_of_day=42, pain=pain)
    summary = pain_summary(series)
    assert "fell by 3.0 points, from a baseline of 7.0 to a 7-day mean of 4.0 on day 42" in summary
    assert "the latest mean is within it" in summary
    assert "Review day 42: today, 15 Feb 2026" in summary


def test_pain_summary_of_an_empty_episode():
    summary = pain_summary(series_of(as_of_day=3))
    assert summary == (
        "No pain entries yet. "
        "Review day 42: 15 Feb 2026, in 39 days; "
        "referral overdue from day 56: 1 Mar 2026, in 53 days."
    )


def test_rom_summary_gives_first_latest_healthy_side_and_deficit():
    series = worked_example(rom={1: (24.0, 45.0), 8: (27.0, 46.0), 43: (28.0, 45.0)})
    assert rom_summary(series) == (
        "Plantar flexion of the affected side went from 24.0° on day 1 to 28.0° on day 43, over 3 "
        "measurements. The healthy side measured 45.0° on day 43. On day 43 the affected side was "
        "17.3° short of the healthy side's 45.3° (shaded). The normal range is about 35–50° "
        "(band)."
    )
    assert rom_summary(series_of(as_of_day=2)).startswith("No plantar flexion measured yet.")


def test_adherence_summary_names_every_week_and_the_gaps():
    assert adherence_summary(adherence_course()) == (
        "Share of the prescribed exercise sets done, by trial week: week 1 100%, week 2 67%, "
        "week 3 nothing prescribed, week 4 100%, week 5 no entries, week 6 50% so far. "
        "2 of 4 weeks with exercises reached the 80% line."
    )
    assert adherence_summary(series_of(as_of_day=2)).startswith("No exercise entries yet.")


def test_an_intervention_beyond_the_charts_is_noted_in_the_clinics_words():
    """A note names the kind as the clinic does and writes the dates in full, the year 1 too."""
    series = worked_example(
        interventions=[rules.InterventionData("nsaid", dt.date(1, 1, 1), dt.date(9999, 12, 31))]
    )
    (note,) = [n for n in series.notes if "recorded from" in n]
    assert note.startswith("NSAID recorded from 0001-01-01 to 9999-12-31 is drawn from ")
