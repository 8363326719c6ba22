"""The courses the tests lay out: daily entries for an episode, by trial day (tests/days.py).

Day 1 is the episode's start; ``day(n)`` counts from the spec's worked examples' start
(2026-01-05) unless given another. ``log_days`` is the one loop that writes a course's entries
(and their exercise logs); the named courses below are the ones several test folders share.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from accounts.models import Patient
from rehab.models import DailyEntry, Episode, Prescription
from tests.days import START, WEEK_ONE, day
from tests.factories import (
    DailyEntryFactory,
    EpisodeFactory,
    ExerciseLogFactory,
    InterventionFactory,
    PrescriptionFactory,
)


def prescribe(episode: Episode, **fields: Any) -> Prescription:
    """The episode's first prescription, or a new one of 3 sets from its start."""
    existing = Prescription.objects.filter(episode=episode).order_by("pk").first()
    return existing or PrescriptionFactory(
        episode=episode, **{"sets": 3, "start_date": episode.start_date, **fields}
    )


def log_days(
    episode: Episode,
    pains: Mapping[int, int],
    *,
    prescription: Prescription | None = None,
    sets_done: int | Callable[[int], int] = 3,
    fields: Callable[[int], Mapping[str, Any]] | None = None,
) -> list[DailyEntry]:
    """One entry per trial day in ``pains`` ({day: activity pain}), in its order; with a
    ``prescription``, each day logs ``sets_done`` sets of it (a number, or one per day).
    ``fields(day)`` gives any other values of that day's entry (rest pain, ROM, a note)."""
    entries = []
    for n, pain in pains.items():
        entry = DailyEntryFactory(
            episode=episode,
            date=day(n, start=episode.start_date),
            pain_activity=pain,
            **(fields(n) if fields else {}),
        )
        if prescription is not None:
            done = sets_done(n) if callable(sets_done) else sets_done
            ExerciseLogFactory(entry=entry, prescription=prescription, sets_completed=done)
        entries.append(entry)
    return entries


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
    prescription = prescribe(episode)
    pains = {n: baseline_pain if n < recent_from_day else recent_pain for n in days}
    log_days(episode, pains, prescription=prescription)
    return prescription


def referral_course(patient: Patient, *, start: dt.date = START) -> Episode:
    """A new episode: baseline 7 (days 1-7), pain 6 on days 36-42, every prescribed set done.

    As of day 42: change 1.0 (14%), MCID not met, adherence 100% -> REFERRAL_CONSIDER (high).
    """
    episode = EpisodeFactory(patient=patient, start_date=start)
    stalled_course(episode, days=[*range(1, 8), *range(36, 43)])
    return episode


def stalled_trial(
    episode: Episode,
    *,
    days: int = 50,
    pain: Callable[[int], int] | None = None,
    sets_done: Callable[[int], int] | None = None,
    note: Callable[[int], str] | None = None,
) -> tuple[Prescription, list[DailyEntry]]:
    """The reports' stalled trial, as rows, ending on the patient's today.

    ``episode`` is re-dated to start ``days - 1`` days ago and gets one entry a day: week-1 pain
    7,7,8,7,7,6,7 (baseline 7.0), then 6 every day, all prescribed sets done, plantar flexion 32°
    against 46° on the healthy side, a walking boot on days 10-15 and an injection on day 25.
    At day 50 (between the review day, 42, and the overdue day, 56): REFERRAL_CONSIDER.
    """
    today = episode.patient.local_today()
    episode.start_date = today - dt.timedelta(days=days - 1)
    episode.save(update_fields=["start_date"])
    prescription = PrescriptionFactory(
        episode=episode, name="Double-leg heel raises", sets=3, start_date=episode.start_date
    )
    pains = {n: pain(n) if pain else (WEEK_ONE[n - 1] if n <= 7 else 6) for n in range(1, days + 1)}
    entries = log_days(
        episode,
        pains,
        prescription=prescription,
        sets_done=sets_done or 3,
        fields=lambda n: {
            "pain_rest": max(pains[n] - 4, 0),
            "pf_rom_affected": 32 if n % 3 == 0 else None,
            "pf_rom_unaffected": 46 if n % 6 == 0 else None,
            "note": note(n) if note else "",
        },
    )
    InterventionFactory(
        episode=episode,
        kind="immobilization",
        start_date=day(10, start=episode.start_date),
        end_date=day(15, start=episode.start_date),
        note="Walking boot for a flare-up",
    )
    InterventionFactory(
        episode=episode,
        kind="corticosteroid_injection",
        start_date=day(25, start=episode.start_date),
        site="posterior_ankle_posterolateral",
    )
    return prescription, entries


def charted_course(episode: Episode, *, days: int) -> None:
    """``days`` daily entries from the start (week-1 pain as in the spec, then 6), all sets done,
    plantar flexion twice a week, a one-week boot and an injection: every chart of the episode
    page has something to draw."""
    log_days(
        episode,
        {n: WEEK_ONE[n - 1] if n <= 7 else 6 for n in range(1, days + 1)},
        prescription=PrescriptionFactory(episode=episode, sets=3, start_date=episode.start_date),
        fields=lambda n: {
            "pain_rest": 2,
            "pf_rom_affected": 28 if n % 7 in (1, 4) else None,
            "pf_rom_unaffected": 45 if n % 7 in (1, 4) else None,
        },
    )
    InterventionFactory(
        episode=episode,
        kind="immobilization",
        start_date=episode.start_date,
        end_date=episode.start_date + dt.timedelta(days=6),
    )
    InterventionFactory(
        episode=episode,
        kind="corticosteroid_injection",
        start_date=episode.start_date + dt.timedelta(days=2),
        site="posterior_ankle_posterolateral",
    )


def charted_episode(cast: Any, *, trial_day: int = 51) -> Episode:
    """A new episode of the cast's first patient, on ``trial_day`` today."""
    today = cast.patient_a.local_today()
    return EpisodeFactory(
        patient=cast.patient_a, start_date=today - dt.timedelta(days=trial_day - 1)
    )
