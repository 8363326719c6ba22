"""Reminders on a phone: the patient sets the time and the channels, the phone's time zone is
offered once, and the unsubscribe link in a reminder email works in a browser that never signed
in."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from playwright.sync_api import expect

from accounts.models import Patient
from rehab.jobs import reminders_send
from tests.conftest import PASSWORD
from tests.factories import EpisodeFactory, PatientFactory

pytestmark = pytest.mark.browser


def _sign_in(page, patient: Patient) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email address").fill(patient.user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Today")


def test_the_patient_changes_the_time_and_the_channels(phone, transactional_db, cast, artifacts):
    _sign_in(phone, cast.patient_a)
    phone.goto("/accounts/security/")
    phone.get_by_role("link", name="Reminder time and how you get them").tap()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Reminders")

    time_box = phone.get_by_label("Remind me at", exact=True)
    expect(time_box).to_have_value("19:00")
    time_box.fill("07:45")
    phone.get_by_role("checkbox", name="Email").uncheck()
    phone.get_by_role("checkbox", name="Notification on my phone").check()
    phone.get_by_label("Your time zone").select_option("Europe/Madrid")
    phone.get_by_role("button", name="Save").tap()

    expect(phone.get_by_text("Saved: your reminders are set.")).to_be_visible()
    expect(phone.get_by_label("Remind me at", exact=True)).to_have_value("07:45")
    expect(phone.get_by_role("checkbox", name="Email")).not_to_be_checked()
    patient = Patient.objects.get(pk=cast.patient_a.pk)
    assert patient.reminder_time == dt.time(7, 45)
    assert (patient.reminder_by_email, patient.reminder_by_push) == (False, True)
    assert patient.timezone == "Europe/Madrid"
    # Without a service worker on the site (yet), the page says so instead of a dead button.
    expect(phone.locator("#push-status")).to_contain_text("reminders come by email")
    expect(phone.get_by_role("button", name="Get reminders on this phone")).to_be_hidden()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    phone.screenshot(path=artifacts / "patient-reminders.png", full_page=True)


def test_the_phones_time_zone_is_offered_once(chromium, live_server, transactional_db, cast):
    _playwright, browser = chromium
    context = browser.new_context(base_url=live_server.url, timezone_id="America/Bogota")
    try:
        page = context.new_page()
        _sign_in(page, cast.patient_a)
        prompt = page.locator("#timezone-prompt")
        expect(prompt).to_be_visible()
        expect(prompt).to_contain_text("Your phone is set to America/Bogota")
        prompt.get_by_role("button", name="Use it").click()

        expect(page.get_by_text("Your reminders follow America/Bogota time.")).to_be_visible()
        expect(page.locator("#timezone-prompt")).to_have_count(0)
        patient = Patient.objects.get(pk=cast.patient_a.pk)
        assert (patient.timezone, patient.timezone_confirmed) == ("America/Bogota", True)
    finally:
        context.close()


def test_no_prompt_when_the_phone_agrees(chromium, live_server, transactional_db, cast):
    _playwright, browser = chromium
    context = browser.new_context(base_url=live_server.url, timezone_id="UTC")
    try:
        page = context.new_page()
        _sign_in(page, cast.patient_a)
        expect(page.locator("#timezone-prompt")).to_be_hidden()
    finally:
        context.close()


def test_the_emailed_unsubscribe_link_works_without_signing_in(
    chromium, live_server, transactional_db, cast
):
    patient = PatientFactory(
        therapist=cast.therapist, timezone="Europe/London", user__email="robin@riverside.test"
    )
    EpisodeFactory(patient=patient, start_date=dt.date(2026, 1, 10))
    with time_machine.travel(dt.datetime(2026, 1, 20, 19, 0, tzinfo=ZoneInfo("Europe/London"))):
        reminders_send()
    (message,) = mail.outbox
    link = re.search(r"https?://\S+?(/unsubscribe/\S+?/)", message.body)
    assert link is not None, message.body

    _playwright, browser = chromium
    fresh = browser.new_context(base_url=live_server.url)  # no cookies, never signed in
    try:
        page = fresh.new_page()
        page.goto(link.group(1))
        expect(page.get_by_role("heading", level=1)).to_have_text("Stop reminder emails")
        page.get_by_role("button", name="Stop reminder emails").click()

        expect(page.get_by_role("heading", level=1)).to_have_text("Reminder emails stopped")
        expect(page.get_by_text("To turn them back on, sign in")).to_be_visible()
    finally:
        fresh.close()
    patient.refresh_from_db()
    assert not patient.reminder_by_email


# The browser's push machinery, stood in for: headless Chromium has no push service to reach.
# Everything of ours runs for real: static/js/reminders.js, the CSRF header, the key, the API.
FAKE_PUSH = """
(() => {
  const keys = %(keys)s;
  const subscription = {
    endpoint: "https://push.example.com/fake-device",
    toJSON() { return { endpoint: this.endpoint, expirationTime: null, keys }; },
    unsubscribe() { window.__subscribed = null; return Promise.resolve(true); },
  };
  window.__subscribed = null;
  const registration = { pushManager: {
    getSubscription: () => Promise.resolve(window.__subscribed),
    subscribe: (options) => {
      window.__options = { userVisibleOnly: options.userVisibleOnly,
                           key: Array.from(options.applicationServerKey) };
      window.__subscribed = subscription;
      return Promise.resolve(subscription);
    },
  } };
  Object.defineProperty(navigator, "serviceWorker", { configurable: true, value: {
    getRegistration: () => Promise.resolve(registration),
    ready: Promise.resolve(registration),
  } });
  window.PushManager = window.PushManager || function () {};
  Notification.requestPermission = () => Promise.resolve("granted");
})();
"""


def test_get_reminders_on_this_phone_and_stop_them(phone, transactional_db, cast, settings):
    import json

    from rehab.models import PushSubscription
    from rehab.reminders.vapid import b64url_decode, key_pair_generate
    from tests.reminders.pushservice import BrowserSubscription

    public_key, private_key = key_pair_generate()
    settings.PAIS_VAPID_PUBLIC_KEY = public_key
    settings.PAIS_VAPID_PRIVATE_KEY = private_key
    keys = BrowserSubscription.create("x").to_json()["keys"]
    phone.context.add_init_script(FAKE_PUSH % {"keys": json.dumps(keys)})
    sent: list[str] = []
    phone.on(
        "request",
        lambda request: (
            sent.append(request.method) if "/push-subscriptions/" in request.url else None
        ),
    )
    _sign_in(phone, cast.patient_a)
    phone.goto("/account/reminders/")

    phone.get_by_role("button", name="Get reminders on this phone").tap()

    expect(phone.locator("#push-status")).to_have_text(
        "This phone gets a notification when the day is not filled in."
    )
    options = phone.evaluate("window.__options")
    assert options == {"userVisibleOnly": True, "key": list(b64url_decode(public_key))}
    device = PushSubscription.objects.get()
    assert (device.patient_id, device.endpoint) == (
        cast.patient_a.pk,
        "https://push.example.com/fake-device",
    )
    assert (device.p256dh, device.auth) == (keys["p256dh"], keys["auth"])
    assert sent == ["POST"]  # once, although the page loads the script twice (prompt + page)

    phone.get_by_role("button", name="Stop reminders on this phone").tap()

    expect(phone.locator("#push-status")).to_have_text("This phone does not get notifications yet.")
    expect(phone.get_by_role("button", name="Get reminders on this phone")).to_be_visible()
    assert not PushSubscription.objects.exists()
    assert sent == ["POST", "DELETE"]
