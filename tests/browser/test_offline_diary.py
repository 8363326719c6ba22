"""The offline diary in Chromium on a phone: entries saved offline, or after the session ended,
wait on the phone and are sent exactly once; a newer copy on the server wins and the patient is
told (docs/diary.md, "Offline diary").

The service worker is real (Playwright allows workers by default); going offline is
``context.set_offline(True)``, which also cuts the worker's own requests. Each test asks for
``transactional_db`` before ``phone``, so that the browser (and its worker, which may still be
fetching) is closed before the database is emptied.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.contrib.sessions.models import Session
from django.db import OperationalError
from playwright.sync_api import expect

from accounts.models import AuditEvent
from rehab.models import DailyEntry
from tests.conftest import PASSWORD
from tests.factories import PrescriptionFactory

pytestmark = pytest.mark.browser

SHOTS = Path("/work/shots/offline")

WATCH_POLICY = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.effectiveDirective} blocked ${event.blockedURI}`);
});
"""

# True once the worker controls the page and has kept every address given (the page's own and
# its "Correct a recent day" links) in its page cache.
KEPT = """
async (addresses) => {
  if (!navigator.serviceWorker.controller) return false;
  const names = (await caches.keys()).filter((name) => name.startsWith("pais-pages-"));
  if (names.length !== 1) return false;
  const cache = await caches.open(names[0]);
  for (const address of addresses) {
    if (!(await cache.match(new URL(address, location.origin).href))) return false;
  }
  return true;
}
"""


def shot(page: Any, name: str) -> None:
    if SHOTS.parent.exists():
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=SHOTS / f"{name}.png", full_page=False)


def sign_in(page: Any, email: str, *, next_page: str = "/") -> None:
    page.goto(f"/accounts/login/?next={next_page}")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def wait_until_kept(page: Any, *addresses: str) -> None:
    # page.evaluate awaits the promise (wait_for_function would take the promise for "true").
    for _ in range(60):
        if page.evaluate(KEPT, list(addresses)):
            return
        page.wait_for_timeout(250)
    raise AssertionError(f"The worker did not keep {addresses}")


def until_synced(page: Any, origin: str, finished: Callable[[], bool]) -> bool:
    """Wait for the worker's Background Sync to finish its work (``finished()``).

    Chromium fires the sync when the connection returns. If that first attempt raced the network
    coming back, Chromium retries only minutes later (its backoff): then the test fires the same
    "entry-queue" sync itself, through DevTools, as Chromium's retry would.
    """

    def poll(seconds: float) -> bool:
        for _ in range(int(seconds * 4)):
            if finished():
                return True
            page.wait_for_timeout(250)
        return finished()

    if poll(8):
        return True
    dispatch_sync(page, origin, "entry-queue")
    return poll(15)


def dispatch_sync(page: Any, origin: str, tag: str) -> None:
    """Fire a Background Sync event at the site's worker through the DevTools protocol."""
    session = page.context.new_cdp_session(page)
    registrations: list[dict[str, Any]] = []
    session.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda event: registrations.extend(event["registrations"]),
    )
    session.send("ServiceWorker.enable")
    for _ in range(40):
        if any(not r.get("isDeleted") for r in registrations):
            break
        page.wait_for_timeout(125)
    live = [r for r in registrations if not r.get("isDeleted")]
    assert live, "no service worker registration"
    session.send(
        "ServiceWorker.dispatchSyncEvent",
        {
            "origin": origin,
            "registrationId": live[0]["registrationId"],
            "tag": tag,
            "lastChance": False,
        },
    )


def creations(entry: DailyEntry) -> list[str]:
    return list(
        AuditEvent.objects.filter(object_type="rehab.dailyentry", object_id=str(entry.pk))
        .exclude(action="entry.viewed")
        .values_list("action", flat=True)
    )


