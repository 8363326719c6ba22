"""A clinic's own exercises: services (writes, audited) and selectors (reads, scoped).

The shared catalogue (``Exercise.clinic`` null, docs/exercises.md) is the same for every clinic
and nobody edits it here. A clinic's staff (therapists and clinic admins) add their own exercises
with the same instruction fields and an optional picture, edit them and archive them. An archived
exercise is no longer offered for prescribing; what was prescribed keeps it (and its picture).
Another clinic's exercise is out of reach: absent (404) everywhere. See docs/clinic-exercises.md.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Mapping, Sequence
from typing import IO, Any, Final, Literal, TypeAlias

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.audit import audit_record
from accounts.models import Role, User
from accounts.scoping import AnyUser, can_manage_patients
from rehab.exercise_images import clean_exercise_image
from rehab.free_text import Errors, check_text
from rehab.models import Exercise, Prescription
from rehab.services import EXERCISE_NAME_MAX_LENGTH, MAX_SETS, REPS_MAX_LENGTH

logger = logging.getLogger(__name__)

CATEGORIES: Final = ("stretch", "mobility", "strength", "balance")
INSTRUCTIONS_MAX_LENGTH: Final = 1000
STEP_MAX_LENGTH: Final = 300
STEPS_MAX: Final = 12
DOSAGE_MAX_LENGTH: Final = 120
FEEL_MAX_LENGTH: Final = 500
STOP_IF_MAX_LENGTH: Final = 500

# The fields a create or an update takes (besides the picture), in the order forms show them.
TEXT_FIELDS: Final = {
    "name": EXERCISE_NAME_MAX_LENGTH,
    "instructions": INSTRUCTIONS_MAX_LENGTH,
    "dosage": DOSAGE_MAX_LENGTH,
    "feel": FEEL_MAX_LENGTH,
    "stop_if": STOP_IF_MAX_LENGTH,
    "default_reps": REPS_MAX_LENGTH,
}
FIELDS: Final = ("name", "category", "instructions", "steps", "dosage", "feel", "stop_if",
                 "default_sets", "default_reps")  # fmt: skip


class _Keep(enum.Enum):
    KEEP = "keep"


KEEP: Final = _Keep.KEEP
# The picture of an update: KEEP it, None to remove it, or a new upload.
ImageChange: TypeAlias = Literal[_Keep.KEEP] | IO[bytes] | None


# --- Selectors -------------------------------------------------------------------------------


def _staff_clinic_id(user: AnyUser) -> int | None:
    if not can_manage_patients(user):
        return None
    assert isinstance(user, User)
    return user.clinic_id


def exercises_visible_to(user: AnyUser) -> QuerySet[Exercise]:
    """The catalogue, and the caller's clinic's own exercises: all of them (archived too) for
    its staff, those prescribed to them for a patient."""
    catalogue = Q(clinic__isnull=True)
    if not isinstance(user, User) or not user.is_active or user.clinic_id is None:
        return Exercise.objects.filter(catalogue)
    own = Q(clinic_id=user.clinic_id)
    if not can_manage_patients(user):
        prescribed = Prescription.objects.filter(
            episode__patient__user=user, exercise__isnull=False
        ).values("exercise_id")
        own &= Q(pk__in=prescribed)
    return Exercise.objects.filter(catalogue | own).order_by("clinic_id", "category", "name")


def exercises_for_prescribing(*, clinic_id: int | None) -> QuerySet[Exercise]:
    """What a prescription may name: the catalogue and the clinic's own, archived ones left out."""
    own = Q(clinic_id=clinic_id, archived_at__isnull=True) if clinic_id else Q(pk__in=[])
    return Exercise.objects.filter(Q(clinic__isnull=True) | own).order_by(
        "clinic_id", "category", "name"
    )


def clinic_exercises(*, user: User) -> QuerySet[Exercise]:
    """The caller's clinic's own exercises, the archived ones last."""
    clinic_id = _staff_clinic_id(user)
    if clinic_id is None:
        return Exercise.objects.none()
    return Exercise.objects.filter(clinic_id=clinic_id).order_by("archived_at", "category", "name")


