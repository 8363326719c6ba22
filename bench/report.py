"""The machine the figures came from, the table printed at the end, and bench/results.json."""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
from pathlib import Path
from typing import Any

from bench.env import ROOT, BenchEnv

TARGETS = {
    # The nightly evaluation against the honest floor (every row the rules read, streamed).
    # The entries-only floor is still measured beside it, as the earlier runs' reference.
    "evaluation_vs_honest_floor": 3.0,
    "evaluation_vs_floor": 3.0,
    # The caseload page's server time with 10,000 episodes in reach (a clinic admin's clinic).
    "caseload_ms_at_10000": 150.0,
    # From the entry PUT that raises a high alert to its signed webhook, one worker.
    "alert_latency_p95_ms": 2000.0,
    # The entry PUT on gunicorn with the production settings (docs/performance.md): at least
    # this many PUT/s with 50 concurrent clients and no errors, a p95 of at most this with 10.
    "put_per_s_at_50_clients": 60.0,
    "put_p95_ms_at_10_clients": 250.0,
    "put_queries": 10,
    "phone_page_kb": 60.0,
    # Issue 17: the episode page opens (its text shown) within a second on a first visit over
    # 10 Mbit/s (bench/episode_page.py); the charts follow when plotly.js arrives.
    "episode_first_visit_s": 1.0,
}


