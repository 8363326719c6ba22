"""The exercise library in Chromium: a patient opens "How to do it" on a phone and sees the
drawing and the steps; the therapist's programme page at tablet and desktop widths; axe-core at
0 violations on both."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from rehab.catalogue import PAIS_EXERCISES
from rehab.models import Exercise
from tests.browser.axe import axe_violations, require_axe
from tests.conftest import PASSWORD
from tests.factories import PrescriptionFactory

pytestmark = pytest.mark.browser


def _page(chromium: tuple[Any, Any], live_server: Any, width: int, height: int) -> Any:
    _playwright, browser = chromium
    context = browser.new_context(
        viewport={"width": width, "height": height},
        base_url=live_server.url,
        locale="en-GB",
        bypass_csp=True,  # lets the test inject axe-core
    )
    context.set_default_timeout(10_000)
    return context.new_page()


def _sign_in(page: Any, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


@pytest.fixture
def prescribed(cast: Any) -> list[Any]:
    # The live server's database is flushed between tests, the catalogue's migration with it.
    names = ["Calf stretch (soleus)", "Resisted eversion with band", "Towel toe curls"]
    rows = []
    for item in PAIS_EXERCISES:
        if item["name"] in names:
            exercise, _ = Exercise.objects.get_or_create(
                clinic=None, name=item["name"], defaults=dict(item)
            )
            rows.append(
                PrescriptionFactory(
                    episode=cast.episode_a,
                    exercise=exercise,
                    name=exercise.name,
                    reps=exercise.default_reps,
                )
            )
    return rows


def test_the_patient_opens_how_to_do_it_on_a_phone(chromium, live_server, cast, prescribed):
    require_axe()
    page = _page(chromium, live_server, 412, 915)
    _sign_in(page, cast.patient_a.user.email)
    page.goto("/")
    how = page.locator("details.exercise-how").nth(1)
    picture = how.locator("img.exercise-picture")
    expect(picture).to_be_hidden()
    how.locator("summary").click()
    expect(picture).to_be_visible()
    expect(picture).to_have_attribute("alt", "How to do it: Resisted eversion with band")
    assert picture.evaluate("img => img.complete && img.naturalWidth > 0")
    box = picture.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 412
    expect(how).to_contain_text("turn the sole outwards against the band")
    expect(how).to_contain_text("Stop if")
    assert page.evaluate("document.documentElement.scrollWidth") <= 412
    assert axe_violations(page) == []
    page.context.close()


@pytest.mark.parametrize("width", [768, 1366])
def test_the_programme_page_at_tablet_and_desktop(chromium, live_server, cast, prescribed, width):
    require_axe()
    page = _page(chromium, live_server, width, 900)
    _sign_in(page, cast.therapist.email)
    page.goto(f"/episodes/{cast.episode_a.pk}/programme/")
    expect(page.locator(".programme-item")).to_have_count(3)
    for picture in page.locator("img.exercise-picture").all():
        assert picture.evaluate("img => img.complete && img.naturalWidth > 0")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert axe_violations(page) == []
    page.context.close()
