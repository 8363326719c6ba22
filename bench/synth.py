"""Synthetic clinic networks, written straight into PostgreSQL with COPY (never through the API).

N patients, each with one active episode whose 56 trial days end on ``as_of``, three or four
prescriptions (one added in week 4 for half of them, one ended after week 4 for a third), and a
diary with the gaps real patients leave: most log almost daily, some miss one day in five, a few
log half the days, some stop logging weeks before ``as_of``, and some barely log in week 1. Their
courses differ too: most improve, some stay put, some get worse, some resolve, some start from a
low baseline; a few were immobilized for too long and some have a BMI of 30 or more. So a night's
evaluation raises every kind of alert the rules know, in realistic proportions.

Entries are written day by day across all episodes, as a real diary fills the table, so that one
episode's rows lie scattered over the heap as they would in production (writing them episode by
episode would flatter every read).

Everything is drawn from one seeded ``random.Random``: the same size and seed give the same data.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg

from bench.env import BenchEnv

PASSWORD = "bench-password-2026"  # noqa: S105  (synthetic accounts in a throw-away database)
DAYS = 56
# Patients join the trial every day: the episodes' start dates are spread over a week, so a
# night sees one seventh of them reach each milestone (day 42, day 56), as in a real network.
COHORT_DAYS = 7
TIMEZONES = ("Europe/Amsterdam",) * 7 + ("Europe/London",) * 2 + ("America/New_York",)
# (catalogue exercise id, name, sets): three from day 1; the later one from day 22 for half the
# episodes; the second ends after day 28 for a third of them.
BASE_PRESCRIPTIONS = (
    (6, "Double-leg heel raises", 3),
    (1, "Calf stretch (gastrocnemius)", 2),
    (10, "Single-leg balance", 3),
)
LATER_PRESCRIPTION = (7, "Single-leg heel raises", 3)
COURSES = (
    ("improving", 50),
    ("static", 22),
    ("worsening", 8),
    ("resolving", 12),
    ("low_baseline", 8),
)
# (share, probability of logging a day, share of prescribed sets done)
LOGGERS = (
    ("steady", 60, 0.95, 0.92),
    ("average", 25, 0.80, 0.80),
    ("patchy", 10, 0.55, 0.55),
    ("dropout", 5, 0.90, 0.85),
)


@dataclass(frozen=True)
class SynthSpec:
    episodes: int
    as_of: dt.date
    # Caseloads to measure (the caseload page). The largest is a clinic of exactly that many
    # episodes, seen whole by its clinic admin; the smaller ones are therapists in that clinic
    # with exactly that many patients. Sizes above ``episodes`` are left out.
    caseloads: tuple[int, ...] = (50, 1_000, 10_000)
    # Patients with an API token each, for the load test.
    clients: int = 50
    seed: int = 56
    patients_per_therapist: int = 60
    patients_per_clinic: int = 2000
    unassigned_share: float = 0.05


@dataclass(frozen=True)
class LoadClient:
    user_id: int
    email: str
    episode_id: int
    token: str
    # The prescriptions active on every day the load test writes, with their sets.
    prescriptions: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class CaseloadViewer:
    user_id: int
    role: str  # "therapist" (their own patients) or "clinic_admin" (the whole clinic)


@dataclass
class SynthResult:
    spec: SynthSpec
    seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)
    # caseload size -> who sees exactly that caseload on their home page
    caseload_viewers: dict[int, CaseloadViewer] = field(default_factory=dict)
    clients: list[LoadClient] = field(default_factory=list)

    @property
    def password(self) -> str:
        return PASSWORD


def _ts(day: dt.date, hour: int = 20) -> str:
    return f"{day.isoformat()} {hour:02d}:00:00+00"


def _null(value: Any) -> str:
    return "\\N" if value is None else str(value)


def _row(values: Iterable[Any]) -> str:
    return "\t".join(_null(v) for v in values) + "\n"


def _copy(
    conn: psycopg.Connection, table: str, columns: Sequence[str], lines: Iterable[str]
) -> int:
    n = 0
    with conn.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        buffer: list[str] = []
        for line in lines:
            buffer.append(line)
            n += 1
            if len(buffer) >= 20_000:
                copy.write("".join(buffer))
                buffer.clear()
        if buffer:
            copy.write("".join(buffer))
    return n


@dataclass(slots=True)
class _Course:
    """How one episode goes: its pain curve, its logging habit, its range of motion."""

    kind: str
    pain0: float
    log_p: float
    sets_share: float
    last_logged_day: int  # after this trial day (0-based) the patient stopped logging
    sparse_week1: bool
    rom0: float
    rom_slope: float
    logs_unaffected: float
    rom_unaffected: int

    def pain(self, t: int) -> float:
        x = min(t / (DAYS - 1), 1.0)
        if self.kind == "improving":
            return self.pain0 - 4.0 * x
        if self.kind == "static":
            return self.pain0 - 0.6 * x
        if self.kind == "worsening":
            return self.pain0 + (0 if t < 30 else 3.5 * min(t - 30, DAYS - 31) / (DAYS - 31))
        if self.kind == "resolving":
            return max(self.pain0 * (1 - t / 35), 0.3)
        return self.pain0 * (1 - 0.55 * x)  # low baseline


def _weighted(rng: random.Random, table: Sequence[tuple[Any, ...]]) -> tuple[Any, ...]:
    total = sum(row[1] for row in table)
    pick = rng.uniform(0, total)
    for row in table:
        pick -= row[1]
        if pick <= 0:
            return row
    return table[-1]


def _course(rng: random.Random) -> _Course:
    kind = _weighted(rng, COURSES)[0]
    logger, _, log_p, sets_share = _weighted(rng, LOGGERS)
    pain0 = rng.uniform(2.0, 4.0) if kind == "low_baseline" else rng.uniform(5.0, 8.0)
    return _Course(
        kind=kind,
        pain0=pain0,
        log_p=log_p,
        sets_share=sets_share,
        last_logged_day=rng.randint(20, 45) if logger == "dropout" else DAYS,
        sparse_week1=rng.random() < 0.08,
        rom0=rng.uniform(22, 38),
        rom_slope=(-0.25 if kind == "worsening" else rng.uniform(0.0, 0.25)),
        logs_unaffected=rng.choice((0.0, 0.1, 0.5)),
        rom_unaffected=rng.randint(40, 52),
    )


def generate(env: BenchEnv, spec: SynthSpec) -> SynthResult:
    """Fill the (empty, migrated) benchmark database; returns what the measurements need."""
    from django.contrib.auth.hashers import make_password

    began = time.perf_counter()
    rng = random.Random(spec.seed)
    result = SynthResult(spec=spec)
    n = spec.episodes
    first_day = spec.as_of - dt.timedelta(days=DAYS + COHORT_DAYS - 2)
    # Episode i starts cohort(i) days after first_day; every one is on day 56 or later by as_of.
    starts = [first_day + dt.timedelta(days=i % COHORT_DAYS) for i in range(n)]
    created = _ts(first_day - dt.timedelta(days=1), 9)
    # One real hash for every account: hashing 100,000 passwords would take hours.
    password_hash = make_password(PASSWORD)

    # --- Who treats whom ------------------------------------------------------------------------
    # The caseload clinic holds exactly the largest caseload (its admin's home page lists it
    # whole); inside it, therapists with exactly the smaller caseloads, as many as fit.
    wanted = sorted({size for size in spec.caseloads if 0 < size <= n})
    caseload_clinic_size = wanted[-1] if wanted else 0
    therapist_caseloads: list[int] = []
    for size in wanted[:-1]:
        if sum(therapist_caseloads) + size <= caseload_clinic_size:
            therapist_caseloads.append(size)
    clinics: list[tuple[int, str]] = []
    staff: list[tuple[int, str, str, int]] = []  # (user id, email, role, clinic id)
    therapist_of: list[int | None] = []
    clinic_of: list[int] = []
    next_user = 1

    def add_staff(role: str, clinic_id: int, label: str) -> int:
        nonlocal next_user
        user_id = next_user
        next_user += 1
        staff.append((user_id, f"{label}-{user_id}@bench.test", role, clinic_id))
        return user_id

    def fill_clinic(clinic_id: int, patients: int) -> None:
        """``patients`` more episodes in the clinic, about 60 to a therapist, 5% unassigned."""
        therapists = [
            add_staff("therapist", clinic_id, "therapist")
            for _ in range(max(1, patients // spec.patients_per_therapist))
        ]
        for i in range(patients):
            unassigned = rng.random() < spec.unassigned_share
            therapist_of.append(None if unassigned else therapists[i % len(therapists)])
            clinic_of.append(clinic_id)

    if caseload_clinic_size:
        clinics.append((1, "caseload"))
        admin = add_staff("clinic_admin", 1, "admin")
        result.caseload_viewers[caseload_clinic_size] = CaseloadViewer(admin, "clinic_admin")
        for size in therapist_caseloads:
            therapist = add_staff("therapist", 1, f"therapist-{size}")
            result.caseload_viewers[size] = CaseloadViewer(therapist, "therapist")
            therapist_of += [therapist] * size
            clinic_of += [1] * size
        rest = caseload_clinic_size - len(therapist_of)
        if rest:
            fill_clinic(1, rest)
    remaining = n - len(therapist_of)
    clinic_id = len(clinics)
    while remaining > 0:
        clinic_id += 1
        clinics.append((clinic_id, f"network-{clinic_id}"))
        add_staff("clinic_admin", clinic_id, "admin")
        in_clinic = min(spec.patients_per_clinic, remaining)
        fill_clinic(clinic_id, in_clinic)
        remaining -= in_clinic
    first_patient_user = next_user

    # --- Episodes and their plans ---------------------------------------------------------------
    courses = [_course(rng) for _ in range(n)]
    prescriptions: list[list[tuple[int, int, int, int | None]]] = []  # (id, sets, first, last)
    next_rx = 1
    for _ in range(n):
        plan: list[tuple[int, int, int, int | None]] = []
        for index, (_, _, sets) in enumerate(BASE_PRESCRIPTIONS):
            ends = 27 if index == 1 and rng.random() < 0.3 else None
            plan.append((next_rx, sets, 0, ends))
            next_rx += 1
        if rng.random() < 0.5:
            plan.append((next_rx, LATER_PRESCRIPTION[2], 21, None))
            next_rx += 1
        prescriptions.append(plan)

    with psycopg.connect(env.psycopg_url) as conn:
        # The rows are consistent by construction; checking millions of foreign keys one by one
        # would take longer than writing them (the database's own user runs the benchmark).
        conn.execute("SET session_replication_role = replica")
        _copy(
            conn,
            "accounts_clinic",
            ("id", "name", "slug", "created_at", "require_two_factor", "mrn_system"),
            (
                _row((cid, f"Bench {slug}", f"bench-{slug}", created, "f", ""))
                for cid, slug in clinics
            ),
        )
        user_columns = (
            "id",
            "password",
            "email",
            "first_name",
            "last_name",
            "role",
            "is_active",
            "is_staff",
            "is_superuser",
            "date_joined",
            "clinic_id",
            "language",
        )
        _copy(
            conn,
            "accounts_user",
            user_columns,
            (
                _row(
                    (
                        uid,
                        password_hash,
                        email,
                        "Staff",
                        f"Member {uid}",
                        role,
                        "t",
                        "f",
                        "f",
                        created,
                        cid,
                        "",
                    )
                )
                for uid, email, role, cid in staff
            ),
        )
        first_names = ("Ava", "Ben", "Chloe", "Dara", "Eli", "Farah", "Gus", "Hana", "Ivo", "Jet")
        _copy(
            conn,
            "accounts_user",
            user_columns,
            (
                _row(
                    (
                        first_patient_user + i,
                        password_hash,
                        f"patient-{i + 1}@bench.test",
                        first_names[i % len(first_names)],
                        f"Patient {i + 1}",
                        "patient",
                        "t",
                        "f",
                        "f",
                        created,
                        clinic_of[i],
                        "",
                    )
                )
                for i in range(n)
            ),
        )
        timezones = [rng.choice(TIMEZONES) for _ in range(n)]
        _copy(
            conn,
            "accounts_patient",
            (
                "id",
                "user_id",
                "therapist_id",
                "timezone",
                "created_at",
                # COPY sets every column it names and NULL the rest: Django keeps field defaults
                # in Python, so each NOT NULL column is named with its model default.
                "timezone_confirmed",
                "reminders_enabled",
                "reminder_time",
                "reminder_by_email",
                "reminder_by_push",
                "sex",
                "mrn",
            ),
            (
                _row(
                    (
                        i + 1,
                        first_patient_user + i,
                        therapist_of[i],
                        timezones[i],
                        created,
                        "f",
                        "t",
                        "19:00",
                        "t",
                        "f",
                        "",
                        "",
                    )
                )
                for i in range(n)
            ),
        )

        def episode_rows() -> Iterable[str]:
            for i, course in enumerate(courses):
                intake = (
                    None
                    if rng.random() < 0.15
                    else max(0, min(10, round(course.pain0 + rng.choice((-1, 0, 1)))))
                )
                bmi = None if rng.random() < 0.2 else f"{rng.gauss(26.5, 4.0):.1f}"
                if bmi is not None:
                    bmi = f"{min(max(float(bmi), 16.0), 45.0):.1f}"
                yield _row(
                    (
                        i + 1,
                        i + 1,
                        rng.choice(("left", "right")),
                        "os_trigonum",
                        starts[i].isoformat(),
                        "active",
                        intake,
                        round(course.rom0) if rng.random() < 0.7 else None,
                        course.rom_unaffected if rng.random() < 0.7 else None,
                        bmi,
                        None,
                        "",
                        "",
                        None,
                        "",
                        created,
                        created,
                        None,
                        None,
                    )
                )

        _copy(
            conn,
            "rehab_episode",
            (
                "id",
                "patient_id",
                "affected_side",
                "diagnosis",
                "start_date",
                "status",
                "intake_pain_activity",
                "intake_pf_rom_affected",
                "intake_pf_rom_unaffected",
                "bmi",
                "referral_date",
                "referred_to",
                "referral_note",
                "closed_date",
                "outcome",
                "created_at",
                "updated_at",
                "created_by_id",
                "evaluation_requested_at",
            ),
            episode_rows(),
        )

        def prescription_rows() -> Iterable[str]:
            for i, plan in enumerate(prescriptions):
                for index, (rx_id, sets, first, last) in enumerate(plan):
                    exercise_id, name, _ = (
                        BASE_PRESCRIPTIONS[index]
                        if index < len(BASE_PRESCRIPTIONS)
                        else LATER_PRESCRIPTION
                    )
                    yield _row(
                        (
                            rx_id,
                            i + 1,
                            exercise_id,
                            name,
                            sets,
                            "10",
                            (starts[i] + dt.timedelta(days=first)).isoformat(),
                            None
                            if last is None
                            else (starts[i] + dt.timedelta(days=last)).isoformat(),
                            created,
                            None,
                        )
                    )

        result.counts["prescriptions"] = _copy(
            conn,
            "rehab_prescription",
            (
                "id",
                "episode_id",
                "exercise_id",
                "name",
                "sets",
                "reps",
                "start_date",
                "end_date",
                "created_at",
                "created_by_id",
            ),
            prescription_rows(),
        )

        def intervention_rows() -> Iterable[str]:
            next_id = 1
            for i in range(n):
                if rng.random() < 0.15:
                    days = rng.choice((5, 7, 9, 10, 14, 21))
                    yield _row(
                        (
                            next_id,
                            i + 1,
                            "immobilization",
                            starts[i].isoformat(),
                            (starts[i] + dt.timedelta(days=days - 1)).isoformat(),
                            "",
                            "",
                            False,
                            created,
                            None,
                        )
                    )
                    next_id += 1
                if rng.random() < 0.2:
                    yield _row(
                        (
                            next_id,
                            i + 1,
                            "nsaid",
                            (starts[i] + dt.timedelta(days=rng.randint(0, 20))).isoformat(),
                            None,
                            "",
                            "",
                            False,
                            created,
                            None,
                        )
                    )
                    next_id += 1

        result.counts["interventions"] = _copy(
            conn,
            "rehab_intervention",
            (
                "id",
                "episode_id",
                "kind",
                "start_date",
                "end_date",
                "site",
                "note",
                "needs_review",
                "created_at",
                "created_by_id",
            ),
            intervention_rows(),
        )

        # --- The diaries, day by day across every episode ----------------------------------------
        entries = logs = 0
        entry_id = log_id = 0
        entry_columns = (
            "id",
            "episode_id",
            "date",
            "pain_activity",
            "pain_rest",
            "pf_rom_affected",
            "pf_rom_unaffected",
            "note",
            "created_at",
            "updated_at",
            "recorded_by_id",
        )
        noise = (-1, 0, 0, 0, 1)
        with tempfile.TemporaryFile("w+") as log_file:
            with (
                conn.cursor() as cur,
                cur.copy(f"COPY rehab_dailyentry ({', '.join(entry_columns)}) FROM STDIN") as copy,
            ):
                for g in range(DAYS + COHORT_DAYS - 1):
                    day = first_day + dt.timedelta(days=g)
                    stamp = _ts(day)
                    date_text = day.isoformat()
                    lines: list[str] = []
                    log_lines: list[str] = []
                    random_ = rng.random
                    for i in range(n):
                        t = g - i % COHORT_DAYS  # the episode's trial day, 0-based
                        if t < 0:
                            continue
                        course = courses[i]
                        if t > course.last_logged_day:
                            continue
                        p = 0.35 if (t < 7 and course.sparse_week1) else course.log_p
                        if random_() >= p:
                            continue
                        entry_id += 1
                        pain = round(course.pain(t)) + noise[int(random_() * 5)]
                        pain = 0 if pain < 0 else 10 if pain > 10 else pain
                        rest = max(0, pain - 3) if random_() < 0.8 else None
                        rom = round(course.rom0 + course.rom_slope * t + noise[int(random_() * 5)])
                        rom_a = max(0, min(90, rom)) if random_() < 0.85 else None
                        rom_u = (
                            course.rom_unaffected if random_() < course.logs_unaffected else None
                        )
                        lines.append(
                            f"{entry_id}\t{i + 1}\t{date_text}\t{pain}\t{_null(rest)}\t"
                            f"{_null(rom_a)}\t{_null(rom_u)}\t\t{stamp}\t{stamp}\t"
                            f"{first_patient_user + i}\n"
                        )
                        for rx_id, sets, first, last in prescriptions[i]:
                            if t < first or (last is not None and t > last):
                                continue
                            if random_() < 0.06:
                                continue  # not logged that day: counts as 0 sets
                            done = sets if random_() < course.sets_share else int(random_() * sets)
                            log_id += 1
                            log_lines.append(f"{log_id}\t{entry_id}\t{rx_id}\t{done}\n")
                    copy.write("".join(lines))
                    log_file.write("".join(log_lines))
                    entries += len(lines)
                    logs += len(log_lines)
            log_file.seek(0)
            with (
                conn.cursor() as cur,
                cur.copy(
                    "COPY rehab_exerciselog (id, entry_id, prescription_id, sets_completed)"
                    " FROM STDIN"
                ) as copy,
            ):
                while block := log_file.read(1 << 20):
                    copy.write(block)
        result.counts.update(episodes=n, entries=entries, exercise_logs=logs)

        # --- Load-test clients: patients with an API token --------------------------------------
        expires = _ts(spec.as_of + dt.timedelta(days=365), 0)
        picked = rng.sample(range(n), min(spec.clients, n))
        token_rows = []
        for token_id, i in enumerate(picked, start=1):
            key = f"bench-{spec.seed}-{i}-{rng.getrandbits(64):016x}"
            token_rows.append(
                _row(
                    (
                        token_id,
                        first_patient_user + i,
                        hashlib.sha256(key.encode()).hexdigest(),
                        created,
                        expires,
                        None,
                        None,
                    )
                )
            )
            active = tuple((rx, sets) for rx, sets, first, last in prescriptions[i] if last is None)
            result.clients.append(
                LoadClient(
                    user_id=first_patient_user + i,
                    email=f"patient-{i + 1}@bench.test",
                    episode_id=i + 1,
                    token=key,
                    prescriptions=active,
                )
            )
        _copy(
            conn,
            "accounts_apitoken",
            (
                "id",
                "user_id",
                "key_digest",
                "created_at",
                "expires_at",
                "last_used_at",
                "revoked_at",
            ),
            token_rows,
        )
        # COPY with explicit ids leaves the identity sequences behind: move them past the data.
        for table in (
            "accounts_clinic",
            "accounts_user",
            "accounts_patient",
            "accounts_apitoken",
            "rehab_episode",
            "rehab_prescription",
            "rehab_intervention",
            "rehab_dailyentry",
            "rehab_exerciselog",
        ):
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
            )
        conn.commit()
    result.counts["users"] = next_user - 1 + n
    result.seconds = time.perf_counter() - began
    return result