def machine(env: BenchEnv) -> dict[str, Any]:
    import django
    import psycopg
    import redis

    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    with psycopg.connect(env.psycopg_url) as conn:
        row = conn.execute("SHOW server_version").fetchone()
        pg_version = row[0] if row else "?"
    info: Any = redis.Redis.from_url(env.redis_url).info("server")
    redis_version = info.get("redis_version", "?")
    git = shutil.which("git")
    commit = (
        subprocess.run(  # noqa: S603  (read-only: the commit the figures belong to)
            [git, "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        if git
        else ""
    )
    return {
        "cpu": cpu or platform.processor(),
        "cores": os.cpu_count(),
        "memory_gb": memory_gb,
        "os": platform.platform(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "postgresql": pg_version,
        "redis": redis_version,
        "commit": commit,
        "note": "PostgreSQL, Redis, the web server, the workers and the load generator all share "
        "these cores: every figure is relative to this machine, and the ratios matter more than "
        "the absolute times.",
    }


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def write(results: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, default=str) + "\n")


def _ok(value: float | None, target: float, *, at_most: bool = True) -> str:
    if value is None:
        return "?"
    good = value <= target if at_most else value >= target
    return "ok" if good else "MISSED"


def table(results: dict[str, Any]) -> str:
    """The figures as a plain-text table, one block per size."""
    lines: list[str] = []
    m = results["machine"]
    lines.append(
        f"Machine: {m['cpu']} ({m['cores']} cores), {m['memory_gb']} GB; PostgreSQL "
        f"{m['postgresql']}, Redis {m['redis']}, Python {m['python']}; load before "
        f"{results.get('load_before')} after {results.get('load_after')}"
    )
    for size in results["sizes"]:
        n = size["episodes"]
        lines.append("")
        lines.append(
            f"== {n:,} active episodes: {size['data']['entries']:,} entries, "
            f"{size['data']['exercise_logs']:,} exercise logs (generated in "
            f"{size['data']['seconds']:.0f} s)"
        )
        nightly = size.get("nightly")
        if nightly:
            floor = nightly["floor"]
            lines.append(
                f"{'Nightly evaluation':34} {'wall s':>9} {'x floor':>8} {'peak MB':>9} "
                f"{'episodes/s':>11} {'cpu s':>7}"
            )
            lines.append(
                f"{'  floor (stream the entry rows)':34} {floor['seconds']:9.2f} {1:8.2f} "
                f"{floor['peak_rss_mb']:9.0f} {n / floor['seconds']:11,.0f} "
                f"{floor['cpu_seconds']:7.2f}  (runs: "
                + ", ".join(f"{s:.2f}" for s in floor["runs"])
                + ")"
            )
            lines += _honest_floor_lines(nightly, n)
            inputs = nightly.get("inputs")
            if inputs:
                lines.append(
                    f"{'  reading the inputs, no rules':34} {inputs['seconds']:9.2f} "
                    f"{nightly['ratios']['inputs']:8.2f} {inputs['peak_rss_mb']:9.0f} "
                    f"{n / inputs['seconds']:11,.0f} {inputs['cpu_seconds']:7.2f}  "
                    + _honest_ratio(nightly, "inputs", results["targets"])
                )
            for key, label in (
                ("sync", "  synchronous, one process"),
                ("celery_1", "  Celery, 1 worker"),
                ("celery_2", "  Celery, 2 workers"),
            ):
                run = nightly.get(key)
                if not run:
                    continue
                ratio = nightly["ratios"][key]
                lines.append(
                    f"{label:34} {run['seconds']:9.2f} {ratio:8.2f} {run['peak_rss_mb']:9.0f} "
                    f"{n / run['seconds']:11,.0f} {run.get('cpu_seconds', 0):7.2f}  "
                    + _honest_ratio(nightly, key, results["targets"])
                )
            sync = nightly.get("sync", {}).get("summary", {})
            if sync:
                lines.append(
                    f"  (a night: {sync.get('raised')} raised, {sync.get('updated')} updated, "
                    f"{sync.get('resolved')} resolved, {sync.get('notifications')} notifications; "
                    f"{nightly['sync'].get('queries')} queries)"
                )
        http = size.get("http")
        if http:
            lines.append(
                f"{'Entry PUT':34} {'req/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
                f"{'errors':>7}"
            )
            for phase in ("capacity", "latency"):
                block = http[phase]
                for label, run in (
                    (f"  bare GET, {block['clients']} clients", block["bare"]),
                    (f"  entry PUT, {block['clients']} clients", block["put"]),
                    (f"  bare again, {block['clients']} clients", block["bare_again"]),
                ):
                    lines.append(
                        f"{label:34} {run['throughput_per_s']:9.1f} {run['p50_ms']:8.1f} "
                        f"{run['p95_ms']:8.1f} {run['p99_ms']:8.1f} {run['errors']:7d}"
                    )
            targets = results["targets"]
            lines.append(
                f"  PUT capacity at {http['capacity']['clients']} clients: "
                f"{http['put_per_s']:.1f}/s "
                f"({_ok(http['put_per_s'], targets['put_per_s_at_50_clients'], at_most=False)}), "
                f"p95 at {http['latency']['clients']} clients: {http['put_p95_ms']:.0f} ms "
                f"({_ok(http['put_p95_ms'], targets['put_p95_ms_at_10_clients'])}), "
                f"errors: {http['put_errors']} ({'ok' if http['put_errors'] == 0 else 'MISSED'})"
            )
        put_q = size.get("put_queries")
        if put_q:
            worst = max(put_q["replace"]["queries"], put_q["create"]["queries"])
            lines.append(
                f"  queries per PUT: {put_q['replace']['queries']} (replace), "
                f"{put_q['create']['queries']} (create) "
                f"({_ok(worst, results['targets']['put_queries'])})"
            )
        caseload = size.get("caseload")
        if caseload:
            lines += _caseload_lines(caseload, results["targets"])
        alert_latency = size.get("latency")
        if alert_latency:
            lines += _latency_lines(alert_latency, results["targets"])
        phone = size.get("phone")
        if phone:
            lines.append(
                f"Phone entry page: {phone['wire_kb']:.1f} KB over the wire (gzip) in "
                f"{phone['requests']} requests, {phone['third_party_requests']} third-party "
                f"({_ok(phone['wire_kb'], results['targets']['phone_page_kb'])})"
            )
        episode = size.get("episode")
        if episode:
            lines.append(episode_line(episode, results["targets"]["episode_first_visit_s"]))
    scaling = results.get("scaling")
    if scaling:
        lines.append("")
        lines.append(
            f"Scaling {scaling['from']:,} -> {scaling['to']:,}: time x{scaling['time_factor']:.1f} "
            f"for x{scaling['size_factor']:.0f} episodes; peak memory "
            f"{scaling['peak_mb_from']:.0f} -> {scaling['peak_mb_to']:.0f} MB"
        )
    return "\n".join(lines)


# --- Caseload, alert latency and the honest floor (issue 17) ----------------------------------


def _honest_floor_lines(nightly: dict[str, Any], n: int) -> list[str]:
    honest = nightly.get("honest_floor")
    if not honest:
        return []
    ratio = honest["seconds"] / nightly["floor"]["seconds"]
    by_table = honest.get("rows_by_table", {})
    return [
        f"{'  honest floor (every row read)':34} {honest['seconds']:9.2f} {ratio:8.2f} "
        f"{honest['peak_rss_mb']:9.0f} {n / honest['seconds']:11,.0f} "
        f"{honest['cpu_seconds']:7.2f}  (runs: "
        + ", ".join(f"{s:.2f}" for s in honest["runs"])
        + ")",
        "    ("
        + ", ".join(f"{count:,} {table.replace('_', ' ')}" for table, count in by_table.items())
        + ")",
    ]


def _honest_ratio(nightly: dict[str, Any], key: str, targets: dict[str, float]) -> str:
    """The run against the honest floor, with the 3x target's verdict (the 'x floor' column is
    the entries-only floor)."""
    ratio = nightly.get("ratios_honest", {}).get(key)
    if ratio is None:
        return (
            "(reference)"
            if key == "inputs"
            else _ok(nightly["ratios"][key], targets["evaluation_vs_floor"])
        )
    if key == "inputs":
        return f"{ratio:.2f}x honest floor (reference)"
    return f"{ratio:.2f}x honest floor {_ok(ratio, targets['evaluation_vs_honest_floor'])}"


def _caseload_lines(caseload: dict[str, Any], targets: dict[str, float]) -> list[str]:
    lines = [
        f"{'Caseload page (server time)':34} {'viewer':>13} {'queries':>8} {'median ms':>10} "
        f"{'min ms':>8} {'filtered ms':>12} {'page 2 ms':>10}"
    ]
    for entry in caseload.values():
        views = entry.get("views", {})
        flag = ""
        if entry["patients"] == 10_000:
            flag = "  " + _ok(entry["server_ms_median"], targets["caseload_ms_at_10000"])
        label = f"  {entry['patients']:,} patients"
        lines.append(
            f"{label:34} {entry.get('viewer', 'therapist'):>13} {entry['queries']:8d} "
            f"{entry['server_ms_median']:10.0f} {entry['server_ms_min']:8.0f} "
            f"{_view_ms(views, 'filtered'):>12} {_view_ms(views, 'page_2'):>10}{flag}"
        )
    lines.append(
        f"  target: at most {targets['caseload_ms_at_10000']:.0f} ms at 10,000 patients; "
        "the same query count at every size for each kind of viewer: "
        + ("ok" if caseload_counts_constant(caseload) else "MISSED")
    )
    return lines


def caseload_counts_constant(caseload: dict[str, Any]) -> bool:
    """The home page's queries do not depend on the caseload's size, for each viewer role (a
    clinic admin's page has a query a therapist's has not: the clinic's therapists)."""
    counts: dict[str, set[int]] = {}
    for entry in caseload.values():
        counts.setdefault(entry.get("viewer", "therapist"), set()).add(entry["queries"])
    return all(len(found) == 1 for found in counts.values())


def _latency_lines(result: dict[str, Any], targets: dict[str, float]) -> list[str]:
    stages = result.get("stages", {})
    return [
        f"Alert latency (entry PUT -> signed webhook, {result['workers']} worker, "
        f"{result['episodes']} PUTs {result['interval_s']:g} s apart):",
        f"  p50 {_ms(result['p50_ms'])}, p95 {_ms(result['p95_ms'])} "
        f"({_ok(result['p95_ms'], targets['alert_latency_p95_ms'])}), max {_ms(result['max_ms'])}; "
        f"{result['arrived']} arrived, {result['missing']} missing after {result['timeout_s']:g} s "
        f"({'ok' if result['missing'] == 0 else 'MISSED'}), "
        f"{result['rejected_signatures']} bad signatures; PUT p50 {_ms(result['put_ms_p50'])}, "
        f"statuses {result['put_statuses']}",
        f"  stages (p50/p95): PUT -> alert row {_ms(stages.get('put_to_alert_ms_p50'))}/"
        f"{_ms(stages.get('put_to_alert_ms_p95'))}, alert row -> webhook sent "
        f"{_ms(stages.get('alert_to_send_ms_p50'))}/{_ms(stages.get('alert_to_send_ms_p95'))}",
    ]


def _view_ms(views: dict[str, Any], name: str) -> str:
    view = views.get(name)
    return "-" if view is None else f"{view['server_ms_median']:.0f}"


def _ms(value: float | None) -> str:
    return "?" if value is None else f"{value:.0f} ms"


def episode_line(episode: dict[str, Any], target_s: float) -> str:
    """The episode page's first visit (bench/episode_page.py), in one line."""
    if "skipped" in episode:
        return f"Episode page, first visit: skipped ({episode['skipped']})"
    m = episode["median"]
    by_type = ", ".join(f"{k.lower()} {v / 1024:.0f}" for k, v in m["wire_bytes_by_type"].items())
    text_s = m["dom_content_loaded_ms"] / 1000
    return (
        f"Episode page, first visit over {episode['link']['mbit_s']:g} Mbit/s "
        f"({episode['entries']} entries, median of {episode['visits']}): "
        f"{m['wire_kb']:.0f} KB over the wire ({by_type} KB), first byte "
        f"{m['response_start_ms'] / 1000:.2f} s, first paint "
        f"{m['fcp_ms'] / 1000:.2f} s, text {text_s:.2f} s "
        f"({_ok(text_s, target_s)}), plotly.js in {m['plotly_arrived_ms'] / 1000:.2f} s, "
        f"charts drawn {m['charts_drawn_ms'] / 1000:.2f} s"
    )
