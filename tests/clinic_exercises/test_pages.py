"""A clinic's own exercises on the settings pages, and prescribing them
(docs/clinic-exercises.md)."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse

from accounts.models import AuditEvent
from rehab.models import Exercise, Prescription
from tests.clinic_exercises.helpers import make_exercise, picture_bytes, upload

pytestmark = pytest.mark.django_db


def _form(**changes):
    data = {
        "name": "Towel calf stretch",
        "category": "stretch",
        "instructions": "Sitting, loop a towel round the foot and pull gently.",
        "steps": "Sit with the leg straight.\r\n\r\nLoop a towel round the ball of the foot.\r\n",
        "dosage": "3 × 30 s hold",
        "feel": "A stretch in the calf.",
        "stop_if": "Pain at the back of the ankle.",
        "default_sets": "3",
        "default_reps": "30 s hold",
    }
    data.update(changes)
    return data


@pytest.mark.parametrize("persona", ["therapist", "admin"])
def test_staff_add_an_exercise_with_a_picture(cast, client_for, persona):
    client = client_for(getattr(cast, persona))
    page = client.get(reverse("clinic-exercise-new"))
    assert page.status_code == 200
    assert b'enctype="multipart/form-data"' in page.content
    response = client.post(
        reverse("clinic-exercise-new"), {**_form(), "image": upload(picture_bytes("JPEG"))}
    )
    assert response.status_code == 302, response.content
    exercise = Exercise.objects.get(name="Towel calf stretch")
    assert exercise.clinic_id == cast.clinic.pk
    assert exercise.steps == [
        "Sit with the leg straight.",
        "Loop a towel round the ball of the foot.",
    ]
    assert exercise.image.name.startswith(f"exercises/{cast.clinic.pk}/")
    assert exercise.image.name.endswith(".jpg")
    assert AuditEvent.objects.filter(action="exercise.created", object_id=str(exercise.pk)).exists()
    listing = client.get(reverse("clinic-exercise-list"))
    assert "Towel calf stretch" in listing.content.decode()
    assert reverse("exercise-image", args=[exercise.pk]) in listing.content.decode()


def test_a_refused_picture_names_the_field_and_keeps_what_was_typed(cast, client_for):
    client = client_for(cast.therapist)
    response = client.post(
        reverse("clinic-exercise-new"),
        {**_form(), "image": upload(b"<svg onload='alert(1)'/>", "x.svg", "image/svg+xml")},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "not a PNG, JPEG or WebP picture" in body
    assert 'value="Towel calf stretch"' in body
    assert not Exercise.objects.filter(name="Towel calf stretch").exists()


def test_a_name_of_the_catalogue_is_refused(cast, client_for):
    response = client_for(cast.therapist).post(
        reverse("clinic-exercise-new"), _form(name="double-leg HEEL raises")
    )
    assert response.status_code == 200
    assert "The shared catalogue already has an exercise of this name." in response.content.decode()


def test_edit_replace_and_remove_the_picture(cast, client_for, django_capture_on_commit_callbacks):
    exercise = make_exercise(cast.therapist, picture=True)
    first = exercise.image.name
    storage = exercise.image.storage
    client = client_for(cast.admin)
    url = reverse("clinic-exercise-edit", args=[exercise.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url, {**_form(dosage="2 × 20 s"), "image": upload(picture_bytes("WEBP"), "new.webp")}
        )
    assert response.status_code == 302
    exercise.refresh_from_db()
    assert exercise.dosage == "2 × 20 s"
    assert exercise.image.name.endswith(".webp")
    assert not storage.exists(first)
    second = exercise.image.name
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {**_form(), "remove_image": "on"})
    assert response.status_code == 302
    exercise.refresh_from_db()
    assert not exercise.image
    assert not storage.exists(second)


def test_archive_stops_offering_it_and_restore_brings_it_back(cast, client_for):
    exercise = make_exercise(cast.therapist)
    client = client_for(cast.therapist)
    prescribe = reverse("prescription-new", args=[cast.episode_a.pk])
    assert "Towel calf stretch</option>" in client.get(prescribe).content.decode()
    archived = client.post(reverse("clinic-exercise-archive", args=[exercise.pk]), follow=True)
    assert "no longer offered for prescribing" in archived.content.decode()
    exercise.refresh_from_db()
    assert exercise.archived_at is not None
    assert "Towel calf stretch</option>" not in client.get(prescribe).content.decode()
    # The page still lists it, under "Archived", with a way back.
    listing = client.get(reverse("clinic-exercise-list")).content.decode()
    assert "Archived" in listing and "Offer again" in listing
    assert client.post(reverse("clinic-exercise-restore", args=[exercise.pk])).status_code == 302
    exercise.refresh_from_db()
    assert exercise.archived_at is None


def test_prescribing_offers_the_clinics_own_next_to_the_catalogue(cast, client_for):
    own = make_exercise(cast.therapist)
    foreign = make_exercise(cast.other_therapist, name="Northside secret drill")
    client = client_for(cast.therapist)
    page = client.get(reverse("prescription-new", args=[cast.episode_a.pk])).content.decode()
    assert "Your clinic&#x27;s exercises" in page or "Your clinic's exercises" in page
    assert "Towel calf stretch" in page
    assert "Double-leg heel raises" in page
    assert "Northside secret drill" not in page
    response = client.post(
        reverse("prescription-new", args=[cast.episode_a.pk]), {"exercise": own.pk, "sets": "2"}
    )
    assert response.status_code == 302
    prescription = Prescription.objects.get(episode=cast.episode_a, name="Towel calf stretch")
    assert prescription.exercise_id == own.pk
    assert prescription.reps == "30 s hold"
    # Another clinic's exercise cannot be chosen, even by its id.
    response = client.post(
        reverse("prescription-new", args=[cast.episode_a.pk]), {"exercise": foreign.pk, "sets": "2"}
    )
    assert response.status_code == 200
    assert not Prescription.objects.filter(exercise=foreign).exists()


@pytest.mark.parametrize("persona", ["patient_a", "other_therapist"])
def test_out_of_reach_exercise_pages_are_404(cast, client_for, persona):
    exercise = make_exercise(cast.therapist, picture=True)
    client = client_for(
        getattr(cast, persona).user if persona == "patient_a" else cast.other_therapist
    )
    for name in ("clinic-exercise-edit", "clinic-exercise-archive", "clinic-exercise-restore"):
        method = client.get if name == "clinic-exercise-edit" else client.post
        assert method(reverse(name, args=[exercise.pk])).status_code == 404
    exercise.refresh_from_db()
    assert exercise.archived_at is None


def test_patients_cannot_open_the_list_or_the_form(cast, client_for):
    client = client_for(cast.patient_a.user)
    assert client.get(reverse("clinic-exercise-list")).status_code == 403
    assert client.post(reverse("clinic-exercise-new"), _form()).status_code == 403
    assert not Exercise.objects.filter(name="Towel calf stretch").exists()


def test_the_picture_is_served_to_staff_and_to_patients_it_is_prescribed_to(cast, client_for):
    exercise = make_exercise(cast.therapist, picture=True)
    url = reverse("exercise-image", args=[exercise.pk])
    staff = client_for(cast.therapist_2).get(url)
    assert staff.status_code == 200
    assert staff["Content-Type"] == "image/png"
    assert staff["X-Content-Type-Options"] == "nosniff"
    assert staff["Content-Disposition"].startswith("inline;")
    assert "private" in staff["Cache-Control"]
    assert b"".join(staff.streaming_content).startswith(b"\x89PNG")
    patient = client_for(cast.patient_a.user)
    assert patient.get(url).status_code == 404
    Prescription.objects.create(
        episode=cast.episode_a, exercise=exercise, name=exercise.name, sets=3,
        start_date=cast.episode_a.start_date,
    )  # fmt: skip
    assert patient.get(url).status_code == 200
    assert client_for(cast.patient_b.user).get(url).status_code == 404


def test_the_patient_sees_the_clinic_exercise_with_its_picture_and_instructions(cast, client_for):
    """The day page's "How to do it" (helper M's sheet) shows a clinic exercise's own picture,
    served through the reach-checking view, and its steps, feel and stop words."""
    exercise = make_exercise(cast.therapist, picture=True)
    response = client_for(cast.therapist).post(
        reverse("prescription-new", args=[cast.episode_a.pk]),
        {"exercise": exercise.pk, "sets": "2"},
    )
    assert response.status_code == 302
    patient = client_for(cast.patient_a.user)
    html = patient.get(reverse("home")).content.decode()
    picture = reverse("exercise-image", args=[exercise.pk])
    assert f'src="{picture}"' in html
    assert "Loop a towel round the ball of the foot." in html
    assert "Pain at the back of the ankle." in html
    served = patient.get(picture)
    assert served.status_code == 200 and served["Content-Type"] == "image/png"


def test_the_printed_programme_carries_the_clinic_picture_on_one_page(cast, client_for):
    import pypdfium2

    exercise = make_exercise(cast.therapist, picture=True)
    client = client_for(cast.therapist)
    client.post(
        reverse("prescription-new", args=[cast.episode_a.pk]),
        {"exercise": exercise.pk, "sets": "2"},
    )
    page = client.get(reverse("episode-programme", args=[cast.episode_a.pk])).content.decode()
    assert f'src="{reverse("exercise-image", args=[exercise.pk])}"' in page
    response = client.get(reverse("episode-programme-pdf", args=[cast.episode_a.pk]))
    body = b"".join(response.streaming_content) if response.streaming else response.content
    pdf = pypdfium2.PdfDocument(io.BytesIO(body))
    assert len(pdf) == 1
    kinds = [obj.type for obj in pdf[0].get_objects()]
    assert pypdfium2.raw.FPDF_PAGEOBJ_IMAGE in kinds
    assert "Towel calf stretch" in pdf[0].get_textpage().get_text_range()
