"""Set-up shared by the task tests and the real-worker integration test."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from config.celery import app
from rehab.models import Episode, Prescription
from tests.factories import DailyEntryFactory, ExerciseLogFactory, PrescriptionFactory

# Nothing listens on port 1: connecting is refused at once, like a Redis that is down.
DEAD_BROKER_URL = "redis://127.0.0.1:1/0"


@contextmanager
def broker_at(url: str) -> Iterator[None]:
    """Point this process's Celery app at another broker, and back afterwards.

    The app caches its connection pools; dropping them makes the next publish connect anew.
    """
    changes = app.conf.changes
    had, previous = "broker_url" in changes, changes.get("broker_url")
    app.conf.broker_url = url
    _drop_pools()
    try:
        yield
    finally:
        if had:
            changes["broker_url"] = previous
        else:
            changes.pop("broker_url", None)
        _drop_pools()


def _drop_pools() -> None:
    app._pool = None
    app.amqp._producer_pool = None


def stalled_course(
    episode: Episode,
    *,
    days: Iterable[int],
    baseline_pain: int = 7,
    recent_pain: int = 6,
    recent_from_day: int = 36,
) -> Prescription:
    """Worked example 1 of the clinical rules: baseline pain 7 in week 1, then a little better
    (6) from day 36, every prescribed set done. Writes an entry for each trial day in ``days``;
    called again for the same episode, it adds entries under the same prescription."""
    prescription = Prescription.objects.filter(episode=episode).first() or PrescriptionFactory(
        episode=episode, sets=3, start_date=episode.start_date
    )
    for day in days:
        entry = DailyEntryFactory(
            episode=episode,
            date=episode.start_date + dt.timedelta(days=day - 1),
            pain_activity=baseline_pain if day < recent_from_day else recent_pain,
        )
        ExerciseLogFactory(entry=entry, prescription=prescription, sets_completed=3)
    return prescription
