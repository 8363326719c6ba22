"""Opening, listing, referring and closing episodes."""

from __future__ import annotations

import datetime as dt

import pytest

from accounts.models import AuditEvent
from rehab.models import Episode
from tests.api.helpers import errors, ids, url
from tests.factories import EpisodeFactory

pytestmark = pytest.mark.django_db

START = dt.date(2026, 1, 5)


def new_episode(patient_id: int, **extra) -> dict:
    return {"patient": patient_id, "affected_side": "left", "start_date": "2026-01-05", **extra}


def test_open_episode_with_every_field(cast, api):
    payload = new_episode(
        cast.patient_a.pk,
        diagnosis="posterior_talar_process",
        intake_pain_activity=7,
        intake_pf_rom_affected=30,
        intake_pf_rom_unaffected=48,
        bmi=31.26,
    )
    response = api(cast.therapist).post(url("api-episode-list"), payload, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "active"
    assert body["patient"] == cast.patient_a.pk
    assert body["affected_side"] == "left"
    assert body["start_date"] == "2026-01-05"
    assert body["diagnosis"] == "posterior_talar_process"
    assert (
        body["intake_pain_activity"],
        body["intake_pf_rom_affected"],
        body["intake_pf_rom_unaffected"],
    ) == (7, 30, 48)
    assert body["bmi"] == 31.3  # a number, kept to one decimal place
    episode = Episode.objects.get(pk=body["id"])
    assert episode.created_by == cast.therapist
    assert AuditEvent.objects.filter(
        action="episode.opened",
        actor=cast.therapist,
        object_id=str(episode.pk),
        patient_id=cast.patient_a.pk,
        clinic=cast.clinic,
    ).exists()


def test_open_episode_defaults(cast, api):
    response = api(cast.admin).post(
        url("api-episode-list"), new_episode(cast.patient_b.pk), format="json"
    )
    assert response.status_code == 201
    body = response.json()
    assert body["diagnosis"] == "unspecified"
    assert body["bmi"] is None and body["intake_pain_activity"] is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("affected_side", "both"),
        ("diagnosis", "fracture"),
        ("start_date", "05/01/2026"),
        ("intake_pain_activity", 11),
        ("intake_pain_activity", -1),
        ("intake_pain_activity", "7"),
        ("intake_pain_activity", 5.5),
        ("intake_pf_rom_affected", 91),
        ("intake_pf_rom_unaffected", -1),
        ("bmi", 9.9),
        ("bmi", "heavy"),
    ],
)
def test_invalid_episode_fields_are_400(cast, api, field, value):
    client = api(cast.therapist)
    body = errors(
        client.post(
            url("api-episode-list"), new_episode(cast.patient_a.pk, **{field: value}), format="json"
        )
    )
    assert field in body
    assert Episode.objects.count() == 3


@pytest.mark.parametrize("who", ["other_patient", "unknown"])
def test_patient_out_of_reach_reads_like_unknown(cast, api, who):
    patient_id = cast.other_patient.pk if who == "other_patient" else 999_999
    body = errors(
        api(cast.therapist).post(url("api-episode-list"), new_episode(patient_id), format="json")
    )
    assert body == {"patient": ["Patient not found."]}
    assert Episode.objects.count() == 3


def test_unassigned_therapist_cannot_open_for_a_colleagues_patient(cast, api):
    body = errors(
        api(cast.therapist_2).post(
            url("api-episode-list"), new_episode(cast.patient_a.pk), format="json"
        )
    )
    assert body == {"patient": ["Patient not found."]}


def test_patient_cannot_open_episodes(cast, api):
    response = api(cast.patient_a.user).post(
        url("api-episode-list"), new_episode(cast.patient_a.pk), format="json"
    )
    assert response.status_code == 403
    assert Episode.objects.count() == 3


def test_episode_lists_are_scoped_and_filterable(cast, api):
    closed = EpisodeFactory(patient=cast.patient_a, status="closed", start_date=START)
    episodes = url("api-episode-list")
    ours = {cast.episode_a.pk, cast.episode_b.pk, closed.pk}
    assert ids(api(cast.therapist).get(episodes)) == ours
    assert ids(api(cast.admin).get(episodes)) == ours
    assert ids(api(cast.therapist_2).get(episodes)) == set()
    assert ids(api(cast.patient_a.user).get(episodes)) == {cast.episode_a.pk, closed.pk}
    assert ids(api(cast.other_therapist).get(episodes)) == {cast.other_episode.pk}

    client = api(cast.therapist)
    assert ids(client.get(episodes, {"patient": cast.patient_b.pk})) == {cast.episode_b.pk}
    assert ids(client.get(episodes, {"status": "closed"})) == {closed.pk}
    assert ids(client.get(episodes, {"patient": cast.other_patient.pk})) == set()
    assert "status" in errors(client.get(episodes, {"status": "lost"}))
    assert "patient" in errors(client.get(episodes, {"patient": "abc"}))


