"""The server-rendered SVG pictures: coordinates, empty data, accessible names, no inline style."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET

from django.template import Context, Template

from rehab import rules
from reports.series import course_series
from reports.sparkline import pain_sparkline, pain_trend_chart, sparkline

SVG = "{http://www.w3.org/2000/svg}"


def _parse(markup: str) -> ET.Element:
    return ET.fromstring(markup)  # noqa: S314 - our own markup, parsed to check it is well formed


def _points(svg: ET.Element) -> list[tuple[float, float]]:
    line = svg.find(f"{SVG}polyline")
    assert line is not None
    return [tuple(map(float, p.split(","))) for p in line.attrib["points"].split()]


def _no_style(markup: str) -> None:
    assert "style=" not in markup
    assert "<script" not in markup


def test_points_are_scaled_into_the_box_on_the_fixed_scale():
    svg = _parse(sparkline([0, 5, 10], label="x", width=100, height=20, low=0, high=10, pad=0))
    assert _points(svg) == [(0, 20), (50, 10), (100, 0)]
    assert svg.attrib["viewBox"] == "0 0 100 20"
    # The latest value is marked.
    dot = svg.find(f"{SVG}circle")
    assert dot is not None and (float(dot.attrib["cx"]), float(dot.attrib["cy"])) == (100, 0)


def test_padding_keeps_the_line_inside_the_frame():
    svg = _parse(sparkline([2, 8], label="x", width=112, height=28, low=0, high=10, pad=3))
    (x0, y0), (x1, y1) = _points(svg)
    assert (x0, x1) == (3, 109)
    # 2/10 and 8/10 of the 22 px between the paddings, up from the bottom (y = 25).
    assert (y0, y1) == (20.6, 7.4)


def test_without_a_fixed_scale_the_data_spans_the_height():
    svg = _parse(sparkline([4, 6, 5], label="x", width=40, height=10, pad=0))
    assert [y for _, y in _points(svg)] == [10, 0, 5]


def test_gaps_keep_their_place_in_time():
    svg = _parse(
        sparkline([3, None, None, 3], label="x", width=30, height=10, pad=0, low=0, high=10)
    )
    assert [x for x, _ in _points(svg)] == [0, 30]


def test_a_flat_series_sits_in_the_middle():
    svg = _parse(sparkline([5, 5, 5], label="x", width=20, height=10, pad=0))
    assert {y for _, y in _points(svg)} == {5}


def test_an_empty_series_is_an_empty_frame_with_its_label():
    for values in ([], [None, None]):
        markup = sparkline(values, label="Nothing logged", width=50, height=10)
        svg = _parse(markup)
        assert svg.find(f"{SVG}polyline") is None and svg.find(f"{SVG}circle") is None
        assert svg.attrib["aria-label"] == "Nothing logged"
        assert svg.find(f"{SVG}title").text == "Nothing logged"
        _no_style(markup)


def test_a_single_value_is_a_dot():
    svg = _parse(sparkline([7], label="x", width=50, height=10, low=0, high=10, pad=0))
    assert svg.find(f"{SVG}polyline") is None
    dot = svg.find(f"{SVG}circle")
    assert dot is not None and (dot.attrib["cx"], dot.attrib["cy"]) == ("25", "3")


def test_the_label_is_escaped_and_the_markup_renders_unescaped_in_a_template():
    markup = sparkline([1, 2], label='Pain "high" <b>&', width=20, height=10)
    svg = _parse(markup)
    assert svg.attrib["aria-label"] == 'Pain "high" <b>&'
    assert "<b>" not in markup
    html = Template("{{ svg }}").render(Context({"svg": markup}))
    assert html == str(markup)


def test_pain_sparkline_places_each_day_in_its_slot_of_the_last_28_days():
    as_of = dt.date(2026, 3, 28)
    pain = [
        (dt.date(2026, 2, 20), 9),  # before the window: left out
        (dt.date(2026, 3, 1), 8),  # the first day of the window
        (dt.date(2026, 3, 15), 5),
        (as_of, 2),
    ]
    markup = pain_sparkline(pain, as_of=as_of)
    svg = _parse(markup)
    points = _points(svg)
    assert len(points) == 3
    # 104 x 32 with 3 px of padding: days spread over x 3..101, scores 0..10 over y 29..3.
    assert svg.attrib["viewBox"] == "0 0 104 32"
    assert points[0] == (3, 8.2)  # day 1 of the window, score 8: 29 - 0.8 * 26
    assert points[1] == (round(3 + 14 * 98 / 27, 1), 16)  # day 15, score 5
    assert points[2] == (101, 23.8)  # as_of, score 2: 29 - 0.2 * 26
    label = svg.attrib["aria-label"]
    assert label == "Activity pain, last 28 days: 3 days logged, from 8 to 2 (range 2–8)."
    assert svg.attrib["role"] == "img"
    _no_style(markup)


def test_pain_sparkline_without_entries_says_so():
    svg = _parse(pain_sparkline([], as_of=dt.date(2026, 3, 28)))
    assert svg.attrib["aria-label"] == "Activity pain, last 28 days: nothing logged."


def test_the_phone_chart_draws_scores_the_weekly_average_and_the_start_level():
    start = dt.date(2026, 1, 5)
    scores = [7, 7, 8, 7, 7, 6, 7, 6, 6, 5, 5, 5, 4, 4]
    data = rules.EpisodeData(
        start_date=start,
        entries=[
            rules.EntryData(date=start + dt.timedelta(days=n), pain_activity=s)
            for n, s in enumerate(scores)
        ],
    )
    as_of = start + dt.timedelta(days=13)
    series = course_series(data, rules.Thresholds(), as_of, baseline=7.0)
    markup = pain_trend_chart(series, title="Your pain", summary="From 7 to 4.")
    _no_style(markup)
    svg = _parse(markup)
    assert svg.attrib["role"] == "img"
    assert svg.attrib["aria-labelledby"] == "pain-chart-title pain-chart-desc"
    assert svg.find(f"{SVG}title").text == "Your pain"
    assert svg.find(f"{SVG}desc").text == "From 7 to 4."
    dots = [c for c in svg.findall(f"{SVG}circle")]
    assert len(dots) == len(scores)
    trend = svg.find(f"{SVG}polyline[@class='pain-chart-trend']")
    assert trend is not None
    # The 7-day average starts on day 4 (4 entries), so 11 of the 14 days carry it.
    assert len(trend.attrib["points"].split()) == 11
    baseline = svg.find(f"{SVG}line[@class='pain-chart-baseline']")
    assert baseline is not None
    # Score 7 on a 0-10 scale drawn between y=160 (0) and y=12 (10).
    assert float(baseline.attrib["y1"]) == round(160 - 0.7 * 148, 1)
    texts = [t.text for t in svg.findall(f"{SVG}text")]
    assert "Day 1" in texts and "Today (day 14)" in texts
    assert re.search(r"<text[^>]*>10</text>", markup)
