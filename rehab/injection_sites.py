"""The coded sites of a corticosteroid injection, and the Achilles guard.

docs/clinical-rules.md ("Injection sites", the product's clinical specification): an injection
records a ``site`` code from a fixed list; three codes name the Achilles tendon or what abuts it
and are refused; ``other`` is a site described in the note. The note is checked as a second line:
a note that names the Achilles tendon, its paratenon, its insertion or the retrocalcaneal bursa
(in any common spelling of the languages the product speaks) refuses the injection whatever code
was chosen. Free text alone is never enough to allow an injection.

Pure functions and labels only (no models), so the services, the forms and the API schema share
one list.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import TYPE_CHECKING, Final

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# The seed (a guideline summary) behind "never into or near the Achilles tendon".
SOURCE: Final = "002_cddceb049a0c87f7.txt"


class InjectionSite(models.TextChoices):
    POSTERIOR_ANKLE_POSTEROLATERAL = (
        "posterior_ankle_posterolateral",
        _("Posterior ankle joint, posterolateral approach (away from the Achilles)"),
    )
    POSTERIOR_ANKLE_POSTEROMEDIAL = (
        "posterior_ankle_posteromedial",
        _("Posterior ankle joint, posteromedial approach"),
    )
    SUBTALAR_JOINT = "subtalar_joint", _("Posterior subtalar joint")
    OS_TRIGONUM_REGION = (
        "os_trigonum_region",
        _("Os trigonum / posterior talar process region (image-guided)"),
    )
    FHL_TENDON_SHEATH = (
        "fhl_tendon_sheath",
        _("Flexor hallucis longus tendon sheath (image-guided)"),
    )
    ACHILLES_TENDON = "achilles_tendon", _("Into the Achilles tendon")
    ACHILLES_PARATENON = "achilles_paratenon", _("Paratenon or around the Achilles tendon")
    RETROCALCANEAL_BURSA = (
        "retrocalcaneal_bursa",
        _("Retrocalcaneal bursa (abuts the Achilles insertion)"),
    )
    OTHER = "other", _("Another site, described in the note")


REFUSED: Final = frozenset(
    {
        InjectionSite.ACHILLES_TENDON,
        InjectionSite.ACHILLES_PARATENON,
        InjectionSite.RETROCALCANEAL_BURSA,
    }
)
ALLOWED: Final = tuple(code for code in InjectionSite.values if code not in REFUSED)

# Why each refused code is refused, in a clinician's words.
_REFUSAL_WHY: Final[Mapping[str, StrOrPromise]] = {
    InjectionSite.ACHILLES_TENDON: _("this site is the Achilles tendon itself"),
    InjectionSite.ACHILLES_PARATENON: _("this site is the sheath around the Achilles tendon"),
    InjectionSite.RETROCALCANEAL_BURSA: _("the retrocalcaneal bursa abuts the Achilles insertion"),
}

# The note check. Matched on the text folded to lower case without accents ("Tendón" is
# "tendon", "Achillessehne" starts "achill"), so one pattern covers English, Spanish, French and
# German spellings: Achilles, Achiles, Achille, Aquiles, Akilles, Achillessehne, tendoachilles,
# calcaneal tendon / tendo calcaneus / tendón calcáneo / tendon calcanéen, heel cord, paratenon /
# paratendón, retrocalcaneal / retrocalcáneo / rétrocalcanéen, Fersensehne.
_ACHILLES_WORDS: Final = re.compile(
    r"a(?:ch|k|qu)h?il"  # achilles, achiles, achille, achill(essehne), aquiles, akilles
    r"|calcane(?:al|an|o|us|en)?\s+tendon|tendo(?:n)?\s*(?:de\s+|du\s+)?calcane"
    r"|heel[\s-]*cords?"
    r"|paraten[od]"  # paratenon, paratendon, paratendón
    r"|retro[\s-]*calcane"
    r"|fersensehne",
)
# "AT insertion", "AT paratenon": the abbreviation is read in capitals only, so that "at
# insertion of the needle" in ordinary English is not mistaken for it.
_ACHILLES_ABBREVIATION: Final = re.compile(r"\bAT[\s-]+(?:insertion|paratenon|tendon|bursa)\b")


def fold(text: str) -> str:
    """``text`` in lower case without accents ("Tendón de Aquiles": "tendon de aquiles")."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def names_achilles(text: str) -> bool:
    """Whether free text names the Achilles tendon, its paratenon, insertion or the bursa."""
    if not text:
        return False
    return bool(_ACHILLES_WORDS.search(fold(text)) or _ACHILLES_ABBREVIATION.search(text))


def site_label(code: str) -> str:
    """The words for a site code; an unknown value (free text of another kind) as it is."""
    try:
        return str(InjectionSite(code).label)
    except ValueError:
        return code


def _refusal(why: str) -> str:
    return gettext(
        "Refused: a corticosteroid injection must never be given into or near the Achilles "
        "tendon (%(why)s); it weakens the tendon and risks rupture (source: seed %(source)s). "
        "Choose a posterior ankle site away from the tendon."
    ) % {"why": why, "source": SOURCE}


def injection_problems(*, site: str, note: str) -> dict[str, list[str]]:
    """What is wrong with the site and note of a corticosteroid injection ({} when nothing).

    ``site`` must be one of the codes; a refused code, an unknown one, an empty one, ``other``
    without a note, or a note that names the Achilles are each refused with the reason.
    """
    problems: dict[str, list[str]] = {}
    if not site:
        problems["site"] = [
            gettext("Choose the injection site from the list (for another site: %(other)s).")
            % {"other": "other"}
        ]
    elif site in REFUSED:
        problems["site"] = [_refusal(str(_REFUSAL_WHY[site]))]
    elif site not in InjectionSite.values and names_achilles(site):
        problems["site"] = [_refusal(gettext("the site names the Achilles tendon"))]
    elif site not in InjectionSite.values:
        problems["site"] = [
            gettext("Unknown injection site %(site)s: use one of %(codes)s.")
            % {"site": repr(site[:40]), "codes": ", ".join(ALLOWED)}
        ]
    if names_achilles(note):
        why = gettext("the note names the Achilles tendon or its insertion")
        problems["note"] = [_refusal(why)]
    elif site == InjectionSite.OTHER and not note.strip():
        problems["note"] = [gettext("Describe the site in the note when it is “other”.")]
    return problems
