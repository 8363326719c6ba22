from __future__ import annotations

from django import forms

from rehab.notify.addresses import MAX_URL_LENGTH
from rehab.notify.endpoints import DESCRIPTION_MAX


class WebhookEndpointForm(forms.Form):
    # A CharField, not a URLField, and no max_length: the service decides what an acceptable
    # address and description are, with one message for the page and the API alike.
    url = forms.CharField(
        label="Address (URL)",
        help_text=(
            "Where events are sent, e.g. https://example.org/hooks/pais. Public addresses only, "
            f"at most {MAX_URL_LENGTH} characters."
        ),
        widget=forms.URLInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    description = forms.CharField(
        label="Description",
        required=False,
        help_text=f"Optional: what receives these events (at most {DESCRIPTION_MAX} characters).",
    )
