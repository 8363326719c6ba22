"""``python -m bench --quick`` runs from start to end against PostgreSQL and Redis.

A smoke run of the real harness (the same code ``make bench`` runs): it generates a small
network with COPY, runs the nightly evaluation synchronously and through one and two real
Celery workers beside both floors, starts gunicorn with the production settings, loads the entry
PUT, the caseload and the phone entry page, times ten alerts from their entry PUT to their
signed webhook, and writes its JSON. Only counts are asserted here (queries, rows,
requests, bytes), never a timing: CI machines are too noisy for that (docs/performance.md).

It needs a PostgreSQL server (the one DATABASE_URL names; the benchmark creates and drops a
database of its own there) and REDIS_URL (it uses a database number of its own). Without them it
is skipped on a laptop and fails in CI (PAIS_REQUIRE_BROKER=1).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis

from bench.episode_page import CHROMIUM
from tests.integration.helpers import ROOT, unavailable

pytestmark = pytest.mark.broker


def _service_urls() -> tuple[str, str]:
    database = os.environ.get("DATABASE_URL", "")
    if not database.startswith(("postgres://", "postgresql://")):
        unavailable("the benchmark needs DATABASE_URL to name a PostgreSQL server")
    redis_url = os.environ.get("REDIS_URL", "")
    if not redis_url:
        unavailable("REDIS_URL is not set")
    parts = urlsplit(redis_url)
    # A database number of its own, apart from the REDIS_URL one and the integration tests'
    # (REDIS_URL + 1); the benchmark empties it.
    own = urlunsplit(parts._replace(path=f"/{(int(parts.path.strip('/') or 0) + 3) % 16}"))
    try:
        redis.Redis.from_url(own).ping()
    except redis.RedisError as exc:
        unavailable(f"Redis at {own} does not answer: {exc}")
    name = f"pais_bench_smoke_{os.getpid()}"
    return urlunsplit(urlsplit(database)._replace(path=f"/{name}")), own


def test_the_benchmark_runs_and_meets_its_count_targets(tmp_path: Path) -> None:
    database_url, redis_url = _service_urls()
    output = tmp_path / "results.json"
    env = {
        **os.environ,
        "BENCH_DATABASE_URL": database_url,
        "BENCH_REDIS_URL": redis_url,
    }
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--output", str(output)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    print(done.stdout)
    assert done.returncode == 0, done.stderr[-5000:]
    assert "Nightly evaluation" in done.stdout and "Phone entry page" in done.stdout
    assert "Alert latency" in done.stdout and "honest floor" in done.stdout
    assert "Episode page, first visit" in done.stdout

    results = json.loads(output.read_text())
    (size,) = results["sizes"]
    n = size["episodes"]
    assert results["machine"]["cores"] and results["machine"]["postgresql"]

    # The same night, three ways: every episode evaluated, the same alerts written each time.
    nightly = size["nightly"]
    assert nightly["floor"]["rows"] == size["data"]["entries"]
    # The reading alone (no rules) sees the same diaries, up to the night's date.
    assert 0 < nightly["inputs"]["entries"] <= nightly["floor"]["rows"]
    assert set(nightly["ratios"]) == {"inputs", "sync", "celery_1", "celery_2"}
    # The honest floor streams every row the rules read: all of the generated ones.
    honest = nightly["honest_floor"]
    assert honest["rows_by_table"] == {
        "episodes": n,
        "entries": size["data"]["entries"],
        "exercise_logs": size["data"]["exercise_logs"],
        "prescriptions": size["data"]["prescriptions"],
        "interventions": size["data"]["interventions"],
        "questionnaires": 0,
    }
    assert len(honest["runs"]) == len(nightly["floor"]["runs"]) == 5
    assert set(nightly["ratios_honest"]) == set(nightly["ratios"])
    sync = nightly["sync"]["summary"]
    assert sync["evaluated"] == n and sync["failed"] == []
    assert sync["raised"] + sync["updated"] > 0
    for workers in (1, 2):
        run = nightly[f"celery_{workers}"]
        assert run["workers"] == workers and len(run["peak_rss_mb_each"]) == workers
        assert run["chunks"] >= 1
        assert {k: run["summary"][k] for k in ("evaluated", "raised", "updated", "resolved")} == {
            k: sync[k] for k in ("evaluated", "raised", "updated", "resolved")
        }
    # A chunk's queries do not depend on its size: the whole night is a few per chunk.
    assert nightly["sync"]["queries"] <= 20 * nightly["celery_1"]["chunks"] + 5

    # Under load every request was answered, and a PUT costs at most 8 queries.
    http = size["http"]
    for load in ("capacity", "latency"):
        for phase in ("bare", "put", "bare_again"):
            run = http[load][phase]
            assert run["requests"] > 0 and run["errors"] == 0, (load, phase, run)
    assert http["put_errors"] == 0 and http["put_per_s"] > 0 and http["put_p95_ms"] > 0
    assert size["put_queries"]["replace"]["queries"] <= 10
    assert size["put_queries"]["create"]["queries"] <= 10

    # The quick caseloads: a therapist's 50 patients inside a clinic of 200 seen by its admin.
    caseload = size["caseload"]
    assert {key: entry["viewer"] for key, entry in caseload.items()} == {
        "50": "therapist",
        "200": "clinic_admin",
    }
    for entry in caseload.values():
        assert set(entry["views"]) == {"home", "filtered", "page_2"}
        assert entry["queries"] == entry["views"]["home"]["queries"] > 0
        assert entry["server_ms_min"] <= entry["server_ms_median"]
    assert results["targets"]["caseload_ms_at_10000"] == 150

    # Every alert PUT was answered and its webhook arrived, signed with the endpoint's secret.
    latency = size["latency"]
    assert latency["episodes"] == 10 and latency["workers"] == 1
    assert latency["put_statuses"] == {"201": 10 + latency["warm_up_episodes"]}
    assert latency["arrived"] == 10 and latency["missing"] == 0
    assert latency["missing_episodes"] == [] and latency["rejected_signatures"] == 0
    assert 0 < latency["p50_ms"] <= latency["p95_ms"] <= latency["max_ms"]
    assert all(value is not None for value in latency["stages"].values())
    assert results["targets"]["alert_latency_p95_ms"] == 2000

    # The phone's first visit: small, compressed, nothing from another origin.
    phone = size["phone"]
    assert phone["third_party_requests"] == 0
    assert phone["wire_kb"] <= 60
    assert {f["status"] for f in phone["files"]} == {200}
    assert any(f["content_encoding"] == "gzip" for f in phone["files"] if f["path"] != "/")

    # The episode page's first visits in Chromium over a throttled link: every chart drawn, with
    # the partial plotly.js (the full bundle alone was 1.4 MB gzip), nothing from another origin.
    episode = size["episode"]
    if not CHROMIUM.exists():
        assert "skipped" in episode
        return
    assert episode["visits"] == 3 and episode["entries"] > 0
    for run in episode["runs"]:
        assert run["chart_containers"] >= 3 and run["charts"] == run["chart_containers"]
        assert run["third_party_requests"] == 0, run["third_party"]
        assert any("/static/vendor/plotly-pais." in f["path"] for f in run["files"])
        assert run["wire_bytes_by_type"]["Script"] < 500 * 1024
