"""Alert latency: from the entry PUT that crosses a threshold to the signed webhook arriving.

The whole path of production, on this machine: gunicorn (production settings) takes the PUT and
queues the episode's evaluation after commit; **one** real Celery worker (solo pool) evaluates
it, raises the alert and writes its Delivery rows, queues them after commit, and sends them; the
webhook reaches a receiver in this process (a threaded HTTP server on 127.0.0.1) that notes the
arrival time and verifies the Standard Webhooks signature with the endpoint's secret.

The crossing is ``PAIN_WORSENING`` (high severity, so webhooks go out): from day 8, at least two
entries in the last three days whose activity pain averages ``worsening_points`` (2) above the
baseline. Each measured episode is prepared just before: its entries of today and the day before
yesterday are deleted and yesterday's is set to pain 10, then it is evaluated (so an open
``PAIN_WORSENING`` alert is resolved: one entry in the last three days is not enough). The
rules themselves, run on the episode's data plus the entry the PUT will send, decide which
episodes are taken: those where that one entry raises ``PAIN_WORSENING`` and nothing is open
for it yet. The PUT then records today's entry with pain 10, as the patient, with an API token.

PUTs are sent one at a time at a fixed interval (not waiting for the webhook), so the worker
sees a steady trickle, not a burst. The webhook's address is on 127.0.0.1: only the worker is
started with ``PAIS_WEBHOOK_ALLOW_PRIVATE=1``, the setting meant for local receivers
(docs/webhooks.md); this process uses it only while it saves the endpoints.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import random
import threading
import time
from base64 import b64decode, b64encode
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bench import http, nightly
from bench.env import BenchEnv

CODE = "PAIN_WORSENING"
PAIN = 10
# How long after the last PUT a webhook may still arrive before it counts as missing.
ARRIVAL_TIMEOUT_SECONDS = 30.0
# Standard Webhooks' usual replay tolerance.
TIMESTAMP_TOLERANCE_SECONDS = 300


@dataclass(frozen=True)
class Target:
    episode_id: int
    clinic_id: int
    day: dt.date  # the patient's local today: the PUT's date
    token: str
    exercises: tuple[tuple[int, int], ...]  # (prescription id, sets) in force that day


@dataclass
class Arrival:
    received: float  # time.perf_counter() in this process
    event_type: str
    code: str
    signature_ok: bool


@dataclass
class Receiver:
    """A local webhook receiver: one path per clinic, each verified with that clinic's secret."""

    server: ThreadingHTTPServer
    thread: threading.Thread
    secrets: dict[str, str] = field(default_factory=dict)  # path -> secret
    arrivals: dict[int, list[Arrival]] = field(default_factory=dict)  # episode id -> arrivals
    rejected: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    changed: threading.Condition = field(init=False)

    def __post_init__(self) -> None:
        self.changed = threading.Condition(self.lock)

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def url(self, clinic_id: int) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/clinic-{clinic_id}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def record(self, path: str, headers: dict[str, str], body: bytes, received: float) -> bool:
        secret = self.secrets.get(path)
        ok = secret is not None and signature_valid(secret, headers, body)
        event: dict[str, Any] = {}
        try:
            event = json.loads(body)
        except ValueError:
            ok = False
        data = event.get("data", {})
        episode_id = data.get("episode", {}).get("id")
        with self.changed:
            if not ok or episode_id is None:
                self.rejected += 1
            else:
                self.arrivals.setdefault(int(episode_id), []).append(
                    Arrival(
                        received=received,
                        event_type=str(event.get("type", "")),
                        code=str(data.get("alert", {}).get("code", "")),
                        signature_ok=ok,
                    )
                )
            self.changed.notify_all()
        return ok

    def first(self, episode_id: int) -> Arrival | None:
        for arrival in self.arrivals.get(episode_id, ()):
            if arrival.event_type == "alert.raised" and arrival.code == CODE:
                return arrival
        return None


