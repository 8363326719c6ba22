"""What the real-service tests share: a Redis server of their own, Celery workers and beats in
subprocesses, a scriptable webhook receiver, and the course that tips an episode into a referral.

The fixtures that use these live in ``conftest.py``; the pieces are here so a test can also start
a second worker, stop Redis, or script the receiver's answers.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import redis
from django.db import connection
from rest_framework.test import APIClient

from accounts.models import Patient, User
from accounts.services import api_token_issue
from rehab.models import Alert, Episode
from tests.courses import day, stalled_course
from tests.factories import EpisodeFactory, PatientFactory

ROOT = Path(__file__).resolve().parents[2]
WAIT_SECONDS = 60


def unavailable(reason: str) -> None:
    """Skip on a laptop without the services; fail in CI (PAIS_REQUIRE_BROKER=1)."""
    if os.environ.get("PAIS_REQUIRE_BROKER") == "1":
        pytest.fail(f"PAIS_REQUIRE_BROKER=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def require_postgresql() -> None:
    if connection.vendor != "postgresql":
        unavailable(
            "the real-worker tests need DATABASE_URL to be PostgreSQL (a worker process cannot "
            "see a test's SQLite database)"
        )


def wait_for(
    what: str,
    condition: Callable[[], bool],
    *,
    workers: Iterable[CeleryProcess] = (),
    seconds: float = WAIT_SECONDS,
    every: Callable[[], object] | None = None,
    every_seconds: float = 1.0,
) -> float:
    """Poll ``condition`` until it holds; fail with the workers' logs after ``seconds``.

    ``every`` runs first and then every ``every_seconds`` while waiting (e.g. to queue the relay,
    as beat would each minute). Returns the seconds waited.
    """
    started = time.monotonic()
    deadline = started + seconds
    next_every = started
    watched = list(workers)
    while time.monotonic() < deadline:
        if every is not None and time.monotonic() >= next_every:
            every()
            next_every = time.monotonic() + every_seconds
        if condition():
            return time.monotonic() - started
        for worker in watched:
            worker.check_alive()
        time.sleep(0.1)
    logs = "\n".join(f"--- {w.name} log ---\n{w.log_tail()}" for w in watched)
    pytest.fail(f"Waited {seconds:g} s for {what}.\n{logs}")


def pid_alive(pid: int) -> bool:
    """True while the process runs (a zombie waiting to be reaped has stopped running)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- A Redis server of the test's own ------------------------------------------------------------


class RedisServer:
    """``redis-server`` on a free port of 127.0.0.1, without persistence.

    ``stop()`` is a crash as far as the queue is concerned: nothing is saved, so every message
    waiting in Redis is gone when ``start()`` brings it back on the same port. The machine's
    shared Redis is never touched.
    """

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> RedisServer:
        binary = shutil.which("redis-server")
        if binary is None:
            unavailable("the redis-server binary is not installed")
        assert binary is not None
        log = (self.workdir / "redis.log").open("ab")
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5)
        try:
            deadline = time.monotonic() + 10
            while True:
                try:
                    client.ping()
                    return self
                except redis.RedisError:
                    if self.process.poll() is not None or time.monotonic() > deadline:
                        unavailable(f"redis-server on port {self.port} did not start")
                    time.sleep(0.05)
        finally:
            client.close()

    def stop(self) -> None:
        """SIGKILL: no shutdown save, no goodbye to the clients, as in a crash."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None

    def freeze(self) -> None:
        """SIGSTOP: connections stay open and connecting still succeeds (the kernel accepts),
        but nothing answers, like a Redis that hangs or a network path that drops packets."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url)


