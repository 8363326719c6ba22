"""The repaired Redis transport (config/broker.py): a channel whose connection was released when
Redis went away neither restores, acknowledges nor rejects through it, and raises nothing; with
its connection alive it is kombu's own. The whole story, with a real worker and a killed Redis,
is tests/integration/test_fault_redis_down.py."""

from __future__ import annotations

from collections import OrderedDict
from types import SimpleNamespace
from typing import Any

import pytest
from django.conf import settings
from kombu.transport import redis

from config.broker import QoS, Transport


def _qos(connection: Any) -> QoS:
    qos = QoS.__new__(QoS)
    qos.channel = SimpleNamespace(connection=connection)  # type: ignore[assignment]
    qos._delivered = OrderedDict(tag1="message 1", tag2="message 2")
    return qos


def test_a_released_connection_is_left_alone_and_raises_nothing() -> None:
    for released in (None, SimpleNamespace(client=None)):
        qos = _qos(released)
        qos.ack("tag1")
        qos.reject("tag2", requeue=True)
        assert dict(qos._delivered or {}) == {}
        qos._delivered = OrderedDict(tag3="message 3")
        qos.restore_unacked()
        assert dict(qos._delivered or {}) == {}


def test_a_live_connection_goes_through_kombu(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, Any]] = []
    monkeypatch.setattr(redis.QoS, "ack", lambda self, tag: calls.append(("ack", tag)))
    monkeypatch.setattr(
        redis.QoS, "reject", lambda self, tag, requeue=False: calls.append(("reject", tag))
    )
    monkeypatch.setattr(
        redis.QoS, "restore_unacked", lambda self, client=None: calls.append(("restore", None))
    )
    qos = _qos(SimpleNamespace(client=object()))
    qos.ack("tag1")
    qos.reject("tag2")
    qos.restore_unacked()
    assert calls == [("ack", "tag1"), ("reject", "tag2"), ("restore", None)]


def test_the_transport_carries_the_repaired_channel() -> None:
    assert Transport.Channel.QoS is QoS
    if settings.CELERY_BROKER_URL.startswith("redis"):
        assert settings.CELERY_BROKER_TRANSPORT == "config.broker:Transport"
