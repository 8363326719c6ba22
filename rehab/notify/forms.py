from __future__ import annotations

from django import forms

from rehab.notify.addresses import MAX_URL_LENGTH
from rehab.notify.endpoints import DESCRIPTION_MAX


class WebhookEndpointForm(forms.Form):
    # A CharField, not a URLField: the service decides what an acceptable address is, with one
    # message for the page and the API alike.
    url = forms.CharField(
        label="Address (URL)",
        max_length=MAX_URL_LENGTH,
        help_text=(
            "Where events are sent, e.g. https://example.org/hooks/pais. Public addresses only."
        ),
        widget=forms.URLInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    description = forms.CharField(
        label="Description",
        max_length=DESCRIPTION_MAX,
        required=False,
        help_text="Optional: what receives these events.",
    )
