"""Pointing Celery at another broker, for the task tests and the real-worker integration test.

The courses the task tests lay out live in ``tests/courses.py``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from config.celery import app

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
