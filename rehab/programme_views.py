"""The therapist's one-page home programme: the print page, its PDF, and emailing it.

Staff only: a patient (even their own episode) gets 404, like any page outside their reach.
Views stay thin: reach and role, then ``rehab.exercise_library``. Everything here is clinical
data, so nothing may be kept by a cache.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts.audit import audit_read
from accounts.models import User
from accounts.scoping import can_manage_patients
from rehab import selectors
from rehab.exercise_library import (
    PatientHasNoEmail,
    Programme,
    programme_email_send,
    programme_for,
)
from rehab.models import Episode
from rehab.programme_pdf import programme_pdf


def _staff_episode(request: HttpRequest, pk: int) -> tuple[User, Episode]:
    user = request.user
    if not isinstance(user, User) or not can_manage_patients(user):
        raise Http404
    return user, selectors.episode_in_reach(user=user, episode_id=pk)


def _programme(episode: Episode) -> Programme:
    return programme_for(episode=episode, as_of=episode.patient.local_today())


@never_cache
@login_required
@require_GET
def programme_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The printable programme (one A4 page when printed): /episodes/{id}/programme/."""
    user, episode = _staff_episode(request, pk)
    programme = _programme(episode)
    audit_read(user, action="programme.viewed", obj=episode, patient_id=episode.patient_id)
    return render(
        request,
        "therapist/programme.html",
        {
            "episode": episode,
            "programme": programme,
            "patient_email": episode.patient.user.email,
        },
    )


@never_cache
@login_required
@require_GET
def programme_pdf_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The programme as a one-page PDF: /episodes/{id}/programme.pdf."""
    user, episode = _staff_episode(request, pk)
    programme = _programme(episode)
    body = programme_pdf(programme)
    audit_read(user, action="programme.exported", obj=episode, patient_id=episode.patient_id)
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{programme.filename}"'
    return response


@login_required
@require_POST
def programme_email(request: HttpRequest, pk: int) -> HttpResponse:
    """Email the programme (PDF attached) to the patient; the send is queued and audited."""
    user, episode = _staff_episode(request, pk)
    try:
        programme_email_send(actor=user, episode=episode)
    except PatientHasNoEmail:
        messages.error(
            request, gettext("The patient has no email address to send the programme to.")
        )
    else:
        messages.success(
            request,
            gettext("The programme is on its way to %(email)s.")
            % {"email": episode.patient.user.email},
        )
    return redirect("episode-programme", pk=episode.pk)
