"""The whole chain with a real Celery worker, a real Redis and a local webhook receiver.

Saving the entry that tips an episode over the referral threshold must produce exactly one alert
and exactly one signed webhook request; running the tasks again sends nothing more; and an entry
saved while the broker is unreachable is still saved and still ends in exactly one delivery once
the broker is back and the relay has run.

Needs REDIS_URL and PostgreSQL (a worker process cannot see the rows of a test that runs inside
SQLite's in-memory database). Without them the test is skipped on a laptop, but fails loudly when
PAIS_REQUIRE_BROKER=1 (CI sets it), so a broken CI image cannot pass by skipping it.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.services import api_token_issue
from rehab.models import Channel, DailyEntry, Delivery, DeliveryStatus
from rehab.notify.endpoints import webhook_endpoint_create
from rehab.notify.tasks import deliver, relay_deliveries
from rehab.tasks import evaluate_episode_task, relay_evaluations
from tests.factories import ClinicAdminFactory, ClinicFactory, TherapistFactory
from tests.integration.helpers import (
    Receiver,
    Worker,
    put_entry,
    referral_alerts,
    tipping_course,
    verify_standard_webhook,
    wait_for,
)
from tests.tasks.helpers import DEAD_BROKER_URL, broker_at

pytestmark = pytest.mark.broker


def test_a_tipping_entry_reaches_the_clinic_once_even_through_a_broker_outage(
    broker_url: str, receiver: Receiver, worker: Worker, settings: Any
) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.PAIS_WEBHOOK_ALLOW_PRIVATE = True  # the receiver listens on 127.0.0.1
    clinic = ClinicFactory(name="Integration Physio", slug=f"itest-{uuid.uuid4().hex[:8]}")
    admin = ClinicAdminFactory(email="admin@itest.test", clinic=clinic)
    therapist = TherapistFactory(email="therapist@itest.test", clinic=clinic)
    secret = webhook_endpoint_create(actor=admin, url=receiver.url).secret
    first = tipping_course(therapist, "first@itest.test")

    with broker_at(broker_url):
        # Before today's entry the rules cannot judge the current pain: no referral finding.
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(user=therapist)}")
        progress = client.get(f"/api/v1/episodes/{first.episode.pk}/progress/").json()
        assert "REFERRAL_CONSIDER" not in {f["code"] for f in progress["findings"]}, progress

        # 1. The entry that tips the episode: one alert, one signed webhook request.
        response = put_entry(first)
        assert response.status_code == 201, response.content
        wait_for(
            "the webhook request",
            lambda: (
                len(receiver.snapshot()) >= 1
                and Delivery.objects.filter(
                    channel=Channel.WEBHOOK, status=DeliveryStatus.DELIVERED
                ).exists()
            ),
            workers=[worker],
        )
        (alert,) = referral_alerts(first)
        assert alert.severity == "high" and alert.status == "open"
        (request,) = receiver.snapshot()
        assert request.path == "/hooks/pais"
        body = verify_standard_webhook(request, secret)
        assert body["type"] == "alert.raised"
        assert body["data"]["alert"]["code"] == "REFERRAL_CONSIDER"
        assert body["data"]["episode"]["id"] == first.episode.pk
        assert b"pain" not in request.body  # references and a link, no health values
        webhook = Delivery.objects.get(channel=Channel.WEBHOOK, alert=alert)
        assert webhook.attempts == 1 and webhook.attempt_log.count() == 1
        rows_for_alert = Delivery.objects.filter(alert=alert).count()

        # 2. The same tasks once more, through the worker: nothing is sent twice.
        again = [
            evaluate_episode_task.delay(first.episode.pk),
            deliver.delay(webhook.pk),
            relay_deliveries.delay(),
        ]
        for result in again:
            worker.wait_done(result.id)
        assert len(receiver.snapshot()) == 1
        assert len(referral_alerts(first)) == 1
        assert Delivery.objects.filter(alert=alert).count() == rows_for_alert
        webhook.refresh_from_db()
        assert webhook.attempts == 1 and webhook.attempt_log.count() == 1

        # 3. The broker is unreachable while the next patient saves the tipping entry.
        second = tipping_course(therapist, "second@itest.test")
        with broker_at(DEAD_BROKER_URL):
            started = time.monotonic()
            response = put_entry(second)
            elapsed = time.monotonic() - started
        assert response.status_code == 201, response.content
        assert elapsed < 5, f"the PUT took {elapsed:.1f} s with the broker down"
        assert DailyEntry.objects.filter(
            episode=second.episode, date=second.patient.local_today()
        ).exists()
        second.episode.refresh_from_db()
        assert second.episode.evaluation_requested_at is not None
        assert referral_alerts(second) == []

        # The broker is back; the relay (beat runs it every minute) finds the waiting request.
        worker.wait_done(relay_evaluations.delay(min_age_seconds=0).id)
        wait_for(
            "the second webhook request",
            lambda: (
                len(receiver.snapshot()) >= 2
                and Delivery.objects.filter(
                    channel=Channel.WEBHOOK, status=DeliveryStatus.DELIVERED
                ).count()
                == 2
            ),
            workers=[worker],
        )
        (second_alert,) = referral_alerts(second)
        second_body = verify_standard_webhook(receiver.snapshot()[1], secret)
        assert second_body["data"]["episode"]["id"] == second.episode.pk
        assert second_body["data"]["alert"]["id"] == second_alert.pk
        second.episode.refresh_from_db()
        assert second.episode.evaluation_requested_at is None

        # Both relays again: each alert reached the clinic exactly once.
        for result in (relay_evaluations.delay(min_age_seconds=0), relay_deliveries.delay()):
            worker.wait_done(result.id)
        requests = receiver.snapshot()
        assert len(requests) == 2
        assert len({r.headers["webhook-id"] for r in requests}) == 2
        assert sorted(json.loads(r.body)["data"]["episode"]["id"] for r in requests) == sorted(
            [first.episode.pk, second.episode.pk]
        )
