"""The clinic admin's staff pages (/settings/staff/) and the patient's "Change therapist" page.

A staff member or cover of another clinic is a 404 (``staff_for``/``covers_for`` hold only the
caller's clinic, and nothing for a patient); a therapist of the clinic gets a 403, as on the other
settings pages. On the patient's page, reach comes first (scoping), then the role.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts import staff
from accounts.models import Cover, User
from accounts.scoping import cover_today, patient_for_user_or_404
from accounts.staff_forms import CoverForm, DeactivateForm, PatientReassignForm, StaffInviteForm
from accounts.staff_selectors import (
    covers_current_and_coming,
    covers_for,
    patients_of,
    reassign_targets,
    staff_for,
    staff_rows,
)

GET_POST = ["GET", "POST"]


def _admin(request: HttpRequest) -> User:
    user = request.user
    if not staff_for(user).exists():
        # A patient, or an account of no clinic: there is no staff page for them.
        raise Http404("No such page.")
    if not staff.can_administer_staff(user):
        raise PermissionDenied(_("Only clinic admins manage staff."))
    assert isinstance(user, User)
    return user


def _member(request: HttpRequest, pk: int) -> tuple[User, User]:
    member = staff_for(request.user).filter(pk=pk).first()
    if member is None:
        raise Http404("No such staff member.")
    return _admin(request), member


def _service_errors(request: HttpRequest, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


def _add_errors(form: StaffInviteForm | CoverForm | DeactivateForm, exc: ValidationError) -> None:
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for name, errors in exc.message_dict.items():
        form.add_error(name if name in form.fields else None, errors)


@login_required
@never_cache
@require_http_methods(["GET"])
def staff_list(request: HttpRequest) -> HttpResponse:
    actor = _admin(request)
    return render(
        request,
        "settings/staff.html",
        {
            "rows": staff_rows(actor),
            "covers": list(covers_current_and_coming(actor)),
            "today": cover_today(),
        },
    )


@login_required
@never_cache
@require_http_methods(GET_POST)
def staff_invite(request: HttpRequest) -> HttpResponse:
    actor = _admin(request)
    form = StaffInviteForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            invited = staff.staff_invite(actor=actor, **form.cleaned_data)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(
                request,
                _(
                    "%(name)s is invited: an email with a one-time link to set their password is "
                    "on its way to %(email)s."
                )
                % {"name": invited.member.get_full_name(), "email": invited.member.email},
            )
            return redirect("staff-detail", pk=invited.member.pk)
    return render(request, "settings/staff_invite.html", {"form": form})


@login_required
@never_cache
@require_http_methods(["GET"])
def staff_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor, member = _member(request, pk)
    row = next(r for r in staff_rows(actor) if r.member.pk == member.pk)
    return render(
        request,
        "settings/staff_detail.html",
        {
            "row": row,
            "member": member,
            "patients": list(patients_of(member)),
            "is_self": member.pk == actor.pk,
            "today": cover_today(),
        },
    )


@login_required
@never_cache
@require_POST
def staff_reinvite(request: HttpRequest, pk: int) -> HttpResponse:
    actor, member = _member(request, pk)
    try:
        staff.staff_invitation_issue(actor=actor, member=member)
    except ValidationError as exc:
        _service_errors(request, exc)
    else:
        messages.success(
            request,
            _("A new invitation link is on its way to %(email)s; older links stop working.")
            % {"email": member.email},
        )
    return redirect("staff-detail", pk=member.pk)


@login_required
@never_cache
@require_http_methods(GET_POST)
def staff_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    """Lists the member's patients and covers; each patient needs a chosen therapist (or an
    explicit "nobody") before the account is closed."""
    actor, member = _member(request, pk)
    if not member.is_active:
        messages.info(request, _("This account is already inactive."))
        return redirect("staff-detail", pk=member.pk)
    patients = list(patients_of(member))
    form = DeactivateForm(
        request.POST if request.method == "POST" else None,
        patients=patients,
        targets=reassign_targets(actor, exclude=member),
    )
    covers = [
        cover
        for cover in covers_current_and_coming(actor)
        if member.pk in (cover.absent_id, cover.covering_id)
    ]
    if request.method == "POST" and form.is_valid():
        try:
            done = staff.staff_deactivate(actor=actor, member=member, reassign=form.reassignment())
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            moved = len(done.moved)
            messages.success(
                request,
                _(
                    "%(name)s is deactivated: signed out everywhere, API tokens revoked. "
                    "%(moved)s %(covers)s"
                )
                % {
                    "name": member.get_full_name(),
                    "moved": ngettext(
                        "%(count)d patient moved as you chose.",
                        "%(count)d patients moved as you chose.",
                        moved,
                    )
                    % {"count": moved},
                    "covers": ngettext(
                        "%(count)d cover cancelled.",
                        "%(count)d covers cancelled.",
                        len(done.covers_cancelled),
                    )
                    % {"count": len(done.covers_cancelled)},
                },
            )
            return redirect("staff-detail", pk=member.pk)
    return render(
        request,
        "settings/staff_deactivate.html",
        {"member": member, "form": form, "patients": patients, "covers": covers},
    )


@login_required
@never_cache
@require_POST
def staff_reactivate(request: HttpRequest, pk: int) -> HttpResponse:
    actor, member = _member(request, pk)
    try:
        staff.staff_reactivate(actor=actor, member=member)
    except ValidationError as exc:
        _service_errors(request, exc)
    else:
        messages.success(
            request,
            _(
                "%(name)s can sign in again. Their old API tokens stay revoked; patients are not "
                "given back: reassign them if you wish."
            )
            % {"name": member.get_full_name()},
        )
    return redirect("staff-detail", pk=member.pk)


@login_required
@never_cache
@require_http_methods(GET_POST)
def cover_new(request: HttpRequest) -> HttpResponse:
    actor = _admin(request)
    initial = {"start_date": cover_today()}
    absent_id = request.GET.get("absent", "")
    if absent_id.isdigit():
        initial["absent"] = int(absent_id)  # type: ignore[assignment]
    form = CoverForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        targets=reassign_targets(actor),
    )
    if request.method == "POST" and form.is_valid():
        try:
            cover = staff.cover_create(actor=actor, **form.cleaned_data)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(
                request,
                _("%(covering)s covers %(absent)s from %(start)s to %(end)s.")
                % {
                    "covering": cover.covering.get_full_name(),
                    "absent": cover.absent.get_full_name(),
                    "start": cover.start_date.isoformat(),
                    "end": cover.end_date.isoformat(),
                },
            )
            return redirect("staff-list")
    return render(request, "settings/cover_new.html", {"form": form})


@login_required
@never_cache
@require_POST
def cover_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    cover: Cover | None = covers_for(request.user).filter(pk=pk).first()
    if cover is None:
        raise Http404("No such cover.")
    actor = _admin(request)
    try:
        staff.cover_cancel(actor=actor, cover=cover)
    except ValidationError as exc:
        _service_errors(request, exc)
    else:
        messages.success(
            request,
            _("The cover of %(absent)s by %(covering)s is cancelled.")
            % {
                "absent": cover.absent.get_full_name(),
                "covering": cover.covering.get_full_name(),
            },
        )
    return redirect("staff-list")


@login_required
@never_cache
@require_http_methods(GET_POST)
def patient_reassign(request: HttpRequest, pk: int) -> HttpResponse:
    """``/patients/{id}/therapist/``: a clinic admin gives the patient to another therapist."""
    user = request.user
    patient = patient_for_user_or_404(user, pk)
    if not staff.can_administer_staff(user):
        raise PermissionDenied(_("Only clinic admins reassign patients."))
    assert isinstance(user, User)
    form = PatientReassignForm(
        request.POST if request.method == "POST" else None,
        initial={"therapist": str(patient.therapist_id or "none")},
        targets=reassign_targets(user),
    )
    if request.method == "POST" and form.is_valid():
        therapist = form.chosen()
        try:
            staff.patient_reassign(actor=user, patient=patient, therapist=therapist)
        except ValidationError as exc:
            _service_errors(request, exc)
        else:
            if therapist is None:
                text = _("%(patient)s is now assigned to nobody: clinic admins get their alerts.")
            else:
                text = _("%(patient)s is now assigned to %(therapist)s.")
            messages.success(
                request,
                text
                % {
                    "patient": str(patient),
                    "therapist": therapist.get_full_name() if therapist else "",
                },
            )
            return redirect("patient-detail", pk=patient.pk)
    return render(request, "therapist/patient_reassign.html", {"patient": patient, "form": form})
