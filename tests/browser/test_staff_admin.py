"""A clinic admin manages staff in Chromium: at 1366 px they invite a colleague and set cover;
every staff page then fits 768 px (tablet) and 412 px (phone) without sideways scrolling, and
axe-core finds no violation on any of them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Cover, User
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


def test_admin_invites_sets_cover_and_every_staff_page_fits(desk, transactional_db, cast):
    require_axe()
    desk.goto("/accounts/login/")
    desk.get_by_label("Email address").fill(cast.admin.email)
    desk.get_by_label("Password").fill(PASSWORD)
    desk.get_by_role("button", name="Sign in").click()
    desk.get_by_role("link", name="Staff").click()
    expect(desk.get_by_role("heading", name="Staff", exact=True)).to_be_visible()

    desk.get_by_role("link", name="Invite a colleague").click()
    desk.get_by_label("Email", exact=True).fill("noor@riverside.test")
    desk.get_by_label("First name").fill("Noor")
    desk.get_by_label("Last name").fill("Haddad")
    desk.get_by_label("Physical therapist").check()
    desk.get_by_role("button", name="Send the invitation").click()
    expect(desk.get_by_text("Noor Haddad is invited")).to_be_visible()
    assert User.objects.get(email="noor@riverside.test").role == "therapist"

    desk.get_by_role("link", name="Staff", exact=True).first.click()
    desk.get_by_role("link", name="Set cover").click()
    desk.get_by_label("Therapist who is away").select_option(label=cast.therapist.get_full_name())
    desk.get_by_label("Covered by").select_option(label=cast.therapist_2.get_full_name())
    until = timezone.localdate() + dt.timedelta(days=6)
    desk.get_by_label("Until").fill(until.isoformat())
    desk.get_by_role("button", name="Set cover").click()
    expect(desk.get_by_text("in force")).to_be_visible()
    cover = Cover.objects.get()
    assert (cover.absent_id, cover.covering_id) == (cast.therapist.pk, cast.therapist_2.pk)

    pages = [
        "/settings/staff/",
        "/settings/staff/invite/",
        f"/settings/staff/{cast.therapist.pk}/",
        f"/settings/staff/{cast.therapist.pk}/deactivate/",
        "/settings/staff/covers/new/",
        f"/patients/{cast.patient_a.pk}/therapist/",
    ]
    problems: list[str] = []
    for width, height in ((1366, 900), (768, 1024), (412, 915)):
        desk.set_viewport_size({"width": width, "height": height})
        for path in pages:
            desk.goto(path)
            scroll = desk.evaluate("document.documentElement.scrollWidth")
            if scroll > width:
                problems.append(f"{path} at {width}: page {scroll} px wide")
            if width == 768:
                violations = axe_violations(desk)
                if violations:
                    problems.append(f"{path}: axe {violations}")
    # On the phone the staff table is cards: the patients' count is shown with its label.
    desk.goto("/settings/staff/")
    expect(desk.locator(".staff-table td[data-label='Patients']").first).to_be_visible()
    assert problems == []