# --- Webhook receiver ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """How the receiver answers one request."""

    status: int = 204
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (longer than the sender's timeout: a timeout)
    hang: bool = False  # wait until ``Receiver.release()`` (the sender is stuck inside the send)


@dataclass
class Received:
    path: str
    headers: dict[str, str]  # lower-cased names
    body: bytes
    at: float  # time.time() when the request arrived
    reply: Reply
    answered: bool = False  # the response was written to a connection that was still open

    @property
    def webhook_id(self) -> str:
        return self.headers.get("webhook-id", "")

    def json(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


class Receiver:
    """An HTTP server on a free port of 127.0.0.1 that records each POST.

    It answers 204 unless told otherwise: ``answer(Reply(...), ...)`` queues the answers to the
    next requests, in order.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: list[Received] = []
        self._replies: list[Reply] = []
        self._released = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    reply = receiver._replies.pop(0) if receiver._replies else Reply()
                    record = Received(
                        path=self.path,
                        headers={k.lower(): v for k, v in self.headers.items()},
                        body=body,
                        at=time.time(),
                        reply=reply,
                    )
                    receiver._requests.append(record)
                if reply.hang:
                    receiver._released.wait()
                    return  # the sender is gone by now; nothing to answer
                if reply.delay:
                    time.sleep(reply.delay)
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    self.wfile.flush()
                except OSError:
                    return  # the sender stopped waiting (a timeout)
                record.answered = True

            def log_message(self, format: str, *args: Any) -> None:
                return  # keep the test output quiet

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def verify_request(self, request: Any, client_address: Any) -> bool:
                with receiver._lock:
                    receiver.connections += 1  # every TCP connection, HTTP or not
                return True

        self.connections = 0
        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = int(self.server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}/hooks/pais"
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def start(self) -> Receiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release()
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)

    def answer(self, *replies: Reply) -> None:
        with self._lock:
            self._replies.extend(replies)

    def release(self) -> None:
        """Let every hanging request finish."""
        self._released.set()

    def snapshot(self) -> list[Received]:
        with self._lock:
            return list(self._requests)

    def per_webhook_id(self) -> Counter[str]:
        return Counter(r.webhook_id for r in self.snapshot())


def verify_standard_webhook(request: Received, secret: str) -> dict[str, Any]:
    """Check the signature as a receiver would, from the spec alone (not the app's signer)."""
    message_id = request.headers["webhook-id"]
    timestamp = request.headers["webhook-timestamp"]
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{message_id}.{timestamp}.".encode() + request.body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    offered = [
        value.split(",", 1)[1]
        for value in request.headers["webhook-signature"].split()
        if value.startswith("v1,")
    ]
    assert any(hmac.compare_digest(expected, value) for value in offered), request.headers
    assert abs(time.time() - int(timestamp)) < 300
    return request.json()


# --- Celery processes ----------------------------------------------------------------------------


def worker_database_url() -> str:
    """DATABASE_URL, but naming the test database this process created."""
    db = connection.settings_dict
    auth = quote(str(db["USER"] or ""), safe="")
    if db.get("PASSWORD"):
        auth += ":" + quote(str(db["PASSWORD"]), safe="")
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{auth}@{host}:{port}/{quote(str(db['NAME']), safe='')}"


def celery_env(broker: str, var_dir: Path, **overrides: str) -> dict[str, str]:
    """The environment of a worker or beat: the test database, this broker, quick settings."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": worker_database_url(),
        "REDIS_URL": broker,
        "PAIS_WEBHOOK_ALLOW_PRIVATE": "1",
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "PAIS_SITE_URL": "http://testserver",
        "EMAIL_URL": "locmem://",
        "PAIS_VAR_DIR": str(var_dir),
        "DJANGO_LOG_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
        **overrides,
    }


@dataclass
class CeleryProcess:
    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def log_tail(self, lines: int = 80) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            pytest.fail(
                f"{self.name} exited ({self.process.returncode}).\n{self.log_tail()}",
                pytrace=False,
            )

    def kill(self) -> None:
        """SIGKILL the process and everything it started (the pool children), at once."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """A warm shutdown: finish the running tasks and close the database connections, so
        pytest-django can flush (and later drop) the test database."""
        stop_all([self])


def stop_all(processes: Iterable[CeleryProcess]) -> None:
    """Stop several at once (SIGTERM to all, then wait): each warm shutdown takes seconds."""
    running = [p for p in processes if p.process.poll() is None]
    for proc in running:
        proc.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 20
    for proc in running:
        try:
            proc.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()


_TASK_ID = re.compile(r"\[([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\]")
_FINISHED = (" succeeded in ", " raised ", " retry: ", "Discarding revoked task")


class Worker(CeleryProcess):
    def ready(self) -> bool:
        return " ready." in self.log_text()

    def pool_pids(self) -> list[int]:
        """The prefork children of this worker."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(pid) for pid in children.read_text().split()]
        except OSError:
            return []

    def task_log(self, task_id: str) -> list[str]:
        """The log lines about one task: "received", then "succeeded in …: <result>" etc."""
        return [line for line in self.log_text().splitlines() if f"[{task_id}]" in line]

    def task_ids(self, task_name: str) -> list[str]:
        """Ids of the tasks of this name the worker received, in order, each once."""
        found = re.findall(
            rf"Task {re.escape(task_name)}\[([0-9a-f-]+)\] received", self.log_text()
        )
        return list(dict.fromkeys(found))

    def unfinished(self) -> list[str]:
        """Ids of tasks received and not yet finished (succeeded, raised, retried, discarded)."""
        text = self.log_text()
        lines_by_id: dict[str, list[str]] = {}
        for line in text.splitlines():
            match = _TASK_ID.search(line)
            if match:
                lines_by_id.setdefault(match.group(1), []).append(line)
        return [
            task_id
            for task_id, lines in lines_by_id.items()
            if any(" received" in line for line in lines)
            and not any(marker in line for line in lines for marker in _FINISHED)
        ]

    def wait_done(self, task_id: str) -> None:
        """Wait until the worker logs that it finished this task; fail if it failed."""

        def done() -> bool:
            text = self.log_text()
            if f"[{task_id}] raised" in text or f"[{task_id}] retry" in text:
                pytest.fail(f"Task {task_id} did not succeed.\n{self.log_tail()}")
            return f"[{task_id}] succeeded" in text

        wait_for(f"task {task_id} to finish", done, workers=[self])


def start_worker(
    env: dict[str, str], log: Path, *, name: str = "worker", concurrency: int = 2
) -> Worker:
    """A real ``celery worker`` (prefork) in its own process group; returns once it is ready."""
    with log.open("ab") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--loglevel=INFO",
                "--pool=prefork",
                f"--concurrency={concurrency}",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--hostname",
                f"itest-{name}-{uuid.uuid4().hex[:8]}@%h",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    worker = Worker(name=name, process=process, log=log)
    wait_for(f"{name} to be ready", worker.ready, workers=[worker])
    return worker


def start_beat(
    env: dict[str, str], log: Path, schedule: Path, *, name: str = "beat"
) -> CeleryProcess:
    """A real ``celery beat`` with the fast schedule of ``tests.integration.fast_beat``."""
    with log.open("ab") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "tests.integration.fast_beat",
                "beat",
                "--loglevel=INFO",
                "--schedule",
                str(schedule),
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return CeleryProcess(name=name, process=process, log=log)


@dataclass
class Celery:
    """Starts workers and beats for one test; everything it started is stopped afterwards."""

    tmp_path: Path
    started: list[CeleryProcess]

    def env(self, broker: str, **overrides: str) -> dict[str, str]:
        return celery_env(broker, self.tmp_path / "var", **overrides)

    def worker(
        self,
        broker: str,
        *,
        name: str = "worker",
        concurrency: int = 2,
        env: Mapping[str, str] | None = None,
    ) -> Worker:
        worker = start_worker(
            self.env(broker, **(env or {})),
            self.tmp_path / f"{name}.log",
            name=name,
            concurrency=concurrency,
        )
        self.started.append(worker)
        return worker

    def beat(
        self, broker: str, *, name: str = "beat", env: Mapping[str, str] | None = None
    ) -> CeleryProcess:
        beat = start_beat(
            self.env(broker, **(env or {})),
            self.tmp_path / f"{name}.log",
            self.tmp_path / f"{name}-schedule",
            name=name,
        )
        self.started.append(beat)
        return beat


# --- The clinical story --------------------------------------------------------------------------


@dataclass
class Course:
    patient: Patient
    episode: Episode
    prescription_id: int
    token: str

    def client(self, *, raise_errors: bool = True) -> APIClient:
        """The phone's client. ``raise_errors=False`` answers a server error with a 500, as
        production does, instead of raising it in the test."""
        client = APIClient(raise_request_exception=raise_errors)
        client.credentials(HTTP_AUTHORIZATION=f"Token {self.token}")
        return client

    def day(self, trial_day: int) -> dt.date:
        return day(trial_day, start=self.episode.start_date)


def tipping_course(
    therapist: User, email: str, *, days: Iterable[int] = (*range(1, 8), 39, 40, 41)
) -> Course:
    """Today is trial day 42, baseline pain 7, later pain 6, every set done.

    By default only 3 entries in the last week, so the current pain (and the referral rule)
    waits for today's entry: the PUT of today's entry is the one that raises REFERRAL_CONSIDER.
    """
    patient = PatientFactory(therapist=therapist, timezone="UTC", user__email=email)
    today = patient.local_today()
    episode = EpisodeFactory(patient=patient, start_date=today - dt.timedelta(days=41))
    prescription = stalled_course(episode, days=list(days))
    return Course(
        patient=patient,
        episode=episode,
        prescription_id=prescription.pk,
        token=api_token_issue(user=patient.user),
    )


def put_entry(
    course: Course, day: dt.date | None = None, *, pain: int = 6, raise_errors: bool = True
) -> Any:
    """The phone's PUT of one day's entry, every prescribed set done."""
    day = day or course.patient.local_today()
    return course.client(raise_errors=raise_errors).put(
        f"/api/v1/episodes/{course.episode.pk}/entries/{day.isoformat()}/",
        {
            "pain_activity": pain,
            "exercises": [{"prescription": course.prescription_id, "sets_completed": 3}],
        },
        format="json",
    )


def referral_alerts(course: Course) -> list[Alert]:
    return list(Alert.objects.filter(episode=course.episode, code="REFERRAL_CONSIDER"))
