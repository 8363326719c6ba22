"""The Redis broker transport of kombu, with one repair: losing Redis never stops the worker.

When Redis goes away, Celery 5.7 releases the broken connection and closes it. Two things then
touch that released connection, and both fail with an ``AttributeError`` (it has no client any
more), which is no connection error, so the worker logs "Unrecoverable error" and exits
(``tests/integration/test_fault_redis_down.py`` saw it in most runs):

- closing the channel restores the messages received but not yet acknowledged (with
  ``acks_late``: the task running at that moment);
- that task, finishing after the worker has reconnected, acknowledges (or rejects) its message
  on the old channel.

Both are skipped when the channel's connection is gone, and nothing is lost: the message stays
in Redis' set of unacknowledged messages, which kombu restores after the visibility timeout (if
Redis kept it at all), and every task here only hurries along work whose row is written first
(``evaluation_requested_at``, the Delivery outbox) and is idempotent, so running it again
changes nothing. Every other restore, acknowledgement and rejection is kombu's own.
"""

from __future__ import annotations

from typing import Any

from kombu.transport import redis


class QoS(redis.QoS):
    def _connection_released(self) -> bool:
        transport = self.channel.connection
        return transport is None or transport.client is None

    def _forget(self, delivery_tag: Any = None) -> None:
        # The deliveries kombu tracks in memory; Redis keeps its own record of them.
        delivered = self._delivered
        if delivered is None:
            return
        if delivery_tag is None:
            delivered.clear()
        else:
            delivered.pop(delivery_tag, None)

    def restore_unacked(self, client: Any = None) -> None:
        if client is None and self._connection_released():
            self._forget()
            return
        super().restore_unacked(client)

    def ack(self, delivery_tag: Any) -> None:
        if self._connection_released():
            self._forget(delivery_tag)
            return
        super().ack(delivery_tag)

    def reject(self, delivery_tag: Any, requeue: bool = False) -> None:
        if self._connection_released():
            self._forget(delivery_tag)
            return
        super().reject(delivery_tag, requeue=requeue)


class Channel(redis.Channel):
    QoS = QoS


class Transport(redis.Transport):
    Channel = Channel
