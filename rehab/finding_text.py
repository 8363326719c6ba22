"""The findings' messages in the reader's language.

rehab/rules.py builds each message as an English template with named values (and keeps the
English in ``Finding.message``); here the template is translated into the active language and the
numbers are shown in its locale (31,5 in Spanish). The API's finding ``message`` (which follows
Accept-Language) and the pages use ``finding_message``; in English it is ``Finding.message``,
character for character (tests/i18n/test_finding_text.py).

An alert keeps its finding's phrase (``Alert.message_phrase``) beside the English ``message``;
``alert_message`` words it for whoever reads it: the pages, and the API's alert ``message``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.utils import formats
from django.utils.translation import gettext, ngettext

from rehab.rules import Finding, Phrase, PluralText, Template, phrase_from_json

if TYPE_CHECKING:
    from rehab.models import Alert


def phrase_text(template: Template, params: Mapping[str, Any], *, for_reading: bool = False) -> str:
    """The phrase in the active language. ``for_reading``: dates as a person reads them
    ("5 Jan 2027", for the pages and the referral letter); without it they stay ISO dates, as
    the API's English ``message`` has always said them."""
    if isinstance(template, PluralText):
        worded = ngettext(template.singular, template.plural, template.number)
    else:
        worded = gettext(template)
    return worded % {name: _shown(value, for_reading) for name, value in params.items()}


def _shown(value: Any, for_reading: bool = False) -> Any:
    if isinstance(value, Phrase):
        return phrase_text(value.template, value.params, for_reading=for_reading)
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return formats.number_format(value)
    if for_reading and isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            return formats.date_format(dt.date.fromisoformat(value), "j M Y")
        except ValueError:
            return value
    return value


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def finding_message(finding: Finding, *, for_reading: bool = False) -> str:
    """The finding's sentence in the active language (``for_reading``: see ``phrase_text``)."""
    if not finding.message_template:
        return finding.message
    return phrase_text(finding.message_template, finding.message_params, for_reading=for_reading)


def finding_dict(finding: Finding) -> dict[str, Any]:
    """``Finding.as_dict()`` with its message in the active language (the API's shape)."""
    return {**finding.as_dict(), "message": finding_message(finding)}


def alert_message(alert: Alert, *, for_reading: bool = False) -> str:
    """The alert's sentence in the active language; the stored English for an alert raised
    before its phrase was kept (or whose phrase cannot be read)."""
    if not alert.message_phrase:
        return alert.message
    try:
        template, params = phrase_from_json(alert.message_phrase)
        return phrase_text(template, params, for_reading=for_reading)
    except (KeyError, TypeError, ValueError, ArithmeticError):
        # A phrase that does not fit its template (hand-edited data): the English still reads.
        return alert.message
