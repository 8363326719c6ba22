"""One measurement in a fresh process, so that its peak memory is its own.

``python -m bench.probe floor``   streams every entry row of the active episodes, no rules;
``python -m bench.probe honest-floor``  streams every row the rules read (episodes, entries,
                                   exercise logs, prescriptions, interventions, questionnaire
                                   responses) of the active episodes, no rules;
``python -m bench.probe inputs``  reads what the rules need about every active episode, chunk
                                   by chunk, and runs no rules;
``python -m bench.probe nightly`` evaluates every active episode synchronously, as
                                   ``manage.py evaluate_progress`` does.

The parent (``bench.nightly``) starts it with the benchmark's environment and reads one line of
JSON from its standard output: the wall time of the work itself (Django's start-up excluded),
the peak resident memory of the process, the rows or the evaluation summary, the queries sent.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def counting_queries() -> Iterator[list[int]]:
    """Counts every statement sent on the default connection (no SQL kept: memory stays flat)."""
    from django.db import connection

    counter = [0]

    def wrapper(
        execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        counter[0] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield counter


def peak_rss_mb(pid: int | str) -> float:
    """A process's peak resident memory (VmHWM), in MB.

    Not ``getrusage``'s ``ru_maxrss``: Linux carries a parent's peak over into a child it
    starts, so every probe would report at least the (large) benchmark process's own peak.
    """
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 if pid == "self" else 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU a live process has used so far (Linux), in seconds."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def floor_queryset() -> Any:
    """The entry rows of the active episodes, with the columns the evaluation reads."""
    from rehab.models import DailyEntry, EpisodeStatus

    return (
        DailyEntry.objects.filter(episode__status=EpisodeStatus.ACTIVE)
        .values_list(
            "id",
            "episode_id",
            "date",
            "pain_activity",
            "pain_rest",
            "pf_rom_affected",
            "pf_rom_unaffected",
        )
        .order_by()
    )


def floor(chunk_size: int) -> dict[str, Any]:
    """The least any evaluation must do: read the same entry rows once, with no rules at all.

    The same columns the evaluation reads, for the active episodes, streamed from a server-side
    cursor ``chunk_size`` rows at a time, each row touched once.
    """
    rows = 0
    checksum = 0
    with counting_queries() as queries:
        began, cpu = time.perf_counter(), time.process_time()
        for row in floor_queryset().iterator(chunk_size=chunk_size):
            rows += 1
            checksum += row[3]  # touch the row, as any consumer would
        seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "rows": rows,
        "checksum": checksum,
        "queries": queries[0],
    }


def honest_floor_querysets() -> dict[str, Any]:
    """Every row the rules read about the active episodes, as ``read_rule_inputs`` reads it.

    The same tables, columns and row shapes (``EpisodeRow``, ``EntryRow``, ``ExerciseLogColumns``,
    ``PrescriptionRow``, ``InterventionRow``, ``QuestionnaireRow``), the exercise logs found
    through their prescriptions as the reader finds them; but for all active episodes at once,
    with no chunks, no grouping and no rules.
    """
    from django.db.models import Subquery

    from rehab.models import (
        DailyEntry,
        Episode,
        EpisodeStatus,
        ExerciseLog,
        Intervention,
        Prescription,
        QuestionnaireResponse,
    )
    from rehab.rule_inputs import (
        EPISODE_RULE_FIELDS,
        EntryRow,
        ExerciseLogColumns,
        InterventionRow,
        PrescriptionRow,
        QuestionnaireRow,
    )

    active = {"episode__status": EpisodeStatus.ACTIVE}
    prescriptions = Prescription.objects.filter(**active)
    return {
        "episodes": Episode.objects.filter(status=EpisodeStatus.ACTIVE).values_list(
            *EPISODE_RULE_FIELDS
        ),
        "entries": DailyEntry.objects.filter(**active).values_list(*EntryRow._fields),
        "exercise_logs": ExerciseLog.objects.filter(
            prescription_id__in=Subquery(prescriptions.order_by().values("pk"))
        ).values_list(*ExerciseLogColumns._fields),
        "prescriptions": prescriptions.values_list(*PrescriptionRow._fields),
        "interventions": Intervention.objects.filter(**active).values_list(
            *InterventionRow._fields
        ),
        "questionnaires": QuestionnaireResponse.objects.filter(**active).values_list(
            *QuestionnaireRow._fields
        ),
    }


def honest_floor(chunk_size: int) -> dict[str, Any]:
    """The least an evaluation that reads what the rules read must do: stream every such row once.

    Each table's rows come from a server-side cursor, ``chunk_size`` rows at a time, each row
    touched once (its length added up), and dropped. Beside the entries-only ``floor`` it says
    what the reading alone costs before anything is built from the rows.
    """
    rows: dict[str, int] = {}
    checksum = 0
    with counting_queries() as queries:
        began, cpu = time.perf_counter(), time.process_time()
        for table, queryset in honest_floor_querysets().items():
            count = 0
            for row in queryset.order_by().iterator(chunk_size=chunk_size):
                count += 1
                checksum += len(row)
            rows[table] = count
        seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "rows": sum(rows.values()),
        "rows_by_table": rows,
        "checksum": checksum,
        "queries": queries[0],
    }


def inputs(as_of: dt.date | None, chunk_size: int) -> dict[str, Any]:
    """What the evaluation reads before any rule runs, and nothing more.

    Every active episode's diary, exercise logs, prescriptions and interventions, chunk by chunk
    through the evaluation's own reader (``read_rule_inputs``): no rules, no locks, no writes.
    Beside the floor it shows how much of the evaluation's time the reading alone takes.
    """
    from rehab.nightly import active_episode_id_chunks
    from rehab.rule_inputs import read_rule_inputs

    entries = 0
    with counting_queries() as queries:
        began, cpu = time.perf_counter(), time.process_time()
        for ids in active_episode_id_chunks(chunk_size):
            read = read_rule_inputs(ids, until=as_of)
            entries += sum(len(diary) for diary in read.entries.values())
        seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
    return {"seconds": seconds, "cpu_seconds": cpu, "entries": entries, "queries": queries[0]}


def nightly(as_of: dt.date | None, chunk_size: int) -> dict[str, Any]:
    from rehab.nightly import evaluate_active_episodes

    with counting_queries() as queries:
        began, cpu = time.perf_counter(), time.process_time()
        summary = evaluate_active_episodes(as_of=as_of, chunk_size=chunk_size)
        seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "summary": summary.as_dict(),
        "queries": queries[0],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.probe")
    parser.add_argument("what", choices=("floor", "honest-floor", "inputs", "nightly"))
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=None)
    parser.add_argument("--chunk-size", type=int, default=None)
    args = parser.parse_args(argv)

    import django

    django.setup()
    from rehab.nightly import DEFAULT_CHUNK_SIZE

    if args.what == "floor":
        result = floor(args.chunk_size or 5000)
    elif args.what == "honest-floor":
        result = honest_floor(args.chunk_size or 5000)
    elif args.what == "inputs":
        result = inputs(args.as_of, args.chunk_size or DEFAULT_CHUNK_SIZE)
    else:
        result = nightly(args.as_of, args.chunk_size or DEFAULT_CHUNK_SIZE)
    result["peak_rss_mb"] = peak_rss_mb("self")
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
