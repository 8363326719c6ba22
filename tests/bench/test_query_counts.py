"""Query counts the performance targets rest on (docs/performance.md). Counts, never timings:
the machines are noisy, the number of statements is not.

- an entry PUT: at most 10 SQL statements (besides its transaction's begin and commit);
- a nightly chunk: the same statements for 16 episodes as for 80.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from rehab.models import DailyEntry, ExerciseLog
from rehab.nightly import evaluate_episodes
from rehab.services import entry_record
from tests.api.helpers import entry_url
from tests.bench import world
from tests.bench.world import AS_OF, NEAR_MIDNIGHT, touch_between_nights
from tests.factories import PrescriptionFactory

TRANSACTION = ("SAVEPOINT", "RELEASE", "BEGIN", "COMMIT", "ROLLBACK")
PUT_LIMIT = 10


def _statements(queries: CaptureQueriesContext) -> tuple[list[str], list[str]]:
    sql = [q["sql"] for q in queries.captured_queries]
    control = [s for s in sql if s.split(None, 1)[0].upper() in TRANSACTION]
    return [s for s in sql if s not in control], control


@pytest.mark.django_db
def test_an_entry_put_costs_at_most_ten_queries(cast, api):
    heel = PrescriptionFactory(episode=cast.episode_a, name="Heel raises", sets=3)
    stretch = PrescriptionFactory(episode=cast.episode_a, name="Calf stretch", sets=2)
    client = api(cast.patient_a.user)
    client.get("/api/v1/auth/tokens/")  # the token's hourly last_used_at touch, out of the way
    body = {
        "pain_activity": 5,
        "pain_rest": 2,
        "exercises": [
            {"prescription": stretch.pk, "sets_completed": 1},
            {"prescription": heel.pk, "sets_completed": 3},
        ],
    }
    day = cast.episode_a.start_date + dt.timedelta(days=3)

    with CaptureQueriesContext(connection) as created:
        response = client.put(entry_url(cast.episode_a.pk, day), body, format="json")
    assert response.status_code == 201
    body["pain_activity"] = 6
    body["exercises"] = [{"prescription": heel.pk, "sets_completed": 2}]
    with CaptureQueriesContext(connection) as replaced:
        response = client.put(entry_url(cast.episode_a.pk, day), body, format="json")
    assert response.status_code == 200

    for queries in (created, replaced):
        sql, control = _statements(queries)
        print(f"\nentry PUT: {len(sql)} statements", *sql, sep="\n  ")
        assert len(sql) <= PUT_LIMIT
        assert len(control) <= 2  # one transaction, nothing nested
    # The answer is built from what was written, and says what is stored.
    data = response.json()
    assert data["pain_activity"] == 6
    assert data["exercises"] == [
        {
            "prescription": heel.pk,
            "exercise": "Heel raises",
            "sets_completed": 2,
            "sets_prescribed": 3,
        }
    ]
    entry = DailyEntry.objects.get(episode=cast.episode_a, date=day)
    assert list(entry.exercises.values_list("prescription_id", "sets_completed")) == [(heel.pk, 2)]
    assert data["created_at"] == entry.created_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert client.get(entry_url(cast.episode_a.pk, day)).json() == data


@pytest.mark.django_db(transaction=True)
def test_two_puts_of_the_same_day_at_once_leave_one_entry(cast):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL (CI runs it)")
    heel = PrescriptionFactory(episode=cast.episode_a, sets=3)
    day = cast.episode_a.start_date + dt.timedelta(days=2)
    barrier = threading.Barrier(6)
    results: list[Any] = []

    def put(pain: int) -> None:
        try:
            barrier.wait()
            results.append(
                entry_record(
                    actor=cast.patient_a.user,
                    episode=cast.episode_a,
                    date=day,
                    pain_activity=pain,
                    exercises=[{"prescription": heel.pk, "sets_completed": pain % 4}],
                ).created
            )
        except Exception as exc:  # reported by the assertion below
            results.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=put, args=(pain,)) for pain in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results, key=str) == [False] * 5 + [True]
    entry = DailyEntry.objects.get(episode=cast.episode_a, date=day)
    assert list(
        ExerciseLog.objects.filter(entry=entry).values_list("sets_completed", flat=True)
    ) == [entry.pain_activity % 4]


@pytest.mark.django_db
def test_a_nightly_chunk_costs_the_same_queries_for_16_or_80_episodes(time_machine):
    time_machine.move_to(NEAR_MIDNIGHT, tick=False)
    counts = {}
    for n in (16, 80):
        w = world.build(n, as_of=AS_OF, seed=7)
        evaluate_episodes(w.ids, AS_OF)  # the night before: raises
        touch_between_nights(w)
        with CaptureQueriesContext(connection) as night:
            summary = evaluate_episodes(w.ids, None)
        # Every kind of write happened, so every kind of statement was sent.
        assert summary.raised and summary.updated and summary.reopened and summary.resolved
        assert summary.notifications and len(summary.dates) == 2
        counts[n] = len(_statements(night)[0])
        print(f"\nnightly chunk of {n}: {counts[n]} statements ({summary.line()})")
    assert counts[16] == counts[80]
    # 20 before the caseload's read model, which adds the chunk's alert ranks and its rows.
    assert counts[80] <= 22
