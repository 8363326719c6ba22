"""Beat's schedule and the Celery options every task relies on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from celery.schedules import crontab
from django.conf import settings

import rehab.tasks  # noqa: F401  (registers the tasks, as the worker's autodiscovery does)
from config.celery import app

ROOT = Path(__file__).resolve().parents[2]


def _entry(task: str) -> dict[str, object]:
    (entry,) = [e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == task]
    return entry


def test_every_scheduled_task_is_registered_with_the_worker() -> None:
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert scheduled == {
        "rehab.tasks.evaluate_new_local_days",
        "rehab.tasks.relay_evaluations",
        "rehab.notify.tasks.relay_deliveries",
        "rehab.tasks.send_reminders",
        "rehab.tasks.escalate_alerts",
        "rehab.tasks.send_weekly_digest",
        "rehab.tasks.send_referral_reminders",
        "rehab.tasks.send_admin_summary",
        "rehab.tasks.relay_reevaluations",
    }
    assert scheduled <= set(app.tasks)
    assert {
        "rehab.tasks.evaluate_chunk",
        "rehab.tasks.evaluate_all_active",
        "rehab.tasks.evaluate_episode_task",
        "rehab.tasks.reevaluate_clinic",
    } <= set(app.tasks)


def test_when_each_job_runs() -> None:
    # Every 15 minutes, so each patient is evaluated soon after their own local midnight (every
    # UTC offset in use is a multiple of 15 minutes).
    local_midnight = _entry("rehab.tasks.evaluate_new_local_days")["schedule"]
    assert isinstance(local_midnight, crontab)
    assert local_midnight.minute == {0, 15, 30, 45} and len(local_midnight.hour) == 24

    for relay in (
        "rehab.tasks.relay_evaluations",
        "rehab.notify.tasks.relay_deliveries",
        "rehab.tasks.relay_reevaluations",
    ):
        assert _entry(relay)["schedule"] == 60.0

    reminders = _entry("rehab.tasks.send_reminders")["schedule"]
    assert isinstance(reminders, crontab)
    assert reminders.minute == {0, 15, 30, 45} and len(reminders.hour) == 24

    escalation = _entry("rehab.tasks.escalate_alerts")["schedule"]
    assert isinstance(escalation, crontab)
    assert len(escalation.minute) == 1 and len(escalation.hour) == 24

    digest = _entry("rehab.tasks.send_weekly_digest")["schedule"]
    assert isinstance(digest, crontab)
    assert (digest.day_of_week, digest.hour, digest.minute) == ({1}, {7}, {0})

    referrals = _entry("rehab.tasks.send_referral_reminders")["schedule"]
    assert isinstance(referrals, crontab)
    assert (len(referrals.day_of_week), referrals.hour, referrals.minute) == (7, {8}, {0})

    summary = _entry("rehab.tasks.send_admin_summary")["schedule"]
    assert isinstance(summary, crontab)
    assert (summary.hour, summary.minute) == ({7}, {30})  # daily
    assert settings.CELERY_TIMEZONE == "UTC"


def test_each_periodic_message_expires_before_its_next_run() -> None:
    # A worker that was down for hours must not work through a pile of stale runs on its return.
    every = {
        "rehab.tasks.evaluate_new_local_days": 15 * 60,
        "rehab.tasks.relay_evaluations": 60,
        "rehab.notify.tasks.relay_deliveries": 60,
        "rehab.tasks.send_reminders": 15 * 60,
        "rehab.tasks.escalate_alerts": 3600,
        "rehab.tasks.send_weekly_digest": 7 * 24 * 3600,
        "rehab.tasks.send_admin_summary": 24 * 3600,
        "rehab.tasks.relay_reevaluations": 60,
    }
    for task, interval in every.items():
        options = _entry(task)["options"]
        assert isinstance(options, dict)
        assert 0 < options["expires"] < interval, task


def test_celery_options_that_make_tasks_safe_to_redeliver() -> None:
    conf = app.conf
    assert conf.task_serializer == "json" and conf.result_serializer == "json"
    assert list(conf.accept_content) == ["json"]
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_ignore_result is True
    assert 0 < conf.task_soft_time_limit < conf.task_time_limit


def test_redis_redelivers_only_after_the_longest_task_could_have_finished() -> None:
    # Settings as production reads them, with a Redis broker.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    env["REDIS_URL"] = "redis://127.0.0.1:6379/0"
    script = (
        "import json, django; django.setup();"
        "from django.conf import settings as s;"
        "import rehab.tasks; from config.celery import app;"
        "limits = [t.time_limit for t in app.tasks.values() if t.time_limit];"
        "print(json.dumps({'visibility': s.CELERY_BROKER_TRANSPORT_OPTIONS['visibility_timeout'],"
        " 'connect': s.CELERY_BROKER_TRANSPORT_OPTIONS.get('socket_connect_timeout'),"
        " 'longest': max([s.CELERY_TASK_TIME_LIMIT, *limits])}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values["visibility"] > values["longest"]
    assert values["connect"] is not None and values["connect"] <= 5
