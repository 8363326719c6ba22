"""The translation check in `make test` (docs/i18n.md, "The checks").

* Every string marked for translation is in the committed catalogues: makemessages, run on a
  copy of the project, finds no msgid that locale/es lacks. A string marked but not yet in the
  catalogue fails here, with its text; `make messages` adds it.
* The Spanish catalogue has no empty and no fuzzy entry.
* The committed .mo files are the compiled .po files (the site reads the .mo).
"""

from __future__ import annotations

import gettext
from pathlib import Path

import pytest

from tests.i18n.catalogues import DOMAINS, LOCALE, live, makemessages, msgfmt, project_copy, read_po

LANGUAGES = ("es",)


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The locale folder of a project copy after makemessages (the committed one untouched)."""
    project = project_copy(tmp_path_factory.mktemp("catalogue"))
    for language in LANGUAGES:
        makemessages(project, language)
    return project / "locale"


def _po(locale: Path, language: str, domain: str) -> Path:
    return locale / language / "LC_MESSAGES" / f"{domain}.po"


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("domain", DOMAINS)
def test_every_marked_string_is_in_the_catalogue(
    regenerated: Path, language: str, domain: str
) -> None:
    found = _po(regenerated, language, domain)
    if not found.exists():
        # makemessages writes no file for a domain with no marked string.
        return
    committed = _po(LOCALE, language, domain)
    assert committed.exists(), f"{committed} is missing: run `make messages`"
    known = {entry.key for entry in live(read_po(committed))}
    missing = [entry.msgid for entry in live(read_po(found)) if entry.key not in known]
    assert missing == [], f"marked but not in {committed} (run `make messages`): {missing}"


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("domain", DOMAINS)
def test_the_catalogue_holds_no_string_the_code_lost(
    regenerated: Path, language: str, domain: str
) -> None:
    """The other way round: an entry whose string is gone from the code is stale (obsolete)."""
    committed = _po(LOCALE, language, domain)
    if not committed.exists():
        return
    found = _po(regenerated, language, domain)
    current = {entry.key for entry in live(read_po(found))} if found.exists() else set()
    stale = [entry.msgid for entry in live(read_po(committed)) if entry.key not in current]
    assert stale == [], f"in {committed} but no longer in the code (run `make messages`): {stale}"


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("domain", DOMAINS)
def test_no_entry_is_empty_or_fuzzy(language: str, domain: str) -> None:
    committed = _po(LOCALE, language, domain)
    if not committed.exists():
        return
    entries = read_po(committed)
    header = next(entry for entry in entries if not entry.msgid)
    assert "fuzzy" not in header.flags, f"{committed}: the header is marked fuzzy"
    empty = [e.msgid for e in live(entries) if not e.msgstr or any(not s for s in e.msgstr)]
    fuzzy = [e.msgid for e in live(entries) if "fuzzy" in e.flags]
    assert empty == [], f"{committed}: untranslated: {empty}"
    assert fuzzy == [], f"{committed}: fuzzy (check and unmark): {fuzzy}"


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("domain", DOMAINS)
def test_compiled_catalogue_is_the_po(tmp_path: Path, language: str, domain: str) -> None:
    """Compared by content, not bytes: another msgfmt version may lay the file out otherwise."""
    po = _po(LOCALE, language, domain)
    if not po.exists():
        return
    mo = po.with_suffix(".mo")
    assert mo.exists(), f"{mo} is missing: run `make messages`"
    fresh = tmp_path / "fresh.mo"
    msgfmt(po, fresh)
    with mo.open("rb") as committed, fresh.open("rb") as compiled:
        assert gettext.GNUTranslations(committed)._catalog == (  # type: ignore[attr-defined]
            gettext.GNUTranslations(compiled)._catalog  # type: ignore[attr-defined]
        ), f"{mo} is out of date: run `make messages`"


def test_the_reader_sees_what_gettext_sees() -> None:
    """The check's own .po reader agrees with msgfmt on the committed catalogue's msgids."""
    po = _po(LOCALE, "es", "django")
    entries = live(read_po(po))
    assert entries, "the committed Spanish catalogue has no entries"
    assert all(entry.msgid for entry in entries)
    plural = [entry for entry in entries if entry.msgid_plural]
    assert plural and all(len(entry.msgstr) >= 2 for entry in plural)
