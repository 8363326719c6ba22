"""Re-evaluating a clinic's active episodes at once, after its thresholds changed.

``reevaluation_request`` writes a ``ReevaluationRun`` row in the transaction of the change (a
row first) and queues ``rehab.tasks.reevaluate_clinic`` after commit. ``reevaluation_run``
(the task's body) evaluates the clinic's active episodes chunk by chunk, in id order, with the
same code as the nightly job (``rehab.nightly.evaluate_episodes``: alerts raised, updated or
resolved, notifications as outbox rows), and after each chunk moves the run's cursor and its
``done`` count, so the settings page shows the progress. It is idempotent: each chunk advances
the cursor only from where it found it, so a task delivered twice neither double-counts nor
stops early, and a run already finished does nothing. A run whose task was lost with the broker
is picked up by ``reevaluation_relay`` (beat, every minute).
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import User
from rehab.models import Episode, EpisodeStatus, ReevaluationRun, ReevaluationStatus
from rehab.nightly import EvaluationSummary, evaluate_episodes

logger = logging.getLogger(__name__)

CHUNK_SIZE = 200
# A queued run older than this lost its task (broker down): the relay runs it.
RELAY_MIN_AGE = dt.timedelta(minutes=1)


def _active_episodes(clinic_id: int) -> QuerySet[Episode]:
    return Episode.objects.filter(status=EpisodeStatus.ACTIVE, patient__user__clinic_id=clinic_id)


def reevaluation_request(*, actor: User | None, clinic_id: int) -> ReevaluationRun:
    """Write a run for the clinic's active episodes and queue it once the change is committed."""
    run = ReevaluationRun.objects.create(
        clinic_id=clinic_id, requested_by=actor, total=_active_episodes(clinic_id).count()
    )
    run_id = run.pk

    def queue() -> None:
        from rehab.tasks import queue_reevaluation

        queue_reevaluation(run_id)

    transaction.on_commit(queue)
    return run


def reevaluation_run(*, run_id: int, chunk_size: int = CHUNK_SIZE) -> ReevaluationRun | None:
    """Evaluate the run's clinic's active episodes from its cursor on; None: no such run."""
    run = ReevaluationRun.objects.filter(pk=run_id).first()
    if run is None or run.finished:
        return run
    now = timezone.now()
    ReevaluationRun.objects.filter(pk=run_id, status=ReevaluationStatus.QUEUED).update(
        status=ReevaluationStatus.RUNNING, started_at=now
    )
    summary = EvaluationSummary()
    cursor = run.last_episode_id
    done = run.done
    try:
        while True:
            ids = list(
                _active_episodes(run.clinic_id)
                .filter(pk__gt=cursor)
                .order_by("pk")
                .values_list("pk", flat=True)[:chunk_size]
            )
            if not ids:
                break
            summary.merge(evaluate_episodes(ids, None))
            # Only from where this worker found the cursor: a second delivery of the same
            # run that got here first wins, and this one stops.
            moved = ReevaluationRun.objects.filter(pk=run_id, last_episode_id=cursor).update(
                last_episode_id=ids[-1], done=done + len(ids)
            )
            if moved != 1:
                return ReevaluationRun.objects.get(pk=run_id)
            cursor, done = ids[-1], done + len(ids)
    except Exception:
        logger.exception("re-evaluation run %s failed", run_id)
        ReevaluationRun.objects.filter(pk=run_id).update(
            status=ReevaluationStatus.FAILED, finished_at=timezone.now()
        )
        raise
    # Episodes opened meanwhile were evaluated too: the total is what was done.
    ReevaluationRun.objects.filter(pk=run_id, last_episode_id=cursor).exclude(
        status__in=(ReevaluationStatus.DONE, ReevaluationStatus.FAILED)
    ).update(
        status=ReevaluationStatus.DONE,
        finished_at=timezone.now(),
        total=done,
        summary=summary.as_dict(),
    )
    logger.info("Re-evaluation run %s: %s", run_id, summary.line())
    return ReevaluationRun.objects.get(pk=run_id)


def reevaluation_relay(*, now: dt.datetime | None = None) -> list[int]:
    """Run the re-evaluations still queued a minute after they were asked for."""
    cutoff = (now or timezone.now()) - RELAY_MIN_AGE
    ids = list(
        ReevaluationRun.objects.filter(status=ReevaluationStatus.QUEUED, created_at__lte=cutoff)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for run_id in ids:
        reevaluation_run(run_id=run_id)
    return ids


def latest_reevaluation(*, clinic_id: int) -> ReevaluationRun | None:
    """The clinic's latest run, for the settings page."""
    return ReevaluationRun.objects.filter(clinic_id=clinic_id).first()
