"""The clinic admin's page that erases a patient on request, after typing the patient's email.

Reach first (a patient out of reach is a 404 for everybody), then the role (only a clinic admin
may erase: anybody else within reach gets a 403), then the confirmation.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts.emails import normalize_email
from accounts.erasure import can_erase_patients, patient_erase
from accounts.models import Patient, User
from accounts.scoping import patient_for_user_or_404


class EraseConfirmForm(forms.Form):
    email = forms.CharField(
        label=_("The patient's email address"),
        help_text=_("Type it to confirm: erasing cannot be undone."),
        max_length=254,
    )

    def __init__(self, *args: object, patient: Patient, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.patient = patient

    def clean_email(self) -> str:
        typed = str(self.cleaned_data["email"]).strip()
        if normalize_email(typed) != self.patient.user.email:
            raise forms.ValidationError(gettext("This is not the patient's email address."))
        return typed


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def patient_erase_page(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    patient = patient_for_user_or_404(user, pk)
    if not isinstance(user, User) or not can_erase_patients(user):
        raise PermissionDenied(gettext("Only a clinic admin may erase a patient."))
    form = EraseConfirmForm(request.POST if request.method == "POST" else None, patient=patient)
    if request.method == "POST" and form.is_valid():
        name = str(patient)
        erased = patient_erase(actor=user, patient=patient)
        entries = erased.deleted.get("rehab.DailyEntry", 0)
        episodes = erased.deleted.get("rehab.Episode", 0)
        # Translators: %(episodes)s and %(entries)s are the two counts below, e.g. "2 episode(s)".
        erased_message = gettext(
            "%(name)s is erased: %(episodes)s and %(entries)s deleted, the account anonymised. "
            "The audit trail keeps patient id %(patient_id)s."
        )
        messages.success(
            request,
            erased_message
            % {
                "name": name,
                "episodes": gettext("%(count)s episode(s)") % {"count": episodes},
                "entries": ngettext("%(count)s daily entry", "%(count)s daily entries", entries)
                % {"count": entries},
                "patient_id": erased.patient_id,
            },
        )
        return redirect("patient-list")
    return render(request, "therapist/patient_erase.html", {"patient": patient, "form": form})
