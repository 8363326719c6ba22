"""``manage.py changepassword``: Django's command, with the consequences of a password change.

A password changed in the app, the admin or here has the same effect
(``accounts.services.password_change``): validated, every API token of the user revoked, their
sessions ended, the change audited and the user told by email. Django's own command would only
set the password, leaving tokens issued under the old one working. This app is listed before
``django.contrib.auth`` in ``INSTALLED_APPS`` so that this command is the one ``manage.py`` runs.
"""

from __future__ import annotations

import getpass
from typing import Any

from django.contrib.auth.management.commands import changepassword
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from accounts.emails import normalize_email
from accounts.models import User
from accounts.services import password_change

MAX_TRIES = 3


class Command(changepassword.Command):
    help = (
        "Change a user's password (prompted twice, checked by the password validators) and "
        "revoke their API tokens."
    )

    def _prompt(self, prompt: str) -> str:
        # Django's prompt (getpass); the tests replace it.
        return str(self._get_pass(prompt))  # type: ignore[attr-defined]

    def handle(self, *args: Any, **options: Any) -> str | None:
        username = normalize_email(options["username"] or getpass.getuser())
        try:
            # Stored addresses are in their normal form (accounts/emails.py), so "Admin@X" finds
            # admin@x as the sign-in page does.
            user = User._default_manager.using(options["database"]).get(
                **{User.USERNAME_FIELD: username}
            )
        except User.DoesNotExist:
            raise CommandError(f"user '{username}' does not exist") from None
        self.stdout.write(f"Changing password for user '{user}'")
        for _ in range(MAX_TRIES):
            first = self._prompt("Password: ")
            second = self._prompt("Password (again): ")
            if first != second:
                self.stdout.write("Passwords do not match. Please try again.")
                continue
            try:
                password_change(user=user, new_password=first, actor=None)
            except ValidationError as exc:
                self.stderr.write("\n".join(exc.messages))
                continue
            return f"Password changed successfully for user '{user}'"
        raise CommandError(f"Aborting password change for user '{user}' after {MAX_TRIES} attempts")
