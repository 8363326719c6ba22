"""Issue 10, finding 7: a referred or closed episode's diary stayed editable by the patient.

The attack: after the referral, ``PUT /api/v1/episodes/{id}/entries/{date}/`` answered 200 and,
after closure, ``DELETE`` answered 204, so the evidence behind a referral could be rewritten
after it. Now the diary is read-only for the patient (409, the entry unchanged; the phone page
shows it closed and refuses its POST), and staff corrections need a ``reason``, kept with the
old values in an ``EntryCorrection`` and pointed at by an ``entry.corrected`` audit row.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from accounts.erasure import patient_erase
from accounts.models import AuditEvent
from rehab.models import DailyEntry, EntryCorrection, Episode, EpisodeStatus, Outcome
from tests.factories import DailyEntryFactory, ExerciseLogFactory, PrescriptionFactory

pytestmark = pytest.mark.django_db

BODY = {"pain_activity": 1, "pain_rest": 0, "note": "rewritten after the referral"}


def _end(episode: Episode, status: str) -> None:
    """Leave the episode referred or closed as the services do (the diary is what is tested)."""
    today = episode.patient.local_today()
    episode.status = status
    if status == EpisodeStatus.REFERRED:
        episode.referral_date = today
    else:
        episode.closed_date = today
        episode.outcome = Outcome.DISCONTINUED
    episode.save()


def _day_entry(episode: Episode) -> DailyEntry:
    day = episode.patient.local_today() - dt.timedelta(days=1)
    prescription = PrescriptionFactory(episode=episode)
    entry = DailyEntryFactory(episode=episode, date=day, pain_activity=8, note="bad day")
    ExerciseLogFactory(entry=entry, prescription=prescription, sets_completed=1)
    return entry


def _url(entry: DailyEntry) -> str:
    return f"/api/v1/episodes/{entry.episode_id}/entries/{entry.date:%Y-%m-%d}/"


def _as_stored(entry: DailyEntry) -> tuple[object, ...]:
    entry = DailyEntry.objects.get(pk=entry.pk)
    logs = tuple(entry.exercises.values_list("prescription_id", "sets_completed"))
    return (entry.pain_activity, entry.pain_rest, entry.note, entry.updated_at, logs)


@pytest.mark.parametrize("status", [EpisodeStatus.REFERRED, EpisodeStatus.CLOSED])
def test_the_patient_cannot_rewrite_or_delete_the_diary_after_referral_or_closure(
    cast, api, status
):
    entry = _day_entry(cast.episode_a)
    _end(cast.episode_a, status)
    before = _as_stored(entry)
    client = api(cast.patient_a.user)

    replaced = client.put(_url(entry), BODY, format="json")
    deleted = client.delete(_url(entry))
    # A new day is refused too, and so is a body that is not even valid: the state decides.
    new_day = f"/api/v1/episodes/{entry.episode_id}/entries/{cast.patient_a.local_today()}/"
    created = client.put(new_day, BODY, format="json")
    nonsense = client.put(_url(entry), {"pain_activity": "lots"}, format="json")

    for response in (replaced, deleted, created, nonsense):
        assert response.status_code == 409, response.content
        assert "diary is closed" in response.json()["detail"]
    assert _as_stored(entry) == before
    assert DailyEntry.objects.filter(episode=cast.episode_a).count() == 1
    assert not EntryCorrection.objects.exists()
    assert not AuditEvent.objects.filter(
        action__in=["entry.created", "entry.replaced", "entry.deleted"]
    ).exists()


def test_the_phone_page_shows_the_diary_closed_and_refuses_its_post(cast):
    entry = _day_entry(cast.episode_a)
    _end(cast.episode_a, EpisodeStatus.REFERRED)
    before = _as_stored(entry)
    client = Client()
    client.force_login(cast.patient_a.user)

    page = client.get("/")
    assert page.status_code == 200
    assert b"Your diary is closed" in page.content
    assert b'name="pain_activity"' not in page.content

    form = {"pain_activity": "1", "pain_rest": "0", "note": "rewritten"}
    for path in (
        "/",
        f"/?episode={cast.episode_a.pk}",
        f"/log/{entry.date:%Y-%m-%d}/",
        f"/log/{entry.date:%Y-%m-%d}/?episode={cast.episode_a.pk}",
    ):
        refused = client.post(path, form)
        assert refused.status_code == 409, path
        assert b"Your diary is closed" in refused.content
    assert _as_stored(entry) == before
    assert DailyEntry.objects.filter(episode=cast.episode_a).count() == 1


@pytest.mark.parametrize("method", ["put", "delete"])
@pytest.mark.parametrize("status", [EpisodeStatus.REFERRED, EpisodeStatus.CLOSED])
def test_a_staff_correction_without_a_reason_is_a_400_naming_reason(cast, api, status, method):
    entry = _day_entry(cast.episode_a)
    _end(cast.episode_a, status)
    before = _as_stored(entry)
    client = api(cast.therapist)
    if method == "put":
        response = client.put(_url(entry), {**BODY, "reason": "   "}, format="json")
    else:
        response = client.delete(_url(entry))
    assert response.status_code == 400, response.content
    assert "reason" in response.json()
    assert _as_stored(entry) == before
    assert not EntryCorrection.objects.exists()


def test_a_staff_correction_with_a_reason_keeps_the_old_values_and_is_audited(cast, api):
    entry = _day_entry(cast.episode_a)
    _end(cast.episode_a, EpisodeStatus.REFERRED)
    prescription_id, sets = entry.exercises.values_list("prescription_id", "sets_completed")[0]

    response = api(cast.therapist).put(
        _url(entry), {**BODY, "reason": "Patient misread the scale (phone call)"}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["pain_activity"] == 1
    correction = EntryCorrection.objects.get()
    assert (correction.episode_id, correction.entry_date, correction.action) == (
        cast.episode_a.pk,
        entry.date,
        "replaced",
    )
    assert correction.reason == "Patient misread the scale (phone call)"
    assert correction.corrected_by == cast.therapist
    assert correction.old_values["pain_activity"] == 8
    assert correction.old_values["note"] == "bad day"
    assert correction.old_values["exercises"] == [
        {"prescription": prescription_id, "sets_completed": sets}
    ]
    audit = AuditEvent.objects.get(action="entry.corrected")
    assert (audit.object_type, audit.object_id, audit.patient_id, audit.actor_id) == (
        "rehab.entrycorrection",
        str(correction.pk),
        cast.patient_a.pk,
        cast.therapist.pk,
    )
    # The audit row holds ids only: neither the reason nor a value is in it.
    assert "misread" not in str(audit.__dict__)


def test_a_staff_delete_on_a_closed_episode_with_a_reason_is_kept(cast, api):
    entry = _day_entry(cast.episode_a)
    _end(cast.episode_a, EpisodeStatus.CLOSED)
    response = api(cast.admin).delete(_url(entry) + "?reason=Logged+for+the+wrong+ankle")
    assert response.status_code == 204
    assert not DailyEntry.objects.filter(pk=entry.pk).exists()
    correction = EntryCorrection.objects.get()
    assert (correction.action, correction.reason, correction.old_values["pain_activity"]) == (
        "deleted",
        "Logged for the wrong ankle",
        8,
    )
    assert AuditEvent.objects.filter(
        action="entry.corrected", object_id=str(correction.pk)
    ).exists()


def test_corrections_go_with_the_patients_record_export_and_erasure(cast, api):
    entry = _day_entry(cast.episode_a)
    _end(cast.episode_a, EpisodeStatus.REFERRED)
    api(cast.therapist).put(_url(entry), {**BODY, "reason": "Typo in the note"}, format="json")

    export = api(cast.patient_a.user).get("/api/v1/me/export/")
    assert export.status_code == 200
    (episode,) = [e for e in export.json()["episodes"] if e["id"] == cast.episode_a.pk]
    assert [c["reason"] for c in episode["entry_corrections"]] == ["Typo in the note"]
    assert episode["entry_corrections"][0]["old_values"]["pain_activity"] == 8

    patient_erase(actor=cast.admin, patient=cast.patient_a)
    assert not EntryCorrection.objects.exists()


def test_an_active_episodes_diary_stays_the_patients_own(cast, api):
    # The rule changes nothing before referral: the patient writes and deletes as before.
    entry = _day_entry(cast.episode_a)
    client = api(cast.patient_a.user)
    assert client.put(_url(entry), BODY, format="json").status_code == 200
    assert client.delete(_url(entry)).status_code == 204
    assert not EntryCorrection.objects.exists()
