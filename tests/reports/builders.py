"""Set-up for the report and export tests: a stalled conservative trial, as rows.

Dates are relative to the patient's today (the report stands on it for an active episode), so
the course is "day 50 of a trial that has not improved": week-1 pain 7,7,8,7,7,6,7 (baseline
7.0), then 6 every day, all prescribed sets done, plantar flexion 32° against 46° on the healthy
side. Day 50 lies between the review day (42) and the overdue day (56): REFERRAL_CONSIDER.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from rehab.models import DailyEntry, Episode, Prescription
from tests.factories import (
    DailyEntryFactory,
    ExerciseLogFactory,
    InterventionFactory,
    PrescriptionFactory,
)

WEEK_ONE = (7, 7, 8, 7, 7, 6, 7)


def stalled_trial(
    episode: Episode,
    *,
    days: int = 50,
    pain: Callable[[int], int] | None = None,
    sets_done: Callable[[int], int] | None = None,
    note: Callable[[int], str] | None = None,
) -> tuple[Prescription, list[DailyEntry]]:
    """Give ``episode`` (re-dated to start ``days - 1`` days ago) one entry per day."""
    today = episode.patient.local_today()
    episode.start_date = today - dt.timedelta(days=days - 1)
    episode.save(update_fields=["start_date"])
    prescription = PrescriptionFactory(
        episode=episode, name="Double-leg heel raises", sets=3, start_date=episode.start_date
    )
    entries = []
    for n in range(1, days + 1):
        value = pain(n) if pain else (WEEK_ONE[n - 1] if n <= 7 else 6)
        entry = DailyEntryFactory(
            episode=episode,
            date=episode.start_date + dt.timedelta(days=n - 1),
            pain_activity=value,
            pain_rest=max(value - 4, 0),
            pf_rom_affected=32 if n % 3 == 0 else None,
            pf_rom_unaffected=46 if n % 6 == 0 else None,
            note=note(n) if note else "",
        )
        ExerciseLogFactory(
            entry=entry,
            prescription=prescription,
            sets_completed=sets_done(n) if sets_done else 3,
        )
        entries.append(entry)
    InterventionFactory(
        episode=episode,
        kind="immobilization",
        start_date=episode.start_date + dt.timedelta(days=9),
        end_date=episode.start_date + dt.timedelta(days=14),
        note="Walking boot for a flare-up",
    )
    InterventionFactory(
        episode=episode,
        kind="corticosteroid_injection",
        start_date=episode.start_date + dt.timedelta(days=24),
        site="posterolateral ankle, image-guided",
    )
    return prescription, entries
