"""A tiny Spanish catalogue for the language tests, before the real one is written (phase 2).

``fake_spanish`` compiles a few entries into a temporary locale folder placed before locale/;
Django's setting_changed handler then forgets the loaded catalogues, so the fake ones are read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.utils import translation

from tests.i18n.catalogues import msgfmt

PO_HEADER = (
    'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n'
    '"Language: es\\n"\n"Plural-Forms: nplurals=2; plural=(n != 1);\\n"\n\n'
)


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


@pytest.fixture(autouse=True)
def _english_after_each_test() -> Iterator[None]:
    """A test client's request leaves its language active in the thread; the next test starts
    from the default, as a new request would."""
    yield
    translation.activate(django_settings.LANGUAGE_CODE)


@pytest.fixture
def fake_spanish(settings, tmp_path: Path) -> Iterator[Callable[[dict[str, str]], None]]:
    def install(entries: dict[str, str]) -> None:
        folder = tmp_path / "locale" / "es" / "LC_MESSAGES"
        folder.mkdir(parents=True, exist_ok=True)
        body = "".join(
            f"msgid {_quoted(msgid)}\nmsgstr {_quoted(msgstr)}\n\n"
            for msgid, msgstr in entries.items()
        )
        po = folder / "django.po"
        po.write_text(PO_HEADER + body, encoding="utf-8")
        msgfmt(po, folder / "django.mo")
        settings.LOCALE_PATHS = [tmp_path / "locale", *django_settings.LOCALE_PATHS]

    yield install
