"""Versions of a daily entry, for HTTP's conditional requests (ETag, If-Match, If-None-Match).

A phone may send an entry long after its form was opened: it queues the save while offline and
sends it when the connection returns. By then the therapist, or the same patient on another
device, may have changed that day. The phone therefore says which version it saw (``If-Match``
with the version, or ``If-None-Match: *`` when there was no entry), and the write is refused
with 412 when the stored entry is no longer that version (api-contract.md, "Daily entries").

The version is a strong ETag derived from the entry's id and ``updated_at``: every write sets
``updated_at``, a delete and re-create changes the id, and a write that changes nothing writes
nothing, so the tag changes exactly when the stored entry does. It is opaque (a digest): clients
compare it, they do not read it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from rehab.models import DailyEntry

ANY = "*"


def entry_etag(entry: DailyEntry) -> str:
    """The entry's version as a quoted strong ETag, e.g. ``"5f0c…"``."""
    stamp = f"{entry.pk}:{entry.updated_at.isoformat()}"
    return f'"{hashlib.sha256(stamp.encode()).hexdigest()[:20]}"'


def _opaque(tag: str) -> str:
    # Django's GZipMiddleware weakens a strong ETag ("W/" prefix) when it compresses the body:
    # the entry is the same, only its transfer encoding differs, so the prefix is ignored.
    tag = tag.strip()
    return tag[2:] if tag.startswith("W/") else tag


def parse_tags(header: str | None) -> tuple[str, ...]:
    """The entity tags of an ``If-Match``/``If-None-Match`` header (``*`` stays ``*``)."""
    if not header:
        return ()
    return tuple(_opaque(part) for part in header.split(",") if part.strip())


@dataclass(frozen=True)
class EntryPrecondition:
    """What the client saw when its form opened.

    ``if_match``: the versions it saw (or ``*``: any entry); ``if_none_match``: versions it must
    not overwrite (``*``: there was no entry, so none may exist now).
    """

    if_match: tuple[str, ...] = ()
    if_none_match: tuple[str, ...] = ()

    @classmethod
    def from_headers(cls, *, if_match: str | None, if_none_match: str | None) -> EntryPrecondition:
        return cls(if_match=parse_tags(if_match), if_none_match=parse_tags(if_none_match))

    def __bool__(self) -> bool:
        return bool(self.if_match or self.if_none_match)

    def holds_for(self, entry: DailyEntry | None) -> bool:
        current = entry_etag(entry) if entry is not None else None
        if self.if_match:
            if current is None:
                return False
            if ANY not in self.if_match and current not in self.if_match:
                return False
        return not (
            current is not None
            and self.if_none_match
            and (ANY in self.if_none_match or current in self.if_none_match)
        )
