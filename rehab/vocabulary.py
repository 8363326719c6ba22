"""The words the product uses for rule codes, severities and recommendations.

One list for pages, emails, inbox lines and digests, so that a clinician reads the same name for
an alert wherever it reaches them.
"""

from __future__ import annotations

from rehab import rules

CODE_LABELS: dict[str, str] = {
    rules.BASELINE_MISSING: "Baseline pain missing",
    rules.LOGGING_GAP: "Gap in daily logging",
    rules.PAIN_WORSENING: "Pain worsening",
    rules.IMPROVING: "Improving",
    rules.RESOLVED: "Complaint resolved",
    rules.ADHERENCE_LOW: "Exercise adherence low",
    rules.REFERRAL_CONSIDER: "Consider referral for a surgical opinion",
    rules.REFERRAL_OVERDUE: "Referral for a surgical opinion overdue",
    rules.ROM_DECLINE: "Plantar flexion declining",
    rules.ROM_DEFICIT: "Plantar flexion deficit",
    rules.IMMOBILIZATION_PROLONGED: "Immobilization too long",
    rules.BMI_ELEVATED: "BMI elevated",
}

SEVERITY_LABELS: dict[str, str] = {
    rules.INFO: "Info",
    rules.WARNING: "Warning",
    rules.HIGH: "High",
    rules.CRITICAL: "Critical",
}

RECOMMENDATION_LABELS: dict[str, str] = {
    "insufficient_data": "Insufficient data",
    "continue": "Continue the trial",
    "address_adherence": "Address exercise adherence",
    "consider_referral": "Consider referral",
    "refer_now": "Refer now",
    "resolved": "Resolved",
    "referred": "Referred",
    "closed": "Closed",
}


def code_label(code: str) -> str:
    return CODE_LABELS.get(code, code.replace("_", " ").capitalize())
