"""A therapist records a referral's appointment and outcome on the episode page on a desktop
(1366 px), then finds the patient in the referral follow-up list on a tablet (768 px); axe-core
finds no violation on either page, and neither page scrolls sideways (docs/referrals.md)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from rehab.referrals import referral_follow_up_update
from rehab.services import episode_record_referral
from tests.browser.axe import axe_violations, require_axe
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def open_screen(chromium: tuple[Any, Any], live_server: Any) -> Iterator[Callable[..., Any]]:
    """``open_screen(width, height)``: a page on a screen of that size (touch for a tablet),
    with the CSP bypassed so that axe-core can be injected."""
    _, browser = chromium
    contexts: list[Any] = []

    def make(width: int, height: int, *, touch: bool) -> Any:
        context = browser.new_context(
            viewport={"width": width, "height": height},
            screen={"width": width, "height": height},
            has_touch=touch,
            is_mobile=touch,
            base_url=live_server.url,
            locale="en-GB",
            bypass_csp=True,
        )
        context.set_default_timeout(15_000)
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


def _no_sideways_scroll(page: Any, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_therapist_records_the_outcome_at_1366_and_finds_the_patient_at_768(
    open_screen, transactional_db, cast, artifacts
):
    require_axe()
    episode = cast.episode_a
    today = episode.patient.local_today()
    type(episode).objects.filter(pk=episode.pk).update(start_date=today - dt.timedelta(days=60))
    episode.refresh_from_db()
    episode_record_referral(
        actor=cast.therapist,
        episode=episode,
        date=today - dt.timedelta(days=16),
        referred_to="Mr Okafor, City Orthopaedics",
    )
    # Another referral of the therapist's, whose appointment is booked: not due.
    other = cast.episode_b
    type(other).objects.filter(pk=other.pk).update(start_date=today - dt.timedelta(days=50))
    other.refresh_from_db()
    episode_record_referral(actor=cast.therapist, episode=other, date=today, referred_to="")
    referral_follow_up_update(
        actor=cast.therapist, episode=other, appointment_date=today + dt.timedelta(days=9)
    )
    patient = str(cast.patient_a)

    # --- Desktop, 1366 px: the episode page's panel ---------------------------------------------
    desk = open_screen(1366, 900, touch=False)
    _sign_in(desk, cast.therapist.email)
    desk.goto(f"/episodes/{episode.pk}/")
    panel = desk.locator("section.referral-panel")
    expect(panel.get_by_role("heading", name="Referral follow-up")).to_be_visible()
    expect(panel.get_by_text("Follow-up due")).to_be_visible()
    assert axe_violations(desk) == []

    appointment = today - dt.timedelta(days=3)
    surgery = today + dt.timedelta(days=21)
    panel.get_by_label("Appointment date").fill(appointment.isoformat())
    panel.get_by_label("Outcome", exact=True).select_option("surgery_scheduled")
    panel.get_by_label("Outcome date").fill(today.isoformat())
    panel.get_by_label("Surgery date").fill(surgery.isoformat())
    panel.get_by_label("Note").fill("Arthroscopic excision of the os trigonum.")
    panel.get_by_role("button", name="Save follow-up").click()

    expect(desk.get_by_text("Referral follow-up saved.")).to_be_visible()
    panel = desk.locator("section.referral-panel")
    expect(panel.get_by_text("Surgery scheduled", exact=False).first).to_be_visible()
    expect(panel.get_by_text(re.compile(r"surgery \d+ \w+ \d{4}"))).to_be_visible()
    expect(panel.get_by_text("Follow-up due")).to_have_count(0)
    expect(panel.get_by_text("History of the referral (1 change)")).to_be_visible()
    _no_sideways_scroll(desk, 1366)
    assert axe_violations(desk) == []
    desk.screenshot(path=str(artifacts / "referral-panel-1366.png"), full_page=True)

    # --- Tablet, 768 px: the caseload's "Referred" tab, the list --------------------------------
    tablet = open_screen(768, 1024, touch=True)
    _sign_in(tablet, cast.therapist.email)
    tablet.get_by_role("navigation", name="Caseload views").get_by_role(
        "link", name="Referred"
    ).tap()
    expect(tablet.get_by_role("heading", level=1)).to_have_text("Referred patients")
    row = tablet.get_by_role("row").filter(has_text=patient)
    expect(row).to_be_visible()
    expect(row).to_contain_text("Mr Okafor, City Orthopaedics")
    expect(row).to_contain_text("16 days ago")
    expect(row).to_contain_text("Surgery scheduled")
    _no_sideways_scroll(tablet, 768)
    # Every column is on the screen, none hidden off the table's right edge.
    table = tablet.locator("table.referrals").bounding_box()
    assert table is not None and table["x"] + table["width"] <= 768
    assert axe_violations(tablet) == []
    tablet.screenshot(path=str(artifacts / "referrals-768.png"), full_page=True)

    # The outcome is recorded: the patient is under "Outcome recorded", not "Follow-up due".
    tablet.get_by_role("link", name=re.compile(r"^Outcome recorded")).tap()
    expect(tablet.get_by_role("row").filter(has_text=patient)).to_be_visible()
    tablet.get_by_role("link", name=re.compile(r"^Follow-up due")).tap()
    expect(tablet.get_by_text("No referral matches this filter.")).to_be_visible()
    assert axe_violations(tablet) == []
    tablet.screenshot(path=str(artifacts / "referrals-768-due.png"), full_page=True)
