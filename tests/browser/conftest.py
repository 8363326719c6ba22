"""Playwright fixtures: Debian's Chromium on a phone-sized screen against ``live_server``.

Without /usr/bin/chromium the browser tests are skipped on a laptop, but fail loudly when
PAIS_REQUIRE_BROWSER=1 (CI sets it), so a broken CI image cannot pass by skipping them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def _unavailable(reason: str) -> None:
    if os.environ.get("PAIS_REQUIRE_BROWSER") == "1":
        pytest.fail(f"PAIS_REQUIRE_BROWSER=1 but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def _async_unsafe_allowed() -> Iterator[None]:
    # Playwright's sync API runs an event loop in this thread; Django refuses ORM calls from a
    # thread with a running loop unless told that this is deliberate.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="module")
def chromium(_async_unsafe_allowed: None) -> Iterator[tuple[Any, Any]]:
    """(playwright, browser); module-scoped so the event loop ends with the browser tests."""
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is not installed")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield playwright, browser
        finally:
            browser.close()


def _phone_page(
    chromium: tuple[Any, Any], live_server: Any, *, width: int, height: int, locale: str
) -> Iterator[Any]:
    """A page in a phone profile (Pixel 7 touch and user agent) at that size and language."""
    playwright, browser = chromium
    profile = {
        **playwright.devices["Pixel 7"],
        "viewport": {"width": width, "height": height},
        "screen": {"width": width, "height": height},
    }
    context = browser.new_context(**profile, base_url=live_server.url, locale=locale)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def phone(chromium: tuple[Any, Any], live_server: Any) -> Iterator[Any]:
    """A page in a phone profile (Pixel 7, 360 × 780 CSS pixels), in British English."""
    yield from _phone_page(chromium, live_server, width=360, height=780, locale="en-GB")


@pytest.fixture
def spanish_phone(chromium: tuple[Any, Any], live_server: Any) -> Iterator[Any]:
    """A page in a phone profile (Pixel 7, 412 × 915 CSS pixels) whose browser asks for Spanish."""
    yield from _phone_page(chromium, live_server, width=412, height=915, locale="es-ES")


@pytest.fixture
def laptop(chromium: tuple[Any, Any], live_server: Any) -> Iterator[Any]:
    """A page in a desktop browser (1366 × 900, mouse, no touch), in British English."""
    _, browser = chromium
    context = browser.new_context(
        viewport={"width": 1366, "height": 900}, base_url=live_server.url, locale="en-GB"
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
