"""The strong check for unmarked text on the patient's pages (docs/i18n.md, "The checks").

Every string makemessages finds is "translated" to XX (keeping its placeholders), Spanish is made
active, and each patient page is read as a patient sees it: any run of English words left on it
was never marked. Data (names of people, clinics and exercises) is taken out first.
"""

from __future__ import annotations

import html as html_lib
import re
import zoneinfo
from collections.abc import Callable
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from rehab.models import Exercise, Prescription
from tests.i18n.catalogues import live, makemessages, msgfmt, project_copy, read_po

pytestmark = pytest.mark.django_db

# Words that only English text has in such numbers: two words in a row, one of them from this
# list, is a sentence that nobody marked. ("a" and "no" are Spanish words too: not listed.)
ENGLISH = frozenset(
    [
        "an",
        "the",
        "and",
        "or",
        "of",
        "to",
        "in",
        "on",
        "for",
        "with",
        "from",
        "by",
        "at",
        "is",
        "are",
        "was",
        "be",
        "been",
        "your",
        "you",
        "yours",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "how",
        "what",
        "when",
        "where",
        "which",
        "who",
        "not",
        "yet",
        "all",
        "any",
        "some",
        "more",
        "less",
        "than",
        "today",
        "day",
        "days",
        "week",
        "weeks",
        "set",
        "sets",
        "entry",
        "entries",
        "pain",
        "save",
        "saved",
        "change",
        "sign",
        "out",
        "here",
        "there",
        "please",
        "can",
        "will",
        "have",
        "has",
        "do",
        "does",
        "did",
        "open",
        "show",
        "back",
        "next",
        "before",
        "after",
    ]
)
PLACEHOLDER = re.compile(r"%\([^)]+\)[sdif]|%[sdif]")
WORD_RUN = re.compile(r"[A-Za-z][A-Za-z']+(?:\s+[A-Za-z][A-Za-z']+)+")
HIDDEN = re.compile(r"<(script|style|template)\b.*?</\1>", re.S | re.I)
VISIBLE_ATTRIBUTE = re.compile(r'\b(?:aria-label|title|placeholder|alt)="([^"]*)"')
TAG = re.compile(r"<[^>]+>")


def _pseudo(msgid: str) -> str:
    return " ".join(["XX", *PLACEHOLDER.findall(msgid)])


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


