"""System checks for Web Push reminders: a key pair that cannot work stops the start-up, and
`check --deploy` says when push is off or the test override is on in production."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Tags, register
from django.core.checks import Error as CheckError
from django.core.checks import Warning as CheckWarning
from django.core.exceptions import ImproperlyConfigured

from rehab.reminders.vapid import vapid_keys

HINT = "Run `python manage.py vapid_keys` and set both lines (docs/reminders.md)."


@register()
def check_vapid_keys(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    public_key = str(getattr(settings, "PAIS_VAPID_PUBLIC_KEY", "") or "")
    private_key = str(getattr(settings, "PAIS_VAPID_PRIVATE_KEY", "") or "")
    if not (public_key or private_key):
        return []  # generated on first use in development; "push off" is a deploy warning
    try:
        vapid_keys()
    except ImproperlyConfigured as exc:
        return [CheckError(str(exc), hint=HINT, id="pais.E020")]
    return []


@register(Tags.security, deploy=True)
def check_push_in_production(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    if settings.DEBUG:
        return messages
    if not (getattr(settings, "PAIS_VAPID_PUBLIC_KEY", "") and settings.PAIS_VAPID_PRIVATE_KEY):
        messages.append(
            CheckWarning(
                "No VAPID key pair: reminders go by email only (no Web Push).",
                hint=HINT,
                id="pais.W020",
            )
        )
    if getattr(settings, "PAIS_PUSH_ALLOW_PRIVATE", False):
        messages.append(
            CheckWarning(
                "PAIS_PUSH_ALLOW_PRIVATE is on: any patient's browser can make the server post "
                "to private and loopback addresses.",
                hint="Unset it; it is for tests with a local push service.",
                id="pais.W021",
            )
        )
    return messages
