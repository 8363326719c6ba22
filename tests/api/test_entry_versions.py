"""Entry versions: ETag on GET and PUT, If-Match / If-None-Match on PUT, 412 with the stored copy,
and the retry whose values are already stored answered 200 without a write.

A phone queues a save while offline and sends it later (docs/diary.md, "Offline diary"); these
headers keep that late send from overwriting a newer copy made meanwhile.
"""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Any

import pytest

from accounts.models import AuditEvent
from rehab.models import DailyEntry
from rehab.services import EntryVersionConflict, entry_record
from rehab.versions import EntryPrecondition
from tests.api.helpers import entry_url
from tests.factories import PrescriptionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def day(cast) -> dt.date:
    return cast.episode_a.start_date + dt.timedelta(days=1)


@pytest.fixture
def heel_raises(cast):
    return PrescriptionFactory(episode=cast.episode_a, name="Double-leg heel raises", sets=3)


@pytest.fixture
def payload(heel_raises) -> dict[str, Any]:
    return {
        "pain_activity": 5,
        "pain_rest": 1,
        "pf_rom_affected": 31.5,
        "exercises": [{"prescription": heel_raises.pk, "sets_completed": 2}],
        "note": "from the bus",
    }


def _writes(entry_id: int) -> list[str]:
    return list(
        AuditEvent.objects.filter(object_type="rehab.dailyentry", object_id=str(entry_id))
        .exclude(action="entry.viewed")
        .order_by("id")
        .values_list("action", flat=True)
    )


def test_get_and_put_carry_a_strong_etag_that_changes_with_each_write(cast, api, day, payload):
    client = api(cast.patient_a.user)
    url = entry_url(cast.episode_a.pk, day)

    created = client.put(url, payload, format="json")
    assert created.status_code == 201
    first = created["ETag"]
    assert first.startswith('"') and first.endswith('"') and not first.startswith("W/")
    assert client.get(url)["ETag"] == first

    replaced = client.put(url, {**payload, "pain_activity": 6}, format="json")
    assert replaced.status_code == 200
    assert replaced["ETag"] != first
    assert client.get(url)["ETag"] == replaced["ETag"]


def test_if_none_match_star_creates_once_and_a_retry_is_200_without_a_write(
    cast, api, day, payload
):
    client = api(cast.patient_a.user)
    url = entry_url(cast.episode_a.pk, day)

    first = client.put(url, payload, format="json", headers={"If-None-Match": "*"})
    assert first.status_code == 201
    entry = DailyEntry.objects.get(episode=cast.episode_a, date=day)
    stamp = entry.updated_at

    # The answer was lost on the way back; the phone sends the same thing again.
    retry = client.put(url, payload, format="json", headers={"If-None-Match": "*"})
    assert retry.status_code == 200
    assert retry["ETag"] == first["ETag"]
    entry.refresh_from_db()
    assert entry.updated_at == stamp
    assert _writes(entry.pk) == ["entry.created"]
    assert DailyEntry.objects.filter(episode=cast.episode_a, date=day).count() == 1


def test_if_none_match_star_refuses_to_overwrite_another_entry_with_412(cast, api, day, payload):
    therapist = api(cast.therapist)
    url = entry_url(cast.episode_a.pk, day)
    kept = therapist.put(url, {"pain_activity": 8, "note": "phoned in"}, format="json")
    assert kept.status_code == 201

    late = api(cast.patient_a.user).put(url, payload, format="json", headers={"If-None-Match": "*"})
    assert late.status_code == 412
    body = late.json()
    assert (body["pain_activity"], body["note"], body["date"]) == (8, "phoned in", day.isoformat())
    assert late["ETag"] == kept["ETag"]
    entry = DailyEntry.objects.get(episode=cast.episode_a, date=day)
    assert (entry.pain_activity, entry.note, entry.recorded_by) == (8, "phoned in", cast.therapist)
    assert _writes(entry.pk) == ["entry.created"]


