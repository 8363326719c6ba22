"""The service worker's push handlers (templates/pwa/sw_push.js), run in Node against a stand-in
for the worker's ``self``: a push shows the notification from the payload, a click focuses an
open diary window or opens one, and only ever at our own origin.

Skipped where Node is not installed; the end-to-end push test covers the server side."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import pytest
from django.template.loader import render_to_string

NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="Node.js is not installed")

HARNESS = """
const listeners = {};
const shown = [];
const opened = [];
const focused = [];
const scenario = %(scenario)s;
const windows = scenario.windows.map((url) => ({
  url,
  focus() { focused.push(url); return Promise.resolve(this); },
  navigate(target) { focused.push("navigate " + target); return Promise.resolve(this); },
}));
global.self = {
  addEventListener: (type, handler) => { listeners[type] = handler; },
  location: { origin: "https://diary.example" },
  registration: {
    showNotification: (title, options) => {
      shown.push({ title, options });
      return Promise.resolve();
    },
  },
  clients: {
    matchAll: () => Promise.resolve(windows),
    openWindow: (url) => { opened.push(url); return Promise.resolve(null); },
  },
};
%(source)s
const waits = [];
const closed = [];
if (scenario.push !== undefined) {
  listeners.push({
    data: scenario.push === null ? null : { json: () => JSON.parse(scenario.push) },
    waitUntil: (promise) => waits.push(promise),
  });
}
if (scenario.click !== undefined) {
  listeners.notificationclick({
    notification: { data: { url: scenario.click }, close: () => closed.push(true) },
    waitUntil: (promise) => waits.push(promise),
  });
}
Promise.all(waits).then(() => {
  console.log(JSON.stringify({ shown, opened, focused, closed: closed.length }));
});
"""


def _run(**scenario: Any) -> dict[str, Any]:
    scenario.setdefault("windows", [])
    source = render_to_string("pwa/sw_push.js")
    script = HARNESS % {"scenario": json.dumps(scenario), "source": source}
    assert NODE is not None
    done = subprocess.run(
        [NODE, "-e", script], capture_output=True, text=True, timeout=30, check=True
    )
    return dict(json.loads(done.stdout))


def test_a_push_shows_the_payloads_words_with_our_icon() -> None:
    payload = {"title": "Rehab diary", "body": "A minute for today's diary?", "url": "/"}

    result = _run(push=json.dumps(payload))

    (notification,) = result["shown"]
    assert notification["title"] == "Rehab diary"
    assert notification["options"]["body"] == "A minute for today's diary?"
    assert notification["options"]["data"] == {"url": "/"}
    assert notification["options"]["icon"].endswith("icons/icon-192.png")


def test_a_push_without_a_payload_still_shows_something_kind() -> None:
    (notification,) = _run(push=None)["shown"]

    assert notification["title"] == "Rehab diary"
    assert notification["options"]["data"] == {"url": "/"}


def test_a_click_opens_the_days_page_when_no_window_is_open() -> None:
    result = _run(click="/")

    assert result["opened"] == ["https://diary.example/"]
    assert result["closed"] == 1


def test_a_click_focuses_an_open_diary_window() -> None:
    result = _run(click="/", windows=["https://diary.example/history/"])

    assert result["opened"] == []
    assert result["focused"] == [
        "https://diary.example/history/",
        "navigate https://diary.example/",
    ]


def test_a_click_never_leaves_our_site() -> None:
    result = _run(click="https://evil.example/phish")

    assert result["opened"] == ["https://diary.example/"]
