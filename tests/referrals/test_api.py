"""The referral follow-up through the API: record, correct, withdraw, list (docs/api.md)."""

from __future__ import annotations

import datetime as dt

import pytest

from accounts.models import AuditEvent
from rehab.models import Episode, ReferralChange, ReferralFollowUp
from tests.api.helpers import errors, ids, url
from tests.factories import EpisodeFactory
from tests.referrals.helpers import follow_up_url, refer

pytestmark = pytest.mark.django_db


def _day(episode: Episode, offset: int) -> str:
    return (episode.patient.local_today() + dt.timedelta(days=offset)).isoformat()


def test_therapist_records_appointment_then_outcome_with_history_and_audit(cast, api):
    episode = refer(api, cast.therapist, cast.episode_a, days_ago=10)
    client = api(cast.therapist)

    body = client.get(follow_up_url(episode)).json()
    assert body["referral_date"] == _day(episode, -10)
    assert body["days_since_referral"] == 10
    assert (body["appointment_date"], body["outcome"], body["follow_up_due"]) == (None, "", False)

    response = client.patch(
        follow_up_url(episode), {"appointment_date": _day(episode, 5)}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["appointment_date"] == _day(episode, 5)

    response = client.patch(
        follow_up_url(episode),
        {
            "outcome": "surgery_scheduled",
            "outcome_date": _day(episode, 0),
            "surgery_date": _day(episode, 30),
            "note": "Arthroscopic os trigonum excision.",
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    # The appointment given earlier is kept: fields left out keep their values.
    assert body["appointment_date"] == _day(episode, 5)
    assert (body["outcome"], body["outcome_date"], body["surgery_date"]) == (
        "surgery_scheduled",
        _day(episode, 0),
        _day(episode, 30),
    )
    assert body["updated_by"] == cast.therapist.pk
    history = body["history"]
    assert [h["action"] for h in history] == ["follow_up", "follow_up"]
    assert history[0]["old_values"]["outcome"] == ""
    assert history[0]["new_values"]["outcome"] == "surgery_scheduled"
    assert history[1]["old_values"] is None
    assert history[0]["changed_by"] == cast.therapist.pk
    follow_up = ReferralFollowUp.objects.get(episode=episode)
    assert (
        AuditEvent.objects.filter(
            action="referral.follow_up_recorded",
            actor=cast.therapist,
            object_id=str(follow_up.pk),
            patient_id=cast.patient_a.pk,
        ).count()
        == 2
    )
    # The same PATCH again changes nothing and writes nothing.
    client.patch(follow_up_url(episode), {"appointment_date": _day(episode, 5)}, format="json")
    assert ReferralChange.objects.filter(episode=episode).count() == 2


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"outcome": "seen"}, "outcome_date"),
        ({"outcome_date": "TODAY"}, "outcome"),
        ({"outcome": "surgery_scheduled", "outcome_date": "TODAY"}, "surgery_date"),
        ({"outcome": "seen", "outcome_date": "TODAY", "surgery_date": "TODAY"}, "surgery_date"),
        ({"outcome": "operated"}, "outcome"),
        ({"appointment_date": "BEFORE_REFERRAL"}, "appointment_date"),
        ({"outcome": "seen", "outcome_date": "TOMORROW"}, "outcome_date"),
        ({"appointment_date": "2026-13-01"}, "appointment_date"),
        ({"note": "x" * 5001}, "note"),
    ],
)
def test_bad_follow_up_is_400_naming_the_field_and_saves_nothing(cast, api, payload, field):
    episode = refer(api, cast.therapist, cast.episode_a, days_ago=3)
    words = {
        "TODAY": _day(episode, 0),
        "TOMORROW": _day(episode, 1),
        "BEFORE_REFERRAL": _day(episode, -4),
    }
    payload = {k: words.get(v, v) if isinstance(v, str) else v for k, v in payload.items()}
    response = api(cast.therapist).patch(follow_up_url(episode), payload, format="json")
    assert field in errors(response), response.json()
    assert not ReferralFollowUp.objects.filter(episode=episode).exists()
    assert not ReferralChange.objects.exists()


