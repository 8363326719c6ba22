"""A therapist on a clinic tablet opens the caseload, then an episode, and its charts draw.

The demo installation (rehab.demo) gives the patients; Chromium runs with a 1024 × 768 touch
screen and every request is watched, so a chart that reached for a CDN would fail the test.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from rehab.demo import DEMO_THERAPIST, seed_demo
from rehab.models import Episode

pytestmark = pytest.mark.browser

# Pain, function (FAAM and PSFS, issue 15), plantar flexion, adherence.
CHARTS = ("chart-pain", "chart-faam", "chart-psfs", "chart-rom", "chart-adherence")


@pytest.fixture
def tablet(chromium: tuple[Any, Any], live_server: Any) -> Iterator[Any]:
    """A page on a landscape tablet: 1024 × 768 CSS pixels, touch, drawn at 2× like a tablet."""
    _, browser = chromium
    context = browser.new_context(
        viewport={"width": 1024, "height": 768},
        screen={"width": 1024, "height": 768},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        base_url=live_server.url,
        locale="en-GB",
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


def assert_charts_fit(page: Any, width: int) -> None:
    """No sideways scrolling; each plot inside its card and clear of its summary below."""
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    for chart_id in CHARTS:
        card = page.locator(f"#{chart_id}").bounding_box()
        plot = page.locator(f"#{chart_id} .main-svg").first.bounding_box()
        legend = page.locator(f"#{chart_id} .legend").first.bounding_box()
        summary = page.locator(f"#{chart_id}-summary").bounding_box()
        assert card and plot and legend and summary
        assert plot["width"] <= card["width"] + 1
        assert plot["height"] <= card["height"] + 1
        assert legend["y"] + legend["height"] <= summary["y"], f"{chart_id}: legend over summary"


def test_therapist_sees_the_three_charts_of_an_episode_on_a_tablet(
    tablet, live_server, transactional_db, artifacts
):
    seed_demo()
    elsewhere: list[str] = []
    tablet.on(
        "request",
        lambda request: (
            None if request.url.startswith(live_server.url) else elsewhere.append(request.url)
        ),
    )
    scripts: list[str] = []
    tablet.on(
        "response",
        lambda response: scripts.append(response.url) if response.url.endswith(".js") else None,
    )
    errors: list[str] = []
    tablet.on("pageerror", lambda error: errors.append(str(error)))

    tablet.goto("/")
    tablet.get_by_label("Email address").fill(DEMO_THERAPIST.email)
    tablet.get_by_label("Password").fill(DEMO_THERAPIST.password)
    tablet.get_by_role("button", name="Sign in").tap()
    expect(tablet.get_by_role("heading", level=1)).to_contain_text("caseload")

    # Ben Okafor is six weeks in without important improvement: the chart should show why.
    tablet.get_by_role("link", name=re.compile("Okafor")).tap()
    expect(tablet.get_by_role("heading", level=1)).to_contain_text("Okafor")

    for chart_id in CHARTS:
        container = tablet.locator(f"#{chart_id}")
        expect(container.locator(".main-svg").first).to_be_visible()
        expect(container).to_have_class(re.compile(r"\bjs-plotly-plot\b"))
        # A figure, not an image: it holds plotly.js's focusable download button, and an image
        # may not contain anything interactive (axe: nested-interactive).
        expect(container).to_have_attribute("role", "figure")
        summary_id = container.get_attribute("aria-describedby")
        expect(tablet.locator(f"#{summary_id}")).to_be_visible()

    pain = tablet.locator("#chart-pain")
    # Labels are printed on the chart, not left to hovering (nothing to hover with a finger).
    for label in ("Day 42: review", "Day 56: overdue", "Baseline 7.0", "Immobilization"):
        expect(pain.get_by_text(label, exact=True).first).to_be_visible()
    expect(pain.get_by_text("Target 4.9").first).to_be_visible()
    expect(tablet.locator("#chart-rom").get_by_text("Normal range").first).to_be_visible()
    expect(
        tablet.locator("#chart-rom").get_by_text(re.compile(r"^\d+(\.\d)?° short$"))
    ).to_be_visible()
    expect(tablet.locator("#chart-adherence").get_by_text("80%: adequate").first).to_be_visible()
    # Function: Ben's Sports went from 28.1 to 31.3, short of its MCID band (28.1 + 9 = 37.1);
    # ADL's target (57.1 + 8) is the dotted line. Both printed, not hover-only.
    faam = tablet.locator("#chart-faam")
    expect(faam.get_by_text("Sports target").first).to_be_visible()
    expect(faam.get_by_text("37.1 or above:").first).to_be_visible()
    expect(faam.get_by_text("ADL target 65.1").first).to_be_visible()
    expect(faam.locator(".legendtext", has_text="FAAM Sports")).to_be_visible()
    expect(tablet.locator("#chart-faam-summary")).to_contain_text(
        "FAAM Sports went from 28.1 on day 1 to 31.3 on day 42 (+3.1 points)"
    )
    expect(tablet.locator("#chart-psfs").get_by_text("or above:").first).to_be_visible()
    expect(tablet.locator("#chart-pain-summary")).to_contain_text(
        "from a baseline of 7.0 to a 7-day mean of"
    )

    # No Plotly logo and no link to Plotly's cloud; a drag scrolls the page, never zooms.
    assert tablet.locator(".modebar-btn--logo").count() == 0
    assert tablet.locator("a[href*='plot.ly'], a[href*='plotly.com']").count() == 0
    assert tablet.locator(".nsewdrag[data-subplot]").first.evaluate(
        "el => getComputedStyle(el).cursor"
    ) in {"default", "auto", "pointer"}

    # The charts fit the tablet and use its width.
    assert_charts_fit(tablet, 1024)
    plot = tablet.locator("#chart-pain .main-svg").first.bounding_box()
    assert plot and plot["width"] > 900

    # The page from its top to the end of the charts: what the therapist reads first.
    charts = tablet.locator(".charts").bounding_box()
    assert charts
    tablet.screenshot(
        path=artifacts / "therapist-episode-charts.png",
        full_page=True,
        clip={"x": 0, "y": 0, "width": 1024, "height": charts["y"] + charts["height"] + 16},
    )
    for chart_id in CHARTS:
        tablet.locator(f"#{chart_id}").screenshot(path=artifacts / f"therapist-{chart_id}.png")

    # Turned to portrait, the charts redraw to the narrower screen.
    tablet.set_viewport_size({"width": 768, "height": 1024})
    expect(tablet.locator("#chart-pain .main-svg").first).not_to_have_attribute(
        "width", str(round(plot["width"]))
    )
    for chart_id in CHARTS:
        plot = tablet.locator(f"#{chart_id} .main-svg").first.bounding_box()
        assert plot and 600 < plot["width"] < 768
    assert_charts_fit(tablet, 768)
    tablet.locator(".charts").screenshot(path=artifacts / "therapist-charts-portrait.png")

    # Farid Haddad had an injection on day 28 and was referred on day 44: the injection is on
    # the time axis, labelled, with its marker in the legend.
    tablet.set_viewport_size({"width": 1024, "height": 768})
    farid = Episode.objects.get(patient__user__email="patient6@demo.test")
    tablet.goto(f"/episodes/{farid.pk}/")
    pain = tablet.locator("#chart-pain")
    expect(pain.locator(".main-svg").first).to_be_visible()
    expect(pain.get_by_text("Injection", exact=True)).to_be_visible()
    expect(pain.locator(".legendtext", has_text="Corticosteroid injection")).to_be_visible()
    expect(tablet.locator("#chart-pain-summary")).to_contain_text(
        "Corticosteroid injection on day 28"
    )
    pain.screenshot(path=artifacts / "therapist-chart-pain-injection.png")

    assert any(url.endswith("/static/vendor/plotly-pais.min.js") for url in scripts), scripts
    assert any(url.endswith("/static/js/charts.js") for url in scripts), scripts
    assert errors == []
    assert elsewhere == []


def test_the_caseload_fits_a_phone_as_cards_and_the_page_never_scrolls_sideways(
    phone, live_server, transactional_db
):
    """Below 1280 px each caseload row is a card (docs/staff-pages.md): neither the page nor
    the table scrolls sideways, and every figure is on screen under its label (hidden labels in
    the table once sat outside the table's box and widened the page to 727 px on a phone)."""
    seed_demo()
    phone.goto("/accounts/login/")
    phone.get_by_label("Email address").fill(DEMO_THERAPIST.email)
    phone.get_by_label("Password").fill(DEMO_THERAPIST.password)
    phone.get_by_role("button", name="Sign in").tap()
    expect(phone.locator("table.caseload")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    wrap = phone.locator(".table-wrap").first
    assert not wrap.evaluate("box => box.scrollWidth > box.clientWidth")
    adherence = phone.locator("table.caseload td[data-label='Adherence']").first
    expect(adherence).to_be_visible()
    box = adherence.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 360
