"""plotly.js served from our own static files, straight out of the installed plotly package.

The charts must work in a clinic network with no internet access, and no page may contact
another origin, so plotly.js is never loaded from a CDN. Nor is a 4.8 MB copy committed: this
finder exposes the bundle that ships inside the Python ``plotly`` package (so the JavaScript
always matches the Python figure builders) as ``vendor/plotly.min.js``, and nothing else from
that package. ``collectstatic`` copies it like any other static file; in development WhiteNoise
and runserver find it through the finder.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal, overload

from django.contrib.staticfiles.finders import BaseFinder
from django.core.checks import CheckMessage, Error
from django.core.files.storage import FileSystemStorage

PLOTLY_JS = "vendor/plotly.min.js"
_PREFIX, _NAME = PLOTLY_JS.rsplit("/", 1)


def plotly_js_path() -> Path:
    """Where the installed plotly package keeps its plotly.js bundle."""
    return Path(str(files("plotly") / "package_data" / _NAME))


class _VendorStorage(FileSystemStorage):
    # collectstatic and WhiteNoise put a storage's files under its ``prefix``.
    prefix = _PREFIX


class PlotlyJsFinder(BaseFinder):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.source = plotly_js_path()
        self.storage = _VendorStorage(location=str(self.source.parent))

    def check(self, **kwargs: Any) -> list[CheckMessage]:
        if not self.source.is_file():
            return [
                Error(
                    f"plotly.js is missing from the plotly package (looked for {self.source}).",
                    hint="Reinstall the plotly package; the charts cannot be drawn without it.",
                    id="reports.E001",
                )
            ]
        return []

    @overload
    def find(self, path: str, find_all: Literal[False] = False) -> str | None: ...

    @overload
    def find(self, path: str, find_all: Literal[True]) -> list[str]: ...

    def find(self, path: str, find_all: bool = False) -> str | list[str] | None:
        if path != PLOTLY_JS or not self.source.is_file():
            # "No match" is an empty list either way, as Django's own finders answer:
            # django.contrib.staticfiles.finders.find() would collect a None as a match.
            return []
        return [str(self.source)] if find_all else str(self.source)

    def list(
        self, ignore_patterns: Iterable[str] | None
    ) -> Iterator[tuple[str, FileSystemStorage]]:
        if self.source.is_file():
            yield _NAME, self.storage
