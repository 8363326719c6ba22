"""Daily entries: the idempotent PUT, every input rule, reading and deleting."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine

from accounts.models import AuditEvent
from rehab.models import DailyEntry, ExerciseLog
from tests.api.helpers import entry_url, errors, url
from tests.factories import (
    DailyEntryFactory,
    EpisodeFactory,
    ExerciseLogFactory,
    PatientFactory,
    PrescriptionFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def heel_raises(cast):
    return PrescriptionFactory(episode=cast.episode_a, name="Double-leg heel raises", sets=3)


@pytest.fixture
def saved(cast, heel_raises):
    """An entry already on file, which bad requests must leave exactly as it is."""
    entry = DailyEntryFactory(
        episode=cast.episode_a,
        date=cast.episode_a.start_date + dt.timedelta(days=2),
        pain_activity=6,
        pain_rest=2,
        pf_rom_affected=30,
        pf_rom_unaffected=45,
        note="stiff morning",
    )
    ExerciseLogFactory(entry=entry, prescription=heel_raises, sets_completed=2)
    return entry


def snapshot(episode_id: int) -> list[tuple[Any, ...]]:
    entries = DailyEntry.objects.filter(episode_id=episode_id).order_by("date")
    logs = ExerciseLog.objects.filter(entry__episode_id=episode_id).order_by("id")
    return [
        *entries.values_list(
            "date",
            "pain_activity",
            "pain_rest",
            "pf_rom_affected",
            "pf_rom_unaffected",
            "note",
            "updated_at",
        ),
        *logs.values_list("entry_id", "prescription_id", "sets_completed"),
    ]


def test_put_creates_then_replaces_one_entry(cast, api, heel_raises):
    episode = cast.episode_a
    day = episode.start_date + dt.timedelta(days=1)
    payload = {
        "pain_activity": 6,
        "pain_rest": 2,
        "pf_rom_affected": 30,
        "pf_rom_unaffected": 45,
        "exercises": [{"prescription": heel_raises.pk, "sets_completed": 2}],
        "note": "Rehearsal day",
    }
    client = api(cast.patient_a.user)

    first = client.put(entry_url(episode.pk, day), payload, format="json")
    assert first.status_code == 201
    body = first.json()
    assert body["date"] == day.isoformat()
    assert body["episode"] == episode.pk
    assert (body["pain_activity"], body["pain_rest"]) == (6, 2)
    assert (body["pf_rom_affected"], body["pf_rom_unaffected"]) == (30, 45)
    assert body["exercises"] == [
        {
            "prescription": heel_raises.pk,
            "exercise": "Double-leg heel raises",
            "sets_completed": 2,
            "sets_prescribed": 3,
        }
    ]
    assert body["note"] == "Rehearsal day"
    assert body["created_at"].endswith("Z") and body["updated_at"].endswith("Z")

    second = client.put(entry_url(episode.pk, day), payload, format="json")
    assert second.status_code == 200
    assert DailyEntry.objects.filter(episode=episode, date=day).count() == 1
    assert ExerciseLog.objects.filter(entry__episode=episode).count() == 1

    # A PUT replaces the whole day: values left out are cleared.
    third = client.put(entry_url(episode.pk, day), {"pain_activity": 4}, format="json")
    assert third.status_code == 200
    entry = DailyEntry.objects.get(episode=episode, date=day)
    assert (entry.pain_activity, entry.pain_rest, entry.pf_rom_affected, entry.note) == (
        4,
        None,
        None,
        "",
    )
    assert not entry.exercises.exists()
    assert entry.recorded_by == cast.patient_a.user

    actions = list(
        AuditEvent.objects.filter(object_id=str(entry.pk), object_type="rehab.dailyentry")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["entry.created", "entry.replaced", "entry.replaced"]
    assert AuditEvent.objects.filter(
        action="entry.created", actor=cast.patient_a.user, patient_id=cast.patient_a.pk
    ).exists()


@pytest.mark.parametrize("who", ["therapist", "admin"])
def test_staff_record_on_the_patients_behalf(cast, api, who):
    user = getattr(cast, who)
    day = cast.episode_b.start_date
    response = api(user).put(entry_url(cast.episode_b.pk, day), {"pain_activity": 3}, format="json")
    assert response.status_code == 201
    entry = DailyEntry.objects.get(episode=cast.episode_b, date=day)
    assert entry.recorded_by == user
    assert AuditEvent.objects.filter(
        action="entry.created", actor=user, object_id=str(entry.pk)
    ).exists()


@pytest.mark.parametrize(("pain", "rom"), [(0, 0), (10, 90)])
def test_range_edges_are_accepted(cast, api, pain, rom):
    payload = {
        "pain_activity": pain,
        "pain_rest": pain,
        "pf_rom_affected": rom,
        "pf_rom_unaffected": rom,
    }
    response = api(cast.patient_a.user).put(
        entry_url(cast.episode_a.pk, cast.episode_a.start_date), payload, format="json"
    )
    assert response.status_code == 201


BAD_VALUES = [
    ("pain_activity", 11),
    ("pain_activity", -1),
    ("pain_activity", "7"),
    ("pain_activity", 5.5),
    ("pain_activity", 5.0),
    ("pain_activity", True),
    ("pain_activity", None),
    ("pain_rest", 11),
    ("pain_rest", "2"),
    ("pf_rom_affected", 91),
    ("pf_rom_affected", -1),
    ("pf_rom_affected", "30"),
    ("pf_rom_unaffected", 91),
    ("pf_rom_unaffected", 45.5),
    ("note", "x" * 5001),
    ("exercises", "heel raises"),
    ("exercises", [{"prescription": "1", "sets_completed": 1}]),
    ("exercises", [{"sets_completed": 1}]),
]


@pytest.mark.parametrize(("field", "value"), BAD_VALUES)
def test_bad_values_are_400_naming_the_field_and_change_nothing(cast, api, saved, field, value):
    client = api(cast.patient_a.user)
    before, audits = snapshot(cast.episode_a.pk), AuditEvent.objects.count()
    payload = {"pain_activity": 3, "pain_rest": 1, field: value}
    body = errors(client.put(entry_url(cast.episode_a.pk, saved.date), payload, format="json"))
    assert field in body
    assert snapshot(cast.episode_a.pk) == before
    assert AuditEvent.objects.count() == audits


def test_missing_pain_activity_is_400(cast, api, saved):
    client = api(cast.patient_a.user)
    before = snapshot(cast.episode_a.pk)
    body = errors(client.put(entry_url(cast.episode_a.pk, saved.date), {}, format="json"))
    assert "pain_activity" in body
    assert snapshot(cast.episode_a.pk) == before


def test_sets_completed_out_of_range_is_400(cast, api, saved, heel_raises):
    client = api(cast.patient_a.user)
    before = snapshot(cast.episode_a.pk)
    payload = {
        "pain_activity": 3,
        "exercises": [{"prescription": heel_raises.pk, "sets_completed": -1}],
    }
    body = errors(client.put(entry_url(cast.episode_a.pk, saved.date), payload, format="json"))
    assert "exercises" in body
    assert snapshot(cast.episode_a.pk) == before


def test_prescription_of_another_episode_is_400(cast, api, saved):
    foreign = PrescriptionFactory(episode=cast.episode_b)
    client = api(cast.therapist)
    before = snapshot(cast.episode_a.pk)
    payload = {
        "pain_activity": 3,
        "exercises": [{"prescription": foreign.pk, "sets_completed": 1}],
    }
    body = errors(client.put(entry_url(cast.episode_a.pk, saved.date), payload, format="json"))
    assert list(body) == ["exercises"]
    assert "does not belong to this episode" in body["exercises"][0]
    assert snapshot(cast.episode_a.pk) == before


def test_prescription_not_active_that_day_is_400(cast, api, saved):
    later = PrescriptionFactory(
        episode=cast.episode_a, start_date=saved.date + dt.timedelta(days=1)
    )
    before = snapshot(cast.episode_a.pk)
    payload = {"pain_activity": 3, "exercises": [{"prescription": later.pk, "sets_completed": 1}]}
    response = api(cast.patient_a.user).put(
        entry_url(cast.episode_a.pk, saved.date), payload, format="json"
    )
    assert "exercises" in errors(response)
    assert snapshot(cast.episode_a.pk) == before


def test_same_prescription_twice_is_400(cast, api, saved, heel_raises):
    item = {"prescription": heel_raises.pk, "sets_completed": 1}
    before = snapshot(cast.episode_a.pk)
    response = api(cast.patient_a.user).put(
        entry_url(cast.episode_a.pk, saved.date),
        {"pain_activity": 3, "exercises": [item, item]},
        format="json",
    )
    assert "exercises" in errors(response)
    assert snapshot(cast.episode_a.pk) == before


def test_date_before_the_episode_start_is_400(cast, api, saved):
    before = snapshot(cast.episode_a.pk)
    day = cast.episode_a.start_date - dt.timedelta(days=1)
    response = api(cast.patient_a.user).put(
        entry_url(cast.episode_a.pk, day), {"pain_activity": 3}, format="json"
    )
    assert "date" in errors(response)
    assert snapshot(cast.episode_a.pk) == before


@pytest.mark.parametrize("value", ["2026-02-30", "20260310", "2026-W10-2", "today", "2026-3-1"])
def test_url_date_must_be_yyyy_mm_dd(cast, api, saved, value):
    client = api(cast.patient_a.user)
    before = snapshot(cast.episode_a.pk)
    put = client.put(entry_url(cast.episode_a.pk, value), {"pain_activity": 3}, format="json")
    assert "date" in errors(put)
    assert "date" in errors(client.get(entry_url(cast.episode_a.pk, value)))
    assert "date" in errors(client.delete(entry_url(cast.episode_a.pk, value)))
    assert snapshot(cast.episode_a.pk) == before


# Pinned at 10:30 UTC on 10 March: it is already 11 March on Kiritimati (UTC+14) and still
# 9 March in Pago Pago (UTC-11).
NOW = dt.datetime(2026, 3, 10, 10, 30, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("tz", "local_today"),
    [("Pacific/Kiritimati", dt.date(2026, 3, 11)), ("Pacific/Pago_Pago", dt.date(2026, 3, 9))],
)
def test_date_after_the_patients_local_today_is_400(cast, api, tz, local_today):
    with time_machine.travel(NOW, tick=False):
        patient = PatientFactory(therapist=cast.therapist, timezone=tz)
        episode = EpisodeFactory(patient=patient, start_date=dt.date(2026, 3, 1))
        client = api(patient.user)

        ok = client.put(entry_url(episode.pk, local_today), {"pain_activity": 4}, format="json")
        assert ok.status_code == 201

        tomorrow = local_today + dt.timedelta(days=1)
        response = client.put(entry_url(episode.pk, tomorrow), {"pain_activity": 4}, format="json")
        body = errors(response)
        assert "date" in body and local_today.isoformat() in body["date"][0]
        # Staff writing on the patient's behalf are held to the patient's day, not their own.
        staff = api(cast.therapist).put(
            entry_url(episode.pk, tomorrow), {"pain_activity": 4}, format="json"
        )
        assert "date" in errors(staff)
        assert list(DailyEntry.objects.filter(episode=episode).values_list("date", flat=True)) == [
            local_today
        ]


def test_closed_episode_takes_no_entries(cast, api, saved):
    cast.episode_a.status = "closed"
    cast.episode_a.save()
    before = snapshot(cast.episode_a.pk)
    response = api(cast.patient_a.user).put(
        entry_url(cast.episode_a.pk, saved.date), {"pain_activity": 1}, format="json"
    )
    # The diary of a closed episode is read-only for the patient (issue 10, finding 7).
    assert response.status_code == 409
    assert "diary is closed" in response.json()["detail"]
    assert snapshot(cast.episode_a.pk) == before


# --- Reading and deleting ----------------------------------------------------------------------


def test_get_one_entry(cast, api, saved, heel_raises):
    response = api(cast.therapist).get(entry_url(cast.episode_a.pk, saved.date))
    assert response.status_code == 200
    body = response.json()
    assert body["date"] == saved.date.isoformat()
    assert body["pain_activity"] == 6 and body["note"] == "stiff morning"
    assert body["exercises"] == [
        {
            "prescription": heel_raises.pk,
            "exercise": heel_raises.name,
            "sets_completed": 2,
            "sets_prescribed": 3,
        }
    ]
    missing = saved.date + dt.timedelta(days=1)
    assert api(cast.therapist).get(entry_url(cast.episode_a.pk, missing)).status_code == 404


def test_list_entries_with_a_date_range(cast, api):
    start = cast.episode_a.start_date
    for offset in range(6):
        DailyEntryFactory(episode=cast.episode_a, date=start + dt.timedelta(days=offset))
    DailyEntryFactory(episode=cast.episode_b, date=cast.episode_b.start_date)
    client = api(cast.patient_a.user)
    entries = url("api-entry-list", pk=cast.episode_a.pk)

    body = client.get(entries).json()
    assert body["count"] == 6
    dates = [item["date"] for item in body["results"]]
    assert dates == sorted(dates, reverse=True)
    assert {item["episode"] for item in body["results"]} == {cast.episode_a.pk}

    ranged = client.get(
        entries,
        {
            "from": (start + dt.timedelta(days=1)).isoformat(),
            "to": (start + dt.timedelta(days=3)).isoformat(),
        },
    ).json()
    assert [item["date"] for item in ranged["results"]] == [
        (start + dt.timedelta(days=d)).isoformat() for d in (3, 2, 1)
    ]
    since = client.get(entries, {"from": (start + dt.timedelta(days=4)).isoformat()}).json()
    assert since["count"] == 2


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "yesterday"}, "from"),
        ({"to": "2026-13-01"}, "to"),
        ({"from": "2026-03-10", "to": "2026-03-01"}, "to"),
    ],
)
def test_bad_date_range_is_400(cast, api, query, field):
    response = api(cast.therapist).get(url("api-entry-list", pk=cast.episode_a.pk), query)
    assert field in errors(response)


def test_entry_list_has_no_n_plus_one(cast, api, heel_raises, django_assert_max_num_queries):
    client = api(cast.therapist)
    entries = url("api-entry-list", pk=cast.episode_a.pk)
    client.get(entries)
    stretch = PrescriptionFactory(episode=cast.episode_a, name="Calf stretch (soleus)")

    def add(offset: int) -> None:
        entry = DailyEntryFactory(
            episode=cast.episode_a, date=cast.episode_a.start_date + dt.timedelta(days=offset)
        )
        ExerciseLogFactory(entry=entry, prescription=heel_raises)
        ExerciseLogFactory(entry=entry, prescription=stretch)

    add(0)
    # 6 for the page, and 1 for its audit row (a therapist's read: accounts.audit.audit_read).
    with django_assert_max_num_queries(7) as one:
        assert client.get(entries).json()["count"] == 1
    for offset in range(1, 8):
        add(offset)
    with django_assert_max_num_queries(7) as many:
        body = client.get(entries).json()
    assert body["count"] == 8
    assert all(len(item["exercises"]) == 2 for item in body["results"])
    assert len(many.captured_queries) == len(one.captured_queries)


def test_delete_an_entry(cast, api, saved):
    client = api(cast.patient_a.user)
    response = client.delete(entry_url(cast.episode_a.pk, saved.date))
    assert response.status_code == 204
    assert not DailyEntry.objects.filter(pk=saved.pk).exists()
    assert not ExerciseLog.objects.filter(entry_id=saved.pk).exists()
    assert AuditEvent.objects.filter(
        action="entry.deleted", actor=cast.patient_a.user, object_id=str(saved.pk)
    ).exists()
    assert client.delete(entry_url(cast.episode_a.pk, saved.date)).status_code == 404


def test_patient_cannot_touch_another_patients_entries(cast, api):
    other = DailyEntryFactory(episode=cast.episode_b, date=cast.episode_b.start_date)
    client = api(cast.patient_a.user)
    target = entry_url(cast.episode_b.pk, other.date)
    assert client.get(target).status_code == 404
    assert client.put(target, {"pain_activity": 0}, format="json").status_code == 404
    assert client.delete(target).status_code == 404
    other.refresh_from_db()
    assert other.pain_activity == 6


def test_responses_are_not_cacheable(cast, api, saved):
    client = api(cast.patient_a.user)
    for response in (
        client.get(entry_url(cast.episode_a.pk, saved.date)),
        client.get(url("api-entry-list", pk=cast.episode_a.pk)),
        client.get(url("api-episode-detail", pk=cast.episode_b.pk)),  # a 404
        api(None).get(url("api-patient-list")),  # a 401
    ):
        assert "no-store" in response["Cache-Control"], response.status_code


def test_only_json_is_accepted(cast, api, saved):
    before = snapshot(cast.episode_a.pk)
    response = api(cast.patient_a.user).put(
        entry_url(cast.episode_a.pk, saved.date), {"pain_activity": "3"}, format="multipart"
    )
    assert response.status_code == 415
    assert snapshot(cast.episode_a.pk) == before
