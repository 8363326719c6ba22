"""The exercise library as the patient and the printed programme show it (docs/exercises.md).

Reads (``exercise_sheet``, ``programme_for``) turn a prescription into what a person follows at
home: the picture, the steps, the dose, what it should feel like and when to stop. The catalogue
is stored in English and translated here (``catalogue_text``); a clinic's own exercise is shown as
typed. The one write (``programme_email_send``) queues the programme for the patient's inbox as a
Delivery row, audited in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.templatetags.static import static
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext, ngettext

from accounts.audit import audit_record
from accounts.models import User
from rehab.models import Channel, Delivery, Episode, Exercise, Prescription
from rehab.notify.outbox import deliveries_create
from rehab.templatetags.catalogue import catalogue_text

PROGRAMME_EMAIL_EVENT = "programme.email"


@dataclass(frozen=True)
class ExerciseSheet:
    """One exercise as a patient reads it, in the reader's language."""

    prescription_id: int
    name: str
    dose: str
    steps: list[str]
    feel: str
    stop_if: str
    # A static path of the catalogue's drawing (e.g. "img/exercises/…svg"), or "".
    illustration: str
    # The address of the picture: the drawing's static URL or a clinic image's URL, or "".
    picture_url: str
    picture_alt: str
    # A clinic's own picture as stored (its storage name), for the PDF; "" otherwise
    # (docs/clinic-exercises.md).
    image_name: str = ""

    @property
    def has_instructions(self) -> bool:
        return bool(self.steps)


def dose_text(*, sets: int, reps: str) -> str:
    """ "3 sets × 30 s hold", from what the therapist prescribed."""
    reps = catalogue_text(reps)
    if reps:
        return ngettext("%(sets)s set × %(reps)s", "%(sets)s sets × %(reps)s", sets) % {
            "sets": sets,
            "reps": reps,
        }
    return ngettext("%(sets)s set", "%(sets)s sets", sets) % {"sets": sets}


def _picture(exercise: Exercise | None) -> tuple[str, str]:
    if exercise is None:
        return "", ""
    if exercise.illustration:
        return exercise.illustration, static(exercise.illustration)
    if exercise.image:
        # A clinic's own picture, served through the view that checks reach (helper N's
        # ``exercise-image`` route); without that route there is no picture to show.
        try:
            return "", reverse("exercise-image", args=[exercise.pk])
        except NoReverseMatch:  # the route is optional (docs/clinic-exercises.md)
            return "", ""
    return "", ""


def exercise_sheet(prescription: Prescription) -> ExerciseSheet:
    """The sheet of one prescription; a free-text exercise has a name and a dose only."""
    exercise = prescription.exercise
    name = catalogue_text(prescription.name)
    illustration, url = _picture(exercise)
    return ExerciseSheet(
        prescription_id=prescription.pk,
        name=name,
        dose=dose_text(sets=prescription.sets, reps=prescription.reps),
        steps=[catalogue_text(step) for step in (exercise.steps if exercise else []) or []],
        feel=catalogue_text(exercise.feel) if exercise else "",
        stop_if=catalogue_text(exercise.stop_if) if exercise else "",
        illustration=illustration,
        picture_url=url,
        picture_alt=gettext("How to do it: %(name)s") % {"name": name} if url else "",
        image_name=str(exercise.image.name)
        if exercise is not None and not illustration and exercise.clinic_id and exercise.image
        else "",
    )


def active_prescriptions(*, episode: Episode, as_of: dt.date) -> list[Prescription]:
    """The prescriptions of an episode in force on ``as_of``, with their exercise."""
    rows = (
        Prescription.objects.filter(episode=episode)
        .select_related("exercise")
        .order_by("start_date", "id")
    )
    return [p for p in rows if p.is_active_on(as_of)]


@dataclass(frozen=True)
class Programme:
    """The one-page home programme of an episode on a day."""

    episode: Episode
    as_of: dt.date
    patient_name: str
    side_label: str
    clinic_name: str
    therapist_name: str
    sheets: list[ExerciseSheet]

    @property
    def filename(self) -> str:
        return f"exercise-programme-episode-{self.episode.pk}-{self.as_of.isoformat()}.pdf"


def programme_for(*, episode: Episode, as_of: dt.date) -> Programme:
    """The programme of an episode the caller already reached (views check reach first)."""
    patient = episode.patient
    therapist = patient.therapist
    clinic = patient.user.clinic
    return Programme(
        episode=episode,
        as_of=as_of,
        patient_name=patient.user.get_full_name(),
        side_label=str(episode.get_affected_side_display()),
        clinic_name=clinic.name if clinic else "",
        therapist_name=therapist.get_full_name() if therapist else "",
        sheets=[exercise_sheet(p) for p in active_prescriptions(episode=episode, as_of=as_of)],
    )


class PatientHasNoEmail(Exception):
    """The patient's account has no usable address, so there is nowhere to send the programme."""


def programme_email_send(*, actor: User, episode: Episode) -> int:
    """Queue the programme for the patient's email (a Delivery row, sent by the delivery task
    with the PDF attached) and audit it. Returns the delivery's id."""
    patient_user = episode.patient.user
    clinic_id = patient_user.clinic_id
    if not patient_user.email or not patient_user.is_active or clinic_id is None:
        raise PatientHasNoEmail
    with transaction.atomic():
        (delivery_id,) = deliveries_create(
            [
                Delivery(
                    clinic_id=clinic_id,
                    channel=Channel.EMAIL,
                    event_type=PROGRAMME_EMAIL_EVENT,
                    recipient=patient_user,
                    payload={"episode": episode.pk},
                )
            ]
        )
        audit_record(
            actor=actor,
            action="programme.emailed",
            obj=episode,
            patient_id=episode.patient_id,
        )
    return delivery_id
