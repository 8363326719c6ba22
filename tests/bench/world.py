"""A varied clinic network for the bulk-evaluation tests, written straight to the tables.

Seeded, so the same size and seed give the same network: courses that improve, stall, worsen or
resolve; diaries with gaps and missing first weeks; prescriptions that end, start late or start
after the evaluated day; over-long immobilizations; high BMIs; patients with no therapist or an
inactive one; four time zones (so "the patient's today" differs around midnight UTC); a clinic
with its own thresholds and webhooks; referred and closed episodes beside the active ones.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from accounts.models import Clinic, Patient, Role, User
from rehab.models import (
    Alert,
    AlertStatus,
    ClinicRuleSettings,
    DailyEntry,
    Episode,
    EpisodeStatus,
    ExerciseLog,
    Intervention,
    Prescription,
    WebhookEndpoint,
)
from tests.factories import ClinicAdminFactory, ClinicFactory, PatientFactory, TherapistFactory

ZONES = ("UTC", "Asia/Tokyo", "America/New_York", "Pacific/Kiritimati")
COURSES = ("improving", "stalled", "worsening", "resolving", "sparse", "dropout")


@dataclass
class World:
    episodes: list[Episode]
    as_of: dt.date

    @property
    def ids(self) -> list[int]:
        return [e.pk for e in self.episodes]


def _clinics() -> list[tuple[Clinic, list[User]]]:
    plain = ClinicFactory(name="Plain Physio")
    ClinicAdminFactory(clinic=plain)
    own = ClinicFactory(name="Own Thresholds")
    ClinicAdminFactory(clinic=own)
    ClinicAdminFactory(clinic=own)
    ClinicRuleSettings.objects.create(
        clinic=own, overrides={"review_day": 35, "overdue_day": 49, "mcid_percent": 25}
    )
    WebhookEndpoint.objects.create(
        clinic=own, url="https://hooks.example.test/a", secret="whsec_YWJjZGVmZ2hpamtsbW5vcA=="
    )
    WebhookEndpoint.objects.create(
        clinic=own,
        url="https://hooks.example.test/off",
        secret="whsec_YWJjZGVmZ2hpamtsbW5vcA==",
        is_active=False,
    )
    result = []
    for clinic in (plain, own):
        therapists = [TherapistFactory(clinic=clinic) for _ in range(2)]
        gone = TherapistFactory(clinic=clinic, is_active=False)
        result.append((clinic, [*therapists, gone]))
    return result


def build(n: int, *, as_of: dt.date, seed: int = 7) -> World:
    rng = random.Random(seed)
    clinics = _clinics()
    episodes: list[Episode] = []
    for i in range(n):
        clinic, therapists = clinics[i % len(clinics)]
        pick = rng.random()
        therapist = None if pick < 0.15 else therapists[-1] if pick < 0.25 else therapists[i % 2]
        patient = PatientFactory(
            therapist=therapist or therapists[0],
            user__clinic=clinic,
            user__role=Role.PATIENT,
            timezone=ZONES[i % len(ZONES)],
        )
        if therapist is None:
            Patient.objects.filter(pk=patient.pk).update(therapist=None)
        trial_days = rng.choice((5, 12, 20, 30, 36, 41, 42, 43, 50, 55, 56, 57, 63, 70))
        start = as_of - dt.timedelta(days=trial_days - 1)
        status = EpisodeStatus.ACTIVE
        referral_date = None
        if i % 17 == 5:
            status = EpisodeStatus.CLOSED
        elif i % 19 == 7:
            status, referral_date = EpisodeStatus.REFERRED, as_of - dt.timedelta(days=3)
        elif i % 23 == 11:
            referral_date = as_of - dt.timedelta(days=2)  # recorded, status not yet changed
        episodes.append(
            Episode.objects.create(
                patient=patient,
                affected_side=rng.choice(("left", "right")),
                start_date=start,
                status=status,
                referral_date=referral_date,
                intake_pain_activity=None if rng.random() < 0.3 else rng.randint(3, 8),
                intake_pf_rom_affected=None if rng.random() < 0.4 else rng.randint(20, 40),
                intake_pf_rom_unaffected=None if rng.random() < 0.4 else rng.randint(40, 50),
                bmi=None if rng.random() < 0.3 else round(rng.uniform(19, 36), 1),
            )
        )
    for i, episode in enumerate(episodes):
        _fill(episode, COURSES[i % len(COURSES)], rng, as_of)
    return World(episodes=episodes, as_of=as_of)


def _fill(episode: Episode, course: str, rng: random.Random, as_of: dt.date) -> None:
    start = episode.start_date
    # A day past as_of too: rows after the evaluated day must never count.
    days = (as_of - start).days + 2
    plan = [
        Prescription(episode=episode, name="Heel raises", sets=3, start_date=start),
        Prescription(
            episode=episode,
            name="Calf stretch",
            sets=2,
            start_date=start,
            end_date=start + dt.timedelta(days=rng.randint(10, 30)),
        ),
        Prescription(
            episode=episode,
            name="Balance",
            sets=rng.choice((2, 4)),
            start_date=start + dt.timedelta(days=rng.randint(5, days + 3)),
        ),
    ]
    Prescription.objects.bulk_create(plan)
    base = rng.uniform(3, 8)
    entries: list[DailyEntry] = []
    for t in range(days):
        if course == "sparse" and (t < 7 or rng.random() < 0.5):
            continue
        if course == "dropout" and t > days - 6:
            continue
        if rng.random() < 0.12:
            continue
        x = t / 55
        pain = {
            "improving": base - 4 * x,
            "stalled": base - 0.5 * x,
            "worsening": base + (3 if t > days - 5 else 0),
            "resolving": max(base * (1 - t / 30), 0),
        }.get(course, base)
        entries.append(
            DailyEntry(
                episode=episode,
                date=start + dt.timedelta(days=t),
                pain_activity=max(0, min(10, round(pain + rng.choice((-1, 0, 0, 1))))),
                pain_rest=None if rng.random() < 0.3 else rng.randint(0, 4),
                pf_rom_affected=None if rng.random() < 0.2 else rng.randint(15, 40),
                pf_rom_unaffected=rng.randint(40, 50) if rng.random() < 0.3 else None,
            )
        )
    DailyEntry.objects.bulk_create(entries)
    logs = []
    for entry in entries:
        for prescription in plan:
            if prescription.is_active_on(entry.date) and rng.random() < 0.85:
                logs.append(
                    ExerciseLog(
                        entry=entry,
                        prescription=prescription,
                        sets_completed=(
                            rng.randint(0, prescription.sets + 1)
                            if course in ("sparse", "dropout", "resolving")
                            else prescription.sets
                        ),
                    )
                )
    ExerciseLog.objects.bulk_create(logs)
    if rng.random() < 0.3:
        length = rng.choice((7, 12, 20))
        Intervention.objects.create(
            episode=episode,
            kind="immobilization",
            start_date=start,
            end_date=None if rng.random() < 0.3 else start + dt.timedelta(days=length),
        )
    if rng.random() < 0.2:
        Intervention.objects.create(
            episode=episode, kind="nsaid", start_date=start + dt.timedelta(days=3)
        )


# The night the bulk-evaluation tests run, and a moment near midnight UTC: Tokyo and Kiritimati
# are already on the next day, New York on this one.
AS_OF = dt.date(2026, 3, 2)
NEAR_MIDNIGHT = dt.datetime(2026, 3, 2, 22, 30, tzinfo=dt.UTC)


def touch_between_nights(w: World) -> None:
    """What a day brings: therapists act on alerts, patients log, an episode closes."""
    alerts = list(Alert.objects.exclude(status=AlertStatus.RESOLVED).order_by("pk"))
    assert len(alerts) >= 8, "the world should raise alerts of several kinds"
    for n, alert in enumerate(alerts):
        if n % 5 == 0:
            # A snooze that ends before the next night: reopened (and notified) if still found.
            alert.status, alert.snoozed_until = AlertStatus.SNOOZED, w.as_of
        elif n % 5 == 1:
            alert.status, alert.snoozed_until = AlertStatus.SNOOZED, w.as_of + dt.timedelta(days=9)
        elif n % 5 == 2:
            alert.status = AlertStatus.ACKNOWLEDGED
        elif n % 5 == 3:
            alert.status, alert.resolution_reason = AlertStatus.RESOLVED, "Resolved by hand."
        else:
            continue
        alert.save()
    tomorrow = w.as_of + dt.timedelta(days=1)
    for n, episode in enumerate(w.episodes):
        if n % 3 == 0:
            DailyEntry.objects.update_or_create(
                episode=episode, date=tomorrow, defaults={"pain_activity": 9 if n % 2 else 0}
            )
        if n % 4 == 1:
            DailyEntry.objects.filter(
                episode=episode, date__gte=w.as_of - dt.timedelta(days=3)
            ).delete()
    # Immobilization records corrected: an over-long one that is gone resolves its alert.
    Intervention.objects.filter(episode__in=w.episodes[::2], kind="immobilization").delete()
    Episode.objects.filter(pk=w.episodes[1].pk).update(status=EpisodeStatus.CLOSED)
    Episode.objects.filter(pk__in=w.ids[::7]).update(evaluation_requested_at=NEAR_MIDNIGHT)
