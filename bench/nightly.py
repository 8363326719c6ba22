"""The nightly evaluation: synchronously in one process, through 1 and 2 Celery workers, and the
floor beside it.

Every measured night starts from the same state: the alerts a warm-up night (as of the day
before) left, restored from a snapshot. So each run does the same work: update the alerts still
found, raise the new ones, resolve the gone ones, write and queue their notifications.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

from bench import database
from bench.env import ROOT, BenchEnv
from bench.probe import cpu_seconds, peak_rss_mb

CHUNK_LINE = re.compile(r"Nightly chunk: Evaluated (\d+) episodes?")
QUEUED_LINE = re.compile(r"Nightly evaluation: (\d+) chunks queued")


def probe(env: BenchEnv, *args: str) -> dict[str, Any]:
    """Run ``python -m bench.probe`` in a fresh process and return its JSON."""
    done = subprocess.run(  # noqa: S603  (our own interpreter and module)
        [sys.executable, "-m", "bench.probe", *args],
        cwd=ROOT,
        env=env.django_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench.probe {' '.join(args)} failed:\n{done.stderr[-4000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def flush_redis(env: BenchEnv) -> None:
    """Empty the benchmark's own Redis database (never another)."""
    redis.Redis.from_url(env.redis_url).flushdb()


def floor(env: BenchEnv) -> dict[str, Any]:
    """One floor run, in a fresh process."""
    return probe(env, "floor")


def honest_floor(env: BenchEnv) -> dict[str, Any]:
    """One honest floor run (every row the rules read, streamed), in a fresh process."""
    return probe(env, "honest-floor")


def inputs(env: BenchEnv, as_of: dt.date) -> dict[str, Any]:
    """The evaluation's reading alone (no rules, no writes), in a fresh process."""
    return probe(env, "inputs", "--as-of", as_of.isoformat())


def floors_summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    seconds = [run["seconds"] for run in runs]
    return {
        "seconds": statistics.median(seconds),
        "runs": [round(s, 3) for s in seconds],
        "cpu_seconds": statistics.median(run["cpu_seconds"] for run in runs),
        "rows": runs[0]["rows"],
        **({"rows_by_table": runs[0]["rows_by_table"]} if "rows_by_table" in runs[0] else {}),
        "queries": runs[0]["queries"],
        "peak_rss_mb": max(run["peak_rss_mb"] for run in runs),
    }


def warm_up(env: BenchEnv, as_of: dt.date) -> dict[str, Any]:
    """The night before: raises the alerts every measured night then starts from."""
    flush_redis(env)
    result = probe(env, "nightly", "--as-of", as_of.isoformat())
    database.snapshot_night(env)
    flush_redis(env)
    return result


def synchronous(env: BenchEnv, as_of: dt.date) -> dict[str, Any]:
    database.restore_night(env)
    flush_redis(env)
    result = probe(env, "nightly", "--as-of", as_of.isoformat())
    flush_redis(env)
    return result


