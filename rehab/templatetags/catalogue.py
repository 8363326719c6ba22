"""Catalogue words (exercise names, repetitions) in the reader's language.

The catalogue is stored in English and copied into prescriptions, where it is API data
(rehab/catalogue.py marks the words with gettext_noop). A page translates it when it shows it;
an exercise the therapist named themselves is not in the translation catalogue and stays as
typed.
"""

from __future__ import annotations

from django import template
from django.utils.translation import gettext

register = template.Library()


@register.filter
def catalogue_text(value: object) -> str:
    text = "" if value is None else str(value)
    return gettext(text) if text else text
