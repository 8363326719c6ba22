"""The episode page does not wait for plotly.js: its text comes first, the charts when it arrives.

plotly.js is the bulk of the page's first visit (docs/performance.md, "The episode page on first
visit"). Here Chromium holds the plotly.js request back: the findings, the chart summaries and
each chart's fallback text are on the screen and the page is usable; released, the charts draw.
Refused, the page stays as it was, described by its summaries. Functional, never timed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import plotly.offline
import pytest
from django.conf import settings
from playwright.sync_api import expect

from rehab.demo import DEMO_THERAPIST, seed_demo
from rehab.models import Episode

pytestmark = pytest.mark.browser

CHARTS = ("chart-pain", "chart-faam", "chart-psfs", "chart-rom", "chart-adherence")
PLOTLY_JS = re.compile(r"/static/vendor/plotly-pais(\.[0-9a-f]+)?\.min\.js$")
MANIFEST = Path(settings.BASE_DIR) / "tools" / "plotly" / "bundle.json"


def sign_in_as_the_therapist(page: Any) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email address").fill(DEMO_THERAPIST.email)
    page.get_by_label("Password").fill(DEMO_THERAPIST.password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def test_the_text_shows_while_plotly_js_is_held_back_and_the_charts_draw_after(
    laptop, live_server, transactional_db
):
    seed_demo()
    # Ben Okafor, six weeks in without important improvement: a referral finding, five charts.
    episode = Episode.objects.get(patient__user__email="patient2@demo.test")
    errors: list[str] = []
    laptop.on("pageerror", lambda error: errors.append(str(error)))
    sign_in_as_the_therapist(laptop)

    held: list[Any] = []
    laptop.route(PLOTLY_JS, lambda route: held.append(route))
    with laptop.expect_request(PLOTLY_JS):
        laptop.goto(f"/episodes/{episode.pk}/", wait_until="domcontentloaded")

    # The page is there, without plotly.js: DOMContentLoaded has fired, the text is shown.
    assert laptop.evaluate("document.readyState") != "loading"
    assert laptop.evaluate("typeof window.Plotly") == "undefined"
    expect(laptop.get_by_role("heading", level=1)).to_contain_text("Okafor")
    findings = laptop.locator("ul.findings .finding")
    expect(findings.first).to_be_visible()
    expect(laptop.locator("ul.findings")).to_contain_text("Consider referral")
    for chart_id in CHARTS:
        expect(laptop.locator(f"#{chart_id}-summary")).to_be_visible()
        expect(laptop.locator(f"#{chart_id} .chart-fallback")).to_be_visible()
        expect(laptop.locator(f"#{chart_id}")).not_to_have_attribute("data-chart-drawn", "1")
    assert laptop.locator("html").get_attribute("data-charts-drawn") is None
    # ... and usable: the daily entries below the charts can be reached and read.
    entries = laptop.get_by_role("heading", name="Daily entries")
    entries.scroll_into_view_if_needed()
    expect(entries).to_be_in_viewport()
    expect(laptop.get_by_role("link", name="Referral report")).to_be_enabled()

    # plotly.js arrives: every chart draws, and the page says so.
    assert len(held) == 1, "charts.js asked for plotly.js once"
    held[0].continue_()
    expect(laptop.locator("html")).to_have_attribute("data-charts-drawn", "all")
    for chart_id in CHARTS:
        container = laptop.locator(f"#{chart_id}")
        expect(container).to_have_attribute("data-chart-drawn", "1")
        expect(container.locator(".main-svg").first).to_be_visible()
        expect(container.locator(".chart-fallback")).to_have_count(0)

    # The plotly.js that drew them is the version the Python package writes figures for, with
    # the trace types of tools/plotly/bundle.json and no other.
    assert laptop.evaluate("Plotly.version") == plotly.offline.get_plotlyjs_version()
    registered = laptop.evaluate("Object.keys(Plotly.PlotSchema.get().traces).sort()")
    assert registered == json.loads(MANIFEST.read_text())["traces"] == ["bar", "scatter"]
    assert errors == []


def test_without_plotly_js_the_page_keeps_its_summaries(laptop, live_server, transactional_db):
    seed_demo()
    episode = Episode.objects.get(patient__user__email="patient2@demo.test")
    sign_in_as_the_therapist(laptop)
    laptop.route(PLOTLY_JS, lambda route: route.abort())
    laptop.goto(f"/episodes/{episode.pk}/")

    expect(laptop.locator("html")).to_have_attribute("data-charts-drawn", "none")
    for chart_id in CHARTS:
        expect(laptop.locator(f"#{chart_id} .chart-fallback")).to_be_visible()
        expect(laptop.locator(f"#{chart_id}-summary")).to_be_visible()