@dataclass
class Worker:
    index: int
    process: subprocess.Popen[bytes]
    log: Path
    peak_rss_mb: float = 0.0
    cpu_seconds: float = 0.0
    # What the log said so far, read incrementally: the log grows by megabytes in a run and is
    # polled every 50 ms, and re-reading it all would take CPU from the workers being measured.
    ready: bool = False
    chunks_queued: int | None = None
    chunk_lines: list[str] = field(default_factory=list)
    _offset: int = 0
    _partial: str = ""

    def scan(self) -> None:
        with self.log.open("rb") as handle:
            handle.seek(self._offset)
            data = handle.read()
        self._offset += len(data)
        text = self._partial + data.decode(errors="replace")
        lines = text.split("\n")
        self._partial = lines.pop()
        for line in lines:
            if " ready." in line:
                self.ready = True
            elif "Nightly chunk:" in line:
                self.chunk_lines.append(line)
            else:
                match = QUEUED_LINE.search(line)
                if match:
                    self.chunks_queued = int(match.group(1))

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        """Note the worker's peak memory (it ran the tasks itself: solo pool), then stop it."""
        if self.process.poll() is None:
            self.peak_rss_mb = peak_rss_mb(self.process.pid)
            self.cpu_seconds = cpu_seconds(self.process.pid)
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_workers(
    env: BenchEnv, count: int, log_dir: Path, *, label: str = "", **extra_env: str
) -> list[Worker]:
    """``count`` real Celery workers, one process each (solo pool), on the benchmark's Redis,
    with ``extra_env`` added to the benchmark's environment."""
    workers = []
    for index in range(count):
        log = log_dir / f"worker{label}-{count}-{index}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(  # noqa: S603  (our own interpreter)
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "config",
                    "worker",
                    "--pool",
                    "solo",
                    "--loglevel",
                    "INFO",
                    "--hostname",
                    f"bench{index}-{os.getpid()}@%h",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                ],
                cwd=ROOT,
                env=env.django_env(DJANGO_LOG_LEVEL="INFO", **extra_env),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        workers.append(Worker(index=index, process=process, log=log))
    deadline = time.monotonic() + 60
    while not all(w.ready for w in workers):
        for worker in workers:
            worker.scan()
        if time.monotonic() > deadline or any(w.process.poll() is not None for w in workers):
            for worker in workers:
                worker.stop()
            logs = "\n".join(w.text()[-2000:] for w in workers)
            raise RuntimeError(f"Celery workers did not start:\n{logs}")
        time.sleep(0.1)
    return workers


def _summary_from_logs(workers: list[Worker]) -> dict[str, int]:
    totals = {"evaluated": 0, "raised": 0, "updated": 0, "resolved": 0, "notifications": 0}
    for worker in workers:
        for line in worker.chunk_lines:
            match = CHUNK_LINE.search(line)
            if match:
                totals["evaluated"] += int(match.group(1))
            for key, pattern in (
                ("raised", r"(\d+) alerts? raised"),
                ("updated", r"(\d+) updated"),
                ("resolved", r"(\d+) resolved"),
                ("notifications", r"(\d+) notifications? queued"),
            ):
                found = re.search(pattern, line)
                if found:
                    totals[key] += int(found.group(1))
    return totals


def celery(env: BenchEnv, as_of: dt.date, workers: int, log_dir: Path) -> dict[str, Any]:
    """The nightly job as beat queues it, run by ``workers`` real workers.

    Timed from queuing ``evaluate_all_active`` until every chunk has logged its summary; the
    notification messages the chunks queue are then sent by the same workers, and the time until
    the queue is empty is reported beside it.
    """
    from rehab.tasks import evaluate_all_active

    database.restore_night(env)
    flush_redis(env)
    client = redis.Redis.from_url(env.redis_url)
    running = start_workers(env, workers, log_dir)
    try:
        began = time.perf_counter()
        evaluate_all_active.apply_async(args=(as_of.isoformat(),))
        chunks: int | None = None
        evaluated_at = None
        while True:
            for worker in running:
                worker.scan()
                if chunks is None and worker.chunks_queued is not None:
                    chunks = worker.chunks_queued
            done = sum(len(worker.chunk_lines) for worker in running)
            if chunks is not None and done >= chunks and evaluated_at is None:
                evaluated_at = time.perf_counter()
            # Then the notifications: nothing waiting, nothing being worked on.
            if evaluated_at is not None and client.llen("celery") == client.hlen("unacked") == 0:
                drained_at = time.perf_counter()
                break
            if any(w.process.poll() is not None for w in running):
                raise RuntimeError("a Celery worker died during the run")
            time.sleep(0.05)
    finally:
        for worker in running:
            worker.stop()
    flush_redis(env)
    return {
        "workers": workers,
        "seconds": evaluated_at - began,
        "seconds_with_notifications_sent": drained_at - began,
        "chunks": chunks,
        "summary": _summary_from_logs(running),
        "peak_rss_mb": max(w.peak_rss_mb for w in running),
        # Including the worker's start-up (about a second) and the notifications it sent.
        "cpu_seconds": sum(w.cpu_seconds for w in running),
        "peak_rss_mb_each": [w.peak_rss_mb for w in running],
    }
