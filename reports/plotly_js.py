"""The plotly.js that draws the charts: a partial bundle served from our own static files.

The charts must work in a clinic network with no internet access, and no page may contact another
origin, so plotly.js is never loaded from a CDN. Nor do we serve the full 4.7 MB bundle that ships
inside the Python ``plotly`` package: the figure builders draw only scatter and bar traces, so
``static/vendor/plotly-pais.min.js`` holds plotly.js's core with those two trace types (about a
quarter of the size; it is the bulk of the episode page's first visit, docs/performance.md).

It is built reproducibly from the npm package by ``make plotly`` (tools/plotly) and CI rebuilds it
and compares the bytes (``make plotly-check``). Its version must be exactly the one the Python
package was made for (``plotly.offline.get_plotlyjs_version()``), or the JSON the builders write
may mean something else to the JavaScript that draws it: the check below says so at start-up,
and tests/reports/test_plotly_bundle.py in the test suite.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register

PLOTLY_JS = "vendor/plotly-pais.min.js"

# The first line of the bundle, written by tools/plotly/build.mjs from plotly.js's package.json.
_BANNER_VERSION = re.compile(r"\A/\*! plotly\.js v(\S+) ")


def plotly_js_path() -> Path:
    """The committed bundle, in our static files."""
    return Path(settings.BASE_DIR) / "static" / PLOTLY_JS


def bundled_plotlyjs_version(head: str) -> str | None:
    """The plotly.js version named in the bundle's first line, or None if it names none."""
    match = _BANNER_VERSION.match(head)
    return match.group(1) if match else None


@register()
def check_plotly_js(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """The bundle is there, and is the plotly.js version the Python plotly package writes for."""
    import plotly.offline

    path = plotly_js_path()
    expected = plotly.offline.get_plotlyjs_version()
    hint = "Run `make plotly` (tools/plotly: pin plotly.js at that version) and commit the bundle."
    try:
        with path.open(encoding="utf-8") as bundle:
            head = bundle.read(200)
    except OSError:
        return [Error(f"The plotly.js bundle is missing ({path}).", hint=hint, id="reports.E001")]
    found = bundled_plotlyjs_version(head)
    if found != expected:
        return [
            Error(
                f"The plotly.js bundle is version {found}, but the plotly package writes figures "
                f"for plotly.js {expected}.",
                hint=hint,
                id="reports.E002",
            )
        ]
    return []
