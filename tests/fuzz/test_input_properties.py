"""No invalid value is ever stored: daily entries and episodes fed random values (hypothesis).

Each field gets anything: None, booleans, small and huge integers, floats with NaN and infinity,
decimals, numbers as text, other text, and (through the API) lists and objects. The services are
called directly and through the HTTP API. After every example:

- the call either stored a valid row or was refused (ValidationError from a service, 400 from
  the API; never a 500),
- a refused call left the entry it aimed at exactly as it was,
- every row in the tables satisfies the input rules of docs/clinical-rules.md.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from accounts.models import User
from rehab.models import DailyEntry, Diagnosis, Episode, ExerciseLog, Prescription, Side
from rehab.services import (
    BMI_MAX,
    BMI_MIN,
    DATE_MAX,
    DATE_MIN,
    MAX_SETS,
    PAIN_MAX,
    PAIN_MIN,
    ROM_MAX,
    ROM_MIN,
    entry_record,
    episode_open,
)
from tests.conftest import Cast
from tests.factories import PrescriptionFactory

pytestmark = [pytest.mark.fuzz, pytest.mark.django_db]

# Bounded and the same on every run for CI; PAIS_FUZZ_RANDOM=1 PAIS_PROPERTY_EXAMPLES=2000 hunts.
PROPERTY = settings(
    max_examples=int(os.environ.get("PAIS_PROPERTY_EXAMPLES", "120")),
    deadline=None,
    derandomize=os.environ.get("PAIS_FUZZ_RANDOM") != "1",
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Any scalar a client or a caller could send for a number.
SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-3, max_value=100),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.sampled_from(["", "5", "5.0", " 7", "1e1", "seven", "0x5", "٣"]),
    st.text(max_size=6),
)
# Any JSON value, for bodies sent through the API.
JSON_VALUE = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-3, max_value=100),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=6),
    ),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=6,
)

# A note as a person types it: DRF refuses NUL (PostgreSQL cannot store it) and lone surrogates.
NOTE = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=40)

ENTRY_NUMBERS = ("pain_activity", "pain_rest", "pf_rom_affected", "pf_rom_unaffected")
INTAKE_NUMBERS = ("intake_pain_activity", "intake_pf_rom_affected", "intake_pf_rom_unaffected")
RANGES = {
    "pain_activity": (PAIN_MIN, PAIN_MAX),
    "pain_rest": (PAIN_MIN, PAIN_MAX),
    "pf_rom_affected": (ROM_MIN, ROM_MAX),
    "pf_rom_unaffected": (ROM_MIN, ROM_MAX),
    "intake_pain_activity": (PAIN_MIN, PAIN_MAX),
    "intake_pf_rom_affected": (ROM_MIN, ROM_MAX),
    "intake_pf_rom_unaffected": (ROM_MIN, ROM_MAX),
}


ROM_NAMES = frozenset(
    {"pf_rom_affected", "pf_rom_unaffected", "intake_pf_rom_affected", "intake_pf_rom_unaffected"}
)


def number_for(name: str, *, json: bool = False) -> st.SearchStrategy[Any]:
    """A valid value: anywhere in the field's range, its edges included.

    Pain: a whole number (through the API also as an integral JSON number, 7.0). Plantar flexion:
    a whole number or one with decimals, which is kept to 0.1° (a Decimal for the service, a
    JSON number for the API).
    """
    low, high = RANGES[name]
    whole = st.integers(min_value=low, max_value=high)
    if name in ROM_NAMES:
        if json:
            return st.one_of(whole, st.floats(min_value=low, max_value=high))
        return st.one_of(whole, st.decimals(min_value=low, max_value=high, places=3))
    return st.one_of(whole, whole.map(float)) if json else whole


def edge_or(name: str, junk: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A value for a field chosen to go wrong: just past an edge of its range, or junk."""
    low, high = RANGES[name]
    return st.one_of(st.sampled_from([low - 1, high + 1]), junk)


