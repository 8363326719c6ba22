"""A therapist adds a clinic exercise with a picture in Chromium at 1366 px, prescribes it, and
the patient sees its picture on the day page; the clinic exercise pages fit 1366, 768 and
412 px without sideways scrolling, and axe-core finds no violation on them
(docs/clinic-exercises.md)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from rehab.models import Exercise, Prescription
from tests.browser.axe import axe_violations, require_axe
from tests.clinic_exercises.helpers import picture_bytes
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def desk(
    chromium: tuple[Any, Any], live_server: Any, settings: Any, tmp_path: Path
) -> Iterator[Any]:
    settings.MEDIA_ROOT = tmp_path / "media"
    _, browser = chromium
    context = browser.new_context(
        viewport={"width": 1366, "height": 900},
        base_url=live_server.url,
        locale="en-GB",
        bypass_csp=True,  # axe-core is injected as an inline script
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


def _sign_in(page: Any, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_add_prescribe_and_the_patient_sees_the_picture(desk, transactional_db, cast, tmp_path):
    require_axe()
    photo = tmp_path / "towel.jpg"
    photo.write_bytes(picture_bytes("JPEG", size=(640, 400)))
    _sign_in(desk, cast.therapist.email)
    desk.get_by_role("link", name="Exercises", exact=True).click()
    desk.get_by_role("link", name="Add an exercise").click()
    desk.get_by_label("Name").fill("Towel calf stretch")
    desk.get_by_label("Kind of exercise").select_option("stretch")
    desk.get_by_label("Steps").fill("Sit with the leg straight.\nLoop a towel round the foot.")
    desk.get_by_label("How much").fill("3 × 30 s hold")
    desk.get_by_label("When to stop").fill("Pain at the back of the ankle.")
    desk.get_by_label("Picture").set_input_files(str(photo))
    desk.get_by_role("button", name="Add the exercise").click()
    expect(desk.get_by_text("Towel calf stretch added")).to_be_visible()
    exercise = Exercise.objects.get(name="Towel calf stretch")
    thumb = desk.locator("img.exercise-thumb").first
    expect(thumb).to_be_visible()
    assert desk.evaluate("(img) => img.naturalWidth", thumb.element_handle()) > 0

    desk.goto(f"/episodes/{cast.episode_a.pk}/prescriptions/new/")
    desk.get_by_label("Exercise from the catalogue").select_option(label="Towel calf stretch")
    desk.get_by_role("button", name="Prescribe").click()
    assert Prescription.objects.filter(exercise=exercise).exists()

    pages = [
        "/settings/exercises/",
        "/settings/exercises/new/",
        f"/settings/exercises/{exercise.pk}/",
    ]
    problems: list[str] = []
    for width, height in ((1366, 900), (768, 1024), (412, 915)):
        desk.set_viewport_size({"width": width, "height": height})
        for path in pages:
            desk.goto(path)
            scroll = desk.evaluate("document.documentElement.scrollWidth")
            if scroll > width:
                wide = desk.evaluate(
                    "(w) => [...document.querySelectorAll('main *')]"
                    ".filter(e => e.getBoundingClientRect().right > w)"
                    ".map(e => e.tagName + '.' + e.className + '#' + e.id).slice(0, 5)",
                    width,
                )
                problems.append(f"{path} at {width}: page {scroll} px wide: {wide}")
            if width in (768, 412):
                violations = axe_violations(desk)
                if violations:
                    problems.append(f"{path} at {width}: axe {violations}")
    assert problems == []

    desk.context.clear_cookies()
    _sign_in(desk, cast.patient_a.user.email)
    desk.goto("/")
    picture = desk.locator(f'img[src="/exercises/{exercise.pk}/image/"]')
    picture.first.scroll_into_view_if_needed()
    assert (
        desk.evaluate("(img) => img.complete && img.naturalWidth", picture.first.element_handle())
        > 0
    )
