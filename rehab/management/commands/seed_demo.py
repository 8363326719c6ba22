"""``python manage.py seed_demo``: the demo clinics, accounts and episodes (see rehab/demo.py)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from rehab.demo import DEMO_PATIENT_PASSWORD, seed_demo


class Command(BaseCommand):
    help = (
        "Create or refresh the demo clinics, accounts and patients, with episodes laid out "
        "relative to today. Idempotent; refuses to run with DJANGO_DEBUG off unless --force."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even though DEBUG is off (the demo passwords are public: never on a live "
            "installation).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "Refusing to seed demo accounts with published passwords while DJANGO_DEBUG is "
                "off. Use --force if this really is a demo installation."
            )
        result = seed_demo()

        write = self.stdout.write
        write(self.style.SUCCESS("Demo data is ready; episodes are laid out relative to today."))
        for clinic in result.clinics:
            write(f"\n{clinic.name}")
            for user, account in result.staff:
                if user.clinic_id == clinic.pk:
                    write(f"  {user.get_role_display():<20} {account.email:<26} {account.password}")
            for seeded in result.patients:
                if seeded.patient.user.clinic_id != clinic.pk:
                    continue
                course = seeded.course
                alerts = [f.code for f in seeded.progress.findings if f.is_alert]
                write(
                    f"  {'Patient':<20} {seeded.patient.user.email:<26} {DEMO_PATIENT_PASSWORD}"
                    f"  day {course.trial_day}, {course.story}: "
                    f"{seeded.progress.recommendation}"
                    + (f" ({', '.join(alerts)})" if alerts else "")
                )
        write(f"\nSign in at {settings.SITE_URL}/accounts/login/ with any of these accounts.")
