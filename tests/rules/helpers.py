"""Small builders that keep the rule tests close to the spec's own wording.

Days are trial days: ``day(1)`` is the episode's start (2026-01-05, as in the spec's worked
examples), so a test reads "entries on days 36-42, evaluated on day 42".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from fractions import Fraction
from typing import Any

from rehab.rules import (
    EntryData,
    EpisodeData,
    Evaluation,
    InterventionData,
    PrescriptionData,
    QuestionnaireScore,
    Thresholds,
    evaluate,
)
from tests.days import START, day

DEFAULTS = Thresholds()
# One prescription of 3 sets, active from the start, unless a test says otherwise.
RX = PrescriptionData(id=1, sets=3, start_date=START)


def entries(
    first_day: int,
    pains: Sequence[int],
    *,
    rom: float | None = None,
    rom_other: float | None = None,
    done: Mapping[int, int] | None = None,
) -> list[EntryData]:
    """Entries on consecutive days from ``first_day``, one per pain score."""
    return [
        EntryData(
            date=day(first_day + i),
            pain_activity=pain,
            pf_rom_affected=rom,
            pf_rom_unaffected=rom_other,
            sets_done=dict(done or {}),
        )
        for i, pain in enumerate(pains)
    ]


def flat(first_day: int, last_day: int, pain: int, **kwargs: Any) -> list[EntryData]:
    """The same pain score every day from ``first_day`` to ``last_day`` inclusive."""
    return entries(first_day, [pain] * (last_day - first_day + 1), **kwargs)


def episode(*entry_groups: Iterable[EntryData], **fields: Any) -> EpisodeData:
    fields.setdefault("start_date", START)
    return EpisodeData(entries=tuple(e for group in entry_groups for e in group), **fields)


def immobilization(first_day: int, last_day: int | None) -> InterventionData:
    return InterventionData(
        kind="immobilization",
        start_date=day(first_day),
        end_date=day(last_day) if last_day is not None else None,
    )


def on_day(ep: EpisodeData, n: int, thresholds: Thresholds = DEFAULTS) -> Evaluation:
    return evaluate(ep, thresholds, day(n))


def codes(evaluation: Evaluation) -> set[str]:
    return {f.code for f in evaluation.findings}


# The clinical spec's worked example 1 (tests/rules/test_worked_examples.py), shared with the
# tests that need a real referral finding.
WEEK_ONE = [7, 7, 8, 7, 7, 6, 7]  # baseline 7.0
ALL_DONE = {RX.id: RX.sets}


def example_one(late_pain: int = 6, last_day: int = 42) -> EpisodeData:
    """Start 2026-01-05; days 1-7 as above; days 36-42 (or later) all ``late_pain``."""
    return episode(
        entries(1, WEEK_ONE, done=ALL_DONE),
        flat(36, last_day, late_pain, done=ALL_DONE),
        prescriptions=(RX,),
    )


def faam(on: int, *, adl: float | None = None, sports: float | None = None) -> QuestionnaireScore:
    """A FAAM response on trial day ``on`` with these subscale scores (None: unknown)."""
    return QuestionnaireScore(
        date=day(on),
        instrument="faam",
        faam_adl=None if adl is None else Fraction(str(adl)),
        faam_sports=None if sports is None else Fraction(str(sports)),
    )


def psfs(on: int, score: float) -> QuestionnaireScore:
    """A PSFS response on trial day ``on`` with this mean score."""
    return QuestionnaireScore(date=day(on), instrument="psfs", psfs=Fraction(str(score)))
