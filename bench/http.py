"""Through a real server: gunicorn with the production settings on a local port.

- The entry PUT under load: 50 concurrent clients (its capacity) and 10 (its latency), threads
  with ``http.client``, each a patient with an API token writing their own diary, beside a bare
  authenticated DRF endpoint
  (``GET /api/v1/auth/tokens/``: authentication, one small query, JSON) on the same server in
  the same run.
- The phone entry page: signed in as a patient, the page and every CSS, JS, icon and manifest
  request a phone makes on a first visit, gzip-compressed as WhiteNoise and Django serve them,
  counted in bytes over the wire (status line, headers and body).

Requests go to 127.0.0.1 only, with ``X-Forwarded-Proto: https`` as the TLS proxy in front of
production would send it (the production settings redirect plain HTTP).
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from bench.env import ROOT, BenchEnv
from bench.synth import LoadClient

PROXY_HEADERS = {"X-Forwarded-Proto": "https"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def collectstatic(env: BenchEnv) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env.django_env(),
        check=True,
    )


@dataclass
class Server:
    port: int
    workers: int
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_gunicorn(env: BenchEnv, workers: int, log_dir: Path) -> Server:
    port = free_port()
    log = log_dir / "gunicorn.log"
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603  (our own interpreter)
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
                "--timeout",
                "60",
                "--log-level",
                "warning",
                "--logger-class",
                "config.gunicorn_logging.RedactingLogger",
            ],
            cwd=ROOT,
            env=env.django_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Server(port=port, workers=workers, process=process, log=log)
    deadline = time.monotonic() + 60
    while True:
        try:
            status, _, _ = request(port, "GET", "/accounts/login/")
            if status == 200:
                return server
        except OSError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            server.stop()
            raise RuntimeError(f"gunicorn did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)


def request(
    port: int,
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    connection: http.client.HTTPConnection | None = None,
) -> tuple[int, http.client.HTTPResponse, bytes]:
    conn = connection or http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request(method, path, body=body, headers={**PROXY_HEADERS, **(headers or {})})
    response = conn.getresponse()
    data = response.read()
    if connection is None:
        conn.close()
    return response.status, response, data


# --- Load ------------------------------------------------------------------------------------


@dataclass
class LoadResult:
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float] = field(repr=False)
    statuses: dict[int, int] = field(default_factory=dict)

    @property
    def throughput(self) -> float:
        return (self.requests - self.errors) / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))
        return ordered[index]

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "errors": self.errors,
            "seconds": round(self.seconds, 3),
            "throughput_per_s": round(self.throughput, 1),
            "p50_ms": round(self.percentile(50), 1),
            "p95_ms": round(self.percentile(95), 1),
            "p99_ms": round(self.percentile(99), 1),
            "mean_ms": round(statistics.fmean(self.latencies_ms), 1) if self.latencies_ms else None,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
        }


Call = Callable[[http.client.HTTPConnection, int], tuple[str, str, dict[str, str], bytes | None]]


def run_load(
    port: int, clients: list[LoadClient], make: Call, *, seconds: float, max_requests: int
) -> LoadResult:
    """Every client in its own thread, back to back, until ``seconds`` pass or the requests
    run out (bounded both ways)."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    budget = [max_requests]
    stop_at = time.perf_counter() + seconds
    start = threading.Barrier(len(clients) + 1)

    def worker(index: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine: list[float] = []
        codes: dict[int, int] = {}
        n = 0
        start.wait()
        while time.perf_counter() < stop_at:
            with lock:
                if budget[0] <= 0:
                    break
                budget[0] -= 1
            method, path, headers, body = make(conn, index * 100_000 + n)
            n += 1
            began = time.perf_counter()
            try:
                status, _, _ = request(
                    port, method, path, headers=headers, body=body, connection=conn
                )
            except (OSError, http.client.HTTPException):
                status = 0
                conn.close()
            mine.append((time.perf_counter() - began) * 1000)
            codes[status] = codes.get(status, 0) + 1
        conn.close()
        with lock:
            latencies.extend(mine)
            for code, count in codes.items():
                statuses[code] = statuses.get(code, 0) + count

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    errors = sum(count for code, count in statuses.items() if not 200 <= code < 300)
    return LoadResult(
        requests=len(latencies),
        errors=errors,
        seconds=elapsed,
        latencies_ms=latencies,
        statuses=statuses,
    )


def entry_put_call(clients: list[LoadClient], as_of: dt.date) -> Call:
    """Each client replaces (or creates) one of its last seven days' entries with exercises."""

    def make(
        conn: http.client.HTTPConnection, n: int
    ) -> tuple[str, str, dict[str, str], bytes | None]:
        client = clients[n // 100_000]
        k = n % 100_000
        day = as_of - dt.timedelta(days=1 + k % 7)
        body = {
            "pain_activity": 2 + k % 6,
            "pain_rest": k % 3,
            "pf_rom_affected": 30 + k % 10,
            "pf_rom_unaffected": None,
            "exercises": [
                {"prescription": pk, "sets_completed": max(0, sets - k % 2)}
                for pk, sets in client.prescriptions
            ],
            "note": "",
        }
        return (
            "PUT",
            f"/api/v1/episodes/{client.episode_id}/entries/{day.isoformat()}/",
            {
                "Authorization": f"Token {client.token}",
                "Content-Type": "application/json",
                "Accept": "application/json",
            },
            json.dumps(body).encode(),
        )

    return make


def bare_call(clients: list[LoadClient]) -> Call:
    def make(
        conn: http.client.HTTPConnection, n: int
    ) -> tuple[str, str, dict[str, str], bytes | None]:
        client = clients[n // 100_000]
        return (
            "GET",
            "/api/v1/auth/tokens/",
            {"Authorization": f"Token {client.token}", "Accept": "application/json"},
            None,
        )

    return make


# The entry PUT's targets (docs/performance.md): its capacity with many phones at once, and its
# latency under an ordinary evening's load.
CAPACITY_CLIENTS = 50
LATENCY_CLIENTS = 10


def load_test(
    env: BenchEnv,
    server: Server,
    clients: list[LoadClient],
    as_of: dt.date,
    *,
    seconds: float,
    max_requests: int,
) -> dict[str, Any]:
    """Warm up, then for each load (50 clients: capacity; 10 clients: latency) the entry PUT
    with the bare authenticated endpoint before and after it, for context."""
    port = server.port
    warm = min(len(clients), 10)
    run_load(port, clients[:warm], bare_call(clients), seconds=3, max_requests=warm * 5)
    run_load(port, clients[:warm], entry_put_call(clients, as_of), seconds=3, max_requests=warm * 5)
    phases: dict[str, Any] = {}
    for phase, wanted in (("capacity", CAPACITY_CLIENTS), ("latency", LATENCY_CLIENTS)):
        some = clients[: min(wanted, len(clients))]
        bare_1 = run_load(port, some, bare_call(some), seconds=seconds, max_requests=max_requests)
        put = run_load(
            port, some, entry_put_call(some, as_of), seconds=seconds, max_requests=max_requests
        )
        bare_2 = run_load(port, some, bare_call(some), seconds=seconds, max_requests=max_requests)
        phases[phase] = {
            "clients": len(some),
            "put": put.as_dict(),
            "bare": bare_1.as_dict(),
            "bare_again": bare_2.as_dict(),
        }
    return {
        "gunicorn_workers": server.workers,
        "bare_endpoint": "GET /api/v1/auth/tokens/",
        **phases,
        "put_per_s": phases["capacity"]["put"]["throughput_per_s"],
        "put_errors": phases["capacity"]["put"]["errors"] + phases["latency"]["put"]["errors"],
        "put_p95_ms": phases["latency"]["put"]["p95_ms"],
    }


# --- The phone entry page ---------------------------------------------------------------------


class _Assets(HTMLParser):
    """The URLs a browser fetches for a page: stylesheets, scripts, images, icons, manifest."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.csrf = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "link" and a.get("href"):
            rel = (a.get("rel") or "").lower()
            if any(word in rel for word in ("stylesheet", "icon", "manifest", "preload")):
                self.urls.append(str(a["href"]))
        elif tag in ("script", "img") and a.get("src"):
            self.urls.append(str(a["src"]))
        elif tag == "input" and a.get("name") == "csrfmiddlewaretoken":
            self.csrf = a.get("value") or ""


def _wire_bytes(response: http.client.HTTPResponse, body: bytes) -> int:
    head = f"HTTP/1.1 {response.status} {response.reason}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in response.getheaders()) + "\r\n"
    return len(head.encode("latin-1")) + len(body)


def _cookies(response: http.client.HTTPResponse, jar: dict[str, str]) -> None:
    for header in response.headers.get_all("Set-Cookie") or []:
        cookie: SimpleCookie = SimpleCookie()
        cookie.load(header)
        for key, morsel in cookie.items():
            jar[key] = morsel.value


def _cookie_header(jar: dict[str, str]) -> str:
    return "; ".join(f"{k}={v}" for k, v in jar.items())


def sign_in(port: int, email: str, password: str) -> dict[str, str]:
    """Sign in through the login form; the cookies of the signed-in session."""
    origin = f"https://127.0.0.1:{port}"
    jar: dict[str, str] = {}
    _, response, body = request(port, "GET", "/accounts/login/")
    _cookies(response, jar)
    form = _Assets()
    form.feed(body.decode())
    payload = f"username={_quote(email)}&password={_quote(password)}"
    payload += f"&csrfmiddlewaretoken={_quote(form.csrf)}"
    status, response, _ = request(
        port,
        "POST",
        "/accounts/login/",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": _cookie_header(jar),
            "Origin": origin,
            "Referer": f"{origin}/accounts/login/",
        },
        body=payload.encode(),
    )
    _cookies(response, jar)
    if status != 302 or "sessionid" not in jar:
        raise RuntimeError(f"{email} could not sign in (HTTP {status})")
    return jar


def phone_page(server: Server, email: str, password: str) -> dict[str, Any]:
    """Sign in as a patient, then load ``/`` as a phone's first visit would."""
    port = server.port
    origin = f"https://127.0.0.1:{port}"
    jar = sign_in(port, email, password)
    browser = {
        "Cookie": _cookie_header(jar),
        "Accept-Encoding": "gzip",
        "User-Agent": "Mozilla/5.0 (Linux; Android 14; Pixel 8) bench",
        "Accept": "text/html,*/*",
    }
    fetched: list[dict[str, Any]] = []
    status, response, body = request(port, "GET", "/", headers=browser)
    if status != 200:
        raise RuntimeError(f"the phone entry page answered HTTP {status}")
    fetched.append(_fetched("/", response, body))
    html = _decoded(response, body)
    assets = _Assets()
    assets.feed(html)
    queue = list(dict.fromkeys(assets.urls))
    seen: set[str] = set()
    third_party: list[str] = []
    while queue:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        parts = urlsplit(urljoin(origin + "/", url))
        if parts.netloc != f"127.0.0.1:{port}":
            third_party.append(url)
            continue
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        status, response, body = request(port, "GET", path, headers=browser)
        fetched.append(_fetched(path, response, body))
        kind = response.getheader("Content-Type", "")
        text = _decoded(response, body) if status == 200 else ""
        if "css" in kind:
            queue += [
                u
                for u in re.findall(r"url\(['\"]?([^'\")]+)['\"]?\)", text)
                if not u.startswith("data:")
            ]
        elif "manifest" in kind or path.endswith("manifest.json") or "json" in kind:
            try:
                manifest = json.loads(text)
            except ValueError:
                manifest = {}
            queue += [icon["src"] for icon in manifest.get("icons", []) if "src" in icon]
    total = sum(item["wire_bytes"] for item in fetched)
    return {
        "requests": len(fetched),
        "wire_bytes": total,
        "wire_kb": round(total / 1024, 1),
        "third_party_requests": len(third_party),
        "third_party": third_party,
        "files": fetched,
    }


def _quote(value: str) -> str:
    from urllib.parse import quote_plus

    return quote_plus(value)


def _decoded(response: http.client.HTTPResponse, body: bytes) -> str:
    if response.getheader("Content-Encoding") == "gzip":
        import gzip

        body = gzip.decompress(body)
    return body.decode(errors="replace")


def _fetched(path: str, response: http.client.HTTPResponse, body: bytes) -> dict[str, Any]:
    return {
        "path": path,
        "status": response.status,
        "content_type": response.getheader("Content-Type", ""),
        "content_encoding": response.getheader("Content-Encoding", ""),
        "wire_bytes": _wire_bytes(response, body),
    }
