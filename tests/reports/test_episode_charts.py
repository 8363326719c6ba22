"""The charts on the therapist's episode page, through the page itself.

What a browser gets: three chart containers described by their text summaries, each figure's
data in a JSON block, plotly.js and charts.js from our own /static/, nothing from another origin,
and a page whose query count does not grow with the episode's length.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import plotly
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reports.charts import charts_for_course
from reports.course import episode_course
from reports.plotly_js import PLOTLY_JS, plotly_js_path
from tests.courses import charted_course, charted_episode
from tests.days import WEEK_ONE
from tests.personas import signed_in_client

ROOT = Path(settings.BASE_DIR)
# Pain, function (FAAM, PSFS; issue 15), plantar flexion, adherence.
CHARTS = ("chart-pain", "chart-faam", "chart-psfs", "chart-rom", "chart-adherence")

# The same reading of "another origin" as tests/pages/test_static.py.
_EXTERNAL = re.compile(
    r"""https?://\S*|(?:src|href|action|srcset)\s*=\s*["']\s*//\S*|url\(\s*["']?\s*//\S*""",
    re.IGNORECASE,
)


class _Elements(HTMLParser):
    """Every element's attributes and its text, by id; and the scripts in document order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.by_id: dict[str, dict[str, str]] = {}
        self.text: dict[str, str] = {}
        self.scripts: list[dict[str, str]] = []
        self._open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        values["tag"] = tag
        if tag == "script":
            self.scripts.append(values)
        if "id" in values:
            self.by_id[values["id"]] = values
            self.text[values["id"]] = ""
            self._open.append(values["id"])
        else:
            self._open.append("")

    def handle_endtag(self, tag: str) -> None:
        if self._open:
            self._open.pop()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        self.handle_endtag(tag)

    def handle_data(self, data: str) -> None:
        for element_id in self._open:
            if element_id:
                self.text[element_id] += data


def parse(html: str) -> _Elements:
    page = _Elements()
    page.feed(html)
    return page


def figures_on(html: str) -> dict[str, dict[str, Any]]:
    found = {}
    for chart_id in CHARTS:
        match = re.search(
            rf'<script id="{chart_id}-data" type="application/json">(.*?)</script>', html, re.S
        )
        assert match, f"no JSON block for {chart_id}"
        found[chart_id] = json.loads(match.group(1))
    return found


def test_episode_page_has_three_described_charts_with_their_data(cast):
    episode = charted_episode(cast)
    charted_course(episode, days=50)
    response = signed_in_client(cast.therapist).get(f"/episodes/{episode.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    page = parse(html)

    for chart_id in CHARTS:
        container = page.by_id[chart_id]
        assert container["role"] == "figure"  # it holds plotly.js's download button
        assert container["aria-label"].endswith("chart")
        assert "js-chart" in container["class"].split()
        assert container["data-figure"] == f"{chart_id}-data"
        summary_id = container["aria-describedby"]
        assert page.by_id[summary_id]["tag"] == "figcaption"
        assert len(page.text[summary_id].strip()) > 60

    assert page.text["chart-pain-summary"].startswith(
        "Pain during activity fell by 1.0 points, from a baseline of 7.0 to a 7-day mean of 6.0 "
        "on day 51, over 51 days of the trial."
    )
    assert "The clinically important target is 4.9 or below" in page.text["chart-pain-summary"]
    assert "28.0° on day 50" in page.text["chart-rom-summary"]
    adherence = page.text["chart-adherence-summary"]
    assert "week 8 100% so far. 8 of 8 weeks with exercises reached the 80% line" in adherence

    data = figures_on(html)
    pain = {t["name"]: t for t in data["chart-pain"]["data"]}
    start = episode.start_date
    activity = pain["Pain during activity (daily)"]
    assert activity["x"][0] == start.isoformat()
    assert activity["y"] == [*WEEK_ONE, *([6] * 43)]
    assert pain["Baseline 7.0"]["y"] == [7.0, 7.0]
    assert pain["Corticosteroid injection"]["x"] == [(start + dt.timedelta(days=2)).isoformat()]
    shapes = {s["name"]: s for s in data["chart-pain"]["layout"]["shapes"]}
    assert [shapes["mcid_band"]["y0"], shapes["mcid_band"]["y1"]] == [0, 4.9]
    assert shapes["review_day"]["x0"] == (start + dt.timedelta(days=41)).isoformat()
    assert shapes["overdue_day"]["x0"] == (start + dt.timedelta(days=55)).isoformat()
    assert "immobilization_0" in shapes
    bars = data["chart-adherence"]["data"][0]
    assert bars["y"] == [100.0] * 8
    adherence_shapes = {s["name"]: s for s in data["chart-adherence"]["layout"]["shapes"]}
    assert adherence_shapes["adherence_min"]["y0"] == 80.0


def test_page_charts_match_the_referral_reports_charts(cast):
    # The page draws from the rows it already loaded; the referral report loads the course
    # itself (reports.course). Both must draw the same pictures.
    episode = charted_episode(cast)
    charted_course(episode, days=45)
    html = signed_in_client(cast.therapist).get(f"/episodes/{episode.pk}/").content.decode()
    today = episode.patient.local_today()
    expected = charts_for_course(episode_course(episode=episode, as_of=today))
    assert figures_on(html) == {chart.dom_id: chart.figure for chart in expected}
    page = parse(html)
    assert [page.text[c.summary_id] for c in expected] == [c.summary for c in expected]


def test_scripts_come_from_our_own_static_files_and_plotly_js_does_not_hold_up_the_page(cast):
    html = signed_in_client(cast.therapist).get(f"/episodes/{cast.episode_a.pk}/").content.decode()
    scripts = [s for s in parse(html).scripts if "src" in s]
    # charts.js, deferred, loads plotly.js itself once the page is parsed: no <script> tag of
    # plotly.js's own that DOMContentLoaded (and the page's text) would wait for.
    assert [s["src"] for s in scripts] == ["/static/js/charts.js"]
    assert "defer" in scripts[0]
    assert scripts[0]["data-plotly"] == "/static/vendor/plotly-pais.min.js"
    # Its download starts early, at low priority: after the stylesheets, before charts.js asks.
    assert (
        '<link rel="preload" href="/static/vendor/plotly-pais.min.js" as="script" '
        'fetchpriority="low">' in html
    )
    # Only data blocks besides them: no inline code.
    inline = [s for s in parse(html).scripts if "src" not in s]
    assert inline and all(s["type"] == "application/json" for s in inline)
    assert _EXTERNAL.findall(html) == []
    assert 'href="/static/css/charts.css"' in html


def test_plotly_js_is_our_partial_bundle_in_our_static_files():
    found = finders.find(PLOTLY_JS)
    assert found == str(plotly_js_path())
    head = Path(found).read_text(encoding="utf-8")[:200]
    # The version the Python package writes figures for (tests/reports/test_plotly_bundle.py
    # checks the rest: how it was built, and its trace types).
    assert f"plotly.js v{plotly.offline.get_plotlyjs_version()}" in head
    assert finders.find("js/charts.js")
    # The full bundle inside the Python package is no longer published.
    assert not finders.find("vendor/plotly.min.js")


def test_collectstatic_copies_the_bundle_under_vendor(tmp_path, settings):
    settings.STATIC_ROOT = tmp_path
    call_command("collectstatic", interactive=False, verbosity=0)
    collected = tmp_path / "vendor" / "plotly-pais.min.js"
    assert collected.read_bytes() == plotly_js_path().read_bytes()
    assert sorted(p.name for p in (tmp_path / "vendor").iterdir()) == ["plotly-pais.min.js"]


def test_charts_js_turns_off_the_logo_and_never_names_another_origin():
    source = (ROOT / "static" / "js" / "charts.js").read_text()
    assert "displaylogo: false" in source
    assert "responsive: true" in source
    assert 'modeBarButtons: [["toImage"]]' in source
    assert "plot.ly" not in source and "cdn" not in source.lower()
    assert _EXTERNAL.findall(source) == []


def test_episode_page_queries_do_not_grow_with_the_number_of_entries(cast):
    client = signed_in_client(cast.therapist)
    short, long = charted_episode(cast), charted_episode(cast)
    charted_course(short, days=5)
    charted_course(long, days=50)
    client.get(f"/episodes/{short.pk}/")  # warm up (session, content types)
    with CaptureQueriesContext(connection) as five:
        assert client.get(f"/episodes/{short.pk}/").status_code == 200
    with CaptureQueriesContext(connection) as fifty:
        response = client.get(f"/episodes/{long.pk}/")
    assert len(figures_on(response.content.decode())["chart-pain"]["data"][0]["y"]) == 50
    assert len(fifty) == len(five), [q["sql"] for q in fifty.captured_queries]


def test_an_episode_with_no_entries_shows_charts_that_say_so(cast):
    response = signed_in_client(cast.therapist).get(f"/episodes/{cast.episode_b.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    data = figures_on(html)
    for chart_id, text in (
        ("chart-pain", "No entries yet"),
        ("chart-rom", "No plantar flexion measured yet"),
        ("chart-adherence", "No entries yet"),
    ):
        notes = {a["name"]: a["text"] for a in data[chart_id]["layout"]["annotations"]}
        assert notes["empty"] == text
    assert parse(html).text["chart-pain-summary"].startswith("No pain entries yet.")


def test_a_clinic_admin_sees_the_charts_and_an_unassigned_therapist_gets_404(cast):
    admin = signed_in_client(cast.admin).get(f"/episodes/{cast.episode_a.pk}/")
    assert admin.status_code == 200
    assert 'id="chart-pain"' in admin.content.decode()
    unassigned = signed_in_client(cast.therapist_2).get(f"/episodes/{cast.episode_a.pk}/")
    assert unassigned.status_code == 404
    assert b"chart-pain" not in unassigned.content


def test_another_clinic_gets_404_and_a_patient_gets_no_staff_charts(cast):
    other = signed_in_client(cast.other_therapist).get(f"/episodes/{cast.episode_a.pk}/")
    assert other.status_code == 404
    assert b"chart-pain" not in other.content
    own = signed_in_client(cast.patient_a.user).get(f"/episodes/{cast.episode_a.pk}/")
    assert own.status_code == 200
    assert b"chart-pain-data" not in own.content
