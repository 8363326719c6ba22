"""The relay: rows the broker never got are queued, rows whose worker died are taken back, and
the ``deliver`` task re-queues a transient failure for when it is due."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail

from rehab.models import Delivery, DeliveryAttempt
from rehab.notify import tasks
from rehab.notify.outbox import enqueue_deliveries
from rehab.notify.sender import claim
from tests.notify.helpers import make_alert, make_endpoint, notify, reload, webhook_delivery
from tests.notify.receiver import Reply

pytestmark = pytest.mark.django_db

T0 = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).replace(microsecond=0)


@pytest.fixture
def endpoint(cast, receiver):
    return make_endpoint(cast.clinic, receiver.url)


@pytest.fixture
def broker_down(monkeypatch):
    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("broker unreachable")

    monkeypatch.setattr(tasks.deliver, "delay", refuse)
    monkeypatch.setattr(tasks.deliver, "apply_async", refuse)
    monkeypatch.setattr(tasks.deliver_batch, "delay", refuse)


def test_a_broker_outage_loses_nothing(cast, endpoint, receiver, monkeypatch, broker_down):
    deliveries = notify(make_alert(cast.episode_a))
    enqueue_deliveries([d.pk for d in deliveries])  # what on_commit does; the broker refuses
    assert all(reload(d).queued_at is None for d in deliveries)
    assert receiver.requests == [] and mail.outbox == []

    monkeypatch.undo()  # the broker is back
    assert tasks.relay_deliveries.apply().get() == {"reclaimed": 0, "queued": 3}
    assert {reload(d).status for d in deliveries} == {"delivered"}
    assert len(receiver.requests) == 1 and len(mail.outbox) == 1

    # Nothing left to do: a second run queues nothing.
    assert tasks.relay_deliveries.apply().get() == {"reclaimed": 0, "queued": 0}
    assert len(receiver.requests) == 1


def test_the_relay_leaves_recently_queued_and_future_rows_alone(cast, endpoint, settings):
    settings.PAIS_DELIVERY_LEASE_SECONDS = 600
    alert = make_alert(cast.episode_a)
    queued = webhook_delivery(alert, endpoint)
    later = webhook_delivery(make_alert(cast.episode_b), endpoint)
    with time_machine.travel(T0, tick=False) as traveller:
        Delivery.objects.filter(pk=queued.pk).update(queued_at=T0)
        Delivery.objects.filter(pk=later.pk).update(next_attempt_at=T0 + dt.timedelta(hours=1))
        assert tasks.relay_deliveries.apply().get()["queued"] == 0

        # A queued message that has not run within the lease was evidently lost.
        traveller.shift(dt.timedelta(seconds=601))
        assert tasks.relay_deliveries.apply().get()["queued"] == 1
        assert reload(queued).status == "delivered"
        assert reload(later).status == "pending"

        traveller.move_to(T0 + dt.timedelta(hours=1))
        assert tasks.relay_deliveries.apply().get()["queued"] == 1
        assert reload(later).status == "delivered"


def test_a_row_stuck_in_sending_is_taken_back_after_the_lease(cast, endpoint, receiver, settings):
    settings.PAIS_DELIVERY_LEASE_SECONDS = 600
    delivery = webhook_delivery(make_alert(cast.episode_a), endpoint)
    with time_machine.travel(T0, tick=False) as traveller:
        assert claim(delivery.pk, now=T0)  # ... and the worker is killed mid-send
        traveller.shift(dt.timedelta(seconds=300))
        assert tasks.relay_deliveries.apply().get() == {"reclaimed": 0, "queued": 0}
        assert reload(delivery).status == "sending"

        traveller.shift(dt.timedelta(seconds=301))
        assert tasks.relay_deliveries.apply().get() == {"reclaimed": 1, "queued": 1}

    delivery = reload(delivery)
    assert delivery.status == "delivered" and delivery.attempts == 2
    assert len(receiver.requests) == 1
    attempts = list(DeliveryAttempt.objects.filter(delivery=delivery).order_by("id"))
    assert [a.outcome for a in attempts] == ["retry", "delivered"]
    assert "worker stopped" in attempts[0].error


def test_a_stuck_row_out_of_attempts_fails(cast, endpoint, receiver, settings):
    settings.PAIS_DELIVERY_MAX_ATTEMPTS = 1
    delivery = webhook_delivery(make_alert(cast.episode_a), endpoint)
    with time_machine.travel(T0, tick=False) as traveller:
        claim(delivery.pk, now=T0)
        traveller.shift(dt.timedelta(hours=1))
        assert tasks.relay_deliveries.apply().get() == {"reclaimed": 0, "queued": 0}
    delivery = reload(delivery)
    assert delivery.status == "failed" and "Gave up after 1 attempts" in delivery.last_error
    assert receiver.requests == []


def test_a_late_worker_does_not_overwrite_the_reclaimed_row(cast, endpoint, receiver):
    """The first worker's result is dropped if the row was handed to another one meanwhile."""
    from rehab.notify import sender

    delivery = webhook_delivery(make_alert(cast.episode_a), endpoint)
    with time_machine.travel(T0, tick=False) as traveller:
        assert sender.claim(delivery.pk, now=T0)
        # The relay took it back after the lease and a second worker sent it.
        Delivery.objects.filter(pk=delivery.pk).update(status="pending", next_attempt_at=T0)
        traveller.shift(dt.timedelta(hours=1))
        assert sender.send_delivery(delivery.pk).result == "delivered"
    # The first worker finally reports a failure for its old claim: nothing changes.
    sender._record(reload(delivery), T0, sender.TransientError("late"), None, 5)
    row = reload(delivery)
    assert row.status == "delivered" and row.claimed_at == T0 + dt.timedelta(hours=1)


