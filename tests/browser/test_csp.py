"""Every kind of page works under the Content-Security-Policy, in Chromium, with zero violations.

A listener for ``securitypolicyviolation`` is installed in every page before its scripts run,
and the console is watched for Chromium's "Content Security Policy" messages. Each page must
send the policy (so the test cannot pass for want of one), draw what it should, and report
nothing: the patient's today page, the caseload, an episode page with its three Plotly charts
(and a chart downloaded as PNG), the API docs (Swagger UI), the browsable API and the Django
admin.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from accounts.models import User
from rehab.demo import DEMO_COURSES, DEMO_PATIENT_PASSWORD, DEMO_THERAPIST, seed_demo

pytestmark = pytest.mark.browser

LISTEN = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(
    `${event.effectiveDirective} blocked ${event.blockedURI || "inline"} ` +
    `at ${event.sourceFile}:${event.lineNumber}`
  );
});
"""
OPERATOR_PASSWORD = "operator-correct-horse"


class Watch:
    """Violations seen by the page's listener and in the console, and the policy of each page."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.console: list[str] = []
        self.policies: dict[str, str | None] = {}
        self.checked: list[str] = []
        page.context.add_init_script(LISTEN)
        page.on("console", self._console)
        page.on("response", self._response)

    def _console(self, message: Any) -> None:
        if "Content Security Policy" in message.text:
            self.console.append(message.text)

    def _response(self, response: Any) -> None:
        if response.request.resource_type == "document":
            self.policies[response.url] = response.headers.get("content-security-policy")

    def assert_clean(self, name: str) -> None:
        violations = self.page.evaluate("window.__cspViolations")
        assert violations == [], f"{name}: {violations}"
        assert self.console == [], f"{name}: {self.console}"
        policy = self.policies.get(self.page.url)
        assert policy and "script-src 'self';" in policy, f"{name}: no policy on {self.page.url}"
        self.checked.append(name)


@pytest.fixture
def watched(phone: Any) -> Iterator[Watch]:
    yield Watch(phone)


def sign_in(page: Any, email: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    # Wait until the sign-in has landed: a page.goto() right after the click would abort it.
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def test_the_pages_run_under_the_policy(
    watched: Watch, live_server: Any, transactional_db: Any
) -> None:
    seed_demo()
    page = watched.page

    # The patient's today page.
    sign_in(page, DEMO_COURSES[0].email, DEMO_PATIENT_PASSWORD)
    expect(page.get_by_role("button", name=re.compile("Save"))).to_be_visible()
    watched.assert_clean("patient today")
    page.context.clear_cookies()

    # The caseload, then an episode with its charts.
    sign_in(page, DEMO_THERAPIST.email, DEMO_THERAPIST.password)
    expect(page.get_by_role("heading", level=1)).to_contain_text("caseload")
    watched.assert_clean("caseload")
    page.get_by_role("link", name=re.compile("Okafor")).click()
    for chart in ("chart-pain", "chart-rom", "chart-adherence"):
        expect(page.locator(f"#{chart} .main-svg").first).to_be_visible()
    # plotly.js styles its layers through rules it adds at run time: without them the plot's
    # SVG layers are not stacked and the chart is taller than its card.
    position = page.locator("#chart-pain .main-svg").first.evaluate(
        "el => getComputedStyle(el).position"
    )
    assert position == "absolute"
    watched.assert_clean("episode page")

    # "Download as PNG" draws the chart into an image first (a blob: URL).
    with page.expect_download() as download:
        page.locator("#chart-pain .modebar-btn").first.dispatch_event("click")
    assert download.value.suggested_filename.endswith(".png")
    watched.assert_clean("chart download")

    # The API docs: Swagger UI lists the operations of our schema.
    page.goto("/api/docs/")
    expect(page.locator(".opblock").first).to_be_visible()
    assert page.locator(".opblock").count() >= 40
    watched.assert_clean("API docs")

    # The browsable API, with the therapist's session.
    page.goto("/api/v1/episodes/")
    expect(page.locator(".response-info")).to_contain_text('"count"')
    watched.assert_clean("browsable API")
    page.context.clear_cookies()

    # The Django admin, as an operator.
    operator = User.objects.create_superuser(email="operator@demo.test", password=OPERATOR_PASSWORD)
    sign_in(page, operator.email, OPERATOR_PASSWORD)
    for path in ("/admin/", "/admin/rehab/episode/", "/admin/accounts/user/add/"):
        page.goto(path)
        expect(page.locator("#content")).to_be_visible()
        watched.assert_clean(f"admin {path}")

    print(
        f"\nCSP in Chromium: {len(watched.checked)} pages checked, 0 violations: {watched.checked}"
    )