def test_two_days_saved_offline_are_each_sent_once_when_back_online(
    transactional_db, phone, live_server, cast
):
    today = cast.patient_a.local_today()
    yesterday = today - dt.timedelta(days=1)
    heel = PrescriptionFactory(episode=cast.episode_a, name="Double-leg heel raises", sets=3)
    phone.context.add_init_script(WATCH_POLICY)
    # PUTs that reached the server (those tried offline fail without an answer).
    puts: list[str] = []
    phone.context.on(
        "response",
        lambda response: puts.append(response.url) if response.request.method == "PUT" else None,
    )

    sign_in(phone, cast.patient_a.user.email)
    expect(phone.get_by_role("heading", level=1)).to_have_text("Today")
    # Online, the worker keeps today's form and the week's other days for later.
    wait_until_kept(phone, "/", f"/log/{yesterday.isoformat()}/")
    worker = phone.evaluate(
        "async () => { const r = await navigator.serviceWorker.ready;"
        " return [r.scope, r.active.scriptURL]; }"
    )
    assert worker == [f"{live_server.url}/", f"{live_server.url}/sw.js"]

    phone.context.set_offline(True)
    phone.locator("input[name=pain_activity][value='4']").tap()
    phone.get_by_label(re.compile(r"^Sore ankle")).fill("31,5")
    phone.get_by_role("checkbox", name=re.compile("Double-leg heel raises")).tap()
    phone.get_by_role("button", name="Save entry").tap()
    status = phone.locator("#entry-sync-status")
    expect(status).to_contain_text("Waiting to send — saved on this phone")
    expect(phone.locator("#offline-queue-notice")).to_have_text(
        re.compile("1 entry waiting to send")
    )
    shot(phone, "offline-today-waiting")

    # Still offline: the link to yesterday opens the copy kept on the phone.
    phone.get_by_role("link", name=re.compile(yesterday.strftime("%a %-d %b"))).tap()
    expect(phone.get_by_role("heading", level=1)).to_have_text(yesterday.strftime("%A %-d %B"))
    expect(phone.locator("#offline-queue-notice")).to_contain_text("You are offline")
    phone.locator("input[name=pain_activity][value='6']").tap()
    phone.get_by_label(re.compile(r"^Note")).fill("Written on the train")
    phone.get_by_role("button", name="Save entry").tap()
    expect(phone.locator("#entry-sync-status")).to_contain_text("Waiting to send")
    expect(phone.locator("#offline-queue-notice")).to_contain_text("2 entries waiting to send")
    days = phone.locator(".recent-days li")
    expect(days.nth(0)).to_contain_text("waiting to send")
    expect(days.nth(1)).to_contain_text("waiting to send")
    expect(days.nth(2)).to_contain_text("not logged")
    shot(phone, "offline-yesterday-waiting")
    assert not DailyEntry.objects.filter(episode=cast.episode_a).exists()

    phone.context.set_offline(False)
    expect(phone.locator("#offline-queue-notice")).to_be_hidden(timeout=15_000)
    saved = {e.date: e for e in DailyEntry.objects.filter(episode=cast.episode_a)}
    assert set(saved) == {today, yesterday}
    assert (saved[today].pain_activity, str(saved[today].pf_rom_affected)) == (4, "31.5")
    assert {log.prescription_id: log.sets_completed for log in saved[today].exercises.all()} == {
        heel.pk: 3
    }
    assert (saved[yesterday].pain_activity, saved[yesterday].note) == (6, "Written on the train")
    for entry in saved.values():
        assert entry.recorded_by == cast.patient_a.user
        assert creations(entry) == ["entry.created"]

    # Opening pages again sends nothing more: the queue is empty.
    phone.goto("/")
    expect(phone.get_by_role("button", name="Update entry")).to_be_visible()
    phone.wait_for_timeout(500)
    assert len(puts) == 2, puts
    assert DailyEntry.objects.filter(episode=cast.episode_a).count() == 2
    assert phone.evaluate("window.__cspViolations") == []


def test_online_save_goes_through_the_api_and_says_saved(
    transactional_db, phone, live_server, cast
):
    today = cast.patient_a.local_today()
    sign_in(phone, cast.patient_a.user.email)
    phone.locator("input[name=pain_activity][value='3']").tap()
    with phone.expect_request(lambda request: request.method == "PUT"):
        phone.get_by_role("button", name="Save entry").tap()
    expect(phone.locator(".messages")).to_contain_text("Saved your entry for today. Thank you!")
    # The address loses ?saved=, so that a reload does not say it again.
    expect(phone).to_have_url(re.compile(r"/$"))
    entry = DailyEntry.objects.get(episode=cast.episode_a, date=today)
    assert entry.pain_activity == 3 and creations(entry) == ["entry.created"]

    # A bad value online: the ordinary form POST shows the server's message at the field.
    phone.get_by_label(re.compile(r"^Sore ankle")).fill("95")
    phone.get_by_role("button", name="Update entry").tap()
    expect(phone.locator(".field-error")).to_contain_text("between 0 and 90")
    assert DailyEntry.objects.get(pk=entry.pk).pf_rom_affected is None


