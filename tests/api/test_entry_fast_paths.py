"""The entry PUT's shortcuts agree with the serializers they stand in for.

``entry_input_plainly_valid`` must never accept what ``EntryInputSerializer`` refuses, and must
give the same validated data for what it accepts; ``entry_representation`` must show an entry
exactly as ``EntrySerializer`` does.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rehab.api.serializers import (
    EntryInputSerializer,
    EntrySerializer,
    entry_input_plainly_valid,
    entry_representation,
)
from rehab.models import DailyEntry
from tests.api.helpers import entry_url
from tests.factories import DailyEntryFactory, ExerciseLogFactory, PrescriptionFactory

NUMBER = st.one_of(
    st.integers(min_value=-2, max_value=100),
    st.integers(),
    st.none(),
    st.booleans(),
    st.floats(allow_nan=False),
    st.text(max_size=3),
)
TEXT = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["", "  ", " ok ", "a\x00b", "\ud800", "x" * 5000, " " + "x" * 5000 + " "]),
    st.just("x" * 5001),
    st.none(),
    st.integers(),
    st.booleans(),
)
EXERCISE = st.one_of(
    st.fixed_dictionaries(
        {"prescription": NUMBER, "sets_completed": NUMBER},
        optional={"extra": st.integers()},
    ),
    st.dictionaries(st.sampled_from(["prescription", "sets_completed"]), NUMBER),
    NUMBER,
)
BODY = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "pain_activity": NUMBER,
            "pain_rest": NUMBER,
            "pf_rom_affected": NUMBER,
            "pf_rom_unaffected": NUMBER,
            "exercises": st.one_of(st.lists(EXERCISE, max_size=4), NUMBER, st.just({})),
            "note": TEXT,
            "unknown": NUMBER,
        },
    ),
    st.lists(st.integers(), max_size=2),
    NUMBER,
)


def _serializer(data: Any) -> dict[str, Any] | None:
    serializer = EntryInputSerializer(data=data)
    if not serializer.is_valid():
        return None
    values = dict(serializer.validated_data)
    values["exercises"] = [dict(item) for item in values["exercises"]]
    return values


@settings(max_examples=400, deadline=None, derandomize=True)
@given(BODY)
def test_the_shortcut_accepts_only_what_the_serializer_accepts_and_agrees(data):
    fast = entry_input_plainly_valid(data)
    if fast is not None:
        assert fast == _serializer(data)


@pytest.mark.parametrize(
    "data",
    [
        {"pain_activity": 0},
        {"pain_activity": 10, "pain_rest": None, "pf_rom_affected": 0, "pf_rom_unaffected": 90},
        {"pain_activity": 4, "exercises": [{"prescription": 7, "sets_completed": 0}], "note": "x "},
        {"pain_activity": 4, "exercises": [{"prescription": 7, "sets_completed": 50, "y": 1}]},
        {"pain_activity": 4, "note": " " + "é" * 5000 + "\n"},
    ],
)
def test_the_shortcut_takes_the_common_bodies(data):
    # Not needed for correctness, but the PUT is only cheaper if they do not fall back.
    assert entry_input_plainly_valid(data) == _serializer(data)


@pytest.mark.django_db
@pytest.mark.parametrize("zone", ["UTC", "Pacific/Auckland"])
def test_the_put_shows_the_entry_as_the_serializer_does(cast, api, settings, zone):
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
    response = api(cast.patient_a.user).put(entry_url(cast.episode_a.pk, day), body, format="json")
    assert response.status_code == 201
    stored = DailyEntry.objects.prefetch_related("exercises__prescription").get(
        episode=cast.episode_a, date=day
    )
    assert json.loads(response.content) == json.loads(json.dumps(EntrySerializer(stored).data))


@pytest.mark.django_db
def test_the_representation_equals_the_serializer_for_stored_entries(cast):
    heel = PrescriptionFactory(episode=cast.episode_a, sets=3)
    bare = DailyEntryFactory(
        episode=cast.episode_a,
        date=cast.episode_a.start_date,
        pain_rest=None,
        pf_rom_affected=None,
        pf_rom_unaffected=None,
        note="",
    )
    full = DailyEntryFactory(
        episode=cast.episode_a,
        date=cast.episode_a.start_date + dt.timedelta(days=1),
        pain_rest=0,
        pf_rom_affected=0,
        pf_rom_unaffected=90,
        note="ünïcode",
    )
    ExerciseLogFactory(entry=full, prescription=heel, sets_completed=2)
    for entry in DailyEntry.objects.prefetch_related("exercises__prescription").filter(
        pk__in=[bare.pk, full.pk]
    ):
        assert entry_representation(entry) == EntrySerializer(entry).data
