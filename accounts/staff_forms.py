"""Forms of the staff administration pages. They parse; accounts/staff.py decides."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.forms import PageForm, TherapistChoiceField
from accounts.models import Patient, Role, User

# The value of "nobody" in a therapist choice: the clinic's admins then get the alerts.
UNASSIGNED = "none"


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class StaffInviteForm(PageForm):
    email = forms.EmailField(
        label=_("Email"), widget=forms.EmailInput(attrs={"autocapitalize": "none"})
    )
    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150)
    role = forms.ChoiceField(
        label=_("Role"),
        choices=[
            (Role.THERAPIST.value, _("Physical therapist")),
            (Role.CLINIC_ADMIN.value, _("Clinic admin")),
        ],
        initial=Role.THERAPIST.value,
        widget=forms.RadioSelect,
        help_text=_(
            "A therapist sees the patients assigned to them; a clinic admin sees every patient "
            "and the clinic's settings."
        ),
    )
    language = forms.ChoiceField(
        label=_("Language of the invitation email"),
        required=False,
        help_text=_("Also their pages' language until they choose another."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        language = self.fields["language"]
        assert isinstance(language, forms.ChoiceField)
        language.choices = [("", _("The site's default")), *settings.LANGUAGES]


def _therapist_choices(targets: QuerySet[User], *, unassigned: bool) -> list[tuple[str, str]]:
    choices = [(str(t.pk), t.get_full_name()) for t in targets]
    if unassigned:
        choices.append((UNASSIGNED, str(_("Nobody (clinic admins get the alerts)"))))
    return choices


class DeactivateForm(PageForm):
    """One choice per patient of the member ("patient_<id>"), plus "all_to" for the rest.

    A patient with neither is an error: nothing moves that the admin did not choose."""

    all_to = forms.ChoiceField(
        label=_("Move every patient not chosen below to"),
        required=False,
    )

    def __init__(
        self, *args: Any, patients: list[Patient], targets: QuerySet[User], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.patients = patients
        self.targets = {str(t.pk): t for t in targets}
        choices = _therapist_choices(targets, unassigned=True)
        all_to = self.fields["all_to"]
        assert isinstance(all_to, forms.ChoiceField)
        all_to.choices = [("", _("Choose…")), *choices]
        for patient in patients:
            self.fields[f"patient_{patient.pk}"] = forms.ChoiceField(
                label=str(patient),
                required=False,
                choices=[("", _("As chosen above")), *choices],
            )

    def patient_fields(self) -> list[forms.BoundField]:
        return [self[f"patient_{patient.pk}"] for patient in self.patients]

    def reassignment(self) -> dict[int, User | None]:
        """Patient id -> the chosen therapist (None: nobody), for the patients with a choice."""
        chosen: dict[int, User | None] = {}
        everyone = self.cleaned_data.get("all_to") or ""
        for patient in self.patients:
            value = self.cleaned_data.get(f"patient_{patient.pk}") or everyone
            if value == UNASSIGNED:
                chosen[patient.pk] = None
            elif value:
                chosen[patient.pk] = self.targets[value]
        return chosen


class PatientReassignForm(PageForm):
    therapist = forms.ChoiceField(label=_("Therapist"))

    def __init__(self, *args: Any, targets: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.targets = {str(t.pk): t for t in targets}
        therapist = self.fields["therapist"]
        assert isinstance(therapist, forms.ChoiceField)
        therapist.choices = _therapist_choices(targets, unassigned=True)

    def chosen(self) -> User | None:
        value = self.cleaned_data["therapist"]
        return None if value == UNASSIGNED else self.targets[value]


class CoverForm(PageForm):
    absent = TherapistChoiceField(
        label=_("Therapist who is away"), queryset=User.objects.none(), empty_label=_("Choose…")
    )
    covering = TherapistChoiceField(
        label=_("Covered by"),
        queryset=User.objects.none(),
        empty_label=_("Choose…"),
        help_text=_("They see the absent therapist's patients and get their alert emails."),
    )
    start_date = forms.DateField(label=_("From"), widget=DateInput())
    end_date = forms.DateField(
        label=_("Until"), widget=DateInput(), help_text=_("Included: the cover ends that night.")
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=200,
        help_text=_("Optional, for the staff list (no patient details)."),
    )

    def __init__(self, *args: Any, targets: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("absent", "covering"):
            field = self.fields[name]
            assert isinstance(field, forms.ModelChoiceField)
            field.queryset = targets
