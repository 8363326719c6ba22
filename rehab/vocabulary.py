"""The words the product uses for rule codes, severities and recommendations.

One list for pages, emails, inbox lines and digests, so that a clinician reads the same name for
an alert wherever it reaches them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from rehab import rules

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

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
        rules.FUNCTION_NOT_IMPROVING: _("Function not improving (FAAM)"),
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


# The words for each evidence key a finding may carry, shown on staff pages and in the report
# ("trial_day" -> "trial day"). In English they are the key with spaces, as before; an unknown
# key falls back to exactly that (rehab/templatetags/alerts.py).
EVIDENCE_LABELS: dict[str, StrOrPromise] = {
    "week1_entries": _("week1 entries"),
    "rom_week1": _("rom week1"),
    "adherence": _("adherence"),
    "adherence_from_day": _("adherence from day"),
    "adherence_min_percent": _("adherence min percent"),
    "adherence_pct": _("adherence pct"),
    "baseline": _("baseline"),
    "baseline_source": _("baseline source"),
    "bmi": _("bmi"),
    "bmi_flag": _("bmi flag"),
    "change": _("change"),
    "change_percent": _("change percent"),
    "count": _("count"),
    "current": _("current"),
    "days": _("days"),
    "deficit": _("deficit"),
    "done": _("done"),
    "effort": _("effort"),
    "end": _("end"),
    "end_date": _("end date"),
    "entries": _("entries"),
    "immobilization_max_days": _("immobilization max days"),
    "intake_pain_activity": _("intake pain activity"),
    "loss": _("loss"),
    "low_baseline_max": _("low baseline max"),
    "low_max": _("low max"),
    "max": _("max"),
    "max_days": _("max days"),
    "mcid_met": _("mcid met"),
    "mcid_percent": _("mcid percent"),
    "mcid_points": _("mcid points"),
    "mcid_rule": _("mcid rule"),
    "min": _("min"),
    "min_entries_per_week": _("min entries per week"),
    "movement": _("movement"),
    "needed": _("needed"),
    "ongoing": _("ongoing"),
    "overdue_day": _("overdue day"),
    "pain_baseline": _("pain baseline"),
    "pain_change": _("pain change"),
    "pain_change_pct": _("pain change pct"),
    "pain_current": _("pain current"),
    "pain_recent": _("pain recent"),
    "pain_rise": _("pain rise"),
    "percent": _("percent"),
    "points": _("points"),
    "prescribed": _("prescribed"),
    "recent": _("recent"),
    "recent_entries": _("recent entries"),
    "reference": _("reference"),
    "resolved_max_pain": _("resolved max pain"),
    "review_day": _("review day"),
    "rise": _("rise"),
    "rom_change": _("rom change"),
    "rom_change_deg": _("rom change deg"),
    "rom_current": _("rom current"),
    "rom_deficit": _("rom deficit"),
    "rom_deficit_deg": _("rom deficit deg"),
    "rom_reference": _("rom reference"),
    "rom_reference_source": _("rom reference source"),
    "rule": _("rule"),
    "ruleset": _("ruleset"),
    "sets_done": _("sets done"),
    "sets_prescribed": _("sets prescribed"),
    "start": _("start"),
    "start_date": _("start date"),
    "target": _("target"),
    "threshold": _("threshold"),
    "trial_day": _("trial day"),
    "trial_week": _("trial week"),
    "window_end": _("window end"),
    "window_start": _("window start"),
    "worsening_points": _("worsening points"),
    "entries_last_7_days": _("entries last 7 days"),
    "entries_last_14_days": _("entries last 14 days"),
    # The function questionnaires (FUNCTION_NOT_IMPROVING; the referral findings' evidence).
    "subscale": _("subscale"),
    "baseline_date": _("baseline date"),
    "current_date": _("current date"),
    "faam_adl_baseline": _("faam adl baseline"),
    "faam_adl_current": _("faam adl current"),
    "faam_adl_change": _("faam adl change"),
    "faam_adl_mcid": _("faam adl mcid"),
    "faam_sports_baseline": _("faam sports baseline"),
    "faam_sports_current": _("faam sports current"),
    "faam_sports_change": _("faam sports change"),
    "faam_sports_mcid": _("faam sports mcid"),
    "psfs_baseline": _("psfs baseline"),
    "psfs_current": _("psfs current"),
}
