"""System checks for what keeps sessions honest: the two-factor gate must be installed, after
the middleware it relies on, or a password alone would open every page."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Tags, register
from django.core.checks import Error as CheckError

TWO_FACTOR_MIDDLEWARE = "accounts.middleware.TwoFactorMiddleware"
# The gate reads request.user (authentication) and user.is_verified() (django-otp).
TWO_FACTOR_NEEDS_BEFORE = (
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
)


@register(Tags.security)
def check_two_factor_gate(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    middleware = list(settings.MIDDLEWARE)
    if TWO_FACTOR_MIDDLEWARE not in middleware:
        return [
            CheckError(
                "The two-factor middleware is not installed: a password alone would open "
                "every page and session API call of an account with an authenticator.",
                hint=f"Add {TWO_FACTOR_MIDDLEWARE!r} to MIDDLEWARE, after "
                f"{' and '.join(TWO_FACTOR_NEEDS_BEFORE)}.",
                id="pais.E003",
            )
        ]
    position = middleware.index(TWO_FACTOR_MIDDLEWARE)
    missing = [
        name
        for name in TWO_FACTOR_NEEDS_BEFORE
        if name not in middleware or middleware.index(name) > position
    ]
    if missing:
        return [
            CheckError(
                f"The two-factor middleware runs before {', '.join(missing)}, which it needs.",
                hint=f"Move {TWO_FACTOR_MIDDLEWARE!r} after them in MIDDLEWARE.",
                id="pais.E003",
            )
        ]
    return []
