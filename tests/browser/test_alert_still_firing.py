"""A therapist resolves an alert whose finding still fires (docs/alerts.md): the episode page
says so, the caseload keeps the patient at the finding's urgency, and the patient's next entry
raises no new alert and writes no new notification (the outbox rows are counted).

The demo's Daniel Kim is worsening: activity pain 7 on the last days against a baseline of 4.0,
so PAIN_WORSENING (high) is open and still found as of his today. Desktop at 1366 px; the
alert settings page at 768 px (a tablet) too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect
from rest_framework.test import APIClient

from accounts.models import User
from rehab.demo import DEMO_THERAPIST, seed_demo
from rehab.models import Alert, AlertStatus, Delivery, Episode

pytestmark = pytest.mark.browser


def _page(chromium: tuple[Any, Any], live_server: Any, width: int, height: int) -> Any:
    _, browser = chromium
    context = browser.new_context(
        viewport={"width": width, "height": height},
        base_url=live_server.url,
        locale="en-GB",
    )
    context.set_default_timeout(15_000)
    return context


@pytest.fixture
def desktop(chromium: tuple[Any, Any], live_server: Any) -> Iterator[Any]:
    context = _page(chromium, live_server, 1366, 900)
    try:
        yield context.new_page()
    finally:
        context.close()


def _sign_in(page: Any) -> None:
    page.goto("/")
    page.get_by_label("Email address").fill(DEMO_THERAPIST.email)
    page.get_by_label("Password").fill(DEMO_THERAPIST.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("caseload")


def test_resolving_a_still_firing_alert_says_so_keeps_the_urgency_and_sends_nothing(
    desktop, chromium, live_server, transactional_db
):
    seed_demo()
    episode = Episode.objects.get(patient__user__email="patient4@demo.test")
    alert = Alert.objects.get(episode=episode, code="PAIN_WORSENING", status=AlertStatus.OPEN)
    deliveries = Delivery.objects.filter(alert__episode=episode).count()

    page = desktop
    _sign_in(page)
    row = page.locator("tr", has=page.get_by_role("link", name=re.compile("Daniel Kim")))
    expect(row).to_have_class(re.compile(r"\burgency-high\b"))

    page.get_by_role("link", name=re.compile("Daniel Kim")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Daniel Kim")
    card = page.locator(f"article[aria-labelledby='alert-{alert.pk}-title']")
    card.get_by_text("Act on this alert").click()
    card.get_by_role("button", name="Resolve").click()

    # The page says the finding still fires, on the message and on the resolved alert's card.
    expect(page.locator(".message-warning")).to_contain_text("the finding still fires")
    resolved = page.locator(f"article[aria-labelledby='alert-{alert.pk}-title']")
    expect(resolved.locator(".still-firing")).to_contain_text("The finding still fires.")
    expect(resolved).to_contain_text("Resolved by Jamie Park")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366

    # The caseload keeps him at the finding's urgency, and says there is no unresolved alert.
    page.get_by_role("link", name="Caseload").click()
    row = page.locator("tr", has=page.get_by_role("link", name=re.compile("Daniel Kim")))
    expect(row).to_have_class(re.compile(r"\burgency-high\b"))
    expect(row).to_contain_text("Pain worsening (found today; no unresolved alert)")

    # His next entry (today's, still pain 7) raises nothing and writes no notification.
    patient = User.objects.get(email="patient4@demo.test")
    client = APIClient()
    client.force_authenticate(patient)
    today = patient.patient.local_today()
    response = client.put(
        f"/api/v1/episodes/{episode.pk}/entries/{today.isoformat()}/",
        {"pain_activity": 7},
        format="json",
    )
    assert response.status_code in (200, 201), response.content
    assert not Alert.objects.filter(episode=episode, code="PAIN_WORSENING").exclude(
        status=AlertStatus.RESOLVED
    )
    assert Delivery.objects.filter(alert__episode=episode).count() == deliveries
    alert.refresh_from_db()
    assert alert.suppressing and alert.last_found_on == today

    # The clinic's escalation settings are readable on a tablet.
    tablet = _page(chromium, live_server, 768, 1024)
    try:
        small = tablet.new_page()
        _sign_in(small)
        small.goto("/settings/alerts/")
        expect(small.get_by_role("heading", level=1)).to_have_text("Alert escalation")
        expect(small.get_by_role("table")).to_contain_text("Critical")
        assert small.evaluate("document.documentElement.scrollWidth") <= 768
    finally:
        tablet.close()
