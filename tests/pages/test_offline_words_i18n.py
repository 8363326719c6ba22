"""The offline queue's words (static/js/offline-queue.js), run in Node: in English without
Django's JavaScript catalogue (the service worker has none), through the catalogue's gettext
and interpolate when a page has it, with the day named in the page's language.

Skipped where Node is not installed."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="Node.js is not installed")

QUEUE_SCRIPT = Path(settings.BASE_DIR) / "static" / "js" / "offline-queue.js"

# A stand-in for the worker's or page's global; ``catalogue`` adds a gettext that marks what it
# translated, and Django's interpolate (named placeholders).
HARNESS = """
const scenario = %(scenario)s;
global.self = {};
if (scenario.lang) {
  self.document = { documentElement: { lang: scenario.lang } };
}
if (scenario.catalogue) {
  self.gettext = (text) => "[" + text + "]";
  self.interpolate = (format, values, named) =>
    format.replace(/%%\\((\\w+)\\)s/g, (match, name) => String(values[name]));
}
%(script)s
console.log(JSON.stringify({
  day: self.PaisQueue.dayName("2026-12-05"),
  conflict: self.PaisQueue.conflictText("2026-12-05"),
}));
"""


def _run(**scenario: object) -> dict[str, str]:
    assert NODE is not None
    script = HARNESS % {
        "scenario": json.dumps(scenario),
        "script": QUEUE_SCRIPT.read_text(),
    }
    result = subprocess.run(
        [NODE, "-e", script], capture_output=True, text=True, check=True, timeout=30
    )
    words: dict[str, str] = json.loads(result.stdout)
    return words


def test_without_a_catalogue_the_words_are_english():
    words = _run()
    assert words["day"] == "Saturday 5 December"
    assert words["conflict"] == (
        "Your change to Saturday 5 December was not sent: a newer copy of that day, saved on "
        "another device or by your therapist, was kept."
    )


def test_an_english_page_names_the_day_as_before():
    assert _run(lang="en")["day"] == "Saturday 5 December"


def test_a_page_with_the_catalogue_translates_the_sentence_around_its_day():
    words = _run(lang="es", catalogue=True)
    assert words["day"] != "Saturday 5 December"
    assert "diciembre" in words["day"]
    assert words["conflict"] == (
        "[Your change to " + words["day"] + " was not sent: a newer copy of that day, saved on "
        "another device or by your therapist, was kept.]"
    )
