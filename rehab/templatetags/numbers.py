"""The figures of ``rehab.numbers`` for templates: one rounding and one wording everywhere.

``{% load numbers %}`` then ``{{ m.pain_current|pain }}``, ``{{ m.rom_current|degrees }}``,
``{{ m.adherence_pct|percent }}``, ``{% pain_change m.pain_change m.pain_change_pct %}``,
``{% rom_deficit m.rom_deficit m.rom_current m.rom_reference %}``,
``{% adherence m.adherence_pct has_prescriptions %}``, ``{{ m.faam_adl_current|score }}``,
``{{ change|score_change }}``.
"""

from __future__ import annotations

from decimal import Decimal

from django import template

from rehab import numbers

register = template.Library()

Figure = float | int | Decimal | None


@register.filter
def pain(value: Figure) -> str:
    return numbers.pain(value)


@register.filter
def pain_of_ten(value: Figure) -> str:
    return numbers.pain_of_ten(value)


@register.filter
def score(value: Figure) -> str:
    return numbers.score(value)


@register.filter
def score_change(change: Figure) -> str:
    return numbers.score_change(change)


@register.filter
def percent(value: Figure) -> str:
    return numbers.percent(value)


@register.filter
def degrees(value: Figure) -> str:
    return numbers.degrees(value)


@register.simple_tag(name="pain_change")
def pain_change_tag(change: Figure, change_pct: Figure) -> str:
    return numbers.pain_change(change, change_pct)


@register.simple_tag(name="rom_deficit")
def rom_deficit_tag(deficit: Figure, current: Figure, reference: Figure) -> str:
    return numbers.rom_deficit(deficit, current, reference)


@register.simple_tag(name="adherence")
def adherence_tag(value: Figure, has_prescriptions: bool) -> str:
    return numbers.adherence(value, has_prescriptions=bool(has_prescriptions))
