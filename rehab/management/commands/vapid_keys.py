"""``manage.py vapid_keys [--env-file PATH]``: a new VAPID key pair for Web Push reminders.

Prints the two settings to add to the environment (docs/reminders.md). With ``--env-file`` the
lines are appended to that file instead (created readable by its owner only), so the private key
need not pass through a terminal's scrollback. Generate once per installation: a new pair makes
every existing subscription useless (browsers subscribed with the old public key).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rehab.reminders.vapid import key_pair_generate


class Command(BaseCommand):
    help = "Generate a VAPID key pair (PAIS_VAPID_PUBLIC_KEY / PAIS_VAPID_PRIVATE_KEY)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--env-file",
            help="Append the two settings to this file instead of printing them.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        public_key, private_key = key_pair_generate()
        lines = f"PAIS_VAPID_PUBLIC_KEY={public_key}\nPAIS_VAPID_PRIVATE_KEY={private_key}\n"
        env_file = options.get("env_file")
        if not env_file:
            self.stdout.write(lines, ending="")
            return
        path = Path(env_file)
        text = path.read_text() if path.exists() else ""
        if "PAIS_VAPID_PRIVATE_KEY=" in text:
            raise CommandError(
                f"{path} already holds a VAPID key pair; replacing it would end every "
                "subscription. Remove those lines first if you really mean to."
            )
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(descriptor, "a") as handle:
            if text and not text.endswith("\n"):
                handle.write("\n")
            handle.write(lines)
        self.stdout.write(f"Wrote PAIS_VAPID_PUBLIC_KEY and PAIS_VAPID_PRIVATE_KEY to {path}.")