def corrupted(fields: tuple[str, ...]) -> st.SearchStrategy[set[str]]:
    """Which fields of an example get a wrong value. Often none (the example must then be
    stored), otherwise a few at a time, so every way of being wrong is tried on its own and in
    company."""
    return st.sets(st.sampled_from(fields), max_size=3)


def _is_int_in(value: Any, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _is_degrees_in(value: Any, low: int, high: int) -> bool:
    """Plantar flexion as stored: a Decimal in range, kept to 0.1° (docs/clinical-rules.md)."""
    return (
        isinstance(value, Decimal)
        and value.is_finite()
        and low <= value <= high
        and value == value.quantize(Decimal("0.1"))
    )


def assert_every_entry_valid() -> int:
    """The input rules for entries, checked on every stored row; returns how many were read."""
    checked = 0
    for entry in DailyEntry.objects.select_related("episode__patient"):
        assert _is_int_in(entry.pain_activity, PAIN_MIN, PAIN_MAX), entry.pain_activity
        assert entry.pain_rest is None or _is_int_in(entry.pain_rest, PAIN_MIN, PAIN_MAX)
        for name in ("pf_rom_affected", "pf_rom_unaffected"):
            value = getattr(entry, name)
            assert value is None or _is_degrees_in(value, ROM_MIN, ROM_MAX), (name, value)
        episode = entry.episode
        assert episode.start_date <= entry.date <= episode.patient.local_today()
        assert isinstance(entry.note, str)
        checked += 1
    for log in ExerciseLog.objects.select_related("entry", "prescription"):
        assert log.prescription.episode_id == log.entry.episode_id
        assert log.prescription.is_active_on(log.entry.date)
        assert _is_int_in(log.sets_completed, 0, MAX_SETS), log.sets_completed
    return checked


def assert_every_episode_valid() -> int:
    checked = 0
    for episode in Episode.objects.all():
        assert episode.affected_side in Side.values, episode.affected_side
        assert episode.diagnosis in Diagnosis.values, episode.diagnosis
        assert DATE_MIN <= episode.start_date <= DATE_MAX, episode.start_date
        assert _is_int_in(episode.intake_pain_activity or 0, PAIN_MIN, PAIN_MAX)
        for rom in (episode.intake_pf_rom_affected, episode.intake_pf_rom_unaffected):
            assert rom is None or _is_degrees_in(rom, ROM_MIN, ROM_MAX), rom
        if episode.bmi is not None:
            assert isinstance(episode.bmi, Decimal) and BMI_MIN <= episode.bmi <= BMI_MAX
        checked += 1
    return checked


def snapshot(episode: Episode, date: dt.date) -> tuple[Any, ...] | None:
    entry = DailyEntry.objects.filter(episode=episode, date=date).first()
    if entry is None:
        return None
    logs = sorted(entry.exercises.values_list("prescription_id", "sets_completed"))
    return (
        *(getattr(entry, name) for name in ENTRY_NUMBERS),
        entry.note,
        entry.updated_at,
        tuple(logs),
    )


@pytest.fixture
def prescriptions(cast: Cast) -> list[Prescription]:
    episode = cast.episode_a
    return [
        PrescriptionFactory(episode=episode),
        # Ends on day 5: an entry after that cannot log it.
        PrescriptionFactory(
            episode=episode, name="Calf stretch", end_date=episode.start_date + dt.timedelta(5)
        ),
        # Another episode's: never loggable on episode A.
        PrescriptionFactory(episode=cast.episode_b),
    ]


def _exercises(
    prescription_ids: list[int], *, corrupt: bool, junk: st.SearchStrategy[Any]
) -> st.SearchStrategy[Any]:
    valid_item = st.fixed_dictionaries(
        {
            "prescription": st.sampled_from(prescription_ids[:1]),
            "sets_completed": st.integers(min_value=0, max_value=MAX_SETS),
        }
    )
    if not corrupt:
        return st.one_of(st.none(), st.just([]), st.lists(valid_item, max_size=1))
    wrong_item = st.fixed_dictionaries(
        {
            # The second prescription ended on day 5, the third is another episode's.
            "prescription": st.one_of(st.sampled_from(prescription_ids), junk),
            "sets_completed": st.one_of(st.sampled_from([-1, MAX_SETS + 1]), junk),
        }
    )
    return st.one_of(junk, st.lists(st.one_of(valid_item, wrong_item, junk), max_size=3))


def _dates(episode: Episode, *, corrupt: bool) -> st.SearchStrategy[dt.date]:
    today = dt.date.today()
    if not corrupt:
        return st.dates(min_value=episode.start_date, max_value=today)
    # Before the start, or after today (the patient's zone is UTC), by up to a week.
    return st.one_of(
        st.dates(episode.start_date - dt.timedelta(days=7), episode.start_date),
        st.dates(today + dt.timedelta(days=1), today + dt.timedelta(days=7)),
    )


ENTRY_FIELDS = (*ENTRY_NUMBERS, "date", "exercises")
EPISODE_FIELDS = ("patient", "affected_side", "diagnosis", "start_date", "bmi", *INTAKE_NUMBERS)


@PROPERTY
@given(data=st.data())
def test_entry_service_stores_only_valid_values(
    data: st.DataObject, cast: Cast, prescriptions: list[Prescription]
) -> None:
    episode = cast.episode_a
    actor = data.draw(st.sampled_from([cast.patient_a.user, cast.therapist, cast.admin]))
    wrong = data.draw(corrupted(ENTRY_FIELDS), label="corrupted")
    date = data.draw(_dates(episode, corrupt="date" in wrong), label="date")
    numbers = {
        name: data.draw(edge_or(name, SCALAR) if name in wrong else number_for(name), label=name)
        for name in ENTRY_NUMBERS
    }
    exercises = data.draw(
        _exercises([p.pk for p in prescriptions], corrupt="exercises" in wrong, junk=SCALAR),
        label="exercises",
    )
    note = data.draw(st.one_of(st.none(), NOTE), label="note")
    before = snapshot(episode, date)
    try:
        entry_record(
            actor=actor, episode=episode, date=date, exercises=exercises, note=note, **numbers
        )
        event("stored")
    except ValidationError as refused:
        event("refused")
        assert snapshot(episode, date) == before
        # Only a field given a wrong value can be named (a "wrong" one may be right by chance),
        # and the exercises when the date is wrong (a prescription is active on some dates).
        named = wrong | ({"exercises"} if "date" in wrong else set())
        assert set(refused.message_dict) <= named, (wrong, refused.message_dict)
    assert_every_entry_valid()


@PROPERTY
@given(data=st.data())
def test_entry_api_stores_only_valid_values(
    data: st.DataObject, cast: Cast, prescriptions: list[Prescription], api: Any
) -> None:
    episode = cast.episode_a
    client: APIClient = _client(api, data.draw(st.sampled_from(["patient", "therapist"])), cast)
    wrong = data.draw(corrupted((*ENTRY_FIELDS, "note", "path")), label="corrupted")
    date = data.draw(_dates(episode, corrupt="date" in wrong).map(dt.date.isoformat))
    if "path" in wrong:
        # Not a date at all, but still one path segment.
        date = data.draw(
            st.text(st.characters(exclude_characters="/?#%", codec="utf-8"), min_size=1)
        )
    body: dict[str, Any] = {}
    for name in ENTRY_NUMBERS:
        if name in wrong:
            body[name] = data.draw(edge_or(name, JSON_VALUE), label=name)
        elif name == "pain_activity" or data.draw(st.booleans(), label=f"send {name}"):
            body[name] = data.draw(number_for(name, json=True), label=name)
    exercises = data.draw(
        _exercises([p.pk for p in prescriptions], corrupt="exercises" in wrong, junk=JSON_VALUE)
    )
    if exercises is not None or "exercises" in wrong:
        # The API takes a list or nothing: a valid null is sent as no key at all.
        body["exercises"] = exercises
    body["note"] = data.draw(JSON_VALUE if "note" in wrong else NOTE)
    parsed_date = _parse_date(date)
    before = snapshot(episode, parsed_date) if parsed_date else None

    response = client.put(
        f"/api/v1/episodes/{episode.pk}/entries/{date}/",
        data=json.dumps(body),
        content_type="application/json",
    )

    event(f"status {response.status_code}")
    if not wrong:
        assert response.status_code in {200, 201}, (body, response.content)
    assert response.status_code in {200, 201, 400, 404}, (response.status_code, body)
    if response.status_code in (400, 404) and parsed_date:
        assert snapshot(episode, parsed_date) == before
    assert_every_entry_valid()


def test_entry_api_refuses_nan_and_infinity(cast: Cast, api: Any) -> None:
    # JSON has no NaN; Python's json writes it anyway. The parser must refuse, not store.
    client = api(cast.patient_a.user)
    day = cast.episode_a.start_date.isoformat()
    for token in ("NaN", "Infinity", "-Infinity"):
        response = client.put(
            f"/api/v1/episodes/{cast.episode_a.pk}/entries/{day}/",
            data=f'{{"pain_activity": {token}}}',
            content_type="application/json",
        )
        assert response.status_code == 400, (token, response.content)
    assert not DailyEntry.objects.exists()


@PROPERTY
@given(data=st.data())
def test_episode_service_stores_only_valid_values(data: st.DataObject, cast: Cast) -> None:
    actor = data.draw(st.sampled_from([cast.therapist, cast.admin]))
    wrong = data.draw(corrupted(EPISODE_FIELDS[1:]), label="corrupted")

    def draw(name: str, valid: st.SearchStrategy[Any], junk: st.SearchStrategy[Any]) -> Any:
        return data.draw(junk if name in wrong else valid, label=name)

    fields: dict[str, Any] = {
        "affected_side": draw("affected_side", st.sampled_from(Side.values), SCALAR),
        "diagnosis": draw("diagnosis", st.sampled_from(Diagnosis.values), SCALAR),
        "start_date": draw("start_date", st.dates(DATE_MIN, DATE_MAX), st.dates()),
        **{name: draw(name, number_for(name), edge_or(name, SCALAR)) for name in INTAKE_NUMBERS},
        # The service takes a Decimal (the API's serializer makes one): any Decimal, or None.
        "bmi": draw(
            "bmi",
            st.one_of(st.none(), st.decimals(min_value=BMI_MIN, max_value=BMI_MAX, places=1)),
            st.decimals(allow_nan=True, allow_infinity=True),
        ),
    }
    count = Episode.objects.count()
    try:
        episode_open(actor=actor, patient=cast.patient_a, **fields)
        event("stored")
    except ValidationError as refused:
        event("refused")
        assert Episode.objects.count() == count
        assert set(refused.message_dict) <= wrong, (wrong, refused.message_dict)
    assert_every_episode_valid()


@PROPERTY
@given(data=st.data())
def test_episode_api_stores_only_valid_values(data: st.DataObject, cast: Cast, api: Any) -> None:
    client = _client(api, data.draw(st.sampled_from(["therapist", "admin"])), cast)
    wrong = data.draw(corrupted(EPISODE_FIELDS), label="corrupted")
    valid: dict[str, st.SearchStrategy[Any]] = {
        "patient": st.just(cast.patient_a.pk),
        "affected_side": st.sampled_from(Side.values),
        "diagnosis": st.sampled_from(Diagnosis.values),
        "start_date": st.dates(DATE_MIN, DATE_MAX).map(dt.date.isoformat),
        "bmi": st.one_of(
            st.none(),
            st.decimals(min_value=BMI_MIN, max_value=BMI_MAX, places=2).map(float),
            st.decimals(min_value=BMI_MIN, max_value=BMI_MAX, places=3).map(str),
        ),
        **{name: number_for(name, json=True) for name in INTAKE_NUMBERS},
    }
    junk: dict[str, st.SearchStrategy[Any]] = {
        # Another clinic's patient, or anything.
        "patient": st.one_of(st.just(cast.other_patient.pk), JSON_VALUE),
        "start_date": st.one_of(st.dates().map(dt.date.isoformat), JSON_VALUE),
        "bmi": st.one_of(st.sampled_from(["9.9", "80.1", "NaN", "Infinity", "1e3"]), JSON_VALUE),
        **{name: edge_or(name, JSON_VALUE) for name in INTAKE_NUMBERS},
    }
    required = {"patient", "affected_side", "start_date"}
    body: dict[str, Any] = {}
    for name in EPISODE_FIELDS:
        if name in wrong:
            # Left out (a required one then is wrong), or a wrong value.
            if data.draw(st.integers(0, 4), label=f"omit {name}") == 0:
                continue
            body[name] = data.draw(junk.get(name, JSON_VALUE), label=name)
        elif name in required or data.draw(st.booleans(), label=f"send {name}"):
            body[name] = data.draw(valid[name], label=name)
    count = Episode.objects.count()

    response = client.post(
        "/api/v1/episodes/", data=json.dumps(body), content_type="application/json"
    )

    event(f"status {response.status_code}")
    if not wrong:
        assert response.status_code == 201, (body, response.content)
    assert response.status_code in {201, 400}, (response.status_code, body, response.content)
    assert Episode.objects.count() == count + (response.status_code == 201)
    assert_every_episode_valid()


def test_the_checks_see_the_rows_they_check(cast: Cast, api: Any) -> None:
    """The property tests would pass vacuously if nothing were ever stored: a valid entry and a
    valid episode are stored and read back by the same checks."""
    day = cast.episode_a.start_date
    entry_record(actor=cast.patient_a.user, episode=cast.episode_a, date=day, pain_activity=4)
    response = api(cast.therapist).post(
        "/api/v1/episodes/",
        data={"patient": cast.patient_a.pk, "affected_side": "left", "start_date": str(day)},
        format="json",
    )
    assert response.status_code == 201
    assert assert_every_entry_valid() == 1
    assert assert_every_episode_valid() == Episode.objects.count() >= 4


def _client(api: Any, role: str, cast: Cast) -> APIClient:
    user: User = {"patient": cast.patient_a.user, "therapist": cast.therapist, "admin": cast.admin}[
        role
    ]
    client: APIClient = api(user)
    return client


def _parse_date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


@PROPERTY
@given(data=st.data())
def test_plantar_flexion_is_stored_rounded_half_away_from_zero_to_a_tenth(
    data: st.DataObject, cast: Cast, api: Any
) -> None:
    # Thousandths in range; the tenth they round to, worked out on integers: half a tenth
    # (50 thousandths) and more goes up.
    thousandths = data.draw(st.integers(min_value=ROM_MIN * 1000, max_value=ROM_MAX * 1000))
    expected = Decimal((thousandths + 50) // 100) / 10
    sent = Decimal(thousandths) / 1000
    day = cast.episode_a.start_date
    via_api = data.draw(st.booleans(), label="through the API")
    if via_api:
        response = api(cast.patient_a.user).put(
            f"/api/v1/episodes/{cast.episode_a.pk}/entries/{day.isoformat()}/",
            # The number exactly as written, e.g. 31.250.
            data=f'{{"pain_activity": 3, "pf_rom_affected": {sent}}}',
            content_type="application/json",
        )
        assert response.status_code in {200, 201}, response.content
        assert response.json()["pf_rom_affected"] == float(expected)
    else:
        entry_record(
            actor=cast.patient_a.user,
            episode=cast.episode_a,
            date=day,
            pain_activity=3,
            pf_rom_affected=sent,
        )
    stored = DailyEntry.objects.get(episode=cast.episode_a, date=day).pf_rom_affected
    assert stored == expected, (sent, stored, expected)
    assert_every_entry_valid()
