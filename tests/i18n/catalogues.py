"""Reading and regenerating the gettext catalogues for the i18n checks (docs/i18n.md).

A tiny .po reader (the project has no polib): entries with their context, msgid, plural and
msgstr forms and flags; enough for "is every msgid there" and "is anything empty or fuzzy".
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LOCALE = ROOT / "locale"
DOMAINS = ("django", "djangojs")
# The folders makemessages leaves alone: tools, tests and data are no user-facing text.
IGNORED = ("node_modules", "tools", "tests", "var", "staticfiles", "bench", "docs")
# What the temporary copy of the project leaves out (besides IGNORED).
NOT_COPIED = (".git", ".venv", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache")


@dataclass
class Entry:
    msgctxt: str | None = None
    msgid: str = ""
    msgid_plural: str | None = None
    msgstr: list[str] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False

    @property
    def key(self) -> tuple[str | None, str, str | None]:
        return (self.msgctxt, self.msgid, self.msgid_plural)


def read_po(path: Path) -> list[Entry]:
    """The entries of a .po file as gettext writes it (one blank line between entries), the
    header (msgid "") included, obsolete ones marked."""
    entries = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        entry = _entry(block.splitlines())
        if entry is not None:
            entries.append(entry)
    return entries


def _entry(lines: list[str]) -> Entry | None:
    entry = Entry()
    last: str | None = None
    seen = False
    for raw in lines:
        line = raw.strip()
        if line.startswith("#~"):
            entry.obsolete = True
            line = line[2:].strip()
        if line.startswith("#,"):
            entry.flags.update(flag.strip() for flag in line[2:].split(","))
            continue
        if not line or line.startswith("#"):
            continue
        if line.startswith('"'):
            value = ast.literal_eval(line)
        else:
            keyword, _, rest = line.partition(" ")
            value = ast.literal_eval(rest)
            last = "msgstr" if keyword.startswith("msgstr") else keyword
            seen = True
            if last == "msgstr":
                entry.msgstr.append("")
            elif last == "msgctxt":
                entry.msgctxt = ""
            elif last == "msgid_plural":
                entry.msgid_plural = ""
        if last == "msgctxt":
            entry.msgctxt = (entry.msgctxt or "") + value
        elif last == "msgid":
            entry.msgid += value
        elif last == "msgid_plural":
            entry.msgid_plural = (entry.msgid_plural or "") + value
        elif last == "msgstr":
            entry.msgstr[-1] += value
    return entry if seen else None


def live(entries: list[Entry]) -> list[Entry]:
    """The entries that count: not the header, not obsolete."""
    return [e for e in entries if e.msgid and not e.obsolete]


def project_copy(destination: Path) -> Path:
    """A copy of the project's source (what makemessages reads), so that regenerating the
    catalogues never touches the committed ones."""

    def ignore(folder: str, names: list[str]) -> set[str]:
        at_root = Path(folder).resolve() == ROOT
        skipped = {n for n in names if n in NOT_COPIED or n.endswith((".sqlite3", ".pyc"))}
        if at_root:
            skipped |= {n for n in names if n in IGNORED}
        return skipped

    target = destination / "project"
    shutil.copytree(ROOT, target, ignore=ignore, symlinks=True)
    return target


def makemessages(project: Path, language: str = "es") -> None:
    """``make messages``'s makemessages run, in ``project`` (a copy)."""
    ignore_args = [arg for name in IGNORED for arg in ("-i", name)]
    for domain in DOMAINS:
        subprocess.run(
            [
                sys.executable,
                "manage.py",
                "makemessages",
                "-l",
                language,
                "-d",
                domain,
                "--add-location",
                "file",
                "--no-obsolete",
                *ignore_args,
            ],
            cwd=project,
            check=True,
            capture_output=True,
            env={**_environment(), "DJANGO_SETTINGS_MODULE": "config.settings"},
        )


def _environment() -> dict[str, str]:
    import os

    # No database or broker is needed to extract strings; keep the caller's PATH (xgettext).
    return {key: value for key, value in os.environ.items() if not key.startswith("PYTEST")}


def msgfmt(po: Path, mo: Path) -> None:
    subprocess.run(
        ["msgfmt", "--check-format", "-o", str(mo), str(po)],  # noqa: S607 (gettext's msgfmt)
        check=True,
        capture_output=True,
    )
