"""Forms for the server-rendered pages.

They only parse what a browser sends (text to numbers and dates). Range checks and the clinical
rules stay in ``rehab.services``: a view passes the parsed values to a service and hands any
``ValidationError`` back to the form with :func:`add_service_errors`, so the page shows exactly
the messages the API gives, next to the field they concern.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import formats
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.forms import PageForm
from rehab.free_text import NOTE_MAX_LENGTH
from rehab.injection_sites import ALLOWED, InjectionSite
from rehab.models import (
    Diagnosis,
    Exercise,
    InterventionKind,
    Outcome,
    Prescription,
    Side,
)
from rehab.services import MAX_SETS


def add_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """Attach a service's field errors to the form; unknown keys become form-wide errors."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for name, messages in exc.message_dict.items():
        form.add_error(name if name in form.fields else None, messages)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def _number(low: int, high: int, **extra: str) -> forms.NumberInput:
    # inputmode="numeric" opens the phone's digit keypad; min/max let the browser warn early,
    # while the service still checks the range for anything that bypasses the browser.
    return forms.NumberInput(attrs={"min": low, "max": high, "inputmode": "numeric", **extra})


class DegreesField(forms.Field):
    """Degrees as the phone types them: ``31.5``, ``30``, or ``31,5`` where the locale writes a
    decimal comma. Only parsed here: ``rehab.services`` keeps the value to 0.1° and checks its
    range, with the same words as for the API."""

    # A text box with the phone's decimal keypad, not <input type="number">: Chromium on an
    # English page reads "31,5" as 315 and then blocks the form with its own range message, so a
    # decimal comma would never reach us (seen in Chromium; tests/browser/test_patient_flow.py).
    widget = forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})
    default_error_messages = {"invalid": _("Enter a number of degrees, for example 31.5.")}

    def to_python(self, value: Any) -> Decimal | None:
        text = str(value or "").strip()
        if not text:
            return None
        # One decimal separator, either mark; no thousands separators (no angle needs them).
        try:
            number = Decimal(text.replace(",", ".", 1))
        except InvalidOperation:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None
        if not number.is_finite():
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return number

    def prepare_value(self, value: Any) -> Any:
        # A stored angle is shown as the number it is: 28 rather than 28.0, 31.5 as 31.5, with
        # the language's decimal mark (31,5 in Spanish), as the patient would type it.
        if isinstance(value, Decimal) and value.is_finite():
            return f"{value.normalize():f}".replace(".", formats.get_format("DECIMAL_SEPARATOR"))
        return value


# --- The patient's daily entry -------------------------------------------------------------------


class ExerciseSetsField(forms.CharField):
    """Sets done of one prescribed exercise, from its number box (0 … prescribed).

    Blank means none. A bare "on" (what the page's older checkbox sent, and what a client may
    still send) means the prescribed sets; the "all done" tick is a field of its own
    (``EntryForm.all_done_field_name``) and wins over the number.
    """

    def __init__(self, *, prescribed_sets: int, **kwargs: Any) -> None:
        self.prescribed_sets = prescribed_sets
        super().__init__(required=False, **kwargs)

    def to_python(self, value: Any) -> int:  # type: ignore[override]
        text = str(value or "").strip().lower()
        if text == "":
            return 0
        if text in {"on", "true", "yes"}:
            return self.prescribed_sets
        try:
            sets = int(text)
        except ValueError as exc:
            raise ValidationError(_("Enter the number of sets you did."), code="invalid") from exc
        if not 0 <= sets <= MAX_SETS:
            raise ValidationError(
                _("Enter a number of sets from 0 to %(max)s.") % {"max": MAX_SETS}, code="range"
            )
        return sets