@pytest.fixture(scope="module")
def pseudo_locale(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Spanish catalogue of the current code where every string is XX."""
    work = tmp_path_factory.mktemp("pseudo")
    project = project_copy(work)
    makemessages(project, "es")
    found = project / "locale" / "es" / "LC_MESSAGES" / "django.po"
    lines = [
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n'
        '"Plural-Forms: nplurals=2; plural=(n != 1);\\n"\n'
    ]
    for entry in live(read_po(found)):
        block = f"msgctxt {_quoted(entry.msgctxt)}\n" if entry.msgctxt is not None else ""
        block += f"msgid {_quoted(entry.msgid)}\n"
        if entry.msgid_plural is not None:
            block += f"msgid_plural {_quoted(entry.msgid_plural)}\n"
            block += f"msgstr[0] {_quoted(_pseudo(entry.msgid))}\n"
            block += f"msgstr[1] {_quoted(_pseudo(entry.msgid_plural))}\n"
        else:
            block += f"msgstr {_quoted(_pseudo(entry.msgid))}\n"
        lines.append(block)
    folder = work / "locale" / "es" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    po = folder / "django.po"
    po.write_text("\n".join(lines), encoding="utf-8")
    msgfmt(po, folder / "django.mo")
    return work / "locale"


def visible_text(page: str) -> str:
    """What a reader sees or hears: text, and the attributes that are read out or shown."""
    page = HIDDEN.sub(" ", page)
    attributes = " ".join(VISIBLE_ATTRIBUTE.findall(page))
    text = TAG.sub(" ", page)
    return html_lib.unescape(f"{text} {attributes}")


def english_runs(text: str, data: list[str]) -> list[str]:
    for value in sorted(data, key=len, reverse=True):
        if value:
            text = text.replace(value, " ")
    # XX is a translated string: it ends a run of words.
    text = re.sub(r"\bXX\b", " . ", text)
    runs = []
    for run in WORD_RUN.findall(text):
        words = run.lower().split()
        if any(word in ENGLISH for word in words):
            runs.append(" ".join(run.split()))
    return runs


def _data_words(user: User) -> list[str]:
    names = [user.email, user.first_name, user.last_name, user.get_full_name()]
    if user.clinic:
        names.append(user.clinic.name)
    names += list(Exercise.objects.values_list("name", flat=True))
    names += list(Prescription.objects.values_list("name", flat=True))
    # The time-zone list shows IANA names ("America/Port of Spain"): data, not words to translate.
    names += sorted(
        (zone.replace("_", " ") for zone in zoneinfo.available_timezones()), key=len, reverse=True
    )
    return names


PATIENT_PAGES = (
    "/",
    "/history/",
    "/progress/",
    "/account/reminders/",
    "/accounts/security/",
    "/my-data/",
    "/accounts/password/",
)
ANONYMOUS_PAGES = ("/accounts/login/", "/accounts/password/reset/", "/offline/")


def test_the_check_finds_an_english_sentence() -> None:
    assert english_runs("XX 3 XX Save your entry", []) == ["Save your entry"]
    assert english_runs("XX Heel raises XX", ["Heel raises"]) == []
    assert english_runs("Español XX", []) == []


def test_patient_pages_hold_no_unmarked_text(
    cast, settings, pseudo_locale: Path, client_for: Callable[[User], Client]
) -> None:
    settings.LOCALE_PATHS = [pseudo_locale]
    user = cast.patient_a.user
    user.language = "es"
    user.save(update_fields=["language"])
    client = client_for(user)
    found: dict[str, list[str]] = {}
    for url in PATIENT_PAGES:
        response = client.get(url, follow=True)
        assert response.status_code == 200, url
        runs = english_runs(visible_text(response.content.decode()), _data_words(user))
        if runs:
            found[url] = runs
    anonymous = Client(HTTP_ACCEPT_LANGUAGE="es")
    for url in ANONYMOUS_PAGES:
        response = anonymous.get(url, follow=True)
        assert response.status_code == 200, url
        runs = english_runs(visible_text(response.content.decode()), [])
        if runs:
            found[url] = runs
    assert found == {}, f"English left on the pages in Spanish (mark it): {found}"


STAFF_PAGE_NAMES = (
    ("home", ()),
    ("patient-list", ()),
    ("alert-inbox", ()),
    ("thresholds-settings", ()),
    ("webhook-list", ()),
    ("outcomes-report", ()),
    ("account-security", ()),
    ("audit-trail", ()),
    ("security-settings", ()),
)


def test_staff_pages_hold_no_unmarked_text(
    cast, settings, pseudo_locale: Path, client_for: Callable[[User], Client]
) -> None:
    settings.LOCALE_PATHS = [pseudo_locale]
    admin = cast.admin
    admin.language = "es"
    admin.save(update_fields=["language"])
    client = client_for(admin)
    episode = cast.episode_a
    urls = [reverse(name, args=args) for name, args in STAFF_PAGE_NAMES] + [
        reverse("patient-detail", args=[episode.patient_id]),
        reverse("episode", args=[episode.pk]),
        reverse("episode-report", args=[episode.pk]),
    ]
    data = _data_words(admin) + [
        text
        for person in User.objects.all()
        for text in (person.email, person.get_full_name(), person.first_name, person.last_name)
    ]
    found: dict[str, list[str]] = {}
    for url in urls:
        response = client.get(url, follow=True)
        assert response.status_code == 200, url
        runs = english_runs(visible_text(response.content.decode()), data)
        if runs:
            found[url] = runs
    assert found == {}, f"English left on the staff pages in Spanish (mark it): {found}"
