"""In-process measurements on the benchmark's database: queries per entry PUT and the caseload.

These go through Django's test client in the benchmark's own process (production settings,
the benchmark database), where ``CaptureQueriesContext`` can count every statement.
"""

from __future__ import annotations

import datetime as dt
import statistics
import time
from typing import Any

from bench.synth import CaseloadViewer, LoadClient


def put_queries(client: LoadClient, as_of: dt.date) -> dict[str, Any]:
    """The statements one entry PUT sends: replacing an entry, and creating one."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {client.token}")
    body = {
        "pain_activity": 4,
        "pain_rest": 1,
        "pf_rom_affected": 33,
        "pf_rom_unaffected": None,
        "exercises": [
            {"prescription": pk, "sets_completed": sets} for pk, sets in client.prescriptions
        ],
        "note": "",
    }
    result: dict[str, Any] = {}
    from rehab.models import DailyEntry

    for label in ("replace", "create"):
        day = as_of - dt.timedelta(days=1 if label == "replace" else 2)
        url = f"/api/v1/episodes/{client.episode_id}/entries/{day.isoformat()}/"
        api.put(url, body, format="json", secure=True)  # warms caches; the entry now exists
        if label == "create":
            DailyEntry.objects.filter(episode_id=client.episode_id, date=day).delete()
        with CaptureQueriesContext(connection) as queries:
            response = api.put(url, body, format="json", secure=True)
        expected = 200 if label == "replace" else 201
        if response.status_code != expected:
            raise RuntimeError(f"entry PUT ({label}) answered {response.status_code}")
        statements = [q["sql"] for q in queries.captured_queries]
        result[label] = {
            # SQL statements; the transaction's BEGIN and COMMIT are counted apart.
            "queries": sum(1 for sql in statements if not _transaction_control(sql)),
            "transaction_control": sum(1 for sql in statements if _transaction_control(sql)),
            "statements": [sql[:120] for sql in statements],
        }
    return result


def _transaction_control(sql: str) -> bool:
    return sql.split(None, 1)[0].upper() in {"BEGIN", "COMMIT", "ROLLBACK"}


# What is measured on each caseload: the home page as it opens, the same page filtered to the
# high-severity rows, and its second page (a clinic admin pages through a large clinic).
CASELOAD_VIEWS = (
    ("home", "/", 5),
    ("filtered", "/?severity=high", 3),
    ("page_2", "/?page=2", 3),
)


def caseload(viewers: dict[int, CaseloadViewer]) -> dict[str, Any]:
    """The caseload page (``/``) of each measured caseload: its server time and queries.

    In-process through Django's test client (production settings, the benchmark's database),
    so every statement is counted. The first request of each viewer is not timed (it writes the
    session and warms the caches); each view is then timed ``repeats`` times.
    """
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User

    out: dict[str, Any] = {}
    for size, viewer in sorted(viewers.items()):
        browser = Client()
        browser.force_login(User.objects.get(pk=viewer.user_id))
        browser.get("/", secure=True)
        views: dict[str, Any] = {}
        for name, path, repeats in CASELOAD_VIEWS:
            times = []
            counts = []
            for _ in range(repeats):
                with CaptureQueriesContext(connection) as queries:
                    began = time.perf_counter()
                    response = browser.get(path, secure=True)
                    times.append((time.perf_counter() - began) * 1000)
                if response.status_code != 200:
                    raise RuntimeError(
                        f"caseload of {size}, {path} answered {response.status_code}"
                    )
                counts.append(len(queries))
            views[name] = {
                "path": path,
                "repeats": repeats,
                "queries": max(counts),
                "server_ms_median": round(statistics.median(times), 1),
                "server_ms_min": round(min(times), 1),
                "html_bytes": len(response.content),
            }
        home = views["home"]
        out[str(size)] = {
            "patients": size,
            "viewer": viewer.role,
            # The home page's figures, at the top level as before.
            "queries": home["queries"],
            "server_ms_median": home["server_ms_median"],
            "server_ms_min": home["server_ms_min"],
            "views": views,
        }
    return out
