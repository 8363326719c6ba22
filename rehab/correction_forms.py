"""Forms of the correction pages: the record's fields as they are, and a required reason.

Like ``rehab.forms`` they only parse; ``rehab.corrections`` checks the values and the reason,
and the views attach its errors to the fields.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.forms import PageForm
from rehab.corrections import INTAKE_FIELDS
from rehab.forms import EpisodeOpenForm, InterventionForm, PrescriptionForm
from rehab.models import Episode, Intervention, InterventionKind, Prescription
from rehab.services import REASON_MAX_LENGTH


def _reason_field(label: Any = None) -> forms.CharField:
    # Not required here: the service says why a reason is needed, with the API's words.
    return forms.CharField(
        label=label or _("Reason for the correction"),
        required=False,
        help_text=_("Required. Kept with the old and the new values."),
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": REASON_MAX_LENGTH}),
    )


class InterventionCorrectionForm(InterventionForm):
    reason = _reason_field()

    @staticmethod
    def initial_for(intervention: Intervention) -> dict[str, Any]:
        injection = intervention.kind == InterventionKind.CORTICOSTEROID_INJECTION
        return {
            "kind": intervention.kind,
            "start_date": intervention.start_date,
            "end_date": intervention.end_date,
            "injection_site": intervention.site if injection else "",
            "site": "" if injection else intervention.site,
            "note": intervention.note,
        }


class PrescriptionCorrectionForm(PrescriptionForm):
    reason = _reason_field()

    @staticmethod
    def initial_for(prescription: Prescription) -> dict[str, Any]:
        return {
            "exercise": prescription.exercise_id,
            "other": "" if prescription.exercise_id else prescription.name,
            "sets": prescription.sets,
            "reps": prescription.reps,
            "start_date": prescription.start_date,
            "end_date": prescription.end_date,
        }

    def service_changes(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "exercise": self.exercise_name(),
            "sets": data.get("sets"),
            "reps": data.get("reps") or "",
            "start_date": data.get("start_date"),
            "end_date": data.get("end_date"),
        }


class IntakeCorrectionForm(EpisodeOpenForm):
    reason = _reason_field()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The start date anchors every trial day and entry: not an intake value.
        del self.fields["start_date"]

    @staticmethod
    def initial_for(episode: Episode) -> dict[str, Any]:
        return {name: getattr(episode, name) for name in INTAKE_FIELDS}

    def service_changes(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name) for name in INTAKE_FIELDS}


class DeleteRecordForm(PageForm):
    """Deleting a record made by mistake: only the reason."""

    reason = _reason_field(_("Reason for deleting it"))
