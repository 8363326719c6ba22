"""Forms of the referral follow-up pages. They only parse; ``rehab.referrals`` checks (with the
same words as for the API) and ``rehab.forms.add_service_errors`` puts its errors by the fields.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.forms import PageForm
from rehab.forms import DateInput
from rehab.models import ReferralOutcome
from rehab.referral_selectors import ReferralPanel


class FollowUpForm(PageForm):
    appointment_date = forms.DateField(
        label=_("Appointment date"),
        required=False,
        widget=DateInput(),
        help_text=_("With the surgeon or clinic referred to; it may lie ahead."),
    )
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        required=False,
        choices=[("", _("Not known yet")), *ReferralOutcome.choices],
    )
    outcome_date = forms.DateField(
        label=_("Outcome date"),
        required=False,
        widget=DateInput(),
        help_text=_("Empty with an outcome: today."),
    )
    surgery_date = forms.DateField(
        label=_("Surgery date"),
        required=False,
        widget=DateInput(),
        help_text=_("Only when surgery is scheduled."),
    )
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ReferralCorrectForm(PageForm):
    date = forms.DateField(label=_("Referral date"), widget=DateInput())
    referred_to = forms.CharField(
        label=_("Referred to"), required=False, help_text=_("Surgeon or service.")
    )
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    reason = forms.CharField(
        label=_("Reason for the correction"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Kept with the old and new values."),
    )


class ReferralWithdrawForm(PageForm):
    reason = forms.CharField(
        label=_("Reason for withdrawing the referral"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("For a referral recorded by mistake. Kept with the referral as it was."),
    )


def follow_up_initial(panel: ReferralPanel) -> dict[str, Any]:
    """The follow-up form as recorded (the episode page shows it filled in)."""
    follow_up = panel.row.follow_up if panel.row else None
    if follow_up is None:
        return {}
    return {
        "appointment_date": follow_up.appointment_date,
        "outcome": follow_up.outcome,
        "outcome_date": follow_up.outcome_date,
        "surgery_date": follow_up.surgery_date,
        "note": follow_up.note,
    }