def clinic_exercise_or_404(*, user: AnyUser, pk: Any) -> Exercise:
    """One of the caller's clinic's own exercises; anything else (the catalogue, another clinic's,
    a patient asking) is absent."""
    clinic_id = _staff_clinic_id(user)
    try:
        if clinic_id is None:
            raise Exercise.DoesNotExist
        return Exercise.objects.get(pk=pk, clinic_id=clinic_id)
    except (ObjectDoesNotExist, ValueError, TypeError) as exc:
        raise Http404("Not found.") from exc


def exercise_picture_or_404(*, user: AnyUser, pk: Any) -> Exercise:
    """A clinic exercise with a picture the caller may see: the clinic's staff, or a patient of
    the clinic with the exercise prescribed (in any of their episodes). Otherwise absent."""
    if not isinstance(user, User) or not user.is_active or user.clinic_id is None:
        raise Http404("Not found.")
    try:
        exercise = Exercise.objects.get(pk=pk, clinic_id=user.clinic_id)
    except (ObjectDoesNotExist, ValueError, TypeError) as exc:
        raise Http404("Not found.") from exc
    if not exercise.image:
        raise Http404("Not found.")
    if can_manage_patients(user):
        return exercise
    if user.role == Role.PATIENT and (
        Prescription.objects.filter(exercise=exercise, episode__patient__user=user).exists()
    ):
        return exercise
    raise Http404("Not found.")


# --- Services --------------------------------------------------------------------------------


def _require_staff(actor: User) -> int:
    clinic_id = _staff_clinic_id(actor)
    if clinic_id is None:
        raise PermissionError("Only therapists and clinic admins may do this.")
    return clinic_id


def _check_steps(errors: Errors, value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list | tuple) or not all(isinstance(s, str) for s in value):
        errors.add("steps", str(_("Must be a list of steps, each a text.")))
        return []
    steps = [s.strip() for s in value if s.strip()]
    if len(steps) > STEPS_MAX:
        errors.add("steps", str(_("List at most %(max)s steps.")) % {"max": STEPS_MAX})
    for number, step in enumerate(steps, start=1):
        if len(step) > STEP_MAX_LENGTH:
            errors.add(
                "steps",
                str(_("Step %(number)s is longer than %(max)s characters."))
                % {"number": number, "max": STEP_MAX_LENGTH},
            )
    return steps


def _checked(
    errors: Errors, values: Mapping[str, Any], *, clinic_id: int, exercise: Exercise | None
) -> dict[str, Any]:
    """The values of a create (every field) or an update (the fields given), checked."""
    unknown = set(values) - set(FIELDS)
    for name in sorted(unknown):
        errors.add(name, str(_("Unknown field.")))
    clean: dict[str, Any] = {}
    for name, max_length in TEXT_FIELDS.items():
        if name in values:
            clean[name] = check_text(errors, name, values[name], max_length=max_length)
    if "name" in clean or exercise is None:
        name = clean.get("name", "")
        if not name and "name" not in errors:
            errors.add("name", str(_("Give the exercise a name.")))
        elif name:
            same = Exercise.objects.filter(
                Q(clinic__isnull=True) | Q(clinic_id=clinic_id), name__iexact=name
            )
            if exercise is not None:
                same = same.exclude(pk=exercise.pk)
            clash = same.first()
            if clash is not None:
                errors.add(
                    "name",
                    str(
                        _("The shared catalogue already has an exercise of this name.")
                        if clash.clinic_id is None
                        else _("Your clinic already has an exercise of this name.")
                    ),
                )
    if "category" in values or exercise is None:
        category = values.get("category")
        if category not in CATEGORIES:
            errors.add(
                "category",
                str(_("Choose one of: %(choices)s.")) % {"choices": ", ".join(CATEGORIES)},
            )
        clean["category"] = category
    if "steps" in values:
        clean["steps"] = _check_steps(errors, values["steps"])
    if "default_sets" in values or exercise is None:
        sets = values.get("default_sets", 3)
        if isinstance(sets, bool) or not isinstance(sets, int) or not 1 <= sets <= MAX_SETS:
            errors.add(
                "default_sets",
                str(_("Must be a whole number from 1 to %(max)s.")) % {"max": MAX_SETS},
            )
        clean["default_sets"] = sets
    return clean


