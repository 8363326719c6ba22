"""A therapist corrects a flagged injection on a 768 px tablet and reads the history at 1366 px
(issue 14, points 4 and 5): no sideways scrolling, axe-core at 0 violations."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from rehab.models import Intervention
from tests.browser.axe import axe_violations, require_axe
from tests.factories import InterventionFactory

PASSWORD = "correct-horse-battery-staple"

pytestmark = pytest.mark.browser


def _page(browser: Any, live_server: Any, width: int, height: int) -> Any:
    context = browser.new_context(
        viewport={"width": width, "height": height},
        base_url=live_server.url,
        locale="en-GB",
        bypass_csp=True,  # axe-core is injected as a script our CSP would refuse
    )
    context.set_default_timeout(15_000)
    return context.new_page()


def test_a_therapist_corrects_a_flagged_injection_on_a_tablet(
    chromium, live_server, transactional_db, cast
):
    require_axe()
    _, browser = chromium
    flagged = InterventionFactory(
        episode=cast.episode_a,
        kind="corticosteroid_injection",
        site="other",
        note="Site as recorded: posterolateral ankle (os trigonum region)",
        needs_review=True,
    )
    cast.therapist.set_password(PASSWORD)
    cast.therapist.save()

    tablet = _page(browser, live_server, 768, 1024)
    tablet.goto("/accounts/login/")
    tablet.get_by_label("Email address").fill(cast.therapist.email)
    tablet.get_by_label("Password").fill(PASSWORD)
    tablet.get_by_role("button", name="Sign in").click()
    tablet.goto(f"/episodes/{cast.episode_a.pk}/")
    expect(tablet.get_by_text("An injection record needs review")).to_be_visible()
    assert tablet.evaluate("document.documentElement.scrollWidth") <= 768
    tablet.get_by_role("link", name="Correct Corticosteroid injection").click()

    assert tablet.evaluate("document.documentElement.scrollWidth") <= 768
    assert axe_violations(tablet) == []
    tablet.get_by_label("Injection site (corticosteroid injection)").select_option(
        "os_trigonum_region"
    )
    tablet.get_by_label("Note").fill("Image-guided, os trigonum region.")
    tablet.get_by_role("button", name="Save the correction").click()
    # Without a reason nothing is saved, and the page says why next to the field.
    expect(tablet.get_by_text("Say why you are correcting this record").first).to_be_visible()
    flagged.refresh_from_db()
    assert flagged.needs_review is True
    tablet.get_by_label("Reason for the correction").fill("Site from the radiology report")
    tablet.get_by_role("button", name="Save the correction").click()
    expect(tablet.get_by_text("Intervention corrected")).to_be_visible()
    flagged = Intervention.objects.get(pk=flagged.pk)
    assert (flagged.site, flagged.needs_review) == ("os_trigonum_region", False)
    tablet.context.close()

    desktop = _page(browser, live_server, 1366, 900)
    desktop.goto("/accounts/login/")
    desktop.get_by_label("Email address").fill(cast.therapist.email)
    desktop.get_by_label("Password").fill(PASSWORD)
    desktop.get_by_role("button", name="Sign in").click()
    desktop.goto(f"/episodes/{cast.episode_a.pk}/#corrections-title")
    history = desktop.locator("ul.corrections")
    expect(history).to_contain_text("Site from the radiology report")
    expect(history).to_contain_text("Needs review: yes → no")
    assert desktop.evaluate("document.documentElement.scrollWidth") <= 1366
    assert axe_violations(desktop) == []
    desktop.context.close()


def test_an_admin_confirms_a_threshold_outside_the_published_range_and_sees_the_run(
    chromium, live_server, transactional_db, cast
):
    require_axe()
    _, browser = chromium
    cast.admin.set_password(PASSWORD)
    cast.admin.save()
    tablet = _page(browser, live_server, 768, 1024)
    tablet.goto("/accounts/login/")
    tablet.get_by_label("Email address").fill(cast.admin.email)
    tablet.get_by_label("Password").fill(PASSWORD)
    tablet.get_by_role("button", name="Sign in").click()
    tablet.goto("/settings/thresholds/")
    tablet.get_by_label("Important improvement, points").fill("0.8")
    tablet.get_by_role("button", name="Save thresholds").click()
    expect(tablet.get_by_text("Important improvement, points is 0.8").first).to_be_visible()
    assert tablet.evaluate("document.documentElement.scrollWidth") <= 768
    assert axe_violations(tablet) == []
    tablet.get_by_label("I have checked these values; save them anyway").check()
    tablet.get_by_role("button", name="Save thresholds").click()
    heading = tablet.get_by_role("heading", name="Re-evaluating the clinic's episodes")
    expect(heading).to_be_visible()
    # The worker runs tasks eagerly here: the run is finished when the page first shows.
    expect(tablet.get_by_text("Done: 2 of 2 active episodes (100%)")).to_be_visible()
    assert tablet.evaluate("document.documentElement.scrollWidth") <= 768
    assert axe_violations(tablet) == []
    tablet.context.close()
