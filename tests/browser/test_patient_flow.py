"""A patient signs in on a phone, fills today's entry with one hand, and it is saved."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from rehab.models import DailyEntry
from tests.conftest import PASSWORD
from tests.factories import PrescriptionFactory

pytestmark = pytest.mark.browser


def test_patient_logs_today_on_a_phone(phone, live_server, transactional_db, cast, artifacts):
    today = cast.patient_a.local_today()
    heel = PrescriptionFactory(
        episode=cast.episode_a, name="Double-leg heel raises", sets=3, reps="15"
    )
    calf = PrescriptionFactory(
        episode=cast.episode_a, name="Calf stretch (gastrocnemius)", sets=2, reps="30 s hold"
    )
    elsewhere: list[str] = []
    phone.on(
        "request",
        lambda request: (
            None if request.url.startswith(live_server.url) else elsewhere.append(request.url)
        ),
    )

    phone.goto("/")
    expect(phone).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
    phone.get_by_label("Email address").fill(cast.patient_a.user.email)
    phone.get_by_label("Password").fill(PASSWORD)
    phone.get_by_role("button", name="Sign in").tap()

    expect(phone.get_by_role("heading", level=1)).to_have_text("Today")
    pain_4 = phone.locator("input[name=pain_activity][value='4']")
    pain_4.tap()
    phone.locator("input[name=pain_rest][value='1']").tap()
    # A decimal comma, as many phones' keypads write it: it must reach the server as 31.5.
    phone.get_by_label(re.compile(r"^Sore ankle")).fill("31,5")
    phone.get_by_label(re.compile(r"^Other ankle")).fill("46")
    phone.get_by_role("checkbox", name=re.compile("Double-leg heel raises")).tap()
    expect(pain_4).to_be_checked()

    # The page fits the phone: no sideways scrolling, and thumb-sized pain buttons.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    box = phone.locator("label.scale-choice").first.bounding_box()
    assert box is not None and box["width"] >= 44 and box["height"] >= 44
    phone.screenshot(path=artifacts / "patient-today-filled.png", full_page=True)

    phone.get_by_role("button", name="Save entry").tap()
    # The page's message (the form's own status region, #entry-sync-status, is another "status").
    expect(phone.locator(".messages")).to_contain_text("Saved your entry for today")
    expect(phone.get_by_role("button", name="Update entry")).to_be_visible()
    phone.screenshot(path=artifacts / "patient-today-saved.png", full_page=False)

    entry = DailyEntry.objects.get(episode=cast.episode_a, date=today)
    assert (entry.pain_activity, entry.pain_rest) == (4, 1)
    assert (entry.pf_rom_affected, entry.pf_rom_unaffected) == (Decimal("31.5"), 46)
    logs = {log.prescription_id: log.sets_completed for log in entry.exercises.all()}
    assert logs == {heel.pk: 3, calf.pk: 0}
    assert entry.recorded_by == cast.patient_a.user
    assert elsewhere == []
