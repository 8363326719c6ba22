"""Issue 15 on a phone (Chromium, Pixel 7 profile at 412 × 915): the patient answers FAAM one
question per screen and PSFS, resumes after closing the tab, sends once while offline, and every
page has 0 axe-core violations (docs/patient-pages.md, "Questionnaires").

Each test asks for ``transactional_db`` before the page fixture, so the browser (and its service
worker) is closed before the database is emptied.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from accounts.models import AuditEvent
from rehab.models import QuestionnaireResponse
from tests.browser.axe import axe_violations, require_axe
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

SHOTS = Path("/work/shots/questionnaires")

# True once the worker controls the page and has kept each address in its page cache.
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


@pytest.fixture
def open_phone(chromium: tuple[Any, Any], live_server: Any) -> Iterator[Callable[..., Any]]:
    """``open_phone()``: a new signed-out context in a Pixel 7 profile at 412 × 915 (CSP bypassed
    so that the test may inject axe-core), and its first page."""
    playwright, browser = chromium
    contexts: list[Any] = []

    def make() -> Any:
        profile = {
            **playwright.devices["Pixel 7"],
            "viewport": {"width": 412, "height": 915},
            "screen": {"width": 412, "height": 915},
        }
        context = browser.new_context(
            **profile, base_url=live_server.url, locale="en-GB", bypass_csp=True
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def baseline_week(cast: Any) -> Any:
    """Episode A on trial day 3: FAAM and PSFS are both due (baseline window, days 1–7)."""
    today = cast.patient_a.local_today()
    cast.episode_a.start_date = today - dt.timedelta(days=2)
    cast.episode_a.save(update_fields=["start_date"])
    return cast.episode_a


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


def no_sideways_scroll(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], width


def within_screen(page: Any, locator: Any) -> None:
    box = locator.bounding_box()
    assert box is not None
    assert box["y"] >= 0 and box["y"] + box["height"] <= page.viewport_size["height"], box


def wait_until_kept(page: Any, *addresses: str) -> None:
    for _ in range(60):
        if page.evaluate(KEPT, list(addresses)):
            return
        page.wait_for_timeout(250)
    raise AssertionError(f"The worker did not keep {addresses}")


def answer(page: Any, number: int, label: str) -> None:
    """Tap an answer on the screen of question ``number`` (it moves on by itself)."""
    expect(page.locator("legend:visible .q-number")).to_have_text(f"Question {number} of 29")
    page.get_by_role("radio", name=label, exact=True).tap()


def test_a_patient_answers_faam_one_question_per_screen_and_resumes_after_closing_the_tab(
    transactional_db, open_phone, live_server, cast, baseline_week
):
    phone = open_phone()
    sign_in(phone, cast.patient_a.user.email)
    card = phone.locator(".task-card")
    expect(card).to_contain_text("Two short questionnaires: about 5 minutes")
    # The task does not push the pain scale off the first screen.
    within_screen(phone, phone.locator("input[name=pain_activity][value='10']"))
    shot(phone, "today-task")
    assert axe_violations(phone) == []
    card.get_by_role("link", name=re.compile("^Start")).tap()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Daily activities and sport")

    # One question on the screen, its six answers and Back / Next within reach of a thumb.
    expect(phone.locator("fieldset.q-item:visible")).to_have_count(1)
    within_screen(phone, phone.get_by_role("radio", name="N/A: not because of my ankle"))
    within_screen(phone, phone.get_by_role("button", name="Next"))
    expect(phone.get_by_role("button", name="Send answers")).to_be_hidden()
    no_sideways_scroll(phone)
    shot(phone, "faam-question-1")
    assert axe_violations(phone) == []

    for number in range(1, 11):
        answer(phone, number, "Slight difficulty")
    expect(phone.locator("legend:visible .q-number")).to_have_text("Question 11 of 29")
    # Back shows the answer given; Next returns.
    phone.get_by_role("button", name="Back").tap()
    expect(phone.get_by_role("radio", name="Slight difficulty", exact=True)).to_be_checked()
    phone.get_by_role("button", name="Next").tap()

    # The tab is closed; a new one resumes where the patient stopped, answers kept.
    address, context = phone.url, phone.context
    phone.close()
    phone = context.new_page()  # the same phone, a new tab
    phone.goto(address)
    expect(phone.locator("#questionnaire-sync-status")).to_contain_text("Welcome back")
    expect(phone.locator("legend:visible .q-number")).to_have_text("Question 11 of 29")

    for number in range(11, 22):
        answer(phone, number, "No difficulty at all")
    # Sports: one N/A, one skipped with Next.
    answer(phone, 22, "N/A: not because of my ankle")
    expect(phone.locator("legend:visible .q-number")).to_have_text("Question 23 of 29")
    phone.get_by_role("button", name="Next").tap()
    for number in range(24, 30):
        answer(phone, number, "Moderate difficulty")

    review = phone.locator("#q-review")
    expect(review).to_contain_text("You answered 28 of 29 questions.")
    expect(review.get_by_role("button")).to_have_count(1)
    within_screen(phone, phone.get_by_role("button", name="Send answers"))
    shot(phone, "faam-review")
    assert axe_violations(phone) == []

    # Sent by the script through the queue to the API (not the plain form POST).
    with phone.expect_response(lambda r: "questionnaire-responses" in r.url) as sent:
        phone.get_by_role("button", name="Send answers").tap()
    assert (sent.value.request.method, sent.value.status) == ("POST", 201)
    expect(phone.locator(".messages")).to_contain_text(
        "Thank you! Your answers about daily activities and sport are saved."
    )
    # The thank-you is said once: ?saved= leaves the address.
    expect(phone).to_have_url(re.compile(r"/questionnaires/$"))
    shot(phone, "done")
    assert axe_violations(phone) == []

    saved = QuestionnaireResponse.objects.get(episode=baseline_week, instrument="faam")
    assert saved.date == cast.patient_a.local_today()
    assert saved.answers["adl-1"] == 3 and saved.answers["adl-21"] == 4
    assert saved.answers["sports-1"] == "na" and "sports-2" not in saved.answers
    # ADL: 10 × 3 + 11 × 4 = 74 of 84 → 88.1; Sports: 6 answered, fewer than 7 → unknown.
    assert str(saved.score_adl) == "88.1" and saved.score_sports is None
    assert saved.recorded_by == cast.patient_a.user
    # What was kept on the phone while answering is gone once sent.
    assert (
        phone.evaluate("Object.keys(localStorage).filter((k) => k.startsWith('pais-draft:'))") == []
    )


def test_a_patient_names_and_rates_activities_on_psfs(
    transactional_db, open_phone, live_server, cast, baseline_week
):
    phone = open_phone()
    sign_in(phone, cast.patient_a.user.email, next_page="/questionnaires/psfs/")
    expect(phone.get_by_role("heading", level=1)).to_have_text("Activities that matter to you")
    # One row at first; the others open on demand.
    expect(phone.locator("[data-psfs-row]:visible")).to_have_count(1)
    no_sideways_scroll(phone)
    assert axe_violations(phone) == []
    phone.locator("#id_activity_1").fill("Relevé")
    phone.locator("input[name=score_1][value='3']").tap()
    phone.get_by_role("button", name="Add another activity").tap()
    expect(phone.locator("[data-psfs-row]:visible")).to_have_count(2)
    phone.locator("#id_activity_2").fill("Jumps")
    phone.locator("input[name=score_2][value='6']").tap()
    shot(phone, "psfs-two-rows")
    assert axe_violations(phone) == []
    phone.get_by_role("button", name="Send answers").tap()
    expect(phone.locator(".messages")).to_contain_text(
        "Your activities and their ratings are saved"
    )
    saved = QuestionnaireResponse.objects.get(episode=baseline_week, instrument="psfs")
    assert saved.answers == [
        {"activity": "Relevé", "score": 3},
        {"activity": "Jumps", "score": 6},
    ]
    assert str(saved.score_psfs) == "4.5"
    # FAAM is still due: the list says so, the progress page shows the PSFS score in words.
    expect(phone.get_by_role("link", name=re.compile("^Start"))).to_have_count(1)
    phone.goto("/progress/")
    expect(phone.locator(".function-scores")).to_contain_text(
        "The activities you named: 4.5 out of 10 on average when you started"
    )
    no_sideways_scroll(phone)
    assert axe_violations(phone) == []


def test_answers_sent_offline_are_sent_exactly_once_when_back_online(
    transactional_db, open_phone, live_server, cast, baseline_week
):
    phone = open_phone()
    posts: list[int] = []
    phone.context.on(
        "response",
        lambda response: (
            posts.append(response.status)
            if response.request.method == "POST" and "questionnaire-responses" in response.url
            else None
        ),
    )
    sign_in(phone, cast.patient_a.user.email, next_page="/questionnaires/psfs/")
    wait_until_kept(phone, "/questionnaires/psfs/")

    phone.context.set_offline(True)
    phone.locator("#id_activity_1").fill("Running")
    phone.locator("input[name=score_1][value='4']").tap()
    phone.get_by_role("button", name="Send answers").tap()
    status = phone.locator("#questionnaire-sync-status")
    expect(status).to_contain_text("Waiting to send — saved on this phone")
    expect(phone.locator("#offline-queue-notice")).to_contain_text(
        "1 questionnaire waiting to send"
    )
    shot(phone, "offline-waiting")
    # Still offline, the page opens again from the phone with the answers filled in.
    phone.reload()
    expect(phone.locator("#questionnaire-sync-status")).to_contain_text("Waiting to send")
    expect(phone.locator("input[name=score_1][value='4']")).to_be_checked()
    assert not QuestionnaireResponse.objects.exists()

    phone.context.set_offline(False)
    # The notice hides once the queue is empty; wait for the row itself as well, since under
    # load the notice can be between two states when first looked at.
    for _ in range(60):
        if QuestionnaireResponse.objects.filter(episode=baseline_week).exists():
            break
        phone.wait_for_timeout(250)
    expect(phone.locator("#offline-queue-notice")).to_be_hidden(timeout=15_000)
    saved = QuestionnaireResponse.objects.get(episode=baseline_week, instrument="psfs")
    assert saved.answers == [{"activity": "Running", "score": 4}]
    # Opening pages again sends nothing more.
    phone.goto("/questionnaires/")
    expect(phone.get_by_role("heading", level=1)).to_have_text("Questionnaires")
    phone.goto("/")
    expect(phone.locator(".task-card")).to_contain_text("One short questionnaire")
    phone.wait_for_timeout(500)
    assert posts == [201], posts
    assert QuestionnaireResponse.objects.count() == 1
    created = AuditEvent.objects.filter(object_id=str(saved.pk), action__contains="questionnaire")
    assert created.count() == 1


@pytest.mark.parametrize(("width", "height"), [(768, 1024), (1366, 768)])
def test_the_questionnaire_pages_fit_a_tablet_and_a_desktop(
    transactional_db, chromium, live_server, cast, baseline_week, width, height
):
    require_axe()
    _playwright, browser = chromium
    context = browser.new_context(
        viewport={"width": width, "height": height},
        base_url=live_server.url,
        locale="en-GB",
        bypass_csp=True,
    )
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        sign_in(page, cast.patient_a.user.email, next_page="/questionnaires/")
        for address in ("/questionnaires/", "/questionnaires/faam/", "/questionnaires/psfs/"):
            page.goto(address)
            expect(page.get_by_role("heading", level=1)).to_be_visible()
            no_sideways_scroll(page)
            assert axe_violations(page) == [], address
        # With a mouse, a click on an answer moves on as a tap does.
        page.goto("/questionnaires/faam/")
        # The script shows one question at a time once it has run (after it has looked in the
        # phone's queue, which a fresh browser profile can take seconds to open); click only then.
        expect(page.locator("form.stepping")).to_be_attached(timeout=20_000)
        expect(page.locator("legend:visible .q-number")).to_have_text("Question 1 of 29")
        page.get_by_role("radio", name="Slight difficulty", exact=True).click()
        expect(page.locator("legend:visible .q-number")).to_have_text("Question 2 of 29")
    finally:
        context.close()
