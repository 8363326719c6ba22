"""Celery tasks: thin shells that take ids and primitives and call one function.

Every task here is idempotent, so the global ``acks_late`` + ``task_reject_on_worker_lost``
(config/settings.py) may safely run one twice after a worker dies. Dates travel as ISO strings
because the broker speaks JSON only. Beat's schedule is CELERY_BEAT_SCHEDULE in the settings;
docs/operations.md ("Background jobs") says what runs when.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from typing import Any

from celery import shared_task
from django.db import OperationalError

from accounts.models import Patient
from rehab import jobs, reevaluation, referrals
from rehab.evaluation import evaluate_episode
from rehab.models import Episode
from rehab.nightly import DEFAULT_CHUNK_SIZE, active_episode_id_chunks, evaluate_episodes
from rehab.notify import tasks as _notify_tasks  # noqa: F401  (registers the delivery tasks)
from rehab.read_model import episodes_past_local_midnight

logger = logging.getLogger(__name__)

NIGHTLY_CHUNK_SIZE = DEFAULT_CHUNK_SIZE

# A phone's PUT must not hang while Redis is down: one quick retry, then give up and leave the
# request to the relay (the episode row already says an evaluation is due).
PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}

# A database that is briefly unreachable (failover, restart) is worth a few retries; anything
# else is a bug the log should show once, not a loop.
_TRANSIENT = (OperationalError,)


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


@shared_task(
    autoretry_for=_TRANSIENT, max_retries=3, retry_backoff=5, retry_jitter=True, ignore_result=True
)
def evaluate_episode_task(episode_id: int, as_of: str | None = None) -> dict[str, Any] | None:
    """Evaluate one episode as of ``as_of`` (ISO date), by default the patient's local today.

    Errors propagate (the task shows as failed, a database blip is retried); the episode keeps
    its ``evaluation_requested_at`` until an evaluation succeeds, so the relay tries again.
    """
    day = _date(as_of)
    if day is None:
        zone = (
            Episode.objects.filter(pk=episode_id)
            .values_list("patient__timezone", flat=True)
            .first()
        )
        if zone is None:
            return None  # deleted since it was queued
        day = Patient(timezone=zone).local_today()
    return dataclasses.asdict(evaluate_episode(episode_id=episode_id, as_of=day))


def queue_evaluation(episode_id: int) -> None:
    """Queue an episode's evaluation after an entry changed. Never raises, returns quickly.

    Services call it after commit. If the broker is unreachable the entry is saved all the same
    and ``evaluation_requested_at`` on the episode tells the relay to run it later.
    """
    try:
        evaluate_episode_task.apply_async(
            args=(episode_id,), retry=True, retry_policy=PUBLISH_RETRY_POLICY
        )
    except Exception:
        logger.warning(
            "Could not queue the evaluation of episode %s; the relay will run it",
            episode_id,
            exc_info=True,
        )


@shared_task(ignore_result=True)
def evaluate_all_active(as_of: str | None = None) -> int:
    """Nightly: fan the active episodes out in chunks, so more workers finish sooner.

    Returns the number of chunks queued. Queuing is cheap (ids only); the chunks do the work.
    """
    chunks = 0
    for ids in active_episode_id_chunks(NIGHTLY_CHUNK_SIZE):
        evaluate_chunk.delay(ids, as_of)
        chunks += 1
    logger.info("Nightly evaluation: %s chunks queued", chunks)
    return chunks


@shared_task(ignore_result=True)
def evaluate_new_local_days() -> int:
    """Every 15 minutes: evaluate, with alerts, the episodes whose patient's local date has
    changed since their last evaluation (and any never evaluated), in chunks.

    Each patient is evaluated within 15 minutes of their own midnight, not at one server hour
    for the whole world: the caseload's stored rows (rehab.read_model) turn to the new day with
    them, and a finding that a new day brings (a missed week, the review day) alerts then.
    Returns the number of chunks queued; an episode already evaluated today is not picked.
    """
    chunks = 0
    for ids in active_episode_id_chunks(
        NIGHTLY_CHUNK_SIZE, episodes=episodes_past_local_midnight()
    ):
        evaluate_chunk.delay(ids, None)
        chunks += 1
    if chunks:
        logger.info("Local-midnight evaluation: %s chunks queued", chunks)
    return chunks


@shared_task(
    autoretry_for=_TRANSIENT, max_retries=3, retry_backoff=30, retry_jitter=True, ignore_result=True
)
def evaluate_chunk(episode_ids: list[int], as_of: str | None = None) -> dict[str, Any]:
    """Evaluate one chunk of episodes, each in its own transaction (one failure stops none)."""
    summary = evaluate_episodes(list(episode_ids), _date(as_of))
    logger.info("Nightly chunk: %s", summary.line())
    return summary.as_dict()


@shared_task(ignore_result=True)
def relay_evaluations(min_age_seconds: int = 60) -> dict[str, Any]:
    """Every minute: evaluate the episodes whose evaluation was requested but never ran."""
    return jobs.evaluation_relay(min_age=dt.timedelta(seconds=min_age_seconds)).as_dict()


@shared_task(ignore_result=True)
def send_reminders() -> int:
    """Every 15 minutes: the 19:00 local-time reminder to patients who have not logged today."""
    return len(jobs.reminders_send().reminded)


@shared_task(ignore_result=True)
def escalate_alerts() -> int:
    """Hourly: open alerts past their clinic's delay for their severity go to its admins."""
    return len(jobs.escalation_run())


@shared_task(ignore_result=True)
def send_admin_summary() -> int:
    """Daily: each clinic admin gets one email of the clinic's unacknowledged alerts."""
    return len(jobs.admin_summary_send())


@shared_task(ignore_result=True)
def send_weekly_digest() -> int:
    """Monday morning: each therapist's unresolved alerts in one email."""
    return len(jobs.digest_send())


@shared_task(ignore_result=True)
def send_referral_reminders() -> int:
    """Daily: one reminder per referral with no appointment or outcome 14 days after it."""
    return len(referrals.referral_reminders_send().reminded)


# --- Re-evaluation after a threshold change (rehab.reevaluation) -------------------------------


@shared_task(
    autoretry_for=_TRANSIENT, max_retries=3, retry_backoff=10, retry_jitter=True, ignore_result=True
)
def reevaluate_clinic(run_id: int) -> dict[str, Any] | None:
    """Re-evaluate a clinic's active episodes for one ``ReevaluationRun`` (idempotent)."""
    run = reevaluation.reevaluation_run(run_id=run_id)
    return None if run is None else {"run": run.pk, "status": run.status, "done": run.done}


def queue_reevaluation(run_id: int) -> None:
    """Queue a run after commit. Never raises: a run left queued is picked up by the relay."""
    try:
        reevaluate_clinic.apply_async(args=(run_id,), retry=True, retry_policy=PUBLISH_RETRY_POLICY)
    except Exception:
        logger.warning(
            "Could not queue re-evaluation run %s; the relay will run it", run_id, exc_info=True
        )


@shared_task(ignore_result=True)
def relay_reevaluations() -> list[int]:
    """Every minute: run the re-evaluations whose task was lost."""
    return reevaluation.reevaluation_relay()