def test_a_save_after_the_session_ended_is_sent_after_signing_in(
    transactional_db, phone, live_server, cast
):
    today = cast.patient_a.local_today()
    sign_in(phone, cast.patient_a.user.email)
    phone.locator("input[name=pain_activity][value='5']").tap()
    phone.get_by_label(re.compile(r"^Note")).fill("Typed before lunch")

    # The session ends on the server while the form is open.
    Session.objects.all().delete()
    phone.get_by_role("button", name="Save entry").tap()
    status = phone.locator("#entry-sync-status")
    expect(status).to_contain_text("Waiting to send — saved on this phone")
    expect(status).to_contain_text("You have been signed out")
    shot(phone, "session-ended-waiting")
    assert not DailyEntry.objects.filter(episode=cast.episode_a).exists()

    status.get_by_role("link", name="Sign in to send").tap()
    expect(phone).to_have_url(re.compile(r"/accounts/login/\?next=(/|%2F)$"))
    phone.get_by_label("Email address").fill(cast.patient_a.user.email)
    phone.get_by_label("Password").fill(PASSWORD)
    phone.get_by_role("button", name="Sign in").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Today")

    expect(phone.locator("#entry-sync-status")).to_contain_text("has been sent", timeout=15_000)
    entry = DailyEntry.objects.get(episode=cast.episode_a, date=today)
    assert (entry.pain_activity, entry.note) == (5, "Typed before lunch")
    assert creations(entry) == ["entry.created"]
    # The form now shows what was sent, as the server's current version.
    expect(phone.locator("input[name=pain_activity][value='5']")).to_be_checked()
    expect(phone.locator("#offline-queue-notice")).to_be_hidden()


def test_a_newer_copy_on_the_server_is_kept_and_the_patient_told(
    transactional_db, phone, live_server, cast, api
):
    yesterday = cast.patient_a.local_today() - dt.timedelta(days=1)
    sign_in(phone, cast.patient_a.user.email, next_page=f"/log/{yesterday.isoformat()}/")
    expect(phone.get_by_role("heading", level=1)).to_have_text(yesterday.strftime("%A %-d %B"))
    phone.locator("input[name=pain_activity][value='2']").tap()

    # Meanwhile the therapist records that day from a phone call.
    response = api(cast.therapist).put(
        f"/api/v1/episodes/{cast.episode_a.pk}/entries/{yesterday.isoformat()}/",
        {"pain_activity": 7, "note": "Phoned in"},
        format="json",
    )
    assert response.status_code == 201

    phone.get_by_role("button", name="Save entry").tap()
    status = phone.locator("#entry-sync-status")
    expect(status).to_contain_text(
        f"Your change to {yesterday.strftime('%A %-d %B')} was not sent: a newer copy"
    )
    expect(status).to_contain_text("by your therapist, was kept")
    shot(phone, "conflict-kept")
    entry = DailyEntry.objects.get(episode=cast.episode_a, date=yesterday)
    assert (entry.pain_activity, entry.note, entry.recorded_by) == (7, "Phoned in", cast.therapist)
    assert creations(entry) == ["entry.created"]
    # Nothing is left waiting, and the link shows the copy that was kept.
    expect(phone.locator("#offline-queue-notice")).to_be_hidden()
    status.get_by_role("link", name="Show the saved entry").tap()
    expect(phone.locator("input[name=pain_activity][value='7']")).to_be_checked()


def test_background_sync_sends_the_queue_with_no_page_open(
    transactional_db, phone, live_server, cast
):
    today = cast.patient_a.local_today()
    sign_in(phone, cast.patient_a.user.email)
    wait_until_kept(phone, "/")
    phone.context.set_offline(True)
    phone.locator("input[name=pain_activity][value='4']").tap()
    phone.get_by_role("button", name="Save entry").tap()
    expect(phone.locator("#entry-sync-status")).to_contain_text("Waiting to send")
    tags = phone.evaluate(
        "async () => (await (await navigator.serviceWorker.ready).sync.getTags())"
    )
    assert tags == ["entry-queue"]

    # Leave the site: only the worker is left to send.
    phone.goto("about:blank")
    phone.context.set_offline(False)

    def sent() -> bool:
        try:
            return DailyEntry.objects.filter(episode=cast.episode_a, date=today).exists()
        except OperationalError:
            return False  # SQLite's shared in-memory test database, locked while the server writes.

    assert until_synced(phone, live_server.url, sent), "the worker's sync did not send the queue"
    entry = DailyEntry.objects.get(episode=cast.episode_a, date=today)
    assert entry.pain_activity == 4 and creations(entry) == ["entry.created"]


