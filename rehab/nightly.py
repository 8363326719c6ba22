"""Evaluating many episodes: the loop shared by ``manage.py evaluate_progress`` and the nightly job.

The command runs it synchronously over every active episode; the Celery beat job fans out
chunks of ids (``active_episode_id_chunks``) to workers that each call ``evaluate_episodes`` on
one chunk. A chunk is evaluated in bulk (``rehab.evaluation.evaluate_episodes_bulk``: a few
queries and one transaction for the whole chunk, however many episodes and entries it holds).
If that fails, the chunk is evaluated again one episode per transaction, so that a failure in
one episode neither rolls back nor stops the others.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet

from rehab.evaluation import EvaluationOutcome, evaluate_episode, evaluate_episodes_bulk
from rehab.models import Episode, EpisodeStatus

logger = logging.getLogger(__name__)

# Episodes per chunk (one transaction, one Celery task): large enough that the chunk's dozen
# queries are shared by many episodes, small enough that its rows stay locked for a fraction of
# a second and its memory stays near 100 MB (docs/performance.md).
DEFAULT_CHUNK_SIZE = 500


@dataclass
class EvaluationSummary:
    """Counts over many evaluations. JSON-friendly through ``as_dict`` (Celery results)."""

    evaluated: int = 0
    skipped: int = 0  # no longer active (or gone) when its turn came
    raised: int = 0
    updated: int = 0
    reopened: int = 0
    resolved: int = 0
    notifications: int = 0
    failed: list[int] = field(default_factory=list)
    # The dates used; with no explicit as_of each patient's local today, which may differ
    # across time zones around midnight.
    dates: set[dt.date] = field(default_factory=set)

    def add(self, outcome: EvaluationOutcome, as_of: dt.date | None) -> None:
        if not outcome.evaluated or as_of is None:
            self.skipped += 1
            return
        self.evaluated += 1
        self.raised += len(outcome.raised)
        self.updated += len(outcome.updated)
        self.reopened += len(outcome.reopened)
        self.resolved += len(outcome.resolved)
        self.notifications += len(outcome.deliveries)
        self.dates.add(as_of)

    def merge(self, other: EvaluationSummary) -> EvaluationSummary:
        self.evaluated += other.evaluated
        self.skipped += other.skipped
        self.raised += other.raised
        self.updated += other.updated
        self.reopened += other.reopened
        self.resolved += other.resolved
        self.notifications += other.notifications
        self.failed += other.failed
        self.dates |= other.dates
        return self

    def as_dict(self) -> dict[str, Any]:
        return {
            "evaluated": self.evaluated,
            "skipped": self.skipped,
            "raised": self.raised,
            "updated": self.updated,
            "reopened": self.reopened,
            "resolved": self.resolved,
            "notifications": self.notifications,
            "failed": list(self.failed),
            "dates": sorted(d.isoformat() for d in self.dates),
        }

    def line(self, as_of: dt.date | None = None) -> str:
        """One line for a log or a terminal."""
        if as_of is not None:
            when = f"as of {as_of:%Y-%m-%d}"
        elif len(self.dates) == 1:
            when = f"as of {next(iter(self.dates)):%Y-%m-%d}"
        elif self.dates:
            when = (
                f"as of each patient's local today ({min(self.dates):%Y-%m-%d} to "
                f"{max(self.dates):%Y-%m-%d})"
            )
        else:
            when = "as of each patient's local today"
        text = (
            f"Evaluated {_count(self.evaluated, 'episode')} {when}: "
            f"{_count(self.raised, 'alert')} raised, {self.updated} updated, "
            f"{self.reopened} reopened, {self.resolved} resolved, "
            f"{_count(self.notifications, 'notification')} queued"
        )
        if self.skipped:
            text += f", {self.skipped} skipped (no longer active)"
        if self.failed:
            text += f", {len(self.failed)} failed (episodes {', '.join(map(str, self.failed))})"
        return text + "."


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def active_episode_id_chunks(
    chunk_size: int = DEFAULT_CHUNK_SIZE, *, episodes: QuerySet[Episode] | None = None
) -> Iterator[list[int]]:
    """The ids of the active episodes (of ``episodes``, when given), in ascending lists of at
    most ``chunk_size``.

    Keyset pagination (``pk > last``) rather than OFFSET, so each chunk is one cheap indexed
    query and memory stays flat however many episodes there are.
    """
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1.")
    if episodes is None:
        episodes = Episode.objects.all()
    last = 0
    while True:
        ids = list(
            episodes.filter(status=EpisodeStatus.ACTIVE, pk__gt=last)
            .order_by("pk")
            .values_list("pk", flat=True)[:chunk_size]
        )
        if not ids:
            return
        yield ids
        if len(ids) < chunk_size:
            return
        last = ids[-1]


def _local_todays(episode_ids: Iterable[int]) -> dict[int, dt.date]:
    """Each episode's patient's local today, in one query."""
    from accounts.models import Patient

    rows = Episode.objects.filter(pk__in=list(episode_ids)).values_list("pk", "patient__timezone")
    return {pk: Patient(timezone=tz).local_today() for pk, tz in rows}


def evaluate_episodes(episode_ids: list[int], as_of: dt.date | None = None) -> EvaluationSummary:
    """Evaluate the given episodes and count what happened.

    ``as_of=None`` evaluates each episode as of its patient's local today. An episode that is
    no longer active, or no longer exists, is skipped (not an error: it may have been closed
    since the ids were read). The episodes are evaluated in bulk, in one transaction; if that
    fails they are evaluated again one by one, each in its own transaction: an episode whose
    evaluation raises is logged and listed in ``failed``, and the others still run.
    Idempotent: running it twice raises nothing new.
    """
    summary = EvaluationSummary()
    if not episode_ids:
        return summary
    try:
        result = evaluate_episodes_bulk(episode_ids=episode_ids, as_of=as_of)
    except Exception:
        # Ids only in the log: no health data.
        logger.exception(
            "bulk evaluation of episodes %s to %s failed; evaluating them one by one",
            min(episode_ids),
            max(episode_ids),
        )
        return _evaluate_one_by_one(episode_ids, as_of)
    summary.skipped += len(result.missing)
    for outcome, day in result.outcomes:
        summary.add(outcome, day)
    return summary


def _evaluate_one_by_one(episode_ids: list[int], as_of: dt.date | None) -> EvaluationSummary:
    summary = EvaluationSummary()
    todays = _local_todays(episode_ids) if as_of is None else {}
    for episode_id in episode_ids:
        day = as_of or todays.get(episode_id)
        if day is None:
            summary.skipped += 1  # deleted since its id was read
            continue
        try:
            outcome = evaluate_episode(episode_id=episode_id, as_of=day)
        except Exception:
            logger.exception("evaluation of episode %s failed", episode_id)
            summary.failed.append(episode_id)
            continue
        summary.add(outcome, day)
    return summary


def evaluate_active_episodes(
    *,
    as_of: dt.date | None = None,
    episode_ids: list[int] | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> EvaluationSummary:
    """Evaluate every active episode (or just ``episode_ids``) synchronously, chunk by chunk."""
    summary = EvaluationSummary()
    if episode_ids is not None:
        chunks: Iterable[list[int]] = (
            episode_ids[i : i + chunk_size] for i in range(0, len(episode_ids), chunk_size)
        )
    else:
        chunks = active_episode_id_chunks(chunk_size)
    for chunk in chunks:
        summary.merge(evaluate_episodes(chunk, as_of))
    return summary