def test_follow_up_of_an_episode_without_referral_is_400(cast, api):
    response = api(cast.therapist).patch(
        follow_up_url(cast.episode_a), {"appointment_date": _day(cast.episode_a, 3)}, format="json"
    )
    assert "non_field_errors" in errors(response)
    body = api(cast.therapist).get(follow_up_url(cast.episode_a)).json()
    assert body["referral_date"] is None and body["history"] == []


def test_follow_up_reach_patient_403_outsiders_404(cast, api):
    episode = refer(api, cast.therapist, cast.episode_a, days_ago=3)
    payload = {"appointment_date": _day(episode, 3)}
    assert api(cast.patient_a.user).get(follow_up_url(episode)).status_code == 403
    assert api(cast.patient_a.user).patch(follow_up_url(episode), payload).status_code == 403
    for outsider in (cast.therapist_2, cast.other_therapist, cast.patient_b.user):
        client = api(outsider)
        assert client.get(follow_up_url(episode)).status_code == 404
        assert client.patch(follow_up_url(episode), payload, format="json").status_code == 404
    assert api(cast.admin).get(follow_up_url(episode)).status_code == 200
    assert not ReferralFollowUp.objects.exists()


def test_referral_list_filters_and_reach(cast, api):
    today = cast.patient_a.local_today()
    waiting = refer(api, cast.therapist, cast.episode_a, days_ago=20)
    booked = refer(api, cast.therapist, cast.episode_b, days_ago=20)
    api(cast.therapist).patch(
        follow_up_url(booked),
        {"outcome": "surgery_declined", "outcome_date": today.isoformat()},
        format="json",
    )
    other = refer(api, cast.other_therapist, cast.other_episode, days_ago=30)
    EpisodeFactory(patient=cast.patient_a)  # active: not a referral

    client = api(cast.therapist)
    response = client.get(url("api-referral-list"))
    assert ids(response) == {waiting.pk, booked.pk}
    first = response.json()["results"][0]
    assert first["id"] == waiting.pk  # follow-up due first
    assert first["follow_up_due"] is True and first["days_since_referral"] == 20
    assert first["referred_to"] == "Mr Okafor, foot and ankle surgeon"
    assert first["patient"] == cast.patient_a.pk and first["status"] == "referred"
    assert ids(client.get(url("api-referral-list"), {"show": "due"})) == {waiting.pk}
    assert ids(client.get(url("api-referral-list"), {"show": "awaiting"})) == {waiting.pk}
    assert ids(client.get(url("api-referral-list"), {"show": "outcome"})) == {booked.pk}
    assert "show" in errors(client.get(url("api-referral-list"), {"show": "everything"}))
    assert ids(api(cast.admin).get(url("api-referral-list"))) == {waiting.pk, booked.pk}
    assert ids(api(cast.therapist_2).get(url("api-referral-list"))) == set()
    assert ids(api(cast.other_therapist).get(url("api-referral-list"))) == {other.pk}
    assert api(cast.patient_a.user).get(url("api-referral-list")).status_code == 403
    assert AuditEvent.objects.filter(
        action="referrals.listed", actor=cast.therapist, item_count=2
    ).exists()


