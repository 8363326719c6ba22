from __future__ import annotations

from django import forms
from django.utils.functional import lazy
from django.utils.translation import gettext, gettext_lazy, gettext_noop

from rehab.notify.addresses import MAX_URL_LENGTH
from rehab.notify.endpoints import DESCRIPTION_MAX


def _format(message: str, **params: object) -> str:
    # The message is marked with gettext_noop where it is written, so makemessages finds it.
    return gettext(message) % params


# A help text with a number in it, translated when the form is shown (not at import).
_lazy_format = lazy(_format, str)


class WebhookEndpointForm(forms.Form):
    # A CharField, not a URLField, and no max_length: the service decides what an acceptable
    # address and description are, with one message for the page and the API alike.
    url = forms.CharField(
        label=gettext_lazy("Address (URL)"),
        help_text=_lazy_format(
            gettext_noop(
                "Where events are sent, e.g. https://example.org/hooks/pais. Public addresses "
                "only, at most %(max)d characters."
            ),
            max=MAX_URL_LENGTH,
        ),
        widget=forms.URLInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    description = forms.CharField(
        label=gettext_lazy("Description"),
        required=False,
        help_text=_lazy_format(
            gettext_noop("Optional: what receives these events (at most %(max)d characters)."),
            max=DESCRIPTION_MAX,
        ),
    )
