"""The benchmark's own database: create it, migrate it, empty it, snapshot the alerts, drop it."""

from __future__ import annotations

import subprocess
import sys

import psycopg
from psycopg import sql

from bench.env import ROOT, BenchEnv

# Everything the generator fills or a night writes; TRUNCATE ... CASCADE takes the rest along.
DATA_TABLES = (
    "accounts_clinic",
    "accounts_user",
    "accounts_patient",
    "accounts_apitoken",
    "accounts_auditevent",
    "django_session",
    "rehab_episode",
    "rehab_prescription",
    "rehab_dailyentry",
    "rehab_exerciselog",
    "rehab_intervention",
    "rehab_alert",
    "rehab_delivery",
    "rehab_deliveryattempt",
    "rehab_inboxmessage",
    "rehab_clinicrulesettings",
    "rehab_reminderlog",
    "rehab_episodeevaluation",
)
# What a night changes, saved after the warm-up night and put back before each measured one, so
# the synchronous run and the Celery runs start from the same state.
NIGHT_TABLES = ("rehab_alert", "rehab_delivery", "rehab_inboxmessage", "rehab_episodeevaluation")


def connect(env: BenchEnv, *, autocommit: bool = True) -> psycopg.Connection:
    return psycopg.connect(env.psycopg_url, autocommit=autocommit)


def create(env: BenchEnv) -> None:
    """A fresh database (dropped first if a previous run left it), migrated."""
    drop(env)
    with psycopg.connect(env.maintenance_url.replace("postgres://", "postgresql://", 1)) as conn:
        conn.autocommit = True
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(env.database_name)))
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env.django_env(),
        check=True,
    )


def drop(env: BenchEnv) -> None:
    with psycopg.connect(env.maintenance_url.replace("postgres://", "postgresql://", 1)) as conn:
        conn.autocommit = True
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(env.database_name)
            )
        )


def empty(env: BenchEnv) -> None:
    with connect(env) as conn:
        conn.execute(
            sql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE").format(
                sql.SQL(", ").join(sql.Identifier(t) for t in DATA_TABLES)
            )
        )
        for table in NIGHT_TABLES:
            conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(_snapshot_name(table)))


def vacuum_analyze(env: BenchEnv) -> None:
    # After a bulk load: the visibility map lets index-only scans skip the heap, and the planner
    # gets real row counts.
    with connect(env) as conn:
        conn.execute("VACUUM (ANALYZE)")


def _snapshot_name(table: str) -> sql.Identifier:
    return sql.Identifier(f"bench_snapshot_{table}")


def snapshot_night(env: BenchEnv) -> None:
    with connect(env) as conn:
        for table in NIGHT_TABLES:
            conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(_snapshot_name(table)))
            conn.execute(
                sql.SQL("CREATE UNLOGGED TABLE {} AS SELECT * FROM {}").format(
                    _snapshot_name(table), sql.Identifier(table)
                )
            )


def restore_night(env: BenchEnv) -> None:
    """Put the alerts and deliveries back as the warm-up night left them."""
    with connect(env, autocommit=False) as conn:
        conn.execute(
            sql.SQL(
                "TRUNCATE rehab_inboxmessageread, rehab_inboxmessage, rehab_deliveryattempt,"
                " rehab_delivery, rehab_alert, rehab_episodeevaluation"
            )
        )
        for table in NIGHT_TABLES:
            conn.execute(
                sql.SQL("INSERT INTO {} SELECT * FROM {}").format(
                    sql.Identifier(table), _snapshot_name(table)
                )
            )
        conn.execute(
            "UPDATE rehab_episode SET evaluation_requested_at = NULL"
            " WHERE evaluation_requested_at IS NOT NULL"
        )
        conn.commit()
    with connect(env) as conn:
        for table in NIGHT_TABLES:
            conn.execute(sql.SQL("VACUUM (ANALYZE) {}").format(sql.Identifier(table)))


def count(env: BenchEnv, table: str, where: str = "") -> int:
    with connect(env) as conn:
        query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
        if where:
            query = sql.SQL("{} WHERE {}").format(query, sql.SQL(where))
        row = conn.execute(query).fetchone()
        assert row is not None
        return int(row[0])
