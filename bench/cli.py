"""``python -m bench``: generate, measure, print the table, write bench/results.json.

    python -m bench                      # 10,000 episodes
    python -m bench --sizes 10000,100000
    python -m bench --quick              # a small smoke run (CI)

See docs/performance.md for what is measured and the figures of a recorded run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from bench import database, report
from bench.env import ROOT, BenchConfigError, BenchEnv

PARTS = ("nightly", "http", "caseload", "phone", "latency", "episode")


def _ints(text: str) -> list[int]:
    return [int(part.replace("_", "")) for part in text.split(",") if part.strip()]


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=_ints, default=None, help="episodes, e.g. 10000,100000")
    parser.add_argument("--quick", action="store_true", help="a small, fast smoke run")
    parser.add_argument(
        "--caseloads",
        type=_ints,
        default=None,
        help="default 50,1000,10000 (the largest: a clinic admin's whole clinic)",
    )
    parser.add_argument("--clients", type=int, default=None, help="concurrent clients (50)")
    parser.add_argument("--load-seconds", type=float, default=None, help="per load phase (15)")
    parser.add_argument("--load-requests", type=int, default=20_000, help="cap per load phase")
    parser.add_argument("--gunicorn-workers", type=int, default=3)
    parser.add_argument("--celery-workers", type=_ints, default=[1, 2])
    # Alert latency (bench/latency.py).
    parser.add_argument("--latency-episodes", type=int, default=None, help="measured PUTs (200)")
    parser.add_argument(
        "--latency-interval", type=float, default=0.5, help="seconds between those PUTs (0.5)"
    )
    parser.add_argument("--skip", default="", help=f"comma-separated parts to skip: {PARTS}")
    parser.add_argument("--seed", type=int, default=56)
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results.json")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes = args.sizes or [600]
        args.caseloads = args.caseloads or [50, 200]
        args.latency_episodes = args.latency_episodes or 10
        args.clients = args.clients or 10
        args.load_seconds = args.load_seconds or 3.0
        args.load_requests = min(args.load_requests, 300)
    args.sizes = args.sizes or [10_000]
    args.caseloads = args.caseloads or [50, 1_000, 10_000]
    args.latency_episodes = args.latency_episodes or 200
    args.clients = args.clients or 50
    args.load_seconds = args.load_seconds or 15.0
    args.skip = {part.strip() for part in args.skip.split(",") if part.strip()}
    unknown = args.skip - set(PARTS)
    if unknown:
        parser.error(f"unknown parts to skip: {', '.join(sorted(unknown))}")
    return args


def say(text: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    try:
        env = BenchEnv.from_environ()
    except BenchConfigError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 2
    (env.work_dir / "var").mkdir(parents=True, exist_ok=True)
    say(f"database {env.database_name}, Redis {env.redis_url}, work dir {env.work_dir}")
    database.create(env)
    env.setup_django()
    from bench import episode_page, http, latency, nightly, pages, plans, synth

    # The diaries end today (UTC); the measured night evaluates them as of today.
    as_of = dt.datetime.now(dt.UTC).date()
    results: dict[str, Any] = {
        "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": report.machine(env),
        "load_before": report.load(),
        "options": {
            "sizes": args.sizes,
            "caseloads": args.caseloads,
            "clients": args.clients,
            "load_seconds": args.load_seconds,
            "gunicorn_workers": args.gunicorn_workers,
            "celery_workers": args.celery_workers,
            "quick": args.quick,
            "skip": sorted(args.skip),
            "latency_episodes": args.latency_episodes,
            "latency_interval": args.latency_interval,
        },
        "targets": report.TARGETS,
        "sizes": [],
    }
    static_ready = False
    try:
        for n in args.sizes:
            size: dict[str, Any] = {"episodes": n, "load": {}}
            results["sizes"].append(size)
            say(f"{n:,} episodes: generating")
            database.empty(env)
            data = synth.generate(
                env,
                synth.SynthSpec(
                    episodes=n,
                    as_of=as_of,
                    caseloads=tuple(args.caseloads),
                    clients=args.clients,
                    seed=args.seed,
                ),
            )
            database.vacuum_analyze(env)
            size["data"] = {**data.counts, "seconds": round(data.seconds, 1)}

            if "nightly" not in args.skip:
                size["load"]["nightly"] = report.load()
                say(f"{n:,}: warm-up night as of {as_of - dt.timedelta(days=1)}")
                run: dict[str, Any] = {
                    "warm_up": nightly.warm_up(env, as_of - dt.timedelta(days=1))
                }
                # The floor is measured before and after every evaluation run, and each run is
                # compared with the mean of the two floors beside it: on a shared machine the
                # load drifts, and this compares like with like.
                # Two floors each time: the entries alone, and every row the rules read (the
                # honest floor, which the 3x target is measured against).
                say(f"{n:,}: floors")
                floors = [nightly.floor(env)]
                honest = [nightly.honest_floor(env)]
                say(f"{n:,}: reading the rules' inputs, no rules")
                run["inputs"] = nightly.inputs(env, as_of)
                floors.append(nightly.floor(env))
                honest.append(nightly.honest_floor(env))
                say(f"{n:,}: synchronous night")
                run["sync"] = nightly.synchronous(env, as_of)
                floors.append(nightly.floor(env))
                honest.append(nightly.honest_floor(env))
                evaluated = ["inputs", "sync"]
                for workers in args.celery_workers:
                    say(f"{n:,}: Celery night, {workers} worker(s)")
                    run[f"celery_{workers}"] = nightly.celery(env, as_of, workers, env.work_dir)
                    floors.append(nightly.floor(env))
                    honest.append(nightly.honest_floor(env))
                    evaluated.append(f"celery_{workers}")
                run["floor"] = nightly.floors_summary(floors)
                run["honest_floor"] = nightly.floors_summary(honest)
                run["ratios"] = _ratios(run, evaluated, floors)
                run["ratios_honest"] = _ratios(run, evaluated, honest)
                size["nightly"] = run
                database.restore_night(env)
                size["plans"] = plans.capture(as_of)

            if (
                not static_ready
                and not {"http", "phone", "caseload", "latency", "episode"} <= args.skip
            ):
                # Production settings serve hashed, compressed files from a manifest.
                say("collectstatic (compressed, hashed names)")
                http.collectstatic(env)
                static_ready = True
            if not {"http", "phone", "episode"} <= args.skip:
                size["load"]["http"] = report.load()
                server = http.start_gunicorn(env, args.gunicorn_workers, env.work_dir)
                try:
                    if "http" not in args.skip:
                        say(f"{n:,}: load test, {args.clients} clients")
                        size["http"] = http.load_test(
                            env,
                            server,
                            data.clients,
                            as_of,
                            seconds=args.load_seconds,
                            max_requests=args.load_requests,
                        )
                    if "phone" not in args.skip:
                        say(f"{n:,}: phone entry page")
                        first = data.clients[0]
                        size["phone"] = http.phone_page(server, first.email, data.password)
                    if "episode" not in args.skip:
                        say(f"{n:,}: episode page, first visits over 10 Mbit/s (Chromium)")
                        size["episode"] = episode_page.measure(
                            server, data.password, visits=3 if args.quick else 5
                        )
                finally:
                    server.stop()
                nightly.flush_redis(env)
            if "http" not in args.skip:
                size["put_queries"] = pages.put_queries(data.clients[0], as_of)
                nightly.flush_redis(env)
            if "caseload" not in args.skip and data.caseload_viewers:
                if "nightly" in args.skip:
                    # The caseload shows what evaluations stored: evaluate every episode once
                    # (as of each patient's today), as a night would have.
                    say(f"{n:,}: evaluating every episode before the caseload")
                    size["caseload_evaluation"] = nightly.probe(env, "nightly")["summary"]
                    nightly.flush_redis(env)
                    # As autovacuum would after 10,000 new rows: the planner sees the tables.
                    database.vacuum_analyze(env)
                say(f"{n:,}: caseload pages")
                size["load"]["caseload"] = report.load()
                size["caseload"] = pages.caseload(data.caseload_viewers)
            if "latency" not in args.skip:
                say(
                    f"{n:,}: alert latency, {args.latency_episodes} PUTs "
                    f"{args.latency_interval:g} s apart, 1 worker"
                )
                size["load"]["latency"] = report.load()
                size["latency"] = latency.measure(
                    env,
                    count=args.latency_episodes,
                    warm_up=3,
                    interval=args.latency_interval,
                    gunicorn_workers=args.gunicorn_workers,
                    seed=args.seed,
                    log_dir=env.work_dir,
                )
        _scaling(results)
    finally:
        results["load_after"] = report.load()
        results["finished"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        report.write(results, args.output)
        if not args.keep:
            from django.db import connections

            connections.close_all()
            database.drop(env)
            shutil.rmtree(env.work_dir, ignore_errors=True)
    print(report.table(results))
    say(f"results written to {args.output}")
    return 0


def _ratios(
    run: dict[str, Any], evaluated: list[str], floors: list[dict[str, Any]]
) -> dict[str, float]:
    """Each run's time over the mean of the two floors measured beside it."""
    return {
        key: round(
            run[key]["seconds"]
            / statistics.fmean([floors[i]["seconds"], floors[i + 1]["seconds"]]),
            2,
        )
        for i, key in enumerate(evaluated)
    }


def _scaling(results: dict[str, Any]) -> None:
    measured = [s for s in results["sizes"] if s.get("nightly")]
    if len(measured) < 2:
        return
    small, large = measured[0], measured[-1]
    results["scaling"] = {
        "from": small["episodes"],
        "to": large["episodes"],
        "size_factor": large["episodes"] / small["episodes"],
        "time_factor": large["nightly"]["sync"]["seconds"] / small["nightly"]["sync"]["seconds"],
        "peak_mb_from": small["nightly"]["sync"]["peak_rss_mb"],
        "peak_mb_to": large["nightly"]["sync"]["peak_rss_mb"],
    }