def test_signing_out_on_a_shared_phone_leaves_nothing_of_the_patient(
    transactional_db, phone, live_server, cast
):
    sign_in(phone, cast.patient_a.user.email)
    # The form page asks the worker to keep itself and the Account page, where Sign out is.
    wait_until_kept(phone, "/", "/accounts/security/")
    phone.context.set_offline(True)
    phone.locator("input[name=pain_activity][value='4']").tap()
    phone.get_by_label(re.compile(r"^Note")).fill("Private words")
    phone.get_by_role("button", name="Save entry").tap()
    expect(phone.locator("#offline-queue-notice")).to_contain_text("1 entry waiting to send")

    dialogs: list[str] = []

    def answer(dialog: Any) -> None:
        dialogs.append(dialog.message)
        if len(dialogs) == 1:
            dialog.dismiss()
        else:
            dialog.accept()

    phone.on("dialog", answer)
    # Sign out is on the Account page, which the phone kept when the form opened online.
    phone.get_by_role("link", name="Account").tap()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Account security")
    # Signing out first tries to send; what is still waiting is asked about. "Stay" stays.
    phone.get_by_role("button", name="Sign out").tap()
    for _ in range(40):
        if dialogs:
            break
        phone.wait_for_timeout(250)
    assert "1 entry has not been sent yet" in dialogs[0]
    expect(phone.get_by_role("heading", level=1)).to_have_text("Account security")

    # Back online with the session ended (the entry cannot be sent), the patient signs out
    # anyway: the entry and the kept pages are deleted from the phone.
    Session.objects.all().delete()
    phone.context.set_offline(False)
    phone.get_by_role("button", name="Sign out").tap()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Sign in")
    assert len(dialogs) == 2
    left = phone.evaluate(
        """async () => {
          const names = (await caches.keys()).filter((n) => n.startsWith("pais-pages-"));
          const db = await new Promise((ok) => {
            const r = indexedDB.open("pais-offline");
            r.onsuccess = () => ok(r.result);
          });
          const items = await new Promise((ok) => {
            const r = db.transaction("entries").objectStore("entries").getAll();
            r.onsuccess = () => ok(r.result);
          });
          return {pages: names.length, items: items.length};
        }"""
    )
    assert left == {"pages": 0, "items": 0}
    assert not DailyEntry.objects.filter(episode=cast.episode_a).exists()

    # The next person on this phone, offline, does not get the patient's page.
    phone.context.set_offline(True)
    phone.goto("/")
    expect(phone.get_by_role("heading", level=1)).to_have_text("You are offline")
    assert "Private words" not in phone.content()


@pytest.mark.parametrize("locks", ["web-locks", "indexeddb-lease"])
def test_three_senders_at_once_still_send_each_entry_once(
    transactional_db, phone, live_server, cast, locks
):
    today = cast.patient_a.local_today()
    yesterday = today - dt.timedelta(days=1)
    if locks == "indexeddb-lease":
        # As in a browser without the Web Locks API: the pages fall back to the lease.
        phone.context.add_init_script("delete Navigator.prototype.locks;")
    answered: list[str] = []
    phone.context.on(
        "response",
        lambda response: (
            answered.append(response.url) if response.request.method == "PUT" else None
        ),
    )
    sign_in(phone, cast.patient_a.user.email)
    wait_until_kept(phone, "/", f"/log/{yesterday.isoformat()}/")
    phone.context.set_offline(True)
    phone.locator("input[name=pain_activity][value='4']").tap()
    phone.get_by_role("button", name="Save entry").tap()
    expect(phone.locator("#entry-sync-status")).to_contain_text("Waiting to send")
    phone.goto(f"/log/{yesterday.isoformat()}/")
    phone.locator("input[name=pain_activity][value='6']").tap()
    phone.get_by_role("button", name="Save entry").tap()
    expect(phone.locator("#offline-queue-notice")).to_contain_text("2 entries waiting to send")
    # A second tab on the same phone; with the worker's Background Sync, three senders wake up
    # when the connection returns.
    second = phone.context.new_page()
    second.goto("/")
    expect(second.locator("#offline-queue-notice")).to_contain_text("2 entries waiting to send")

    phone.context.set_offline(False)
    expect(phone.locator("#offline-queue-notice")).to_be_hidden(timeout=15_000)
    expect(second.locator("#offline-queue-notice")).to_be_hidden(timeout=15_000)
    second.wait_for_timeout(1000)
    entries = list(DailyEntry.objects.filter(episode=cast.episode_a).order_by("date"))
    assert [e.date for e in entries] == [yesterday, today]
    for entry in entries:
        assert creations(entry) == ["entry.created"]
    if locks == "web-locks":
        assert len(answered) == 2, answered


