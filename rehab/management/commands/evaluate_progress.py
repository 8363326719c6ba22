"""``manage.py evaluate_progress [--as-of YYYY-MM-DD] [--episode ID]``: the nightly job, by hand.

It runs synchronously the same service as the nightly Celery job (``rehab.nightly``), turns
findings into alerts and prints one summary line.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rehab.models import Episode, EpisodeStatus
from rehab.nightly import DEFAULT_CHUNK_SIZE, evaluate_active_episodes

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _date(value: str) -> dt.date:
    try:
        if not _ISO_DATE.fullmatch(value):
            raise ValueError(value)
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--as-of: '{value}' is not a date written YYYY-MM-DD.") from None


class Command(BaseCommand):
    help = (
        "Evaluate active episodes as of a date (default: each patient's local today), turn "
        "findings into alerts and print a one-line summary."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--as-of", dest="as_of", help="YYYY-MM-DD (default: today).")
        parser.add_argument("--episode", type=int, help="Evaluate only this active episode.")
        parser.add_argument(
            "--chunk-size",
            type=int,
            default=DEFAULT_CHUNK_SIZE,
            help="Episodes read per batch (memory stays flat however many there are).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        as_of = _date(options["as_of"]) if options["as_of"] else None
        if options["chunk_size"] < 1:
            raise CommandError("--chunk-size must be at least 1.")
        episode_ids: list[int] | None = None
        if options["episode"] is not None:
            episode_id = options["episode"]
            status = Episode.objects.filter(pk=episode_id).values_list("status", flat=True).first()
            if status is None:
                raise CommandError(f"Episode {episode_id} does not exist.")
            if status != EpisodeStatus.ACTIVE:
                raise CommandError(
                    f"Episode {episode_id} is {status}, not active: only active episodes are "
                    "evaluated."
                )
            episode_ids = [episode_id]
        summary = evaluate_active_episodes(
            as_of=as_of, episode_ids=episode_ids, chunk_size=options["chunk_size"]
        )
        self.stdout.write(summary.line(as_of))
        if summary.failed:
            raise CommandError(
                f"{len(summary.failed)} episode(s) could not be evaluated; see the log."
            )
