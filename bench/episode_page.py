"""The therapist's episode page on a first visit, in Chromium over a throttled 10 Mbit/s link.

Issue 17's target: the page opens in at most a second on a first visit over 10 Mbit/s, its text
(findings, figures, chart summaries) shown before the charts arrive. Against the benchmark's
gunicorn (production settings, compressed and hashed static files), a therapist signs in and
opens the episode with the fullest diary of their caseload, several times, each in a new browser
context with the cache disabled, with Chromium's own network throttling (DevTools protocol,
``Network.emulateNetworkConditions``). Per visit:

- bytes over the wire (``encodedDataLength``: headers and compressed bodies), in all and by
  resource type (document, stylesheet, script, ...);
- the document's first byte (the server's time to build the page, plus the link's latency);
- first contentful paint;
- DOMContentLoaded: the findings and summaries are in the page (charts.js loads plotly.js after it);
- plotly.js requested and arrived (Resource Timing);
- charts drawn: static/js/charts.js's ``pais:charts-drawn`` performance mark, set when plotly.js
  has drawn every chart.

Times are from the navigation's start, medians over the visits. Plain HTTP to 127.0.0.1, so
Chromium asks for gzip only (it offers brotli over HTTPS alone); the proxy header says HTTPS, as
production's TLS proxy would.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

from bench.http import PROXY_HEADERS, Server, sign_in

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# Issue 17: "a 10 Mbit/s link". The round trip is a clinic's broadband to a server in the same
# country; upload as fast as download (the page sends little).
LINK_MBIT_S = 10.0
LINK_LATENCY_MS = 40.0
VISITS = 5
_THROUGHPUT = LINK_MBIT_S * 1_000_000 / 8  # bytes per second

_TIMINGS = """() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const paint = performance.getEntriesByName("first-contentful-paint")[0];
  const drawn = performance.getEntriesByName("pais:charts-drawn")[0];
  const plotly = performance
    .getEntriesByType("resource")
    .find((entry) => entry.name.includes("/vendor/plotly"));
  return {
    response_start_ms: nav.responseStart,
    response_end_ms: nav.responseEnd,
    fcp_ms: paint ? paint.startTime : null,
    dom_content_loaded_ms: nav.domContentLoadedEventEnd,
    plotly_requested_ms: plotly ? plotly.startTime : null,
    plotly_arrived_ms: plotly ? plotly.responseEnd : null,
    charts_drawn_ms: drawn ? drawn.startTime : null,
    load_ms: nav.loadEventEnd,
    chart_containers: document.querySelectorAll(".js-chart").length,
    charts: document.querySelectorAll(".js-chart[data-chart-drawn='1']").length,
    findings: document.querySelectorAll(".findings .finding").length,
  };
}"""


def busiest_episode() -> dict[str, Any]:
    """The episode with the most diary entries among those a therapist treats, and its therapist."""
    from django.db.models import Count

    from rehab.models import Episode

    episode = (
        Episode.objects.filter(patient__therapist__isnull=False)
        .annotate(entry_count=Count("entries"))
        .order_by("-entry_count", "pk")
        .values("pk", "entry_count", "patient__therapist__email")
        .first()
    )
    if episode is None:
        raise RuntimeError("no episode with a therapist in the benchmark's data")
    return {
        "episode_id": episode["pk"],
        "entries": episode["entry_count"],
        "therapist": episode["patient__therapist__email"],
    }


def measure(server: Server, password: str, *, visits: int = VISITS) -> dict[str, Any]:
    """A warm-up visit (the server's caches, not the browser's), then ``visits`` cold ones."""
    if not CHROMIUM.exists():
        return {"skipped": f"{CHROMIUM} is not installed"}
    from playwright.sync_api import sync_playwright

    target = busiest_episode()
    jar = sign_in(server.port, target["therapist"], password)
    origin = f"http://127.0.0.1:{server.port}"
    url = f"{origin}/episodes/{target['episode_id']}/"
    runs: list[dict[str, Any]] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            for visit in range(visits + 1):
                run = _visit(browser, url, origin, jar)
                if visit:
                    runs.append(run)
        finally:
            browser.close()
    return {
        **target,
        "link": {
            "mbit_s": LINK_MBIT_S,
            "latency_ms": LINK_LATENCY_MS,
            "cache": "disabled, new context each visit",
        },
        "visits": len(runs),
        "median": _medians(runs),
        "runs": runs,
    }


def _visit(browser: Any, url: str, origin: str, jar: dict[str, str]) -> dict[str, Any]:
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="en-GB")
    try:
        context.set_extra_http_headers(PROXY_HEADERS)
        context.add_cookies([{"name": k, "value": v, "url": origin} for k, v in jar.items()])
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        responses: dict[str, dict[str, Any]] = {}
        finished: dict[str, int] = {}

        def received(event: dict[str, Any]) -> None:
            responses[event["requestId"]] = {"type": event["type"], "url": event["response"]["url"]}

        def done(event: dict[str, Any]) -> None:
            finished[event["requestId"]] = int(event["encodedDataLength"])

        cdp.on("Network.responseReceived", received)
        cdp.on("Network.loadingFinished", done)
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        cdp.send(
            "Network.emulateNetworkConditions",
            {
                "offline": False,
                "latency": LINK_LATENCY_MS,
                "downloadThroughput": _THROUGHPUT,
                "uploadThroughput": _THROUGHPUT,
            },
        )
        began = time.perf_counter()
        response = page.goto(url, wait_until="domcontentloaded", timeout=60_000)
        if response is None or response.status != 200:
            raise RuntimeError(f"the episode page answered {response and response.status}")
        page.wait_for_selector("html[data-charts-drawn]", state="attached", timeout=60_000)
        page.wait_for_load_state("load", timeout=60_000)
        wall_s = time.perf_counter() - began
        # Let the last responses' loadingFinished events arrive (not part of any time above).
        page.wait_for_load_state("networkidle", timeout=60_000)
        timings = page.evaluate(_TIMINGS)
        state = page.locator("html").get_attribute("data-charts-drawn")
    finally:
        context.close()
    if state != "all":
        raise RuntimeError(f"the charts were not drawn (data-charts-drawn={state!r})")
    by_type: dict[str, int] = {}
    files = []
    third_party = []
    for request_id, size in finished.items():
        kind = responses.get(request_id, {}).get("type", "Other")
        url = responses.get(request_id, {}).get("url", "")
        if url.startswith(("data:", "blob:")):
            continue  # drawn from the page itself (CSS icons, plotly.js's images): no request
        if not url.startswith(origin + "/"):
            third_party.append(url)
        by_type[kind] = by_type.get(kind, 0) + size
        files.append({"path": url.removeprefix(origin), "type": kind, "wire_bytes": size})
    return {
        **{k: round(v, 1) if isinstance(v, float) else v for k, v in timings.items()},
        "wall_s": round(wall_s, 3),
        "requests": len(files),
        "third_party_requests": len(third_party),
        "third_party": third_party,
        "wire_bytes": sum(f["wire_bytes"] for f in files),
        "wire_bytes_by_type": dict(sorted(by_type.items())),
        "files": sorted(files, key=lambda f: -f["wire_bytes"]),
    }


def _medians(runs: list[dict[str, Any]]) -> dict[str, Any]:
    def median(key: str) -> float | None:
        values = [run[key] for run in runs if run.get(key) is not None]
        return round(statistics.median(values), 1) if values else None

    kinds = sorted({kind for run in runs for kind in run["wire_bytes_by_type"]})
    return {
        "wire_bytes": median("wire_bytes"),
        "wire_kb": round((median("wire_bytes") or 0) / 1024, 1),
        "wire_bytes_by_type": {
            kind: statistics.median(run["wire_bytes_by_type"].get(kind, 0) for run in runs)
            for kind in kinds
        },
        "requests": median("requests"),
        "response_start_ms": median("response_start_ms"),
        "fcp_ms": median("fcp_ms"),
        "dom_content_loaded_ms": median("dom_content_loaded_ms"),
        "plotly_requested_ms": median("plotly_requested_ms"),
        "plotly_arrived_ms": median("plotly_arrived_ms"),
        "charts_drawn_ms": median("charts_drawn_ms"),
        "load_ms": median("load_ms"),
    }