def signature_valid(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """docs/webhooks.md's check ("Verifying the signature"), standard library only."""
    try:
        message_id = headers["webhook-id"]
        timestamp = headers["webhook-timestamp"]
        signatures = headers["webhook-signature"]
        if abs(time.time() - int(timestamp)) > TIMESTAMP_TOLERANCE_SECONDS:
            return False
    except (KeyError, ValueError):
        return False
    key = b64decode(secret.removeprefix("whsec_"))
    signed = f"{message_id}.{timestamp}.".encode() + body
    expected = b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    for candidate in signatures.split():
        version, _, signature = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(signature, expected):
            return True
    return False


def start_receiver() -> Receiver:
    receiver: Receiver

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            received = time.perf_counter()
            headers = {k.lower(): v for k, v in self.headers.items()}
            ok = receiver.record(self.path, headers, body, received)
            # A refused signature answers 400: the sender fails the row at once, and it shows.
            self.send_response(204 if ok else 400)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="webhook-receiver", daemon=True)
    receiver = Receiver(server=server, thread=thread)
    thread.start()
    return receiver


# --- Preparing the episodes ----------------------------------------------------------------------


def prepare(count: int, *, seed: int) -> list[Target]:
    """``count`` active episodes, each one bad-pain entry away from a new PAIN_WORSENING alert.

    Episodes are drawn at random (seeded); each is prepared (see the module's docstring),
    evaluated, and taken if the rules, run on its data plus the entry the PUT will send, raise
    PAIN_WORSENING where they do not without it and no such alert is open.
    """
    from django.db import transaction

    from accounts.services import api_token_issue
    from rehab import rules
    from rehab.evaluation import evaluate_episodes_bulk, thresholds_for_clinic
    from rehab.models import (
        Alert,
        AlertStatus,
        DailyEntry,
        Episode,
        EpisodeStatus,
        Prescription,
    )
    from rehab.rule_inputs import load_episode_data

    ids = list(
        Episode.objects.filter(status=EpisodeStatus.ACTIVE)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    random.Random(seed).shuffle(ids)
    targets: list[Target] = []
    position = 0
    while len(targets) < count and position < len(ids):
        # A few more than still needed: some episodes' baseline is too high to cross.
        batch = ids[position : position + (count - len(targets)) * 2 + 5]
        position += len(batch)
        episodes = list(
            Episode.objects.filter(pk__in=batch).select_related("patient__user").order_by("pk")
        )
        days = {e.pk: e.patient.local_today() for e in episodes}
        with transaction.atomic():
            for episode in episodes:
                day = days[episode.pk]
                DailyEntry.objects.filter(
                    episode=episode, date__in=[day, day - dt.timedelta(days=2)]
                ).delete()
                yesterday = day - dt.timedelta(days=1)
                if not DailyEntry.objects.filter(episode=episode, date=yesterday).update(
                    pain_activity=PAIN
                ):
                    DailyEntry.objects.create(
                        episode=episode,
                        date=yesterday,
                        pain_activity=PAIN,
                        recorded_by=episode.patient.user,
                    )
        # Each as of its patient's today, as the evaluation after the PUT will run.
        evaluate_episodes_bulk(episode_ids=[e.pk for e in episodes], as_of=None)
        open_alerts = set(
            Alert.objects.filter(episode_id__in=batch, code=CODE)
            .exclude(status=AlertStatus.RESOLVED)
            .values_list("episode_id", flat=True)
        )
        for episode in episodes:
            if len(targets) == count:
                break
            day = days[episode.pk]
            if episode.pk in open_alerts or episode.start_date > day:
                continue
            thresholds = thresholds_for_clinic(episode.patient.user.clinic_id)
            data = load_episode_data(episode, as_of=day)
            after = replace(
                data,
                entries=(
                    *data.entries,
                    rules.EntryData(day, PAIN, None, None, None, rules.NO_SETS),
                ),
            )
            if CODE in rules.evaluate(data, thresholds, day).codes:
                continue
            if CODE not in rules.evaluate(after, thresholds, day).codes:
                continue
            exercises = tuple(
                Prescription.objects.filter(episode=episode, start_date__lte=day)
                .exclude(end_date__lt=day)
                .order_by("pk")
                .values_list("pk", "sets")
            )
            clinic_id = episode.patient.user.clinic_id
            assert clinic_id is not None
            targets.append(
                Target(
                    episode_id=episode.pk,
                    clinic_id=clinic_id,
                    day=day,
                    token=api_token_issue(user=episode.patient.user),
                    exercises=exercises,
                )
            )
    if len(targets) < count:
        raise RuntimeError(f"only {len(targets)} of {count} episodes can cross {CODE}")
    return targets


def add_endpoints(receiver: Receiver, clinic_ids: set[int]) -> None:
    """Each clinic's webhook endpoint, saved by its admin through the service, at the receiver."""
    from django.test import override_settings

    from accounts.models import Role, User
    from rehab.notify.endpoints import webhook_endpoint_create

    with override_settings(PAIS_WEBHOOK_ALLOW_PRIVATE=True):
        for clinic_id in sorted(clinic_ids):
            admin = User.objects.filter(clinic_id=clinic_id, role=Role.CLINIC_ADMIN).first()
            if admin is None:
                raise RuntimeError(f"clinic {clinic_id} has no admin to add its webhook")
            url = receiver.url(clinic_id)
            created = webhook_endpoint_create(actor=admin, url=url, description="bench receiver")
            receiver.secrets[url.split(f":{receiver.port}", 1)[1]] = created.secret


# --- The measurement -----------------------------------------------------------------------------


def _put(port: int, target: Target) -> tuple[int, float]:
    body = {
        "pain_activity": PAIN,
        "pain_rest": 6,
        "pf_rom_affected": None,
        "pf_rom_unaffected": None,
        "exercises": [
            {"prescription": pk, "sets_completed": sets} for pk, sets in target.exercises
        ],
        "note": "",
    }
    began = time.perf_counter()
    status, _, _ = http.request(
        port,
        "PUT",
        f"/api/v1/episodes/{target.episode_id}/entries/{target.day.isoformat()}/",
        headers={
            "Authorization": f"Token {target.token}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        },
        body=json.dumps(body).encode(),
    )
    return status, (time.perf_counter() - began) * 1000


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile (as the load test's), None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def _stages(targets: list[Target], sent_wall: dict[int, float]) -> dict[str, Any]:
    """Where the time went, from the database's own timestamps (wall clock): PUT sent -> alert
    row created (the evaluation's transaction) -> first webhook attempt started (the send)."""
    from rehab.models import Alert, Channel, DeliveryAttempt

    raised = dict(
        Alert.objects.filter(episode_id__in=sent_wall, code=CODE)
        .order_by("episode_id", "created_at")
        .values_list("episode_id", "created_at")
    )
    attempts: dict[int, dt.datetime] = {}
    for episode_id, started in (
        DeliveryAttempt.objects.filter(
            delivery__alert__episode_id__in=sent_wall,
            delivery__alert__code=CODE,
            delivery__channel=Channel.WEBHOOK,
        )
        .order_by("started_at")
        .values_list("delivery__alert__episode_id", "started_at")
    ):
        attempts.setdefault(episode_id, started)
    to_alert = [
        (raised[t.episode_id].timestamp() - sent_wall[t.episode_id]) * 1000
        for t in targets
        if t.episode_id in raised
    ]
    to_attempt = [
        (attempts[t.episode_id] - raised[t.episode_id]).total_seconds() * 1000
        for t in targets
        if t.episode_id in attempts and t.episode_id in raised
    ]
    return {
        "put_to_alert_ms_p50": _round(percentile(to_alert, 50)),
        "put_to_alert_ms_p95": _round(percentile(to_alert, 95)),
        "alert_to_send_ms_p50": _round(percentile(to_attempt, 50)),
        "alert_to_send_ms_p95": _round(percentile(to_attempt, 95)),
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def measure(
    env: BenchEnv,
    *,
    count: int,
    warm_up: int,
    interval: float,
    gunicorn_workers: int,
    seed: int,
    log_dir: Path,
) -> dict[str, Any]:
    """Prepare ``warm_up + count`` episodes, start the receiver, gunicorn and one worker, send
    the PUTs ``interval`` seconds apart and time each one's webhook."""
    targets = prepare(warm_up + count, seed=seed)
    receiver = start_receiver()
    server = worker = None
    try:
        add_endpoints(receiver, {t.clinic_id for t in targets})
        # The preparation's own evaluations queued their notifications: not this part's work.
        nightly.flush_redis(env)
        server = http.start_gunicorn(env, gunicorn_workers, log_dir)
        (worker,) = nightly.start_workers(
            env, 1, log_dir, label="-latency", PAIS_WEBHOOK_ALLOW_PRIVATE="1"
        )
        sent: dict[int, float] = {}
        sent_wall: dict[int, float] = {}
        statuses: dict[int, int] = {}
        put_ms: list[float] = []
        began = time.perf_counter()
        for index, target in enumerate(targets):
            # A fixed schedule: a slow PUT delays the next one, never bunches them up.
            wait = began + index * interval - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            sent_wall[target.episode_id] = time.time()
            sent[target.episode_id] = time.perf_counter()
            status, elapsed = _put(server.port, target)
            statuses[status] = statuses.get(status, 0) + 1
            if index >= warm_up:
                put_ms.append(elapsed)
            if worker.process.poll() is not None:
                raise RuntimeError(f"the Celery worker died:\n{worker.text()[-3000:]}")
        deadline = time.perf_counter() + ARRIVAL_TIMEOUT_SECONDS
        with receiver.changed:
            while time.perf_counter() < deadline and any(
                receiver.first(t.episode_id) is None for t in targets
            ):
                receiver.changed.wait(timeout=0.5)
        sending_seconds = time.perf_counter() - began
    finally:
        if worker is not None:
            worker.stop()
        if server is not None:
            server.stop()
        receiver.stop()
        nightly.flush_redis(env)

    measured = targets[warm_up:]
    latencies: list[float] = []
    missing: list[int] = []
    for target in measured:
        arrival = receiver.first(target.episode_id)
        if arrival is None:
            missing.append(target.episode_id)
        else:
            latencies.append((arrival.received - sent[target.episode_id]) * 1000)
    other_webhooks = sum(
        1
        for t in measured
        for a in receiver.arrivals.get(t.episode_id, ())
        if not (a.event_type == "alert.raised" and a.code == CODE)
    )
    return {
        "episodes": len(measured),
        "warm_up_episodes": warm_up,
        "interval_s": interval,
        "workers": 1,
        "gunicorn_workers": gunicorn_workers,
        "code": CODE,
        "put_statuses": {str(k): v for k, v in sorted(statuses.items())},
        "put_ms_p50": _round(percentile(put_ms, 50)),
        "arrived": len(latencies),
        "missing": len(missing),
        "missing_episodes": missing,
        "timeout_s": ARRIVAL_TIMEOUT_SECONDS,
        "rejected_signatures": receiver.rejected,
        # Other webhooks of the same episodes (another alert the same PUT raised, e.g. a referral).
        "other_webhooks": other_webhooks,
        "p50_ms": _round(percentile(latencies, 50)),
        "p95_ms": _round(percentile(latencies, 95)),
        "max_ms": _round(max(latencies) if latencies else None),
        "seconds": round(sending_seconds, 1),
        "stages": _stages(measured, {t.episode_id: sent_wall[t.episode_id] for t in measured}),
    }
