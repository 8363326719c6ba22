"""The query plans behind the figures: what PostgreSQL does for one nightly chunk and the floor.

Captured in the run (``EXPLAIN (ANALYZE, BUFFERS)`` on the generated data) and stored in
bench/results.json, so docs/performance.md quotes plans that belong to its figures.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

CHUNK = 500


def _explain(sql: str, params: Any) -> list[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING ON) " + sql, params)
        lines = [str(row[0]) for row in cursor.fetchall()]
    # The id lists make the plans unreadable; the shape is what matters.
    return [re.sub(r"'\{[\d,]{40,}\}'", "'{...ids...}'", line) for line in lines]


def capture(as_of: dt.date) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from bench.probe import floor_queryset
    from rehab.models import Episode, EpisodeStatus
    from rehab.rule_inputs import read_rule_inputs

    ids = list(
        Episode.objects.filter(status=EpisodeStatus.ACTIVE)
        .order_by("pk")
        .values_list("pk", flat=True)[:CHUNK]
    )
    with CaptureQueriesContext(connection) as queries:
        read_rule_inputs(ids, until=as_of)
    # In the order ``read_rule_inputs`` sends them.
    labels = ("exercise logs", "entries", "prescriptions", "interventions")
    plans: dict[str, Any] = {"chunk_episodes": len(ids)}
    for label, query in zip(labels, queries.captured_queries, strict=False):
        # The captured SQL has its parameters inlined already.
        plans[label] = _explain(query["sql"], None)
    sql, params = floor_queryset().query.sql_with_params()
    plans["floor"] = _explain(sql, params)
    return plans
