from typing import Any

from django.apps import AppConfig


def _stamp_new_session(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    # Every sign-in (the login page, an accepted invitation, a test's force_login) starts the
    # session's clocks for the idle timeout and the absolute lifetime (accounts/sessions.py).
    from accounts import sessions

    session = getattr(request, "session", None)
    if session is not None:
        sessions.start(session, user)


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and clinics"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from accounts import (
            checks,  # noqa: F401  (registers the system checks)
            language,  # noqa: F401  (remembers the language at sign-in)
        )

        user_logged_in.connect(_stamp_new_session, dispatch_uid="accounts.session_start")
