"""Forms of the alert inbox (acknowledge, snooze, resolve), of the clinic thresholds page and of
the escalation settings page.

Like ``rehab.forms`` they only parse what the browser sends; the rules live in the services
(``rehab.alerts``, ``rehab.thresholds``), whose ValidationErrors the views attach to the form.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.formats import number_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.forms import PageForm
from rehab.escalation import LABELS as LABELS_ESCALATION
from rehab.forms import DateInput
from rehab.free_text import NOTE_MAX_LENGTH
from rehab.thresholds import DEFAULTS, INTEGER_NAMES, LABELS


class AlertNoteForm(PageForm):
    note = forms.CharField(
        label=_("Note (optional)"),
        required=False,
        # The browser's maxlength helps the typist; rehab.alerts checks the length.
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": NOTE_MAX_LENGTH}),
    )


class AlertSnoozeForm(PageForm):
    until = forms.DateField(label=_("Snooze until"), widget=DateInput())


def _number(value: int | float) -> str:
    # "2.5" in English, "2,5" in Spanish; whole numbers without decimals.
    text = f"{value:g}"
    return number_format(value) if "." in text else text


class ThresholdsForm(PageForm):
    """Every threshold; a field left empty goes back to its default."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, (label, help_text) in LABELS.items():
            default = getattr(DEFAULTS, name)
            attrs = {"inputmode": "numeric" if name in INTEGER_NAMES else "decimal"}
            common: dict[str, Any] = {
                "label": label,
                "required": False,
                "help_text": gettext("%(help)s Default: %(default)s.")
                % {"help": help_text, "default": _number(default)},
            }
            if name in INTEGER_NAMES:
                self.fields[name] = forms.IntegerField(
                    widget=forms.NumberInput(attrs={**attrs, "step": "1"}), **common
                )
            else:
                self.fields[name] = forms.FloatField(
                    widget=forms.NumberInput(attrs={**attrs, "step": "any"}), **common
                )

        # Shown once values outside their published range were sent: saving them needs it.
        self.fields["confirm"] = forms.BooleanField(
            label=_("I have checked these values; save them anyway"), required=False
        )

    def values(self) -> dict[str, int | float]:
        """The values given; an empty field is left out, which means "the default"."""
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if name in LABELS and value is not None
        }


class EscalationForm(PageForm):
    """The clinic's escalation settings (rehab.escalation checks the bounds)."""

    critical_enabled = forms.BooleanField(
        label=LABELS_ESCALATION["critical_enabled"], required=False
    )
    critical_hours = forms.IntegerField(
        label=LABELS_ESCALATION["critical_hours"],
        help_text=_("From 1 to 336 hours (two weeks). Default: 48."),
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "step": "1", "min": 1, "max": 336}),
    )
    high_enabled = forms.BooleanField(label=LABELS_ESCALATION["high_enabled"], required=False)
    high_hours = forms.IntegerField(
        label=LABELS_ESCALATION["high_hours"],
        help_text=_("From 1 to 336 hours (two weeks). Default: 72."),
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "step": "1", "min": 1, "max": 336}),
    )
    daily_summary = forms.BooleanField(
        label=LABELS_ESCALATION["daily_summary"],
        required=False,
        help_text=_(
            "Each morning every clinic admin gets one email listing the alerts nobody has "
            "acknowledged; none on a day with nothing to list."
        ),
    )
