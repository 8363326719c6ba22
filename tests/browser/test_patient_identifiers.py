"""A therapist records a patient's identifiers in Chromium at 1366 px; the identifiers page and
the patient page then fit 768 px (tablet) and 412 px (phone) without sideways scrolling, and
axe-core finds no violation on them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from accounts.models import Patient
from tests.browser.axe import axe_violations, require_axe
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def desk(chromium: tuple[Any, Any], live_server: Any) -> Iterator[Any]:
    _, browser = chromium
    context = browser.new_context(
        viewport={"width": 1366, "height": 900},
        base_url=live_server.url,
        locale="en-GB",
        # axe-core is injected as an inline script, which the site's CSP (rightly) refuses.
        bypass_csp=True,
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


def test_therapist_records_identifiers_and_the_pages_fit(desk, transactional_db, cast):
    require_axe()
    desk.goto("/accounts/login/")
    desk.get_by_label("Email address").fill(cast.therapist.email)
    desk.get_by_label("Password").fill(PASSWORD)
    desk.get_by_role("button", name="Sign in").click()
    desk.goto(f"/patients/{cast.patient_a.pk}/")
    desk.get_by_role("link", name="Edit identifiers").click()
    desk.get_by_label("Date of birth").fill("1996-05-17")
    desk.get_by_label("Sex").select_option("female")
    desk.get_by_label("Medical record number").fill("RV-0042")
    desk.get_by_role("button", name="Save identifiers").click()
    expect(desk.get_by_text("Identifiers saved.")).to_be_visible()
    expect(desk.get_by_text("RV-0042")).to_be_visible()
    patient = Patient.objects.get(pk=cast.patient_a.pk)
    assert (patient.birth_date, patient.sex, patient.mrn) == (
        dt.date(1996, 5, 17),
        "female",
        "RV-0042",
    )

    pages = [f"/patients/{cast.patient_a.pk}/identifiers/", f"/patients/{cast.patient_a.pk}/"]
    problems: list[str] = []
    for width, height in ((1366, 900), (768, 1024), (412, 915)):
        desk.set_viewport_size({"width": width, "height": height})
        for path in pages:
            desk.goto(path)
            scroll = desk.evaluate("document.documentElement.scrollWidth")
            if scroll > width:
                problems.append(f"{path} at {width}: page {scroll} px wide")
            if width in (768, 412):
                violations = axe_violations(desk)
                if violations:
                    problems.append(f"{path} at {width}: axe {violations}")
    assert problems == []
