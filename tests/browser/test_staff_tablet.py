"""Issue 14, point 8: every staff page usable from a 768 px tablet, and at 1366 px.

In Chromium at 768 × 1024 and 1366 × 900: no page scrolls sideways, no table hides a column in
a scroll box, the caseload shows Adherence, Last entry and Therapist for every patient (as cards
below 1280 px, as columns above), and axe-core finds no violation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from rehab.evaluation import evaluate_episode
from tests.browser.axe import axe_violations, require_axe
from tests.conftest import PASSWORD
from tests.courses import stalled_trial

pytestmark = pytest.mark.browser

WIDTHS = {768: 1024, 1366: 900}


@pytest.fixture
def open_screen(chromium: tuple[Any, Any], live_server: Any) -> Iterator[Callable[..., Any]]:
    """``open_screen(width)``: a desktop-browser page (no touch) at that width; the CSP is
    bypassed only so that the test can inject axe-core."""
    _, browser = chromium
    contexts: list[Any] = []

    def make(width: int) -> Any:
        context = browser.new_context(
            viewport={"width": width, "height": WIDTHS[width]},
            base_url=live_server.url,
            locale="en-GB",
            bypass_csp=True,
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def _sign_in(page: Any, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


# Anything wider than its box: the page itself, or a table scrolled inside its frame.
_OVERFLOW = """() => {
  const out = [];
  const root = document.documentElement;
  if (root.scrollWidth > root.clientWidth) out.push(`page ${root.scrollWidth}>${root.clientWidth}`);
  for (const wrap of document.querySelectorAll('.table-wrap')) {
    if (wrap.scrollWidth > wrap.clientWidth + 1) {
      const name = wrap.getAttribute('aria-labelledby');
      out.push(`table ${name} ${wrap.scrollWidth}>${wrap.clientWidth}`);
    }
  }
  return out;
}"""


@pytest.fixture
def clinic(cast: Any) -> Any:
    """A caseload with figures, alerts and a therapist on every row."""
    stalled_trial(cast.episode_a, days=58)
    stalled_trial(cast.episode_b, days=30)
    for episode in (cast.episode_a, cast.episode_b):
        evaluate_episode(episode_id=episode.pk, as_of=episode.patient.local_today())
    return cast


def _staff_pages(cast: Any) -> list[str]:
    episode, patient = cast.episode_a, cast.patient_a
    return [
        "/",
        "/patients/",
        f"/patients/{patient.pk}/",
        f"/episodes/{episode.pk}/",
        f"/episodes/{episode.pk}/report/",
        f"/episodes/{episode.pk}/prescriptions/new/",
        f"/episodes/{episode.pk}/interventions/new/",
        "/alerts/",
        "/patients/new/",
        "/settings/thresholds/",
        "/settings/webhooks/",
        "/settings/security/",
        "/settings/audit/",
        "/reports/outcomes/",
        "/accounts/security/",
    ]


@pytest.mark.parametrize("width", sorted(WIDTHS))
def test_every_staff_page_fits_and_passes_axe(
    open_screen, transactional_db, clinic, artifacts, width
):
    require_axe()
    page = open_screen(width)
    _sign_in(page, clinic.admin.email)
    problems: dict[str, Any] = {}
    for path in _staff_pages(clinic):
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        page.wait_for_load_state("load")
        overflow = page.evaluate(_OVERFLOW)
        violations = axe_violations(page)
        if overflow or violations:
            problems[path] = {"overflow": overflow, "axe": violations}
            name = path.strip("/").replace("/", "_") or "caseload"
            page.screenshot(path=str(artifacts / f"staff-{width}-{name}.png"), full_page=True)
    assert problems == {}


@pytest.mark.parametrize("width", sorted(WIDTHS))
def test_the_caseload_shows_every_field_of_every_row(
    open_screen, transactional_db, clinic, artifacts, width
):
    page = open_screen(width)
    _sign_in(page, clinic.admin.email)
    page.goto("/")
    rows = page.locator("table.caseload tbody tr")
    expect(rows).to_have_count(2)
    therapist = clinic.therapist.get_full_name()
    for n in range(2):
        row = rows.nth(n)
        for label in ("Adherence", "Last entry", "Therapist", "Alerts", "Trial"):
            cell = row.locator(f"td[data-label='{label}']")
            expect(cell).to_be_visible()
            box = cell.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, (
                label,
                box,
            )
        expect(row.locator("td[data-label='Therapist']")).to_contain_text(therapist)
        expect(row.locator("td[data-label='Adherence']")).to_contain_text("%")
    if width < 1280:
        # Cards: each figure carries its label on screen, since the column headings are hidden.
        label = page.evaluate(
            "() => getComputedStyle(document.querySelector("
            "\"table.caseload td[data-label='Adherence']\"), '::before').content"
        )
        assert label == '"Adherence"'
    else:
        expect(page.get_by_role("columnheader", name="Adherence")).to_be_visible()
        expect(page.get_by_role("columnheader", name="Therapist")).to_be_visible()
    page.screenshot(path=str(artifacts / f"caseload-{width}.png"), full_page=True)
