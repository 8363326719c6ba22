"""The exercise library (issue 16, point 4): every catalogue exercise has a picture and
instructions, the patient sees them for every prescribed exercise from the day's checklist (in
their language, offline too), and the therapist prints or emails a one-page programme."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core import mail
from django.urls import reverse
from django.utils import translation

from accounts.models import AuditEvent
from rehab.catalogue import PAIS_EXERCISES
from rehab.models import Delivery, Exercise
from rehab.offline import shell_urls
from tests.factories import PrescriptionFactory
from tests.personas import signed_in_client

pytestmark = pytest.mark.django_db

SVG = "{http://www.w3.org/2000/svg}"
CATALOGUE_NAMES = [item["name"] for item in PAIS_EXERCISES]


def _prescribe_all(episode) -> list:
    """Every catalogue exercise, prescribed as the prescribing page does (linked by name)."""
    return [
        PrescriptionFactory(
            episode=episode,
            exercise=exercise,
            name=exercise.name,
            sets=exercise.default_sets,
            reps=exercise.default_reps,
        )
        for exercise in Exercise.objects.filter(clinic__isnull=True)
    ]


def _pdf_pages(body: bytes) -> int:
    import pypdfium2

    return len(pypdfium2.PdfDocument(io.BytesIO(body)))


# --- The catalogue ------------------------------------------------------------------------------


def test_every_catalogue_exercise_has_instructions_and_a_picture_in_the_database():
    catalogue = Exercise.objects.filter(clinic__isnull=True)
    assert sorted(catalogue.values_list("name", flat=True)) == sorted(CATALOGUE_NAMES)
    pictures = set()
    for exercise in catalogue:
        assert len(exercise.steps) >= 3, exercise.name
        assert all(step.strip() for step in exercise.steps)
        assert exercise.dosage and "×" in exercise.dosage, exercise.name
        assert exercise.feel and exercise.stop_if, exercise.name
        assert exercise.illustration.startswith("img/exercises/"), exercise.name
        pictures.add(exercise.illustration)
    assert len(pictures) == len(CATALOGUE_NAMES)  # a drawing of its own for each


@pytest.mark.parametrize("item", PAIS_EXERCISES, ids=lambda item: item["illustration"])
def test_each_drawing_is_small_accessible_and_self_contained(item):
    path = finders.find(item["illustration"])
    assert isinstance(path, str)
    raw = Path(path).read_bytes()
    assert len(raw) < 4096
    root = ET.fromstring(raw)  # noqa: S314 - our own static file
    assert root.get("role") == "img"
    title = root.find(f"{SVG}title")
    assert title is not None and len(title.text or "") > 20
    assert root.get("aria-labelledby") == title.get("id")
    assert root.get("viewBox") == "0 0 320 200"
    # Nothing a picture should not carry: scripts, styles, links, embedded images, text.
    tags = {element.tag.removeprefix(SVG) for element in root.iter()}
    assert tags <= {"svg", "title", "rect", "circle", "line", "path"}
    assert b"href" not in raw and b"<script" not in raw


def test_the_stretches_never_force_the_foot_down():
    """PAIS: no forced end-range plantar flexion; pain at the back of the ankle means stop."""
    for item in PAIS_EXERCISES:
        words = " ".join([*item["steps"], item["stop_if"]]).lower()
        assert "ankle" in item["stop_if"].lower() or "cramp" in item["stop_if"].lower()
        assert "point your foot down as far" not in words


def test_every_catalogue_word_is_translated_into_spanish():
    with translation.override("es"):
        for item in PAIS_EXERCISES:
            for text in [item["dosage"], item["feel"], item["stop_if"], *item["steps"]]:
                assert translation.gettext(text) != text, text


# --- The patient, from the day's checklist ------------------------------------------------------


def test_the_patient_sees_picture_and_instructions_for_every_prescribed_exercise(cast):
    _prescribe_all(cast.episode_a)
    response = signed_in_client(cast.patient_a).get(reverse("home"))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('<details class="help exercise-how">') == len(CATALOGUE_NAMES)
    for item in PAIS_EXERCISES:
        assert f'src="/static/{item["illustration"]}"' in html or item["illustration"] in html
        assert item["steps"][0] in html.replace("&#x27;", "'")
        assert item["stop_if"] in html.replace("&#x27;", "'")
    assert 'alt="How to do it: Calf stretch (gastrocnemius)"' in html


def test_the_patient_reads_them_in_spanish(cast):
    cast.patient_a.user.language = "es"
    cast.patient_a.user.save()
    PrescriptionFactory(
        episode=cast.episode_a,
        exercise=Exercise.objects.get(name="Single-leg balance"),
        name="Single-leg balance",
        reps="30 s",
    )
    client = signed_in_client(cast.patient_a)
    html = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    with translation.override("es"):
        first_step = translation.gettext(PAIS_EXERCISES[9]["steps"][0])
    assert first_step != PAIS_EXERCISES[9]["steps"][0]
    assert first_step in html.replace("&#x27;", "'")


def test_a_free_text_exercise_says_to_do_it_as_shown(cast):
    PrescriptionFactory(episode=cast.episode_a, exercise=None, name="Stair walking")
    html = signed_in_client(cast.patient_a).get(reverse("home")).content.decode()
    assert "has not added step-by-step instructions" in html


def test_the_pictures_are_kept_offline_with_the_shell():
    urls = set(shell_urls())
    for item in PAIS_EXERCISES:
        assert f"{settings.STATIC_URL}{item['illustration']}" in urls
    assert f"{settings.STATIC_URL}css/exercises.css" in urls


# --- The therapist's printable programme --------------------------------------------------------


def test_the_print_page_shows_every_active_exercise_and_is_audited(cast):
    _prescribe_all(cast.episode_a)
    response = signed_in_client(cast.therapist).get(
        reverse("episode-programme", args=[cast.episode_a.pk])
    )
    assert response.status_code == 200
    assert (
        response["Cache-Control"].startswith("max-age=0") or "no-store" in response["Cache-Control"]
    )
    html = response.content.decode()
    assert html.count('class="programme-item"') == len(CATALOGUE_NAMES)
    assert AuditEvent.objects.filter(
        action="programme.viewed", actor=cast.therapist, patient_id=cast.patient_a.pk
    ).exists()


def test_the_programme_pdf_is_one_page_even_with_the_whole_catalogue(cast):
    _prescribe_all(cast.episode_a)
    response = signed_in_client(cast.therapist).get(
        reverse("episode-programme-pdf", args=[cast.episode_a.pk])
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert _pdf_pages(body) == 1
    assert AuditEvent.objects.filter(action="programme.exported", actor=cast.therapist).exists()


def test_the_programme_pdf_prints_the_instructions_when_there_is_room(cast):
    import pypdfium2

    PrescriptionFactory(
        episode=cast.episode_a,
        exercise=Exercise.objects.get(name="Towel toe curls"),
        name="Towel toe curls",
        reps="10",
    )
    body = (
        signed_in_client(cast.therapist)
        .get(reverse("episode-programme-pdf", args=[cast.episode_a.pk]))
        .content
    )
    text = pypdfium2.PdfDocument(io.BytesIO(body))[0].get_textpage().get_text_range()
    text = re.sub(r"\s+", " ", text)
    assert "Towel toe curls" in text
    assert "scrunch the towel towards you" in text
    assert "Stop if:" in text
    # The date in the house's words, as on the page and the letter ("6 Dec 2026").
    today = cast.episode_a.patient.local_today()
    assert f"{today.day} {today:%b} {today.year}" in text


def test_emailing_the_programme_queues_a_delivery_audits_and_sends_the_pdf(
    cast, django_capture_on_commit_callbacks
):
    _prescribe_all(cast.episode_a)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in_client(cast.therapist).post(
            reverse("episode-programme-email", args=[cast.episode_a.pk])
        )
    assert response.status_code == 302
    delivery = Delivery.objects.get(event_type="programme.email")
    assert delivery.recipient == cast.patient_a.user
    assert delivery.payload == {"episode": cast.episode_a.pk}
    assert AuditEvent.objects.filter(
        action="programme.emailed",
        actor=cast.therapist,
        object_id=str(cast.episode_a.pk),
        patient_id=cast.patient_a.pk,
    ).exists()
    # The delivery task ran (eager in tests): one email to the patient, the PDF attached.
    (sent,) = mail.outbox
    assert sent.to == ["a@riverside.test"]
    (attachment,) = sent.attachments
    name, content, mimetype = attachment
    assert mimetype == "application/pdf" and name.endswith(".pdf")
    assert _pdf_pages(content) == 1


@pytest.mark.parametrize("route", ["episode-programme", "episode-programme-pdf"])
@pytest.mark.parametrize("persona", ["patient_a", "therapist_2", "other_therapist"])
def test_the_programme_is_out_of_reach_of_patients_and_other_staff(cast, route, persona):
    """404: a patient (even for their own episode), a therapist who does not treat them, another
    clinic."""
    PrescriptionFactory(episode=cast.episode_a)
    response = signed_in_client(getattr(cast, persona)).get(
        reverse(route, args=[cast.episode_a.pk])
    )
    assert response.status_code == 404


@pytest.mark.parametrize("persona", ["patient_a", "therapist_2", "other_therapist"])
def test_nobody_out_of_reach_can_email_the_programme(cast, persona):
    response = signed_in_client(getattr(cast, persona)).post(
        reverse("episode-programme-email", args=[cast.episode_a.pk])
    )
    assert response.status_code == 404
    assert not Delivery.objects.filter(event_type="programme.email").exists()
    assert not AuditEvent.objects.filter(action="programme.emailed").exists()
