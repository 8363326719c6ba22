"""Template helpers for alerts and findings: codes in words, evidence in one line, the nav count."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import template
from django.utils.translation import gettext

from rehab import finding_text, numbers, selectors, vocabulary
from rehab.models import Alert
from rehab.rules import Finding
from rehab.thresholds import NAMES as THRESHOLD_NAMES

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


def _value(value: Any, key: str = "") -> str:
    # A figure the pages show elsewhere reads the same here (rehab/numbers.py): "pain current
    # 4.6", not 4.57 beside a 4.6 in the progress table.
    figure = numbers.evidence_value(key, value)
    if figure is not None:
        return figure
    if value is None:
        return gettext("unknown")
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


@register.filter
def evidence_items(evidence: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """The evidence as (words, value) pairs: "pain baseline" → "7", measurements first."""
    if not isinstance(evidence, Mapping):
        return []
    keys = sorted(evidence, key=lambda key: (_ORDER.get(str(key), len(_ORDER)), str(key)))
    return [(_evidence_label(str(key)), _value(evidence[key], str(key))) for key in keys]


def _evidence_label(key: str) -> str:
    label = vocabulary.EVIDENCE_LABELS.get(key)
    return str(label) if label is not None else key.replace("_", " ")


@register.filter
def evidence_summary(evidence: Mapping[str, Any] | None) -> str:
    """The evidence in one line: "trial day 43 · pain baseline 7 · pain current 6 · …"."""
    return " · ".join(f"{key} {value}" for key, value in evidence_items(evidence))


@register.filter
def finding_message(finding: Finding) -> str:
    """A finding's sentence in the page's language (rehab/finding_text.py)."""
    return finding_text.finding_message(finding)


@register.filter
def alert_message(alert: Alert) -> str:
    """An alert's sentence in the page's language (rehab/finding_text.py)."""
    return finding_text.alert_message(alert)
