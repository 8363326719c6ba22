"""The exercise catalogue and prescriptions."""

from __future__ import annotations

import datetime as dt

import pytest

from accounts.models import AuditEvent
from rehab.models import Exercise, Prescription
from tests.api.helpers import errors, ids, url
from tests.factories import PrescriptionFactory

pytestmark = pytest.mark.django_db


def test_catalogue_is_readable_by_anyone_signed_in(cast, api):
    response = api(cast.patient_a.user).get(url("api-exercise-list"))
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == Exercise.objects.count() > 5
    names = {item["name"] for item in body["results"]}
    assert "Double-leg heel raises" in names
    assert set(body["results"][0]) == {
        "id",
        "clinic",
        "name",
        "category",
        "instructions",
        "steps",
        "dosage",
        "feel",
        "stop_if",
        "default_sets",
        "default_reps",
        "illustration",
        "picture",
        "archived",
    }
    assert {item["clinic"] for item in body["results"]} == {None}


def test_prescribe_from_the_catalogue_case_insensitively(cast, api):
    episode = cast.episode_a
    response = api(cast.therapist).post(
        url("api-prescription-list", pk=episode.pk),
        {"exercise": "  double-LEG heel RAISES ", "sets": 3},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    catalogue = Exercise.objects.get(name="Double-leg heel raises")
    assert body["exercise"] == "Double-leg heel raises"
    assert body["catalogue_exercise"] == catalogue.pk
    assert body["reps"] == catalogue.default_reps
    assert body["start_date"] == episode.start_date.isoformat()
    assert body["end_date"] is None
    assert body["episode"] == episode.pk
    prescription = Prescription.objects.get(pk=body["id"])
    assert prescription.created_by == cast.therapist
    assert AuditEvent.objects.filter(
        action="prescription.created",
        actor=cast.therapist,
        object_id=str(prescription.pk),
        patient_id=cast.patient_a.pk,
    ).exists()


def test_prescribe_free_text_with_dates(cast, api):
    episode = cast.episode_a
    start = episode.start_date + dt.timedelta(days=3)
    end = start + dt.timedelta(days=14)
    response = api(cast.admin).post(
        url("api-prescription-list", pk=episode.pk),
        {
            "exercise": "Eccentric step-downs",
            "sets": 2,
            "reps": "8 slow",
            "start_date": start.isoformat(),
            "end_date": end.isoformat(),
        },
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["exercise"], body["catalogue_exercise"], body["reps"]) == (
        "Eccentric step-downs",
        None,
        "8 slow",
    )
    assert (body["start_date"], body["end_date"]) == (start.isoformat(), end.isoformat())


@pytest.mark.parametrize(
    ("field", "change"),
    [
        ("sets", {"sets": 0}),
        ("sets", {"sets": "3"}),
        ("sets", {"sets": 2.5}),
        ("sets", {"sets": None}),
        ("exercise", {"exercise": "   "}),
        ("exercise", {"exercise": "x" * 121}),
        ("reps", {"reps": "x" * 41}),
        ("end_date", {"start_date": "2026-02-10", "end_date": "2026-02-01"}),
        ("start_date", {"start_date": "tomorrow"}),
    ],
)
def test_invalid_prescriptions_are_400(cast, api, field, change):
    payload = {"exercise": "Single-leg balance", "sets": 3, **change}
    client = api(cast.therapist)
    audits = AuditEvent.objects.count()
    body = errors(
        client.post(url("api-prescription-list", pk=cast.episode_a.pk), payload, format="json")
    )
    assert field in body
    assert not Prescription.objects.exists()
    assert AuditEvent.objects.count() == audits


def test_no_prescriptions_on_a_closed_episode(cast, api):
    cast.episode_a.status = "closed"
    cast.episode_a.save()
    payload = {"exercise": "Single-leg balance", "sets": 3}
    response = api(cast.therapist).post(
        url("api-prescription-list", pk=cast.episode_a.pk), payload, format="json"
    )
    assert "non_field_errors" in errors(response)


def test_patient_reads_but_does_not_prescribe(cast, api):
    mine = PrescriptionFactory(episode=cast.episode_a)
    PrescriptionFactory(episode=cast.episode_b)
    client = api(cast.patient_a.user)
    assert ids(client.get(url("api-prescription-list", pk=cast.episode_a.pk))) == {mine.pk}
    response = client.post(
        url("api-prescription-list", pk=cast.episode_a.pk),
        {"exercise": "Single-leg balance", "sets": 3},
        format="json",
    )
    assert response.status_code == 403
    assert Prescription.objects.count() == 2


def test_end_a_prescription(cast, api):
    prescription = PrescriptionFactory(episode=cast.episode_a)
    end = prescription.start_date + dt.timedelta(days=5)
    response = api(cast.therapist).post(
        url("api-prescription-end", pk=cast.episode_a.pk, prescription_id=prescription.pk),
        {"end_date": end.isoformat()},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["end_date"] == end.isoformat()
    assert AuditEvent.objects.filter(
        action="prescription.ended", object_id=str(prescription.pk)
    ).exists()

    too_early = prescription.start_date - dt.timedelta(days=1)
    response = api(cast.therapist).post(
        url("api-prescription-end", pk=cast.episode_a.pk, prescription_id=prescription.pk),
        {"end_date": too_early.isoformat()},
        format="json",
    )
    assert "end_date" in errors(response)
    prescription.refresh_from_db()
    assert prescription.end_date == end


def test_prescription_of_another_episode_is_404_under_this_one(cast, api):
    foreign = PrescriptionFactory(episode=cast.episode_b)
    response = api(cast.therapist).post(
        url("api-prescription-end", pk=cast.episode_a.pk, prescription_id=foreign.pk),
        {"end_date": foreign.start_date.isoformat()},
        format="json",
    )
    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.end_date is None
