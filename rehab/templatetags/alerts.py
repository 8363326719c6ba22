"""Template helpers for alerts and findings: codes in words, evidence in one line, the nav count."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django import template
from django.utils.formats import date_format, get_format
from django.utils.translation import gettext, gettext_lazy

from rehab import finding_text, numbers, selectors, vocabulary
from rehab.models import Alert
from rehab.rules import Finding
from rehab.thresholds import NAMES as THRESHOLD_NAMES

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

register = template.Library()

# Evidence is stored as JSON, and PostgreSQL's jsonb does not keep key order: show it in one
# fixed order everywhere, what was measured first, then the thresholds it was compared with.
_MEASURED = (
    "trial_day",
    "pain_baseline",
    "baseline_source",
    "pain_current",
    "pain_recent",
    "pain_rise",
    "pain_change",
    "pain_change_pct",
    "mcid_met",
    "mcid_rule",
    "adherence_pct",
    "sets_done",
    "sets_prescribed",
    "entries_last_7_days",
    "week1_entries",
    "recent_entries",
    "intake_pain_activity",
    "window_start",
    "window_end",
    "rom_week1",
    "rom_current",
    "rom_change",
    "rom_reference",
    "rom_reference_source",
    "rom_deficit",
    "start_date",
    "end_date",
    "ongoing",
    "days",
    "bmi",
)
_ORDER = {key: n for n, key in enumerate((*_MEASURED, *THRESHOLD_NAMES))}


@register.simple_tag(takes_context=True)
def open_alert_count(context: template.Context) -> int:
    """Open alerts in the signed-in user's reach (one query; 0 for patients)."""
    request = context.get("request")
    if request is None:
        return 0
    return selectors.open_alert_count(user=request.user)


@register.filter
def code_label(code: str) -> str:
    return vocabulary.code_label(code)


@register.filter
def severity_label(severity: str) -> str:
    """A severity code in words ("warning" → "Warning"), in the active language."""
    label = vocabulary.SEVERITY_LABELS.get(severity)
    return str(label) if label is not None else severity.capitalize()


def _date(value: Any) -> str | None:
    # Dates are stored as ISO text in the JSON; a reader sees "5 Jan 2027", not "2027-01-05".
    if isinstance(value, dt.date):
        return date_format(value, "j M Y")
    if isinstance(value, str):
        try:
            return date_format(dt.date.fromisoformat(value), "j M Y")
        except ValueError:
            return None
    return None


def _words(key: str, value: Any) -> str | None:
    """The value of a coded evidence key in words ("week1" → "the first week's mean")."""
    words = _VALUE_WORDS.get(key, {}).get(str(value))
    return str(words) if words is not None else None


# The coded values a finding's evidence may carry, in words.
_VALUE_WORDS: dict[str, dict[str, StrOrPromise]] = {
    "baseline_source": {
        "week1": gettext_lazy("the first week's mean"),
        "intake": gettext_lazy("the intake score"),
        "unknown": gettext_lazy("not known yet"),
    },
    "rom_reference_source": {
        "entries": gettext_lazy("the other side's measurements in the diary"),
        "intake": gettext_lazy("the measurement at intake"),
    },
    "subscale": {
        "sports": gettext_lazy("Sports"),
        "adl": gettext_lazy("ADL (daily living)"),
    },
}

_DATES = frozenset(
    {"window_start", "window_end", "start_date", "end_date", "baseline_date", "current_date"}
)
# Folded into another key's value (see _combined), so not listed on their own.
_FOLDED = {
    "mcid_rule": ("mcid_points", "mcid_percent", "low_baseline_max"),
    "pain_change": ("pain_change_pct",),
}


def _value(value: Any, key: str = "") -> str:
    # A figure the pages show elsewhere reads the same here (rehab/numbers.py): "pain current
    # 4.6", not 4.57 beside a 4.6 in the progress table.
    figure = numbers.evidence_value(key, value)
    if figure is not None:
        return figure
    if key in _DATES:
        date = _date(value)
        if date is not None:
            return date
    words = _words(key, value)
    if words is not None:
        return words
    if value is None:
        return gettext("unknown")
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if isinstance(value, float):
        return f"{value:g}".replace(".", str(get_format("DECIMAL_SEPARATOR")))
    return str(value)


def _combined(key: str, evidence: Mapping[str, Any]) -> str | None:
    """One value made of several keys: the important-change rule with its figures, the change
    in activity pain with its share."""
    if key == "mcid_rule":
        figures = {
            "points": _value(evidence.get("mcid_points"), "mcid_points"),
            "percent": _value(evidence.get("mcid_percent"), "mcid_percent"),
            "low_max": _value(evidence.get("low_baseline_max"), "low_baseline_max"),
        }
        if evidence.get("mcid_rule") == "percent_only":
            return (
                gettext("a fall of %(percent)s alone (baseline of %(low_max)s or less)") % figures
            )
        return gettext("a fall of %(points)s points and %(percent)s") % figures
    if key == "pain_change":
        change = evidence.get("pain_change")
        if isinstance(change, (int, float)) and not isinstance(change, bool):
            pct = evidence.get("pain_change_pct")
            share = pct if isinstance(pct, (int, float)) and not isinstance(pct, bool) else None
            return numbers.pain_change(change, share)
    return None


@register.filter
def evidence_items(evidence: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """The evidence as (words, value) pairs: "baseline activity pain" → "7.0", measurements
    first, every value in words a reader knows (dates, units, the rule's figures)."""
    if not isinstance(evidence, Mapping):
        return []
    folded = {part for key, parts in _FOLDED.items() if key in evidence for part in parts}
    keys = sorted(
        (key for key in evidence if str(key) not in folded),
        key=lambda key: (_ORDER.get(str(key), len(_ORDER)), str(key)),
    )
    items = []
    for key in keys:
        name = str(key)
        value = _combined(name, evidence)
        items.append(
            (_evidence_label(name), value if value is not None else _value(evidence[key], name))
        )
    return items


def _evidence_label(key: str) -> str:
    label = vocabulary.EVIDENCE_LABELS.get(key)
    return str(label) if label is not None else key.replace("_", " ")


@register.filter
def evidence_summary(evidence: Mapping[str, Any] | None) -> str:
    """The evidence in one line: "trial day 43 · baseline activity pain: 7.0 · …"."""
    return " · ".join(f"{key}: {value}" for key, value in evidence_items(evidence))


@register.filter
def finding_message(finding: Finding) -> str:
    """A finding's sentence in the page's language (rehab/finding_text.py)."""
    return finding_text.finding_message(finding, for_reading=True)


@register.filter
def alert_message(alert: Alert) -> str:
    """An alert's sentence in the page's language (rehab/finding_text.py)."""
    return finding_text.alert_message(alert, for_reading=True)
