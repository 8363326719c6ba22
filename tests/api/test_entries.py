"""Daily entries: the idempotent PUT, every input rule, reading and deleting."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils.html import escape

from accounts.models import AuditEvent
from rehab.api.serializers import EntrySerializer
from rehab.models import DailyEntry, Episode, ExerciseLog
from rehab.services import entry_record
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
    ("pain_activity", 7.5),
    ("pain_activity", True),
    ("pain_activity", None),
    ("pain_rest", 11),
    ("pain_rest", "2"),
    ("pf_rom_affected", 91),
    ("pf_rom_affected", -1),
    ("pf_rom_affected", "30"),
    ("pf_rom_affected", "31.5"),
    ("pf_rom_affected", True),
    ("pf_rom_affected", 90.05),
    ("pf_rom_affected", -0.04),
    ("pf_rom_unaffected", 91),
    ("pf_rom_unaffected", 90.1),
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


# --- The PUT's answer and the bodies phones send (moved from the tests of the removed fast path)


@pytest.mark.parametrize("zone", ["UTC", "Pacific/Auckland"])
def test_the_put_answers_with_the_entry_as_stored(cast, api, settings, zone):
    settings.TIME_ZONE = zone
    heel = PrescriptionFactory(episode=cast.episode_a, name="Heel raises", sets=3)
    stretch = PrescriptionFactory(episode=cast.episode_a, name="Calf stretch «2»", sets=2)
    day = cast.episode_a.start_date + dt.timedelta(days=1)
    body = {
        "pain_activity": 5,
        "pf_rom_unaffected": 41,
        "exercises": [
            {"prescription": stretch.pk, "sets_completed": 1},
            {"prescription": heel.pk, "sets_completed": 0},
        ],
        "note": "  after a walk  ",
    }
    client = api(cast.patient_a.user)
    response = client.put(entry_url(cast.episode_a.pk, day), body, format="json")
    assert response.status_code == 201
    stored = DailyEntry.objects.prefetch_related("exercises__prescription").get(
        episode=cast.episode_a, date=day
    )
    assert response.json() == json.loads(json.dumps(EntrySerializer(stored).data))
    assert response.json() == client.get(entry_url(cast.episode_a.pk, day)).json()
    assert response.json()["note"] == "after a walk"
    # In the model's order: by prescription.
    assert [item["prescription"] for item in response.json()["exercises"]] == sorted(
        [heel.pk, stretch.pk]
    )


@pytest.mark.parametrize(
    "body",
    [
        {"pain_activity": 0},
        {"pain_activity": 10, "pain_rest": None, "pf_rom_affected": 0, "pf_rom_unaffected": 90},
        {"pain_activity": 4, "exercises": [{"prescription": "HEEL", "sets_completed": 0}]},
        {"pain_activity": 4, "exercises": [{"prescription": "HEEL", "sets_completed": 50, "y": 1}]},
        {"pain_activity": 4, "note": " " + "é" * 5000 + "\n"},
    ],
)
def test_the_common_bodies_are_stored(cast, api, heel_raises, body):
    for item in body.get("exercises", []):
        item["prescription"] = heel_raises.pk
    day = cast.episode_a.start_date
    response = api(cast.patient_a.user).put(entry_url(cast.episode_a.pk, day), body, format="json")
    assert response.status_code == 201, response.content
    entry = DailyEntry.objects.get(episode=cast.episode_a, date=day)
    assert entry.pain_activity == body["pain_activity"]
    assert entry.note == body.get("note", "").strip()
    assert [(log["prescription"], log["sets_completed"]) for log in body.get("exercises", [])] == [
        (log.prescription_id, log.sets_completed) for log in entry.exercises.all()
    ]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("note", "a\x00b"),
        ("note", " " + "x" * 5001 + " "),
        ("exercises", [{"prescription": 1, "sets_completed": 51}]),
        ("exercises", [{"prescription": 1, "sets_completed": 1}] * 101),
        ("reason", "x" * 1001),
        ("exercises", {}),
        ("pain_activity", [7]),
    ],
)
def test_more_bad_bodies_are_400_naming_the_field(cast, api, saved, field, value):
    client = api(cast.therapist if field == "reason" else cast.patient_a.user)
    if field == "reason":
        cast.episode_a.status = "closed"
        cast.episode_a.closed_date = saved.date
        cast.episode_a.save()
    before = snapshot(cast.episode_a.pk)
    payload = {"pain_activity": 3, field: value}
    body = errors(client.put(entry_url(cast.episode_a.pk, saved.date), payload, format="json"))
    assert field in body
    assert snapshot(cast.episode_a.pk) == before


def test_a_body_that_is_not_an_object_is_400(cast, api, saved):
    client = api(cast.patient_a.user)
    before = snapshot(cast.episode_a.pk)
    for body in ([1, 2], 7, "x", None):
        response = client.put(
            entry_url(cast.episode_a.pk, saved.date),
            json.dumps(body),
            content_type="application/json",
        )
        assert response.status_code == 400, (body, response.content)
    assert snapshot(cast.episode_a.pk) == before


# --- Input rules: plantar flexion to 0.1°, pain an integral number (docs/clinical-rules.md) ---


@pytest.mark.parametrize(
    ("sent", "stored", "shown"),
    [
        (31.5, Decimal("31.5"), "31.5"),
        (30.0, Decimal("30.0"), "30.0"),
        (30, Decimal("30.0"), "30.0"),
        # More decimals: rounded half away from zero to 0.1°.
        (31.25, Decimal("31.3"), "31.3"),
        (31.24, Decimal("31.2"), "31.2"),
        (0.15, Decimal("0.2"), "0.2"),
        (0.04, Decimal("0.0"), "0.0"),
        (89.96, Decimal("90.0"), "90.0"),
        (90, Decimal("90.0"), "90.0"),
    ],
)
def test_plantar_flexion_is_kept_to_a_tenth(cast, api, sent, stored, shown):
    day = cast.episode_a.start_date
    body = {"pain_activity": 3, "pf_rom_affected": sent, "pf_rom_unaffected": sent}
    client = api(cast.patient_a.user)
    response = client.put(entry_url(cast.episode_a.pk, day), body, format="json")
    assert response.status_code == 201, response.content
    entry = DailyEntry.objects.get(episode=cast.episode_a, date=day)
    assert (entry.pf_rom_affected, entry.pf_rom_unaffected) == (stored, stored)
    # Returned as a JSON number, never as text, by the PUT and by a GET.
    for answer in (response, client.get(entry_url(cast.episode_a.pk, day))):
        text = answer.content.decode()
        assert f'"pf_rom_affected":{shown},' in text.replace(" ", ""), text
        assert answer.json()["pf_rom_unaffected"] == float(stored)


@pytest.mark.parametrize("value", ["31.5", True, 90.05, -0.04, 90.1, -1, 1e308, [31.5]])
def test_plantar_flexion_that_is_not_a_number_from_0_to_90_is_400(cast, api, saved, value):
    client = api(cast.patient_a.user)
    before = snapshot(cast.episode_a.pk)
    for field in ("pf_rom_affected", "pf_rom_unaffected"):
        payload = {"pain_activity": 3, field: value}
        body = errors(client.put(entry_url(cast.episode_a.pk, saved.date), payload, format="json"))
        assert list(body) == [field], body
    assert snapshot(cast.episode_a.pk) == before


def test_pain_as_an_integral_json_number_is_that_integer(cast, api):
    day = cast.episode_a.start_date
    response = api(cast.patient_a.user).put(
        entry_url(cast.episode_a.pk, day),
        '{"pain_activity": 7.0, "pain_rest": 0.0}',
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert (response.json()["pain_activity"], response.json()["pain_rest"]) == (7, 0)
    entry = DailyEntry.objects.get(episode=cast.episode_a, date=day)
    assert (entry.pain_activity, entry.pain_rest) == (7, 0)


@pytest.mark.parametrize("value", ["7.5", '"7"', "true", "11.0", "-1.0", "1e400"])
def test_pain_that_is_not_a_whole_number_from_0_to_10_is_400(cast, api, saved, value):
    client = api(cast.patient_a.user)
    before = snapshot(cast.episode_a.pk)
    for field in ("pain_activity", "pain_rest"):
        other = "pain_rest" if field == "pain_activity" else "pain_activity"
        response = client.put(
            entry_url(cast.episode_a.pk, saved.date),
            f'{{"{field}": {value}, "{other}": 3}}',
            content_type="application/json",
        )
        assert list(errors(response)) == [field], response.content
    assert snapshot(cast.episode_a.pk) == before


def test_intake_plantar_flexion_is_kept_to_a_tenth(cast, api):
    response = api(cast.therapist).post(
        url("api-episode-list"),
        {
            "patient": cast.patient_b.pk,
            "affected_side": "left",
            "start_date": cast.episode_a.start_date.isoformat(),
            "intake_pain_activity": 6.0,
            "intake_pf_rom_affected": 31.25,
            "intake_pf_rom_unaffected": 30.0,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["intake_pain_activity"], body["intake_pf_rom_affected"]) == (6, 31.3)
    assert body["intake_pf_rom_unaffected"] == 30.0
    episode = Episode.objects.get(pk=body["id"])
    assert episode.intake_pf_rom_affected == Decimal("31.3")
    assert episode.intake_pf_rom_unaffected == Decimal("30.0")


# --- One validator: the page, the API and the service refuse alike ---------------------------


SAME_ERROR_CASES = [
    ("note", "x" * 5001, "x" * 5001),
    ("pain_activity", 11, "11"),
    ("pain_rest", -1, "-1"),
    ("pf_rom_affected", 91, "91"),
    ("pf_rom_unaffected", 90.05, "90.05"),
]


@pytest.mark.parametrize(("field", "value", "typed"), SAME_ERROR_CASES)
def test_the_page_the_api_and_the_service_give_the_same_error(cast, api, field, value, typed):
    episode = cast.episode_a
    today = cast.patient_a.local_today()
    values: dict[str, Any] = {"pain_activity": 3, field: value}
    if field == "pf_rom_unaffected":
        values[field] = Decimal(typed)  # what the page's form hands the service
    with pytest.raises(ValidationError) as refused:
        entry_record(actor=cast.patient_a.user, episode=episode, date=today, **values)
    service = refused.value.message_dict[field]

    body = {"pain_activity": 3, field: value}
    by_api = errors(api(cast.patient_a.user).put(entry_url(episode.pk, today), body, format="json"))
    assert by_api[field] == service

    browser = Client()
    browser.force_login(cast.patient_a.user)
    page = browser.post("/", {"pain_activity": "3", field: typed})
    assert page.status_code == 200
    assert not DailyEntry.objects.filter(episode=episode).exists()
    for message in service:
        assert escape(message) in page.content.decode()


def test_a_date_before_the_start_is_refused_alike_by_the_api_and_the_service(cast, api):
    episode = cast.episode_a
    before_start = episode.start_date - dt.timedelta(days=1)
    with pytest.raises(ValidationError) as refused:
        entry_record(actor=cast.patient_a.user, episode=episode, date=before_start, pain_activity=3)
    body = errors(
        api(cast.patient_a.user).put(
            entry_url(episode.pk, before_start), {"pain_activity": 3}, format="json"
        )
    )
    assert body["date"] == refused.value.message_dict["date"]


# --- The race guard: the unique (episode, date) constraint ----------------------------------


def test_a_concurrent_first_insert_is_retried_as_a_replace(cast, heel_raises, monkeypatch):
    """Another request inserts the day's entry between our look and our insert: the unique
    constraint refuses our row (IntegrityError), nothing of ours is kept, and the write is
    retried as a replace of that entry."""
    episode = cast.episode_a
    day = episode.start_date
    # The other request's entry, committed; our look is made as if just before it landed.
    other = DailyEntryFactory(episode=episode, date=day, pain_activity=9, note="other")
    ExerciseLogFactory(entry=other, prescription=heel_raises, sets_completed=1)
    real_select_for_update = DailyEntry.objects.select_for_update
    looks: list[int] = []

    def select_for_update(*args: Any, **kwargs: Any) -> Any:
        looks.append(1)
        if len(looks) == 1:
            return DailyEntry.objects.none()  # what our look saw: no entry yet
        return real_select_for_update(*args, **kwargs)

    monkeypatch.setattr(DailyEntry.objects, "select_for_update", select_for_update)
    result = entry_record(
        actor=cast.patient_a.user,
        episode=episode,
        date=day,
        pain_activity=4,
        exercises=[{"prescription": heel_raises.pk, "sets_completed": 3}],
        note="mine",
    )
    assert len(looks) == 2  # looked, was refused by the constraint, looked again
    assert result.created is False
    entry = DailyEntry.objects.get(episode=episode, date=day)
    assert (entry.pain_activity, entry.note) == (4, "mine")
    assert list(entry.exercises.values_list("sets_completed", flat=True)) == [3]
    actions = list(
        AuditEvent.objects.filter(object_id=str(entry.pk), object_type="rehab.dailyentry")
        .order_by("id")
        .values_list("action", flat=True)
    )
    # The refused insert left no audit row behind.
    assert actions == ["entry.replaced"]
    assert entry.pk == other.pk