def _audit(actor: User, action: str, exercise: Exercise) -> None:
    audit_record(actor=actor, action=action, obj=exercise, clinic_id=exercise.clinic_id)


def _store_picture(exercise: Exercise, upload: IO[bytes], errors: Errors) -> str | None:
    """Check and re-encode the upload and save it through the storage; the stored name."""
    clean = clean_exercise_image(upload, errors)
    errors.raise_if_any()
    assert clean is not None
    exercise.image.save(f"{exercise.clinic_id}/{clean.name}", clean.content, save=False)
    return str(exercise.image.name)


def _delete_file_later(name: str) -> None:
    """Delete a stored picture once the transaction that stopped using it has committed."""
    if not name:
        return

    def delete() -> None:
        try:
            Exercise._meta.get_field("image").storage.delete(name)
        except OSError:
            logger.warning("could not delete the replaced exercise picture %s", name)

    transaction.on_commit(delete)


def clinic_exercise_create(
    *, actor: User, values: Mapping[str, Any], image: IO[bytes] | None = None
) -> Exercise:
    """Add an exercise of the actor's clinic (every field checked before anything is saved)."""
    clinic_id = _require_staff(actor)
    errors = Errors()
    clean = _checked(errors, values, clinic_id=clinic_id, exercise=None)
    errors.raise_if_any()
    exercise = Exercise(clinic_id=clinic_id, **clean)
    stored = _store_picture(exercise, image, errors) if image is not None else None
    try:
        with transaction.atomic():
            exercise.save()
            _audit(actor, "exercise.created", exercise)
    except IntegrityError as exc:
        if stored:
            exercise.image.storage.delete(stored)
        raise ValidationError(
            {"name": [str(_("Your clinic already has an exercise of this name."))]}
        ) from exc
    return exercise


def clinic_exercise_update(
    *,
    actor: User,
    exercise: Exercise,
    values: Mapping[str, Any],
    image: ImageChange = KEEP,
) -> Exercise:
    """Change the given fields of one of the clinic's exercises, and its picture."""
    clinic_id = _require_staff(actor)
    if exercise.clinic_id != clinic_id:
        raise PermissionError("Not an exercise of the actor's clinic.")
    errors = Errors()
    clean = _checked(errors, values, clinic_id=clinic_id, exercise=exercise)
    errors.raise_if_any()
    old_picture = str(exercise.image.name or "")
    stored: str | None = None
    if image is None:
        exercise.image = None
    elif image is not KEEP:
        stored = _store_picture(exercise, image, errors)
    for name, value in clean.items():
        setattr(exercise, name, value)
    try:
        with transaction.atomic():
            exercise.save()
            _audit(actor, "exercise.updated", exercise)
            if image is not KEEP and old_picture:
                _delete_file_later(old_picture)
    except IntegrityError as exc:
        if stored:
            exercise.image.storage.delete(stored)
        raise ValidationError(
            {"name": [str(_("Your clinic already has an exercise of this name."))]}
        ) from exc
    return exercise


def clinic_exercise_archive(*, actor: User, exercise: Exercise, archived: bool) -> Exercise:
    """Archive (no longer offered for prescribing) or bring back one of the clinic's exercises."""
    clinic_id = _require_staff(actor)
    if exercise.clinic_id != clinic_id:
        raise PermissionError("Not an exercise of the actor's clinic.")
    if (exercise.archived_at is not None) == archived:
        return exercise
    with transaction.atomic():
        exercise.archived_at = timezone.now() if archived else None
        exercise.save(update_fields=["archived_at"])
        _audit(actor, "exercise.archived" if archived else "exercise.restored", exercise)
    return exercise


def steps_from_text(text: str) -> Sequence[str]:
    """A form's steps box: one step per line."""
    return [line.strip() for line in text.splitlines() if line.strip()]