def test_if_match_writes_when_current_and_refuses_a_stale_version(cast, api, day, payload):
    client = api(cast.patient_a.user)
    url = entry_url(cast.episode_a.pk, day)
    opened = client.put(url, payload, format="json")["ETag"]

    # The current version: written.
    current = client.put(
        url, {**payload, "pain_activity": 4}, format="json", headers={"If-Match": opened}
    )
    assert current.status_code == 200
    assert current.json()["pain_activity"] == 4

    # The same (now stale) version again with other values: refused, nothing written.
    stale = client.put(
        url, {**payload, "pain_activity": 9}, format="json", headers={"If-Match": opened}
    )
    assert stale.status_code == 412
    assert stale.json()["pain_activity"] == 4
    assert DailyEntry.objects.get(episode=cast.episode_a, date=day).pain_activity == 4

    # The stale version with exactly the stored values (a retry of the write above): 200.
    retry = client.put(
        url, {**payload, "pain_activity": 4}, format="json", headers={"If-Match": opened}
    )
    assert retry.status_code == 200
    assert retry["ETag"] == current["ETag"]
    entry = DailyEntry.objects.get(episode=cast.episode_a, date=day)
    assert _writes(entry.pk) == ["entry.created", "entry.replaced"]


def test_equal_values_means_exercises_too(cast, api, day, payload, heel_raises):
    client = api(cast.patient_a.user)
    url = entry_url(cast.episode_a.pk, day)
    opened = client.put(url, payload, format="json")["ETag"]
    client.put(url, {**payload, "note": "changed"}, format="json")

    other_sets = {**payload, "note": "changed", "exercises": []}
    response = client.put(url, other_sets, format="json", headers={"If-Match": opened})
    assert response.status_code == 412
    assert response.json()["exercises"][0]["sets_completed"] == 2


def test_if_match_accepts_the_weak_form_that_gzip_gives_the_tag(cast, api, day, payload):
    client = api(cast.patient_a.user)
    url = entry_url(cast.episode_a.pk, day)
    opened = client.put(url, payload, format="json")["ETag"]
    response = client.put(
        url, {**payload, "pain_rest": 3}, format="json", headers={"If-Match": f"W/{opened}"}
    )
    assert response.status_code == 200


def test_if_match_on_a_deleted_entry_is_412(cast, api, day, payload):
    client = api(cast.patient_a.user)
    url = entry_url(cast.episode_a.pk, day)
    opened = client.put(url, payload, format="json")["ETag"]
    assert client.delete(url).status_code == 204

    response = client.put(url, payload, format="json", headers={"If-Match": opened})
    assert response.status_code == 412
    assert "deleted" in response.json()["detail"]
    assert not DailyEntry.objects.filter(episode=cast.episode_a, date=day).exists()


def test_without_the_headers_put_overwrites_as_before(cast, api, day, payload):
    url = entry_url(cast.episode_a.pk, day)
    api(cast.therapist).put(url, {"pain_activity": 8}, format="json")
    response = api(cast.patient_a.user).put(url, payload, format="json")
    assert response.status_code == 200
    assert response.json()["pain_activity"] == 5


def test_a_bad_body_is_400_before_any_precondition(cast, api, day):
    url = entry_url(cast.episode_a.pk, day)
    response = api(cast.patient_a.user).put(
        url, {"pain_activity": 11}, format="json", headers={"If-Match": '"stale"'}
    )
    assert response.status_code == 400
    assert "pain_activity" in response.json()


@pytest.mark.parametrize("same_values", [True, False])
def test_a_concurrent_first_insert_is_checked_against_the_precondition_again(
    cast, heel_raises, monkeypatch, same_values
):
    """Two phones send the same day with If-None-Match: * at once. The loser's insert is refused
    by the unique constraint; on the retry under the row lock it finds the winner's entry: equal
    values → returned unwritten, other values → EntryVersionConflict."""
    episode = cast.episode_a
    day = episode.start_date
    winner = entry_record(actor=cast.patient_a.user, episode=episode, date=day, pain_activity=4)
    real_select_for_update = DailyEntry.objects.select_for_update
    looks: list[int] = []

    def select_for_update(*args: Any, **kwargs: Any) -> Any:
        looks.append(1)
        if len(looks) == 1:
            return DailyEntry.objects.none()  # our first look: no entry yet
        return real_select_for_update(*args, **kwargs)

    monkeypatch.setattr(DailyEntry.objects, "select_for_update", select_for_update)
    call = partial(
        entry_record,
        actor=cast.patient_a.user,
        episode=episode,
        date=day,
        pain_activity=4 if same_values else 5,
        precondition=EntryPrecondition(if_none_match=("*",)),
    )
    if same_values:
        result = call()
        assert (result.created, result.written) == (False, False)
    else:
        with pytest.raises(EntryVersionConflict) as conflict:
            call()
        assert conflict.value.entry is not None and conflict.value.entry.pain_activity == 4
    assert len(looks) == 2
    entry = DailyEntry.objects.get(episode=episode, date=day)
    assert entry.updated_at == winner.entry.updated_at
    assert _writes(entry.pk) == ["entry.created"]
