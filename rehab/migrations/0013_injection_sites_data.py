"""Code the sites of the corticosteroid injections recorded as free text (issue 14, point 4).

Each injection's free-text site becomes a code of docs/clinical-rules.md ("Injection sites"):

* a text that names exactly one known site ("posterolateral", "subtalar", "os trigonum",
  "FHL", ...) and nothing of the Achilles becomes that code;
* anything else (an empty site, an unknown or ambiguous text, a text or a note that names the
  Achilles in any spelling) becomes ``other`` and is flagged ``needs_review``: the episode page
  shows it until staff correct the record.

The text as it was is kept at the start of the note ("Site as recorded: ..."), so nothing is
lost. The matching is frozen here (a migration must not change when the application's code
does); tests/migrations/test_injection_sites_migration.py holds it. Other kinds keep their free
text. Going back leaves the codes in place (they are valid text).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from django.db import migrations

CODES = (
    "posterior_ankle_posterolateral",
    "posterior_ankle_posteromedial",
    "subtalar_joint",
    "os_trigonum_region",
    "fhl_tendon_sheath",
    "other",
)
REFUSED = ("achilles_tendon", "achilles_paratenon", "retrocalcaneal_bursa")

KNOWN = (
    ("posterior_ankle_posterolateral", re.compile(r"postero-?\s*lateral")),
    ("posterior_ankle_posteromedial", re.compile(r"postero-?\s*medial")),
    ("subtalar_joint", re.compile(r"sub-?\s*talar|subastragal")),
    (
        "os_trigonum_region",
        re.compile(r"trigon|(?:posterior\s+)?talar\s+process|proceso\s+posterior"),
    ),
    ("fhl_tendon_sheath", re.compile(r"\bfhl\b|flexor\s+hallucis")),
)
ACHILLES = re.compile(
    r"a(?:ch|k|qu)h?il"
    r"|calcane(?:al|an|o|us|en)?\s+tendon|tendo(?:n)?\s*(?:de\s+|du\s+)?calcane"
    r"|heel[\s-]*cords?|paraten[od]|retro[\s-]*calcane|fersensehne"
)
ACHILLES_ABBREVIATION = re.compile(r"\bAT[\s-]+(?:insertion|paratenon|tendon|bursa)\b")


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def names_achilles(text: str) -> bool:
    return bool(text) and bool(ACHILLES.search(fold(text)) or ACHILLES_ABBREVIATION.search(text))


def code_for(text: str) -> str | None:
    """The one code ``text`` names, or None (unknown, ambiguous, empty, or the Achilles)."""
    folded = fold(text).strip()
    if folded in CODES and folded != "other":
        return folded
    if not folded or folded in REFUSED or names_achilles(text):
        return None
    found = {code for code, pattern in KNOWN if pattern.search(folded)}
    return found.pop() if len(found) == 1 else None


def code_sites(apps: Any, schema_editor: Any) -> None:
    Intervention = apps.get_model("rehab", "Intervention")
    injections = Intervention.objects.filter(kind="corticosteroid_injection").order_by("pk")
    for row in injections.iterator():
        text = (row.site or "").strip()
        code = code_for(text)
        note = row.note or ""
        if text and text != code:
            note = f"Site as recorded: {text}" + (f"\n{note}" if note else "")
        elif not text:
            note = "Site not recorded." + (f"\n{note}" if note else "")
        row.site = code or "other"
        row.note = note
        row.needs_review = code is None or names_achilles(row.note)
        row.save(update_fields=["site", "note", "needs_review"])


class Migration(migrations.Migration):
    dependencies = [("rehab", "0012_injection_sites")]

    operations = [migrations.RunPython(code_sites, migrations.RunPython.noop)]
