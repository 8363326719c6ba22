"""The words the product uses for rule codes, severities and recommendations.

One list for pages, emails, inbox lines and digests, so that a clinician reads the same name for
an alert wherever it reaches them.
"""

from __future__ import annotations

from typing import cast

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from rehab import rules

# Marked lazily (module constants): each label is worded in the language active where it is
# shown. Finding codes, severities and recommendation codes stay English: they are the API's.


def _labels(labels: dict[str, object]) -> dict[str, str]:
    # Lazy strings stand in for str wherever a label goes (pages, reports, emails), each worded
    # in the language active there; typed as str for the dataclasses that carry them.
    return cast(dict[str, str], labels)


CODE_LABELS: dict[str, str] = _labels(
    {
        rules.BASELINE_MISSING: _("Baseline pain missing"),
        rules.LOGGING_GAP: _("Gap in daily logging"),
        rules.PAIN_WORSENING: _("Pain worsening"),
        rules.IMPROVING: _("Improving"),
        rules.RESOLVED: _("Complaint resolved"),
        rules.ADHERENCE_LOW: _("Exercise adherence low"),
        rules.REFERRAL_CONSIDER: _("Consider referral for a surgical opinion"),
        rules.REFERRAL_OVERDUE: _("Referral for a surgical opinion overdue"),
        rules.ROM_DECLINE: _("Plantar flexion declining"),
        rules.ROM_DEFICIT: _("Plantar flexion deficit"),
        rules.IMMOBILIZATION_PROLONGED: _("Immobilization too long"),
        rules.BMI_ELEVATED: _("BMI elevated"),
    }
)

SEVERITY_LABELS: dict[str, str] = _labels(
    {
        rules.INFO: pgettext_lazy("severity", "Info"),
        rules.WARNING: pgettext_lazy("severity", "Warning"),
        rules.HIGH: pgettext_lazy("severity", "High"),
        rules.CRITICAL: pgettext_lazy("severity", "Critical"),
    }
)

RECOMMENDATION_LABELS: dict[str, str] = _labels(
    {
        "insufficient_data": _("Insufficient data"),
        "continue": _("Continue the trial"),
        "address_adherence": _("Address exercise adherence"),
        "consider_referral": _("Consider referral"),
        "refer_now": _("Refer now"),
        "resolved": pgettext_lazy("recommendation", "Resolved"),
        "referred": pgettext_lazy("recommendation", "Referred"),
        "closed": pgettext_lazy("recommendation", "Closed"),
    }
)


def code_label(code: str) -> str:
    """The finding code's name in the active language (a code we do not know, readably)."""
    return str(CODE_LABELS.get(code, code.replace("_", " ").capitalize()))
