"""Store every user's email address in its one spelling (accounts/emails.py: NFKC, case folding).

Sign-in now finds users by equality with the normalised address, so a stored address in any
other spelling would stop signing in. Two accounts whose addresses normalise to the same one
(``Ann@x.test`` and ``ann@x.test``, which the Django admin could store) are not merged: the
migration stops and names them, and an operator decides (deactivate one, change its address in
the admin or a shell), then runs ``migrate`` again.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from typing import Any

from django.db import migrations


def _normalise(email: str) -> str:
    # A frozen copy of accounts.emails.normalize_email: a migration must not change meaning when
    # the application's code does.
    folded = unicodedata.normalize("NFKC", email.strip()).casefold()
    return unicodedata.normalize("NFKC", folded).strip()


def normalise_emails(apps: Any, schema_editor: Any) -> None:
    User = apps.get_model("accounts", "User")
    by_normalised: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for pk, email in User.objects.order_by("pk").values_list("pk", "email"):
        by_normalised[_normalise(email)].append((pk, email))
    collisions = {key: rows for key, rows in by_normalised.items() if len(rows) > 1}
    if collisions:
        lines = [
            f"  {key}: " + ", ".join(f"user id {pk} ({email!r})" for pk, email in rows)
            for key, rows in sorted(collisions.items())
        ]
        raise RuntimeError(
            "These accounts have addresses that are the same once normalised (NFKC and case "
            "folding), and sign-in could not tell them apart:\n"
            + "\n".join(lines)
            + "\nGive all but one of each group another address (or delete it), then run "
            "migrate again. Nothing was changed."
        )
    for normalised, [(pk, email)] in by_normalised.items():
        if email != normalised:
            User.objects.filter(pk=pk).update(email=normalised)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_audit_append_only")]

    operations = [
        # Backwards: nothing to undo; normalised addresses are valid addresses.
        migrations.RunPython(normalise_emails, migrations.RunPython.noop),
    ]