def test_an_entry_the_server_refuses_stays_on_the_phone_to_be_corrected(
    transactional_db, phone, live_server, cast
):
    today = cast.patient_a.local_today()
    sign_in(phone, cast.patient_a.user.email)
    wait_until_kept(phone, "/")
    phone.context.set_offline(True)
    phone.locator("input[name=pain_activity][value='4']").tap()
    phone.get_by_label(re.compile(r"^Sore ankle")).fill("95")
    phone.get_by_role("button", name="Save entry").tap()
    expect(phone.locator("#entry-sync-status")).to_contain_text("Waiting to send")

    phone.context.set_offline(False)
    notice = phone.locator("#offline-queue-notice")
    expect(notice).to_contain_text("could not be sent", timeout=15_000)
    expect(notice).to_contain_text("between 0 and 90")
    shot(phone, "refused-kept")
    assert not DailyEntry.objects.exists()

    # Opening the day fills the form with what was kept; Save then posts it the ordinary way,
    # so the server's page says what is wrong next to the field.
    phone.goto("/")
    expect(phone.get_by_label(re.compile(r"^Sore ankle"))).to_have_value("95")
    expect(phone.locator("#entry-sync-status")).to_contain_text("could not be sent")
    phone.get_by_role("button", name="Save entry").tap()
    expect(phone.locator(".field-error")).to_contain_text("between 0 and 90")
    phone.get_by_label(re.compile(r"^Sore ankle")).fill("35")
    phone.get_by_role("button", name="Save entry").tap()
    expect(phone.locator(".messages")).to_contain_text("Saved your entry for today")
    assert DailyEntry.objects.get(episode=cast.episode_a, date=today).pf_rom_affected == 35
    expect(notice).to_be_hidden()


def test_a_kept_today_page_opened_the_next_day_says_which_day_it_is_for(
    transactional_db, phone, live_server, cast
):
    today = cast.patient_a.local_today()
    sign_in(phone, cast.patient_a.user.email)
    wait_until_kept(phone, "/")
    phone.context.set_offline(True)
    # The phone's clock says tomorrow: the kept "today" page is yesterday's form.
    tomorrow = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(9, 0))
    phone.clock.set_system_time(tomorrow)
    phone.goto("/")
    notice = phone.locator("#offline-queue-notice")
    expect(notice).to_contain_text("You are offline")
    expect(notice).to_contain_text(f"This form is for {today.strftime('%A %-d %B')}")
    form = phone.locator("#entry-form")
    expect(form).to_have_attribute("data-entry-date", today.isoformat())


def test_a_conflict_found_by_background_sync_is_told_on_the_next_page(
    transactional_db, phone, live_server, cast, api
):
    today = cast.patient_a.local_today()
    sign_in(phone, cast.patient_a.user.email)
    wait_until_kept(phone, "/")
    phone.context.set_offline(True)
    phone.locator("input[name=pain_activity][value='4']").tap()
    phone.get_by_role("button", name="Save entry").tap()
    expect(phone.locator("#entry-sync-status")).to_contain_text("Waiting to send")
    therapist = api(cast.therapist).put(
        f"/api/v1/episodes/{cast.episode_a.pk}/entries/{today.isoformat()}/",
        {"pain_activity": 8},
        format="json",
    )
    assert therapist.status_code == 201

    phone.goto("about:blank")
    phone.context.set_offline(False)
    # Only the worker runs now; read its queue from inside it.
    worker = phone.context.service_workers[0]
    state = "async () => [(await PaisQueue.all()).length, await PaisQueue.getMeta('notices')]"
    assert until_synced(phone, live_server.url, lambda: worker.evaluate(state)[0] == 0)
    waiting, notices = worker.evaluate(state)
    assert waiting == 0 and notices and "was not sent" in notices[0]["text"]

    phone.goto("/")
    expect(phone.locator("#offline-queue-notice")).to_contain_text(
        f"Your change to {today.strftime('%A %-d %B')} was not sent"
    )
    assert DailyEntry.objects.get(episode=cast.episode_a, date=today).pain_activity == 8
    # Told once: the next page has no notice.
    phone.reload()
    expect(phone.locator("#offline-queue-notice")).to_be_hidden()
