"""The patient's questionnaire forms (FAAM and PSFS) as a browser posts them without JavaScript.

Like ``rehab.forms`` they only parse: which answer was ticked, which activity was named and rated.
The scoring, the ranges and the rights stay in ``rehab.questionnaires`` (the service): a view
passes the parsed values to it and hands its ``ValidationError`` back with
:meth:`QuestionnaireForm.add_service_errors`, so the page shows the API's words next to the item
they concern (docs/patient-pages.md, "Questionnaires").
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.forms import PageForm
from rehab.function_scores import (
    FAAM_ITEMS,
    PSFS_ACTIVITY_MAX_LENGTH,
    PSFS_MAX_ACTIVITIES,
    FaamItem,
)

# The hidden field with the day the form was opened for (clinical-rules.md, "Input rules"): a form
# opened at 23:58 and sent at 00:01 is filed under the first day, like the diary's entry_date.
DATE_FIELD = "questionnaire_date"

# The FAAM answers as the form shows them, best first (Martin et al. 2005): 4 … 0, then N/A.
FAAM_CHOICE_VALUES: tuple[str, ...] = ("4", "3", "2", "1", "0", "na")

# An activity's name: as long as the service keeps (rehab.questionnaires).
ACTIVITY_MAX_LENGTH = PSFS_ACTIVITY_MAX_LENGTH


def _date_from_post(data: Any) -> dt.date | str | None:
    """The posted day the form was opened for; None when absent, the text when unreadable."""
    text = str(data.get(DATE_FIELD, "")).strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text) if len(text) == 10 else text
    except ValueError:
        return text


class QuestionnaireForm(PageForm):
    """What both forms share: the day the form was opened for, and the service's errors."""

    def opened_for(self) -> dt.date | str | None:
        return _date_from_post(self.data) if self.is_bound else None

    def service_field(self, key: str) -> str | None:
        """The form field a service error key names, or None for a form-wide error."""
        return key if key in self.fields else None

    def add_service_errors(self, exc: ValidationError) -> None:
        if not hasattr(exc, "error_dict"):
            self.add_error(None, exc.messages)
            return
        for key, messages in exc.message_dict.items():
            self.add_error(self.service_field(key), messages)


class FaamForm(QuestionnaireForm):
    """One radio group per FAAM item (``adl-1`` … ``sports-8``); every item may stay blank."""

    def __init__(self, *args: Any, items: Sequence[FaamItem] = FAAM_ITEMS, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.items = tuple(items)
        for item in self.items:
            self.fields[item.link_id] = forms.ChoiceField(
                choices=[(value, value) for value in FAAM_CHOICE_VALUES],
                required=False,
                widget=forms.RadioSelect,
            )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not self.errors and not self.answers():
            raise ValidationError(_("Answer at least one question, then press Send."))
        return cleaned

    def answers(self) -> dict[str, int | str]:
        """The answered items as the API takes them: ``{"adl-1": 4, "sports-2": "na"}``."""
        found: dict[str, int | str] = {}
        for item in self.items:
            value = self.cleaned_data.get(item.link_id) if hasattr(self, "cleaned_data") else None
            if value:
                found[item.link_id] = value if value == "na" else int(value)
        return found

    def service_field(self, key: str) -> str | None:
        # "answers.adl-3" (api-contract.md) is the item's radio group.
        name = key.removeprefix("answers.")
        return name if name in self.fields else None


_ACTIVITY_KEY = re.compile(r"^activities\[(\d+)\]\.(activity|score)$")


class PsfsForm(QuestionnaireForm):
    """Up to five rows of an activity's name and its rating 0–10 (PSFS).

    A row left empty is skipped. ``fixed`` lists the activities named at the baseline: at a
    follow-up they are re-rated, not renamed (clinical-rules.md), so their names come back as
    hidden inputs and only their ratings are asked.
    """

    def __init__(self, *args: Any, fixed: Sequence[str] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fixed = tuple(fixed)
        for row in self.rows():
            self.fields[f"activity_{row}"] = forms.CharField(
                label=_("Activity %(number)s") % {"number": row},
                required=False,
                max_length=ACTIVITY_MAX_LENGTH,
                strip=True,
            )
            self.fields[f"score_{row}"] = forms.TypedChoiceField(
                label=_("Rating of activity %(number)s") % {"number": row},
                choices=[(str(n), str(n)) for n in range(11)],
                coerce=int,
                empty_value=None,
                required=False,
                widget=forms.RadioSelect,
            )
        # Which submitted row the service's ``activities[i]`` is: set by activities().
        self._row_of_index: list[int] = []

    def rows(self) -> range:
        count = len(self.fixed) if self.fixed else PSFS_MAX_ACTIVITIES
        return range(1, count + 1)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        named = 0
        for row in self.rows():
            activity = cleaned.get(f"activity_{row}") or ""
            score = cleaned.get(f"score_{row}")
            if activity and score is None:
                self.add_error(f"score_{row}", _("Rate this activity from 0 to 10."))
            elif score is not None and not activity:
                self.add_error(f"activity_{row}", _("Name the activity you are rating."))
            if activity:
                named += 1
        if not named and not self.errors:
            raise ValidationError(_("Name at least one activity and rate it from 0 to 10."))
        return cleaned

    def activities(self) -> list[dict[str, Any]]:
        """The named and rated rows as the API takes them, in the form's order."""
        found: list[dict[str, Any]] = []
        self._row_of_index = []
        for row in self.rows():
            activity = self.cleaned_data.get(f"activity_{row}") or ""
            score = self.cleaned_data.get(f"score_{row}")
            if activity or score is not None:
                found.append({"activity": activity, "score": score})
                self._row_of_index.append(row)
        return found

    def service_field(self, key: str) -> str | None:
        match = _ACTIVITY_KEY.match(key)
        if match is None:
            return None
        index = int(match.group(1))
        if index >= len(self._row_of_index):
            return None
        row = self._row_of_index[index]
        return f"{match.group(2)}_{row}"
