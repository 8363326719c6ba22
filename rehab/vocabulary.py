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


# The words for each evidence key a finding may carry, shown on staff pages (the episode page,
# the alert inbox) and in the referral letter: plain words a clinician reads, never the key
# ("mcid_rule" reads "important change rule"). An unknown key falls back to the key with spaces
# (rehab/templatetags/alerts.py, which also words the values: dates, units, the rule's figures).
EVIDENCE_LABELS: dict[str, StrOrPromise] = {
    # What was measured.
    "trial_day": _("trial day"),
    "trial_week": _("trial week"),
    "pain_baseline": _("baseline activity pain"),
    "baseline_source": _("baseline from"),
    "pain_current": _("activity pain, last 7 days"),
    "pain_recent": _("activity pain, last 3 days"),
    "pain_rise": _("rise in activity pain"),
    "pain_change": _("change in activity pain"),
    "pain_change_pct": _("change in activity pain, share"),
    "mcid_met": _("important improvement reached"),
    "mcid_rule": _("important change rule"),
    "adherence_pct": _("exercise adherence"),
    "sets_done": _("sets done"),
    "sets_prescribed": _("sets prescribed"),
    "entries_last_7_days": _("diary entries in the last 7 days"),
    "entries_last_14_days": _("diary entries in the last 14 days"),
    "week1_entries": _("diary entries in week 1"),
    "recent_entries": _("recent diary entries"),
    "intake_pain_activity": _("activity pain at intake"),
    "window_start": pgettext_lazy("a period", "from"),
    "window_end": pgettext_lazy("a period", "until"),
    "rom_week1": _("plantar flexion, week 1"),
    "rom_current": _("plantar flexion, last 7 days"),
    "rom_change": _("change in plantar flexion"),
    "rom_reference": _("plantar flexion, other side"),
    "rom_reference_source": _("other side from"),
    "rom_deficit": _("plantar flexion deficit"),
    "start_date": pgettext_lazy("a period", "from"),
    "end_date": pgettext_lazy("a period", "until"),
    "ongoing": _("still going on"),
    "days": _("days"),
    "bmi": _("BMI"),
    # The function questionnaires (FUNCTION_NOT_IMPROVING; the referral findings' evidence).
    "subscale": _("FAAM subscale judged"),
    "baseline_date": _("first score on"),
    "current_date": _("latest score on"),
    "faam_adl_baseline": _("FAAM ADL, first score"),
    "faam_adl_current": _("FAAM ADL, latest score"),
    "faam_adl_change": _("FAAM ADL, change"),
    "faam_sports_baseline": _("FAAM Sports, first score"),
    "faam_sports_current": _("FAAM Sports, latest score"),
    "faam_sports_change": _("FAAM Sports, change"),
    "psfs_baseline": _("PSFS, first score"),
    "psfs_current": _("PSFS, latest score"),
    "psfs_change": _("PSFS, change"),
    # The thresholds it was compared with.
    "review_day": _("review day"),
    "overdue_day": _("referral due from day"),
    "min_entries_per_week": _("entries needed for a usable week"),
    "mcid_points": _("important improvement, points"),
    "mcid_percent": _("important improvement, share"),
    "low_baseline_max": _("low baseline, at most"),
    "resolved_max_pain": _("resolved at activity pain of at most"),
    "worsening_points": _("worsening from, points above baseline"),
    "adherence_min_percent": _("adequate adherence from"),
    "adherence_from_day": _("adherence judged from day"),
    "rom_change_deg": _("decline flagged from"),
    "rom_deficit_deg": _("deficit flagged from"),
    "immobilization_max_days": _("immobilization advised for at most, days"),
    "bmi_flag": _("BMI flagged from"),
    "faam_adl_mcid": _("important change, FAAM ADL"),
    "faam_sports_mcid": _("important change, FAAM Sports"),
    "psfs_mcid": _("important change, PSFS"),
    "ruleset": _("rules version"),
}
