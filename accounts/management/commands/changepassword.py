"""``manage.py changepassword``: Django's command, with the consequences of a password change.

A password changed in the app, the admin or here has the same effect: every API token of the
user is revoked and the change is audited (``accounts.services.password_was_set``). Django's own
command would only set the password, leaving tokens issued under the old one working. This app
is listed before ``django.contrib.auth`` in ``INSTALLED_APPS`` so that this command is the one
``manage.py`` runs.
"""

from __future__ import annotations

import getpass
from typing import Any

from django.contrib.auth.management.commands import changepassword

from accounts.models import User
from accounts.services import password_was_set


class Command(changepassword.Command):
    help = (
        "Change a user's password (prompted twice, checked by the password validators) and "
        "revoke their API tokens."
    )

    def handle(self, *args: Any, **options: Any) -> str | None:
        # Django's command finds the user, prompts, validates and saves, or raises CommandError.
        done = super().handle(*args, **options)
        username = options["username"] or getpass.getuser()
        user = User._default_manager.using(options["database"]).get(
            **{User.USERNAME_FIELD: username}
        )
        password_was_set(user=user, actor=None)
        return done
