"""The exercises API: the catalogue and the caller's clinic's own (docs/clinic-exercises.md)."""

from __future__ import annotations

import pytest

from accounts.models import AuditEvent
from rehab.models import Exercise, Prescription
from tests.api.helpers import errors, url
from tests.clinic_exercises.helpers import make_exercise, picture_bytes, upload, values

pytestmark = pytest.mark.django_db


def _names(response):
    assert response.status_code == 200, response.content
    return {item["name"] for item in response.json()["results"]}


def test_the_list_shows_the_catalogue_and_only_the_callers_clinics_own(cast, api):
    make_exercise(cast.therapist)
    make_exercise(cast.other_therapist, name="Northside secret drill")
    riverside = _names(api(cast.therapist).get(url("api-exercise-list") + "?page_size=100"))
    assert {"Towel calf stretch", "Double-leg heel raises"} <= riverside
    assert "Northside secret drill" not in riverside
    northside = _names(api(cast.other_therapist).get(url("api-exercise-list") + "?page_size=100"))
    assert "Northside secret drill" in northside and "Towel calf stretch" not in northside


def test_staff_create_patch_and_archive(cast, api):
    client = api(cast.admin)
    response = client.post(url("api-exercise-list"), values(), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["clinic"] == cast.clinic.pk
    assert body["steps"][0] == "Sit with the leg straight."
    assert body["picture"] is None and body["archived"] is False
    detail = url("api-exercise-detail", pk=body["id"])
    response = client.patch(detail, {"dosage": "2 × 20 s", "archived": True}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["dosage"] == "2 × 20 s"
    assert response.json()["archived"] is True
    actions = set(
        AuditEvent.objects.filter(object_id=str(body["id"])).values_list("action", flat=True)
    )
    assert {"exercise.created", "exercise.updated", "exercise.archived"} <= actions


def test_bad_input_is_a_400_naming_the_field(cast, api):
    client = api(cast.therapist)
    body = errors(
        client.post(
            url("api-exercise-list"),
            values(name="", category="yoga", default_sets="3", steps="one"),
            format="json",
        )
    )
    # The shapes first (a text where a whole number or a list belongs), then the values.
    assert set(body) == {"default_sets", "steps"}
    body = errors(client.post(url("api-exercise-list"), values(colour="red"), format="json"))
    assert "colour" in body
    body = errors(
        client.post(url("api-exercise-list"), values(name="", category="yoga"), format="json")
    )
    assert set(body) == {"name", "category"}
    assert not Exercise.objects.filter(clinic=cast.clinic).exists()


def test_patients_may_not_create_and_nobody_edits_the_catalogue(cast, api):
    assert (
        api(cast.patient_a.user).post(url("api-exercise-list"), values(), format="json").status_code
        == 403
    )
    catalogue = Exercise.objects.filter(clinic__isnull=True).first()
    response = api(cast.admin).patch(
        url("api-exercise-detail", pk=catalogue.pk), {"dosage": "x"}, format="json"
    )
    assert response.status_code == 403
    catalogue.refresh_from_db()
    assert catalogue.dosage != "x"


@pytest.mark.parametrize("persona", ["other_therapist", "patient_a"])
def test_another_clinics_exercise_and_a_patient_asking_are_404(cast, api, persona):
    exercise = make_exercise(cast.therapist, picture=True)
    user = cast.patient_a.user if persona == "patient_a" else cast.other_therapist
    client = api(user)
    assert client.get(url("api-exercise-detail", pk=exercise.pk)).status_code == 404
    assert (
        client.patch(
            url("api-exercise-detail", pk=exercise.pk), {"name": "Mine"}, format="json"
        ).status_code
        == 404
    )
    picture = url("api-exercise-picture", pk=exercise.pk)
    assert client.get(picture).status_code == 404
    assert client.delete(picture).status_code == 404
    assert (
        client.put(picture, {"image": upload(picture_bytes())}, format="multipart").status_code
        == 404
    )
    exercise.refresh_from_db()
    assert exercise.name == "Towel calf stretch" and exercise.image


def test_picture_upload_replace_serve_and_remove(cast, api):
    exercise = make_exercise(cast.therapist)
    client = api(cast.therapist)
    picture = url("api-exercise-picture", pk=exercise.pk)
    response = client.put(
        picture, {"image": upload(picture_bytes("JPEG"), "p.jpg")}, format="multipart"
    )
    assert response.status_code == 200, response.content
    assert response.json()["picture"] == f"/exercises/{exercise.pk}/image/"
    served = client.get(picture)
    assert served.status_code == 200
    assert served["Content-Type"] == "image/jpeg"
    assert served["X-Content-Type-Options"] == "nosniff"
    assert served["Cache-Control"].startswith("private")
    assert client.delete(picture).status_code == 204
    exercise.refresh_from_db()
    assert not exercise.image


def test_a_patient_with_it_prescribed_gets_the_picture_through_the_api(cast, api):
    exercise = make_exercise(cast.therapist, picture=True)
    response = api(cast.therapist).post(
        url("api-prescription-list", pk=cast.episode_a.pk),
        {"exercise": "towel CALF stretch", "sets": 2},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["catalogue_exercise"] == exercise.pk
    picture = url("api-exercise-picture", pk=exercise.pk)
    assert api(cast.patient_a.user).get(picture).status_code == 200
    assert api(cast.patient_b.user).get(picture).status_code == 404
    # The exercise itself: listed and readable for the patient it is prescribed to only.
    detail = url("api-exercise-detail", pk=exercise.pk)
    every = url("api-exercise-list") + "?page_size=100"
    assert (
        api(cast.patient_a.user).get(detail).json()["picture"] == f"/exercises/{exercise.pk}/image/"
    )
    assert "Towel calf stretch" in _names(api(cast.patient_a.user).get(every))
    assert api(cast.patient_b.user).get(detail).status_code == 404
    assert "Towel calf stretch" not in _names(api(cast.patient_b.user).get(every))
    patch = api(cast.patient_a.user).patch(detail, {"name": "Mine"}, format="json")
    assert patch.status_code == 404


def test_prescribing_by_name_never_links_another_clinics_exercise(cast, api):
    foreign = make_exercise(cast.other_therapist, name="Northside secret drill")
    response = api(cast.therapist).post(
        url("api-prescription-list", pk=cast.episode_a.pk),
        {"exercise": "Northside secret drill", "sets": 2},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["catalogue_exercise"] is None
    assert not Prescription.objects.filter(exercise=foreign).exists()
