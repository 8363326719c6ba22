"""The project's Celery app with a schedule that runs the jobs every second, for ``celery beat``.

The fault tests start two beat processes with ``-A tests.integration.fast_beat`` to see what two
schedulers running at once (a second deploy left running, a failover that overlapped) do to the
evaluation of every active episode and the relays: nothing may be raised or sent twice. The
production schedule (CELERY_BEAT_SCHEDULE in config/settings.py) names the same relays; its
evaluation job (``evaluate_new_local_days``) queues the same chunks for the episodes whose local
day has changed, while this one re-evaluates them all every second, the harder case.
"""

from __future__ import annotations

from config.celery import app

FAST_SECONDS = 1.0

app.conf.beat_schedule = {
    "nightly-evaluation": {
        "task": "rehab.tasks.evaluate_all_active",
        "schedule": FAST_SECONDS,
        "options": {"expires": 30},
    },
    "evaluation-relay": {
        "task": "rehab.tasks.relay_evaluations",
        "schedule": FAST_SECONDS,
        "kwargs": {"min_age_seconds": 0},
        "options": {"expires": 30},
    },
    "delivery-relay": {
        "task": "rehab.notify.tasks.relay_deliveries",
        "schedule": FAST_SECONDS,
        "options": {"expires": 30},
    },
}

__all__ = ["app"]
