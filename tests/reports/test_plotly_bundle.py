"""The plotly.js bundle we serve: the version the Python package writes figures for, built from
the pinned npm package by tools/plotly, with exactly the trace types the figure builders draw.

`make plotly-check` rebuilds it and compares the bytes (CI); these tests need no npm. That the
bundle runs and registers those traces in a browser: tests/browser/test_charts_load_late.py.
"""

from __future__ import annotations

import ast
import hashlib
import json
from pathlib import Path

import plotly.graph_objects as go
import plotly.offline
from django.conf import settings
from plotly.basedatatypes import BaseTraceType

from reports import plotly_js
from reports.charts import charts_for_course
from reports.course import episode_course
from reports.plotly_js import bundled_plotlyjs_version, check_plotly_js, plotly_js_path
from tests.courses import charted_course, charted_episode

ROOT = Path(settings.BASE_DIR)
TOOLS = ROOT / "tools" / "plotly"
PLOTLYJS_VERSION = plotly.offline.get_plotlyjs_version()


def manifest() -> dict:
    return json.loads((TOOLS / "bundle.json").read_text())


def traces_the_builders_construct() -> set[str]:
    """Every trace type reports/ makes: ``go.<Trace>(...)`` and ``figure.add_<trace>(...)``.

    Read from the source, so a branch the demo never reaches still counts.
    """
    trace_classes = {
        name: cls
        for name in dir(go)
        if isinstance(cls := getattr(go, name), type) and issubclass(cls, BaseTraceType)
    }
    trace_types = {cls._path_str for cls in trace_classes.values()}
    found: set[str] = set()
    for path in (ROOT / "reports").glob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute):
                if node.attr in trace_classes:
                    found.add(trace_classes[node.attr]._path_str)
                elif node.attr.startswith("add_") and node.attr[4:] in trace_types:
                    found.add(node.attr[4:])
    return found


def test_the_bundle_is_the_plotly_js_version_of_the_python_package():
    head = plotly_js_path().read_text(encoding="utf-8")[:300]
    assert bundled_plotlyjs_version(head) == PLOTLYJS_VERSION
    # plotly.js's own version string, compiled in from its src/version.js.
    assert f'version="{PLOTLYJS_VERSION}"' in plotly_js_path().read_text(encoding="utf-8")
    # Built from that npm package, pinned in the lock file `make plotly` installs from.
    package = json.loads((TOOLS / "package.json").read_text())
    lock = json.loads((TOOLS / "package-lock.json").read_text())
    assert package["dependencies"]["plotly.js"] == PLOTLYJS_VERSION
    assert lock["packages"]["node_modules/plotly.js"]["version"] == PLOTLYJS_VERSION
    assert manifest()["source"] == f"plotly.js@{PLOTLYJS_VERSION}"
    assert manifest()["plotlyjs_version"] == PLOTLYJS_VERSION


def test_the_manifest_describes_the_committed_file():
    bundle = plotly_js_path().read_bytes()
    assert manifest()["file"] == "static/vendor/plotly-pais.min.js"
    assert manifest()["bytes"] == len(bundle)
    assert manifest()["sha256"] == hashlib.sha256(bundle).hexdigest()
    # A partial bundle: the full one in the Python package is over 4 MB.
    assert len(bundle) < 1_500_000


def test_the_bundle_has_exactly_the_trace_types_the_figure_builders_use():
    used = traces_the_builders_construct()
    assert used == {"scatter", "bar"}, "a new trace type: add it to tools/plotly/entry.js"
    assert set(manifest()["traces"]) == used


def test_every_trace_of_an_episodes_charts_is_in_the_bundle(cast):
    episode = charted_episode(cast)
    charted_course(episode, days=50)
    charts = charts_for_course(episode_course(episode=episode, as_of=episode.patient.local_today()))
    drawn = {trace.get("type", "scatter") for chart in charts for trace in chart.figure["data"]}
    assert drawn <= set(manifest()["traces"])
    assert "bar" in drawn and "scatter" in drawn


def test_the_system_check_passes_and_names_a_missing_or_mismatched_bundle(tmp_path, monkeypatch):
    assert check_plotly_js() == []
    monkeypatch.setattr(plotly.offline, "get_plotlyjs_version", lambda: "9.9.9")
    [mismatch] = check_plotly_js()
    assert mismatch.id == "reports.E002"
    assert f"version {PLOTLYJS_VERSION}" in mismatch.msg and "9.9.9" in mismatch.msg
    monkeypatch.setattr(plotly_js, "plotly_js_path", lambda: tmp_path / "absent.js")
    [missing] = check_plotly_js()
    assert missing.id == "reports.E001"
