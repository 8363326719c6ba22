"""Issue 14's alert pages: marking inbox notifications read, and the clinic's escalation settings
(/settings/alerts/). Thin: they parse, call one service, and redirect or render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from rehab.escalation import MAX_HOURS, MIN_HOURS, clinic_escalation, clinic_escalation_update
from rehab.forms import add_service_errors
from rehab.inbox import inbox_messages_mark_read
from rehab.staff_forms import EscalationForm
from rehab.views import _require_staff, _safe_next


@never_cache
@login_required
@require_POST
def notifications_mark_read(request: HttpRequest) -> HttpResponse:
    """Mark one notification (``message``) or all new ones (``all``) read for the signed-in
    person; ids out of reach are passed over."""
    user = _require_staff(request)
    back = _safe_next(request, reverse("alert-inbox"))
    ids: list[int] | None
    if request.POST.get("all"):
        ids = None
    else:
        raw = request.POST.getlist("message")
        ids = [int(value) for value in raw if value.isascii() and value.isdigit()]
        if not ids:
            messages.error(request, gettext("Choose a notification to mark read."))
            return redirect(back)
    marked = inbox_messages_mark_read(actor=user, message_ids=ids)
    messages.success(
        request,
        ngettext(
            "%(count)d notification marked read.", "%(count)d notifications marked read.", marked
        )
        % {"count": marked},
    )
    return redirect(back)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def alert_settings(request: HttpRequest) -> HttpResponse:
    """The clinic's escalation settings: admins change them, therapists read them."""
    user = _require_staff(request)
    assert user.clinic_id is not None
    may_edit = user.is_clinic_admin
    if request.method == "POST" and not may_edit:
        raise PermissionDenied(gettext("Only a clinic admin may change the escalation settings."))
    current = clinic_escalation(clinic_id=user.clinic_id)
    if request.method == "POST":
        form = EscalationForm(request.POST)
        if form.is_valid():
            try:
                clinic_escalation_update(actor=user, values=form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, gettext("Escalation settings saved."))
                return redirect("alert-settings")
    else:
        form = EscalationForm(initial=current.as_dict())
    return render(
        request,
        "settings/alerts.html",
        {
            "form": form,
            "current": current,
            "may_edit": may_edit,
            "min_hours": MIN_HOURS,
            "max_hours": MAX_HOURS,
        },
    )
