"""Fixtures of the real-service tests: Redis, workers and beats, and a local webhook receiver.

Every test here needs PostgreSQL (a worker process cannot see the rows of a test that runs in
SQLite's in-memory database) and REDIS_URL. Without them a test is skipped on a laptop, but
fails loudly when PAIS_REQUIRE_BROKER=1 (CI sets it), so a broken CI image cannot pass by
skipping. Tests that stop Redis use a ``redis-server`` of their own on a free port (``own_redis``),
never the machine's shared one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis

from tests.integration.helpers import (
    Celery,
    Receiver,
    RedisServer,
    Worker,
    require_postgresql,
    stop_all,
    unavailable,
)
from tests.tasks.helpers import broker_at


def _require_services() -> None:
    if not os.environ.get("REDIS_URL", ""):
        unavailable("REDIS_URL is not set")
    require_postgresql()


# --- Redis ------------------------------------------------------------------------------------


@pytest.fixture
def broker_url(transactional_db: None) -> Iterator[str]:
    """A database of the shared Redis for the test's own use, empty before and after (never the
    one in REDIS_URL, which a developer's `make run` or CI's cache may be using)."""
    _require_services()
    base = os.environ["REDIS_URL"]
    parts = urlsplit(base)
    base_db = int(parts.path.strip("/") or 0)
    url = urlunsplit(parts._replace(path=f"/{(base_db + 1) % 16}"))
    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.RedisError as exc:
        unavailable(f"Redis at {url} does not answer: {exc}")
    client.flushdb()
    try:
        yield url
    finally:
        client.flushdb()
        client.close()


@pytest.fixture
def own_redis(transactional_db: None, tmp_path: Path) -> Iterator[RedisServer]:
    """A ``redis-server`` of this test's own, which the test may stop and start at will."""
    _require_services()
    server = RedisServer(tmp_path / "redis").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def on_own_redis(own_redis: RedisServer, settings: Any) -> Iterator[RedisServer]:
    """This process (the web side) uses ``own_redis`` as its broker and cache, as production
    uses one Redis for both; tasks are queued, not run inline; webhooks may go to 127.0.0.1."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.PAIS_WEBHOOK_ALLOW_PRIVATE = True
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": own_redis.url,
            "KEY_PREFIX": "pais",
        },
        "throttle": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": own_redis.url,
            "KEY_PREFIX": "pais-throttle",
        },
    }
    with broker_at(own_redis.url):
        yield own_redis


# --- Webhook receiver -------------------------------------------------------------------------


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    try:
        yield server
    finally:
        server.stop()


# --- Celery processes -------------------------------------------------------------------------


@pytest.fixture
def celery(transactional_db: None, tmp_path: Path) -> Iterator[Celery]:
    _require_services()
    procs = Celery(tmp_path=tmp_path, started=[])
    try:
        yield procs
    finally:
        stop_all(procs.started)


@pytest.fixture
def worker(broker_url: str, celery: Celery) -> Worker:
    """One worker on ``broker_url``, with the default settings."""
    return celery.worker(broker_url)