def test_correct_referral_needs_a_reason_and_keeps_old_and_new_values(cast, api):
    episode = refer(api, cast.therapist, cast.episode_a, days_ago=5, note="typo here")
    client = api(cast.therapist)
    referral = url("api-episode-referral", pk=episode.pk)
    new_date = _day(episode, -6)

    assert "reason" in errors(client.patch(referral, {"date": new_date}, format="json"))
    assert "reason" in errors(
        client.patch(referral, {"date": new_date, "reason": "  "}, format="json")
    )
    future = client.patch(referral, {"date": _day(episode, 1), "reason": "x"}, format="json")
    assert "date" in errors(future)
    episode.refresh_from_db()
    assert episode.referral_date.isoformat() == _day(episode, -5)

    response = client.patch(
        referral,
        {"date": new_date, "referred_to": "City Orthopaedics", "reason": "Wrong day typed."},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["referral_date"], body["referred_to"], body["referral_note"]) == (
        new_date,
        "City Orthopaedics",
        "typo here",
    )
    change = ReferralChange.objects.get(episode=episode, action="corrected")
    assert change.reason == "Wrong day typed."
    assert change.old_values == {
        "date": _day(episode, -5),
        "referred_to": "Mr Okafor, foot and ankle surgeon",
        "note": "typo here",
    }
    assert change.new_values["date"] == new_date and change.changed_by == cast.therapist
    assert AuditEvent.objects.filter(
        action="referral.corrected", actor=cast.therapist, object_id=str(episode.pk)
    ).exists()


def test_referral_date_cannot_move_after_the_recorded_appointment(cast, api):
    episode = refer(api, cast.therapist, cast.episode_a, days_ago=10)
    client = api(cast.therapist)
    client.patch(follow_up_url(episode), {"appointment_date": _day(episode, -8)}, format="json")
    response = client.patch(
        url("api-episode-referral", pk=episode.pk),
        {"date": _day(episode, -7), "reason": "later"},
        format="json",
    )
    assert "date" in errors(response)


def test_withdraw_referral_makes_the_episode_active_again(cast, api):
    episode = refer(api, cast.therapist, cast.episode_a, days_ago=5)
    client = api(cast.therapist)
    client.patch(follow_up_url(episode), {"appointment_date": _day(episode, 3)}, format="json")
    referral = url("api-episode-referral", pk=episode.pk)

    assert "reason" in errors(client.delete(referral, {}, format="json"))
    assert (
        api(cast.patient_a.user).delete(referral, {"reason": "x"}, format="json").status_code == 403
    )
    assert api(cast.therapist_2).delete(referral, {"reason": "x"}, format="json").status_code == 404

    response = client.delete(referral, {"reason": "Recorded on the wrong patient."}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["referral_date"], body["referred_to"]) == ("active", None, "")
    episode.refresh_from_db()
    assert episode.evaluation_requested_at is not None
    assert not ReferralFollowUp.objects.filter(episode=episode).exists()
    change = ReferralChange.objects.get(episode=episode, action="withdrawn")
    assert change.reason == "Recorded on the wrong patient."
    assert change.old_values["date"] == _day(episode, -5)
    assert change.old_values["follow_up"]["appointment_date"] == _day(episode, 3)
    assert change.new_values is None
    assert AuditEvent.objects.filter(action="referral.withdrawn", actor=cast.therapist).exists()
    # Gone from the list; withdrawing again is refused.
    assert ids(client.get(url("api-referral-list"))) == set()
    assert "non_field_errors" in errors(client.delete(referral, {"reason": "again"}, format="json"))
    # The history stays on the episode's follow-up.
    history = client.get(follow_up_url(episode)).json()["history"]
    assert [h["action"] for h in history] == ["withdrawn", "follow_up"]


def test_a_closed_episode_keeps_its_referral_which_cannot_be_withdrawn(cast, api):
    episode = refer(api, cast.therapist, cast.episode_a, days_ago=5)
    client = api(cast.therapist)
    closed = client.post(
        url("api-episode-close", pk=episode.pk),
        {"date": _day(episode, 0), "outcome": "discontinued"},
        format="json",
    )
    assert closed.status_code == 200
    assert ids(client.get(url("api-referral-list"))) == {episode.pk}
    response = client.delete(
        url("api-episode-referral", pk=episode.pk), {"reason": "mistake"}, format="json"
    )
    assert "non_field_errors" in errors(response)
