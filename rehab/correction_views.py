"""The correction pages: correct or delete an intervention or a prescription, correct the
intake values. Staff only (a patient gets the 403 of the other staff pages; out of reach: 404).

Each page shows the record's values in a form with a required reason; an intervention or a
prescription also has a second form to delete it (with its own reason). The writes are
``rehab.corrections``'s.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods

from rehab import selectors
from rehab.correction_forms import (
    DeleteRecordForm,
    IntakeCorrectionForm,
    InterventionCorrectionForm,
    PrescriptionCorrectionForm,
)
from rehab.corrections import (
    episode_intake_correct,
    intervention_correct,
    intervention_delete,
    prescription_correct,
    prescription_delete,
)
from rehab.forms import add_service_errors
from rehab.models import Episode
from rehab.views import _require_staff, _user

GET_POST = ["GET", "POST"]


def _page(
    request: HttpRequest,
    *,
    episode: Episode,
    title: str,
    form: Any,
    delete_form: DeleteRecordForm | None = None,
    intro: str = "",
) -> HttpResponse:
    return render(
        request,
        "therapist/correct.html",
        {
            "episode": episode,
            "title": title,
            "intro": intro,
            "form": form,
            "delete_form": delete_form,
            "cancel_url": reverse("episode", args=[episode.pk]),
        },
    )


def _deleting(request: HttpRequest) -> bool:
    return request.method == "POST" and "delete" in request.POST


@login_required
@require_http_methods(GET_POST)
def intervention_correct_view(request: HttpRequest, pk: int, intervention_id: int) -> HttpResponse:
    user = _user(request)
    intervention = selectors.intervention_in_reach(
        user=user, episode_id=pk, intervention_id=intervention_id
    )
    _require_staff(request)
    episode = intervention.episode
    initial = InterventionCorrectionForm.initial_for(intervention)
    posted = request.POST if request.method == "POST" else None
    form = InterventionCorrectionForm(None if _deleting(request) else posted, initial=initial)
    delete_form = DeleteRecordForm(posted if _deleting(request) else None, prefix="delete")
    if _deleting(request) and delete_form.is_valid():
        try:
            intervention_delete(
                actor=user, intervention=intervention, reason=delete_form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            add_service_errors(delete_form, exc)
        else:
            messages.success(request, gettext("Intervention deleted; the reason is kept."))
            return redirect("episode", pk=episode.pk)
    elif posted is not None and not _deleting(request) and form.is_valid():
        try:
            intervention_correct(
                actor=user,
                intervention=intervention,
                reason=form.cleaned_data.get("reason") or "",
                changes=form.service_values(),
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, gettext("Intervention corrected; the old values are kept."))
            return redirect("episode", pk=episode.pk)
    return _page(
        request,
        episode=episode,
        title=gettext("Correct an intervention"),
        form=form,
        delete_form=delete_form,
        intro=gettext(
            "This record was flagged for review when the injection sites were coded: check the "
            "site and the note, then save it with a reason."
        )
        if intervention.needs_review
        else "",
    )


@login_required
@require_http_methods(GET_POST)
def prescription_correct_view(request: HttpRequest, pk: int, prescription_id: int) -> HttpResponse:
    user = _user(request)
    prescription = selectors.prescription_in_reach(
        user=user, episode_id=pk, prescription_id=prescription_id
    )
    _require_staff(request)
    episode = prescription.episode
    posted = request.POST if request.method == "POST" else None
    form = PrescriptionCorrectionForm(
        None if _deleting(request) else posted,
        initial=PrescriptionCorrectionForm.initial_for(prescription),
    )
    delete_form = DeleteRecordForm(posted if _deleting(request) else None, prefix="delete")
    if _deleting(request) and delete_form.is_valid():
        try:
            prescription_delete(
                actor=user, prescription=prescription, reason=delete_form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            add_service_errors(delete_form, exc)
        else:
            messages.success(request, gettext("Prescription deleted; the reason is kept."))
            return redirect("episode", pk=episode.pk)
    elif posted is not None and not _deleting(request) and form.is_valid():
        try:
            prescription_correct(
                actor=user,
                prescription=prescription,
                reason=form.cleaned_data.get("reason") or "",
                changes=form.service_changes(),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, gettext("Prescription corrected; the old values are kept."))
            return redirect("episode", pk=episode.pk)
    return _page(
        request,
        episode=episode,
        title=gettext("Correct a prescription"),
        form=form,
        delete_form=delete_form,
        intro=gettext(
            "Deleting a prescription also deletes the sets logged against it; they are kept "
            "with the reason in the corrections history."
        ),
    )


@login_required
@require_http_methods(GET_POST)
def intake_correct_view(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    episode = selectors.episode_in_reach(user=user, episode_id=pk)
    _require_staff(request)
    form = IntakeCorrectionForm(
        request.POST or None, initial=IntakeCorrectionForm.initial_for(episode)
    )
    if request.method == "POST" and form.is_valid():
        try:
            episode_intake_correct(
                actor=user,
                episode=episode,
                reason=form.cleaned_data.get("reason") or "",
                changes=form.service_changes(),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, gettext("Intake values corrected; the old values are kept."))
            return redirect("episode", pk=episode.pk)
    return _page(request, episode=episode, title=gettext("Correct the intake values"), form=form)