def test_episode_list_has_no_n_plus_one(cast, api, django_assert_max_num_queries):
    client = api(cast.therapist)
    client.get(url("api-episode-list"))
    with django_assert_max_num_queries(4):
        assert client.get(url("api-episode-list")).json()["count"] == 2
    for _ in range(6):
        EpisodeFactory(patient=cast.patient_b)
    with django_assert_max_num_queries(4):
        assert client.get(url("api-episode-list")).json()["count"] == 8


def test_episode_detail(cast, api):
    response = api(cast.patient_a.user).get(url("api-episode-detail", pk=cast.episode_a.pk))
    assert response.status_code == 200
    assert response.json()["id"] == cast.episode_a.pk
    assert response.json()["patient_name"] == cast.patient_a.user.get_full_name()


# --- Referral and closing ----------------------------------------------------------------------


def test_referral(cast, api):
    episode = cast.episode_a
    response = api(cast.therapist).post(
        url("api-episode-referral", pk=episode.pk),
        {
            "date": episode.start_date.isoformat(),
            "referred_to": "Orthopaedics, St Mary's",
            "note": "No MCID by week 6.",
        },
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "referred"
    assert body["referral_date"] == episode.start_date.isoformat()
    assert body["referred_to"] == "Orthopaedics, St Mary's"
    episode.refresh_from_db()
    assert episode.status == "referred"
    assert AuditEvent.objects.filter(
        action="episode.referred", actor=cast.therapist, object_id=str(episode.pk)
    ).exists()


def test_referral_before_start_is_400_and_changes_nothing(cast, api):
    episode = cast.episode_a
    before = episode.start_date - dt.timedelta(days=1)
    body = errors(
        api(cast.therapist).post(
            url("api-episode-referral", pk=episode.pk), {"date": before.isoformat()}, format="json"
        )
    )
    assert "date" in body
    episode.refresh_from_db()
    assert episode.status == "active" and episode.referral_date is None


def test_referral_needs_a_date(cast, api):
    response = api(cast.therapist).post(
        url("api-episode-referral", pk=cast.episode_a.pk), {}, format="json"
    )
    assert "date" in errors(response)


def test_close(cast, api):
    episode = cast.episode_b
    response = api(cast.admin).post(
        url("api-episode-close", pk=episode.pk),
        {"date": episode.start_date.isoformat(), "outcome": "resolved"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["status"] == "closed"
    assert response.json()["outcome"] == "resolved"
    assert response.json()["closed_date"] == episode.start_date.isoformat()
    assert AuditEvent.objects.filter(
        action="episode.closed", actor=cast.admin, object_id=str(episode.pk)
    ).exists()
    again = api(cast.admin).post(
        url("api-episode-close", pk=episode.pk),
        {"date": episode.start_date.isoformat(), "outcome": "discontinued"},
        format="json",
    )
    assert "non_field_errors" in errors(again)
    episode.refresh_from_db()
    assert episode.outcome == "resolved"


@pytest.mark.parametrize(
    ("field", "payload"),
    [("outcome", {"outcome": "cured"}), ("outcome", {}), ("date", {"outcome": "resolved"})],
)
def test_close_validation(cast, api, field, payload):
    body = errors(
        api(cast.therapist).post(
            url("api-episode-close", pk=cast.episode_a.pk), payload, format="json"
        )
    )
    assert field in body
    cast.episode_a.refresh_from_db()
    assert cast.episode_a.status == "active"


@pytest.mark.parametrize("name", ["api-episode-referral", "api-episode-close"])
def test_patient_may_not_refer_or_close(cast, api, name):
    client = api(cast.patient_a.user)
    payload = {"date": cast.episode_a.start_date.isoformat(), "outcome": "resolved"}
    own, other = url(name, pk=cast.episode_a.pk), url(name, pk=cast.episode_b.pk)
    assert client.post(own, payload, format="json").status_code == 403
    # Even an empty body gets 403, not a list of the fields a patient got wrong.
    assert client.post(own, {}, format="json").status_code == 403
    assert client.post(other, payload, format="json").status_code == 404
    cast.episode_a.refresh_from_db()
    assert cast.episode_a.status == "active"
