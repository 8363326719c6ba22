"""The one check of free text a service stores (notes, names, sites), the note's limit, and the
collector of field errors the services raise.

A module of its own because both ``rehab.services`` and ``rehab.alerts`` check notes, and
``rehab.services`` imports ``rehab.alerts``: neither can import the other's.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

NOTE_MAX_LENGTH = 5000


class Errors:
    """Collects field errors so one response names every problem at once."""

    def __init__(self) -> None:
        self._errors: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self._errors.setdefault(field, []).append(message)

    def __contains__(self, field: str) -> bool:
        return field in self._errors

    def raise_if_any(self) -> None:
        if self._errors:
            raise ValidationError(self._errors)


def check_text(errors: Errors, field: str, value: Any, *, max_length: int) -> str:
    """Free text, stripped; longer than ``max_length`` is refused."""
    text = (value or "").strip() if isinstance(value, str) or value is None else None
    if text is None:
        errors.add(field, _("Must be text."))
        return ""
    if len(text) > max_length:
        errors.add(
            field,
            _("Keep it under %(max)s characters (this is %(length)s).")
            % {"max": max_length, "length": len(text)},
        )
    return text