class EntryForm(PageForm):
    """One day's entry. Field names are the API's, so a page and an API client speak alike."""

    # Labels name the field in the error summary; the page writes its own labels and legends.
    pain_activity = forms.IntegerField(label=_("Pain during activity"), required=False)
    pain_rest = forms.IntegerField(label=_("Pain at rest"), required=False)
    pf_rom_affected = DegreesField(label=_("Sore ankle, foot pointing down"), required=False)
    pf_rom_unaffected = DegreesField(label=_("Other ankle, foot pointing down"), required=False)
    # The length is the service's to check; maxlength only lets the browser stop typing there.
    note = forms.CharField(
        label=_("Note"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": NOTE_MAX_LENGTH}),
    )

    def __init__(self, *args: Any, prescriptions: list[Prescription], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.prescriptions = prescriptions
        for p in prescriptions:
            self.fields[self.exercise_field_name(p)] = ExerciseSetsField(
                label=p.name, prescribed_sets=p.sets
            )
            self.fields[self.all_done_field_name(p)] = forms.BooleanField(required=False)

    @staticmethod
    def exercise_field_name(prescription: Prescription) -> str:
        return f"exercise_{prescription.pk}"

    @staticmethod
    def all_done_field_name(prescription: Prescription) -> str:
        return f"exercise_{prescription.pk}_all"

    def sets_done(self, prescription: Prescription) -> int:
        """A ticked "all done" is the prescribed count; otherwise the number (blank is 0)."""
        if self.cleaned_data.get(self.all_done_field_name(prescription)):
            return prescription.sets
        sets: int = self.cleaned_data.get(self.exercise_field_name(prescription)) or 0
        return sets

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "pain_activity": data.get("pain_activity"),
            "pain_rest": data.get("pain_rest"),
            "pf_rom_affected": data.get("pf_rom_affected"),
            "pf_rom_unaffected": data.get("pf_rom_unaffected"),
            "note": data.get("note") or "",
            # Every exercise due that day is logged, untouched ones as 0 sets, so the therapist
            # sees "0 of 3" rather than a gap.
            "exercises": [
                {"prescription": p.pk, "sets_completed": self.sets_done(p)}
                for p in self.prescriptions
            ],
        }


# --- Therapist and clinic admin forms -------------------------------------------------------------


class EpisodeOpenForm(PageForm):
    affected_side = forms.ChoiceField(
        label=_("Affected ankle"), choices=Side.choices, widget=forms.RadioSelect
    )
    start_date = forms.DateField(label=_("Start of the conservative trial"), widget=DateInput())
    diagnosis = forms.ChoiceField(
        label=_("Diagnosis"),
        choices=Diagnosis.choices,
        initial=Diagnosis.UNSPECIFIED,
        required=False,
    )
    intake_pain_activity = forms.IntegerField(
        label=_("Intake pain during activity (0–10)"), required=False, widget=_number(0, 10)
    )
    intake_pf_rom_affected = DegreesField(
        label=_("Intake plantar flexion, affected side (°)"), required=False
    )
    intake_pf_rom_unaffected = DegreesField(
        label=_("Intake plantar flexion, unaffected side (°)"), required=False
    )
    # No digits or places here: the service checks the range and keeps a tenth, as for the API.
    bmi = forms.DecimalField(
        label=_("BMI"),
        required=False,
        widget=forms.NumberInput(attrs={"step": "0.1", "inputmode": "decimal"}),
    )

    def clean_diagnosis(self) -> str:
        # Optional in the API contract: an episode without one is "unspecified".
        return self.cleaned_data.get("diagnosis") or Diagnosis.UNSPECIFIED


class PrescriptionForm(PageForm):
    exercise = forms.ModelChoiceField(
        label=_("Exercise from the catalogue"),
        queryset=Exercise.objects.order_by("category", "name"),
        required=False,
        empty_label=_("Other (describe below)"),
    )
    other = forms.CharField(
        label=_("Other exercise"),
        required=False,
        help_text=_("Only when the exercise is not in the catalogue."),
    )
    sets = forms.IntegerField(label=_("Sets per day"), initial=3, widget=_number(1, MAX_SETS))
    reps = forms.CharField(
        label=_("Repetitions or hold"),
        required=False,
        help_text=_("For example 15, or 30 s hold. Empty: the catalogue's default."),
    )
    start_date = forms.DateField(
        label=_("Start date"),
        required=False,
        widget=DateInput(),
        help_text=_("Empty: the episode's start."),
    )
    end_date = forms.DateField(
        label=_("End date"), required=False, widget=DateInput(), help_text=_("Empty: open.")
    )

    def __init__(self, *args: Any, clinic_id: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The shared catalogue and, next to it, the clinic's own exercises still offered
        # (docs/clinic-exercises.md); the choice is checked against the same list.
        field = self.fields["exercise"]
        assert isinstance(field, forms.ModelChoiceField)
        offered = list(
            Exercise.objects.filter(
                Q(clinic__isnull=True) | Q(clinic_id=clinic_id, archived_at__isnull=True)
                if clinic_id
                else Q(clinic__isnull=True)
            ).order_by("category", "name")
        )
        field.queryset = Exercise.objects.filter(pk__in=[e.pk for e in offered])
        catalogue = [(e.pk, gettext(e.name)) for e in offered if e.clinic_id is None]
        own = [(e.pk, e.name) for e in offered if e.clinic_id is not None]
        choices: list[Any] = [("", field.empty_label)]
        if own:
            choices += [(_("The shared catalogue"), catalogue), (_("Your clinic's exercises"), own)]
        else:
            choices += catalogue
        field.choices = choices

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("exercise") and not (data.get("other") or "").strip():
            self.add_error("exercise", _("Choose an exercise from the catalogue, or describe one."))
        return data

    def exercise_name(self) -> str:
        chosen: Exercise | None = self.cleaned_data.get("exercise")
        return chosen.name if chosen else (self.cleaned_data.get("other") or "").strip()


def injection_site_choices() -> list[tuple[str, Any]]:
    """The sites a page offers: the allowed codes (the refused ones are never offered)."""
    return [("", _("Choose a site")), *((code, InjectionSite(code).label) for code in ALLOWED)]


class InterventionForm(PageForm):
    """An intervention. An injection takes a site from the list; other kinds a free-text site.

    Both fields are on the page (it works without JavaScript); ``site_value`` picks the one the
    kind uses. The choice is a plain text field under a select, so a value that is not offered
    reaches the service and is refused there with the API's words.
    """

    kind = forms.ChoiceField(label=_("Kind"), choices=InterventionKind.choices)
    start_date = forms.DateField(label=_("Start date"), widget=DateInput())
    end_date = forms.DateField(label=_("End date"), required=False, widget=DateInput())
    injection_site = forms.CharField(
        label=_("Injection site (corticosteroid injection)"),
        required=False,
        widget=forms.Select(choices=injection_site_choices()),
        help_text=_(
            "Never into or near the Achilles tendon, its paratenon or the retrocalcaneal bursa. "
            "For another site choose “Another site” and describe it in the note."
        ),
    )
    site = forms.CharField(
        label=_("Site (other kinds)"),
        required=False,
        help_text=_("Free text, for example “walking boot, left”."),
    )
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def is_injection(self) -> bool:
        return self.cleaned_data.get("kind") == InterventionKind.CORTICOSTEROID_INJECTION

    def service_values(self) -> dict[str, Any]:
        """The values as the service takes them (``site``: the code or the free text)."""
        data = self.cleaned_data
        return {
            "kind": data["kind"],
            "start_date": data["start_date"],
            "end_date": data.get("end_date"),
            "site": (data.get("injection_site") if self.is_injection() else data.get("site")) or "",
            "note": data.get("note") or "",
        }

    def add_service_errors(self, exc: ValidationError) -> None:
        """The service's errors; those of ``site`` go to the field the kind uses."""
        if hasattr(exc, "error_dict") and "site" in exc.message_dict and self.is_injection():
            messages = exc.message_dict
            self.add_error("injection_site", messages.pop("site"))
            exc = ValidationError(messages) if messages else ValidationError({})
        add_service_errors(self, exc)


class ReferralForm(PageForm):
    date = forms.DateField(label=_("Referral date"), widget=DateInput())
    referred_to = forms.CharField(
        label=_("Referred to"), required=False, help_text=_("Surgeon or service.")
    )
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class CloseForm(PageForm):
    date = forms.DateField(label=_("Closing date"), widget=DateInput())
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=Outcome.choices, widget=forms.RadioSelect
    )