def test_deliver_requeues_a_transient_failure_for_when_it_is_due(
    cast, endpoint, receiver, monkeypatch, settings
):
    settings.PAIS_DELIVERY_LEASE_SECONDS = 600
    queued: list[tuple[tuple[int, ...], dt.datetime]] = []
    monkeypatch.setattr(
        tasks.deliver, "apply_async", lambda args, eta: queued.append((tuple(args), eta))
    )
    delivery = webhook_delivery(make_alert(cast.episode_a), endpoint)
    receiver.answer(Reply(500))
    with time_machine.travel(T0, tick=False):
        assert tasks.deliver(delivery.pk) == "retry"
    row = reload(delivery)
    assert queued == [((delivery.pk,), row.next_attempt_at)]
    assert row.queued_at == T0


def test_a_long_wait_is_left_to_the_relay(cast, endpoint, receiver, monkeypatch, settings):
    settings.PAIS_DELIVERY_LEASE_SECONDS = 600
    queued: list[object] = []
    monkeypatch.setattr(tasks.deliver, "apply_async", lambda *a, **k: queued.append(a))
    delivery = webhook_delivery(make_alert(cast.episode_a), endpoint)
    Delivery.objects.filter(pk=delivery.pk).update(queued_at=T0 - dt.timedelta(minutes=1))
    receiver.answer(Reply(429, headers={"Retry-After": "3600"}))
    with time_machine.travel(T0, tick=False) as traveller:
        assert tasks.deliver(delivery.pk) == "retry"
        assert queued == []  # not handed to the broker for an hour
        assert reload(delivery).queued_at is None
        monkeypatch.undo()
        traveller.shift(dt.timedelta(minutes=59))
        assert tasks.relay_deliveries.apply().get()["queued"] == 0
        traveller.shift(dt.timedelta(minutes=1))
        assert tasks.relay_deliveries.apply().get()["queued"] == 1
    assert reload(delivery).status == "delivered"
    assert len(receiver.requests) == 2


def test_the_relay_works_in_bounded_batches(cast, endpoint, settings):
    settings.PAIS_DELIVERY_RELAY_BATCH = 2
    for episode in (cast.episode_a, cast.episode_b, cast.episode_a):
        webhook_delivery(
            make_alert(episode, code=f"X_{episode.pk}_{Delivery.objects.count()}"), endpoint
        )
    assert tasks.relay_deliveries.apply().get()["queued"] == 2
    assert tasks.relay_deliveries.apply().get()["queued"] == 1
    assert set(Delivery.objects.values_list("status", flat=True)) == {"delivered"}


def test_many_rows_go_in_batches_and_each_is_sent_once(cast, endpoint, receiver, monkeypatch):
    # A night writes hundreds of rows at once: one message per batch, not per row.
    codes = ("REFERRAL_CONSIDER", "PAIN_WORSENING", "IMMOBILIZATION_PROLONGED", "ADHERENCE_LOW")
    deliveries = [d for code in codes for d in notify(make_alert(cast.episode_a, code=code))]
    assert len(deliveries) == 12
    messages: list[object] = []
    monkeypatch.setattr(tasks.deliver_batch, "delay", lambda ids: messages.append(list(ids)))
    monkeypatch.setattr(tasks.deliver, "delay", lambda pk: messages.append(pk))

    enqueue_deliveries([d.pk for d in deliveries])

    ids = [d.pk for d in deliveries]
    assert messages == [ids[:10], ids[10:]]
    assert all(reload(d).queued_at is not None for d in deliveries)
    for batch in messages:
        assert isinstance(batch, list)
        assert tasks.deliver_batch.apply(args=(batch,)).get() == {"delivered": len(batch)}
    assert {reload(d).status for d in deliveries} == {"delivered"}
    assert len(receiver.requests) == 4 and len(mail.outbox) == 4
    # Running a batch again sends nothing twice.
    assert tasks.deliver_batch.apply(args=(ids[:10],)).get() == {"skipped": 10}
    assert len(receiver.requests) == 4


def test_a_single_row_goes_as_itself(cast, endpoint, monkeypatch):
    (delivery, *_) = notify(make_alert(cast.episode_a))
    sent: list[int] = []
    monkeypatch.setattr(tasks.deliver, "delay", sent.append)
    enqueue_deliveries([delivery.pk])
    assert sent == [delivery.pk]
