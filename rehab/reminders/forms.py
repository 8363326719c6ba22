"""The reminder settings page's form: the same choices as PUT /api/v1/me/reminders/."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.forms import PageForm
from rehab.reminders.services import EMAIL, PUSH, known_timezones

CHANNEL_CHOICES = [(PUSH, _("Notification on my phone")), (EMAIL, _("Email"))]


def timezone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in sorted(known_timezones())]


class ReminderSettingsForm(PageForm):
    enabled = forms.BooleanField(
        label=_("Remind me when I have not filled in the day"), required=False
    )
    time = forms.TimeField(
        label=_("Remind me at"),
        help_text=_("Your local time. At most one reminder a day, and none once the day is in."),
        widget=forms.TimeInput(attrs={"type": "time", "step": 60}, format="%H:%M"),
        input_formats=["%H:%M", "%H:%M:%S"],
    )
    channels = forms.MultipleChoiceField(
        label=_("How"),
        choices=CHANNEL_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    timezone = forms.ChoiceField(label=_("Your time zone"), choices=())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        timezone_field = self.fields["timezone"]
        assert isinstance(timezone_field, forms.ChoiceField)
        timezone_field.choices = timezone_choices()

    def clean_time(self) -> dt.time:
        value: dt.time = self.cleaned_data["time"]
        return value.replace(second=0, microsecond=0)


class TimezoneConfirmForm(PageForm):
    timezone = forms.ChoiceField(label=_("Your time zone"), choices=())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        timezone_field = self.fields["timezone"]
        assert isinstance(timezone_field, forms.ChoiceField)
        timezone_field.choices = timezone_choices()
