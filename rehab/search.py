"""Finding a patient by what staff type: a name, part of it, an email address, initials ("GL"),
or an initial and a surname ("G. Liu"). One rule for the caseload and the patient list.

Every word must match (they narrow, as before):

- a word ending in a dot ("G.") is an initial: a first or last name starting with it;
- any other word is found in the first name, the last name or the email address;
- a query of two letters and nothing else ("GL", "gl"), or of three capitals ("GML"), also
  matches the patient whose first name starts with its first letter and whose last name starts
  with its last one (three lower-case letters are a word: "liu", "ann").

The result is a ``Q`` over the patient's user, reached through ``prefix`` ("user__" from a
``Patient``, "patient__user__" from an ``Episode``): the narrowing happens in SQL, inside the
caller's scoped query, and never widens it.
"""

from __future__ import annotations

from django.db.models import Q

SEARCH_MAX_LENGTH = 100


def normalise(query: str) -> str:
    """Whitespace folded, at most SEARCH_MAX_LENGTH characters."""
    return " ".join(query.split())[:SEARCH_MAX_LENGTH]


def _word(word: str, prefix: str) -> Q:
    first, last, email = f"{prefix}first_name", f"{prefix}last_name", f"{prefix}email"
    initial = word.rstrip(".")
    if word.endswith(".") and initial:
        return Q(**{f"{first}__istartswith": initial}) | Q(**{f"{last}__istartswith": initial})
    return (
        Q(**{f"{first}__icontains": word})
        | Q(**{f"{last}__icontains": word})
        | Q(**{f"{email}__icontains": word})
    )


def _initials(query: str, prefix: str) -> Q | None:
    if not query.isalpha() or not (len(query) == 2 or (len(query) == 3 and query.isupper())):
        return None
    return Q(**{f"{prefix}first_name__istartswith": query[0]}) & Q(
        **{f"{prefix}last_name__istartswith": query[-1]}
    )


def patient_search(query: str, *, prefix: str) -> Q:
    """The condition for ``query`` (already normalised); an empty query matches everybody."""
    words = query.split()
    condition = Q()
    for word in words:
        condition &= _word(word, prefix)
    initials = _initials(query, prefix) if len(words) == 1 else None
    return condition | initials if initials is not None else condition
