"""Issue 12 in a phone-sized Chromium: sets per exercise with the stepper, pain and Save above
the fold at 412 × 915, the error summary taking the focus, a form opened before midnight and
sent after it, a header on one line, and axe-core at 0 violations on every patient page."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import time_machine
from playwright.sync_api import expect

from rehab.models import DailyEntry, ExerciseLog
from tests.browser.axe import axe_violations, require_axe
from tests.conftest import PASSWORD
from tests.factories import DailyEntryFactory, PrescriptionFactory

pytestmark = pytest.mark.browser


@pytest.fixture
def open_phone(chromium: tuple[Any, Any], live_server: Any) -> Iterator[Callable[..., Any]]:
    """``open_phone(width, height, *, axe=False)``: a signed-out page in a Pixel 7 profile at
    that size. ``axe`` lets the test inject axe-core (a script our CSP would refuse)."""
    playwright, browser = chromium
    contexts: list[Any] = []

    def make(width: int = 412, height: int = 915, *, axe: bool = False) -> Any:
        profile = {
            **playwright.devices["Pixel 7"],
            "viewport": {"width": width, "height": height},
            "screen": {"width": width, "height": height},
        }
        context = browser.new_context(
            **profile, base_url=live_server.url, locale="en-GB", bypass_csp=axe
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def sign_in(page: Any, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


@pytest.fixture
def exercises(cast: Any) -> dict[str, Any]:
    return {
        "heel": PrescriptionFactory(
            episode=cast.episode_a, name="Double-leg heel raises", sets=3, reps="15"
        ),
        "calf": PrescriptionFactory(
            episode=cast.episode_a, name="Calf stretch (soleus)", sets=2, reps="30 s hold"
        ),
    }


def _within_viewport(page: Any, locator: Any) -> None:
    box = locator.bounding_box()
    view = page.viewport_size
    assert box is not None
    assert box["y"] >= 0 and box["y"] + box["height"] <= view["height"], (box, view)
    assert box["x"] >= 0 and box["x"] + box["width"] <= view["width"], (box, view)


def test_a_partial_count_with_the_stepper_is_saved_as_that_count(
    open_phone, transactional_db, cast, exercises
):
    heel, calf = exercises["heel"], exercises["calf"]
    page = open_phone()
    sign_in(page, cast.patient_a.user.email)
    page.locator("input[name=pain_activity][value='3']").tap()
    more = page.get_by_role("button", name="One set more: Double-leg heel raises")
    more.tap()
    more.tap()
    heel_sets = page.get_by_label(re.compile(r"Sets done of 3, Double-leg heel raises"))
    expect(heel_sets).to_have_value("2")
    all_heel = page.get_by_role("checkbox", name="All done for Double-leg heel raises")
    expect(all_heel).not_to_be_checked()
    # A third tap reaches the prescription: the tick follows; a fourth stays at the maximum.
    more.tap()
    more.tap()
    expect(heel_sets).to_have_value("3")
    expect(all_heel).to_be_checked()
    page.get_by_role("button", name="One set fewer: Double-leg heel raises").tap()
    expect(heel_sets).to_have_value("2")
    expect(all_heel).not_to_be_checked()
    # One tap for "all done" on the other exercise fills in its count.
    page.get_by_role("checkbox", name="All done for Calf stretch (soleus)").tap()
    expect(page.get_by_label(re.compile(r"Sets done of 2, Calf stretch"))).to_have_value("2")

    page.get_by_role("button", name="Save entry").tap()
    expect(page.get_by_text("Saved your entry for today")).to_be_visible()
    entry = DailyEntry.objects.get(episode=cast.episode_a, date=cast.patient_a.local_today())
    logs = {
        log.prescription_id: log.sets_completed for log in ExerciseLog.objects.filter(entry=entry)
    }
    assert logs == {heel.pk: 2, calf.pk: 2}
    # Shown again as partial: the number, no tick, and in words.
    expect(heel_sets).to_have_value("2")
    expect(all_heel).not_to_be_checked()
    expect(page.get_by_text("You logged 2 of 3 sets.")).to_be_visible()


@pytest.mark.parametrize("logged", [False, True])
def test_pain_and_save_are_above_the_fold_on_a_412_by_915_phone(
    open_phone, transactional_db, cast, exercises, logged
):
    if logged:
        DailyEntryFactory(episode=cast.episode_a, date=cast.patient_a.local_today())
    page = open_phone(412, 915)
    sign_in(page, cast.patient_a.user.email)
    expect(page.get_by_role("heading", level=1)).to_have_text("Today")
    assert page.evaluate("window.scrollY") == 0
    _within_viewport(page, page.locator("fieldset.scale").first)
    save = page.get_by_role("button", name=re.compile(r"^(Save|Update) entry$"))
    _within_viewport(page, save)
    # The Save bar stays in view while the patient scrolls through the rest of the form.
    page.get_by_label("Note (optional)").scroll_into_view_if_needed()
    _within_viewport(page, save)
    assert page.evaluate("document.documentElement.scrollWidth") <= 412


@pytest.mark.parametrize("width", [360, 412])
def test_the_patient_header_stays_on_one_line(open_phone, transactional_db, cast, width):
    page = open_phone(width, 800)
    sign_in(page, cast.patient_a.user.email)
    header = page.locator(".site-header").bounding_box()
    first = page.locator(".site-nav a").first.bounding_box()
    last = page.locator(".site-nav a").last.bounding_box()
    assert header is not None and first is not None and last is not None
    assert header["height"] <= 56, header
    assert abs(first["y"] - last["y"]) < 1, (first, last)
    assert last["x"] + last["width"] <= width
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_an_error_response_focuses_the_summary_whose_links_reach_each_field(
    open_phone, transactional_db, cast
):
    page = open_phone()
    sign_in(page, cast.patient_a.user.email)
    page.locator("input[name=pain_activity][value='5']").tap()
    page.get_by_label(re.compile(r"^Sore ankle")).fill("a lot")
    page.get_by_role("button", name="Save entry").tap()
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Not saved yet")
    _within_viewport(page, summary)
    link = summary.get_by_role("link", name=re.compile("Sore ankle"))
    expect(link).to_have_attribute("href", "#id_pf_rom_affected")
    link.tap()
    expect(page.locator("#id_pf_rom_affected")).to_be_focused()
    assert not DailyEntry.objects.exists()


def test_a_form_opened_before_midnight_and_sent_after_it_is_the_first_days(
    open_phone, transactional_db, cast
):
    zone = zoneinfo.ZoneInfo(cast.patient_a.timezone)
    day = cast.patient_a.local_today()
    page = open_phone()
    sign_in(page, cast.patient_a.user.email)
    with time_machine.travel(dt.datetime.combine(day, dt.time(23, 58), tzinfo=zone)) as clock:
        page.goto("/")
        expect(page.locator("#entry-form")).to_have_attribute("data-entry-date", day.isoformat())
        page.locator("input[name=pain_activity][value='4']").tap()
        clock.move_to(dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0, 1), tzinfo=zone))
        page.get_by_role("button", name="Save entry").tap()
        expect(page.get_by_text(re.compile(r"Saved your entry for \w+day"))).to_be_visible()
    assert list(DailyEntry.objects.values_list("date", flat=True)) == [day]


# --- axe-core on every patient page -------------------------------------------------------------


def test_axe_finds_no_violation_on_any_patient_page(
    open_phone, transactional_db, cast, exercises, artifacts
):
    require_axe()
    today = cast.patient_a.local_today()
    episode = cast.episode_a
    for back in (1, 4, 6, 12):
        DailyEntryFactory(episode=episode, date=today - dt.timedelta(days=back), pf_rom_affected=30)
    DailyEntryFactory(episode=episode, date=today - dt.timedelta(days=2))
    ExerciseLog.objects.create(
        entry=DailyEntry.objects.get(episode=episode, date=today - dt.timedelta(days=2)),
        prescription=exercises["heel"],
        sets_completed=2,
    )
    page = open_phone(412, 915, axe=True)
    sign_in(page, cast.patient_a.user.email)

    def with_errors() -> None:
        page.goto("/")
        page.locator("input[name=pain_activity][value='5']").tap()
        page.get_by_label(re.compile(r"^Sore ankle")).fill("a lot")
        page.get_by_role("button", name="Save entry").tap()
        expect(page.locator("#error-summary")).to_be_visible()

    pages: dict[str, Callable[[], Any]] = {
        "today": lambda: page.goto("/"),
        "today with errors": with_errors,
        "a past day, partly done": lambda: page.goto(f"/log/{today - dt.timedelta(days=2)}/"),
        "progress": lambda: page.goto("/progress/"),
        "history": lambda: page.goto(f"/episodes/{episode.pk}/"),
        "account": lambda: page.goto("/accounts/security/"),
        "reminders": lambda: page.goto("/account/reminders/"),
        "what the phone shows offline": lambda: page.goto("/offline/"),
    }
    found = {}
    for name, visit in pages.items():
        visit()
        # The "How to measure" figure and steps are checked open as well.
        if page.locator("details.help").count():
            page.locator("details.help summary", has_text="How to measure").tap()
        found[name] = axe_violations(page)
    assert found == {name: [] for name in pages}
