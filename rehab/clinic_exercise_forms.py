"""The page form for a clinic's own exercise (docs/clinic-exercises.md).

The form only shapes what the page sends; every check (lengths, the name's uniqueness, the
picture's type, size and dimensions) is the service's, so the API and the page refuse alike.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.forms import PageForm
from rehab.clinic_exercises import steps_from_text
from rehab.exercise_images import MAX_SIDE, MIN_SIDE
from rehab.models import Exercise
from rehab.services import MAX_SETS

CATEGORY_CHOICES = [
    ("stretch", pgettext_lazy("exercise category", "Stretch")),
    ("mobility", pgettext_lazy("exercise category", "Mobility")),
    ("strength", pgettext_lazy("exercise category", "Strength")),
    ("balance", pgettext_lazy("exercise category", "Balance")),
]


class ClinicExerciseForm(PageForm):
    name = forms.CharField(label=_("Name"), required=False)
    category = forms.ChoiceField(label=_("Kind of exercise"), choices=CATEGORY_CHOICES)
    instructions = forms.CharField(
        label=_("In one sentence"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("What the exercise is, in plain words for the patient."),
    )
    steps = forms.CharField(
        label=_("Steps"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("One step per line, in the order the patient does them."),
    )
    dosage = forms.CharField(
        label=_("How much"),
        required=False,
        help_text=_("For example: 3 sets of 10, or 3 × 30 s hold."),
    )
    feel = forms.CharField(
        label=_("What it should feel like"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    stop_if = forms.CharField(
        label=_("When to stop"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    default_sets = forms.IntegerField(
        label=_("Sets per day (default)"),
        initial=3,
        widget=forms.NumberInput(attrs={"min": 1, "max": MAX_SETS, "inputmode": "numeric"}),
    )
    default_reps = forms.CharField(
        label=_("Repetitions or hold (default)"),
        required=False,
        help_text=_("For example 15, or 30 s hold."),
    )
    image = forms.FileField(
        label=_("Picture"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg,image/webp"}),
        help_text=_(
            "Optional. A PNG, JPEG or WebP picture of at most 2 MB, each side between "
            "%(min)s and %(max)s pixels. It is stored without its metadata (such as where a photo "
            "was taken)."
        )
        % {"min": MIN_SIDE, "max": MAX_SIDE},
    )
    remove_image = forms.BooleanField(label=_("Remove the current picture"), required=False)

    def __init__(self, *args: Any, exercise: Exercise | None = None, **kwargs: Any) -> None:
        if exercise is not None:
            kwargs.setdefault(
                "initial",
                {
                    "name": exercise.name,
                    "category": exercise.category,
                    "instructions": exercise.instructions,
                    "steps": "\n".join(exercise.steps or []),
                    "dosage": exercise.dosage,
                    "feel": exercise.feel,
                    "stop_if": exercise.stop_if,
                    "default_sets": exercise.default_sets,
                    "default_reps": exercise.default_reps,
                },
            )
        super().__init__(*args, **kwargs)
        # The picture box is a plain file input: the current picture and its removal are shown
        # by the page (with the picture itself) rather than by Django's clearable widget.
        self.fields["image"].widget = forms.FileInput(
            attrs={"accept": "image/png,image/jpeg,image/webp"}
        )
        if exercise is None or not exercise.image:
            del self.fields["remove_image"]

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "name": data.get("name") or "",
            "category": data.get("category"),
            "instructions": data.get("instructions") or "",
            "steps": list(steps_from_text(data.get("steps") or "")),
            "dosage": data.get("dosage") or "",
            "feel": data.get("feel") or "",
            "stop_if": data.get("stop_if") or "",
            "default_sets": data.get("default_sets"),
            "default_reps": data.get("default_reps") or "",
        }
