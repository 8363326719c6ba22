"""Pages for a clinic's own exercises under /settings/exercises/, and the view that serves their
pictures (docs/clinic-exercises.md).

Staff of the clinic (therapists and clinic admins) list, add, edit, archive and restore. An
exercise of another clinic, or a patient asking for an exercise's page, is a 404. Pictures are
never served from a public media address: ``exercise_picture`` checks who asks (the clinic's
staff, or a patient who has the exercise prescribed) and answers with headers that keep a browser
from reading the file as anything but the picture it is.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import User
from accounts.scoping import can_manage_patients
from rehab.clinic_exercise_forms import ClinicExerciseForm
from rehab.clinic_exercises import (
    KEEP,
    ImageChange,
    clinic_exercise_archive,
    clinic_exercise_create,
    clinic_exercise_or_404,
    clinic_exercise_update,
    clinic_exercises,
    exercise_picture_or_404,
)
from rehab.exercise_images import content_type_for
from rehab.forms import add_service_errors
from rehab.models import Exercise

GET_POST = ["GET", "POST"]


def _staff(request: HttpRequest) -> User:
    user = request.user
    if not can_manage_patients(user):
        raise PermissionDenied(gettext("Only therapists and clinic admins may open this page."))
    assert isinstance(user, User)
    return user


@login_required
@require_GET
def clinic_exercise_list(request: HttpRequest) -> HttpResponse:
    user = _staff(request)
    exercises = list(clinic_exercises(user=user))
    return render(
        request,
        "settings/exercises.html",
        {
            "active": [e for e in exercises if e.archived_at is None],
            "archived": [e for e in exercises if e.archived_at is not None],
        },
    )


def _form_page(
    request: HttpRequest, form: ClinicExerciseForm, exercise: Exercise | None
) -> HttpResponse:
    return render(
        request,
        "settings/exercise_form.html",
        {
            "form": form,
            "exercise": exercise,
            "title": gettext("Edit %(name)s") % {"name": exercise.name}
            if exercise
            else gettext("Add an exercise"),
            "submit": gettext("Save") if exercise else gettext("Add the exercise"),
        },
    )


@login_required
@require_http_methods(GET_POST)
def clinic_exercise_new(request: HttpRequest) -> HttpResponse:
    user = _staff(request)
    form = ClinicExerciseForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            exercise = clinic_exercise_create(
                actor=user, values=form.values(), image=form.cleaned_data.get("image")
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                gettext("%(name)s added: you can now prescribe it.") % {"name": exercise.name},
            )
            return redirect("clinic-exercise-list")
    return _form_page(request, form, None)


@login_required
@require_http_methods(GET_POST)
def clinic_exercise_edit(request: HttpRequest, pk: int) -> HttpResponse:
    exercise = clinic_exercise_or_404(user=request.user, pk=pk)
    user = _staff(request)
    form = ClinicExerciseForm(request.POST or None, request.FILES or None, exercise=exercise)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data.get("image")
        image: ImageChange = KEEP
        if upload is not None:
            image = upload
        elif form.cleaned_data.get("remove_image"):
            image = None
        try:
            clinic_exercise_update(actor=user, exercise=exercise, values=form.values(), image=image)
        except ValidationError as exc:
            add_service_errors(form, exc)
            exercise.refresh_from_db()
        else:
            messages.success(request, gettext("%(name)s saved.") % {"name": exercise.name})
            return redirect("clinic-exercise-list")
    return _form_page(request, form, exercise)


@login_required
@require_POST
def clinic_exercise_archive_view(request: HttpRequest, pk: int) -> HttpResponse:
    exercise = clinic_exercise_or_404(user=request.user, pk=pk)
    user = _staff(request)
    clinic_exercise_archive(actor=user, exercise=exercise, archived=True)
    messages.success(
        request,
        gettext("%(name)s archived: it is no longer offered for prescribing.")
        % {"name": exercise.name},
    )
    return redirect("clinic-exercise-list")


@login_required
@require_POST
def clinic_exercise_restore_view(request: HttpRequest, pk: int) -> HttpResponse:
    exercise = clinic_exercise_or_404(user=request.user, pk=pk)
    user = _staff(request)
    clinic_exercise_archive(actor=user, exercise=exercise, archived=False)
    messages.success(
        request, gettext("%(name)s is offered for prescribing again.") % {"name": exercise.name}
    )
    return redirect("clinic-exercise-list")


def picture_response(exercise: Exercise) -> FileResponse:
    """The stored picture, with headers that make it only ever a picture (shared with the API)."""
    name = str(exercise.image.name)
    content_type = content_type_for(name)
    if content_type is None:
        # Only names we gave are stored; anything else is not served.
        raise Http404("Not found.")
    try:
        handle = exercise.image.storage.open(name, "rb")
    except (FileNotFoundError, OSError) as exc:
        raise Http404("Not found.") from exc
    extension = name.rsplit(".", 1)[-1]
    response = FileResponse(handle, content_type=content_type)
    response["Content-Disposition"] = f'inline; filename="exercise-{exercise.pk}.{extension}"'
    response["X-Content-Type-Options"] = "nosniff"
    # Kept by the browser of the person who may see it, by no shared cache.
    response["Cache-Control"] = "private, max-age=3600"
    # Opened on its own, the file may run nothing and load nothing.
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


@login_required
@require_GET
def exercise_picture(request: HttpRequest, pk: int) -> FileResponse:
    return picture_response(exercise_picture_or_404(user=request.user, pk=pk))


def picture_url(exercise: Exercise) -> str:
    """Where a page shows a clinic exercise's picture ("" without one)."""
    if exercise.clinic_id is None or not exercise.image:
        return ""
    return reverse("exercise-image", args=[exercise.pk])
