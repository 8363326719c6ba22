"""The patient's reminder settings page, the time-zone prompt's answer, and the email
unsubscribe page (no sign-in)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import Patient, User
from rehab import selectors
from rehab.reminders import services
from rehab.reminders.forms import ReminderSettingsForm, TimezoneConfirmForm
from rehab.reminders.unsubscribe import patient_for_token
from rehab.reminders.vapid import vapid_keys


def _own_patient(request: HttpRequest) -> tuple[User, Patient]:
    user = request.user
    assert isinstance(user, User)  # behind login_required
    patient = selectors.patient_of(user)
    if patient is None:
        raise Http404("This page is for patients.")
    return user, patient


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def reminder_settings(request: HttpRequest) -> HttpResponse:
    user, patient = _own_patient(request)
    preferences = services.reminder_preferences(patient=patient)
    if request.method == "POST":
        form = ReminderSettingsForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            services.reminder_preferences_update(
                actor=user,
                patient=patient,
                enabled=data["enabled"],
                time=data["time"],
                channels=list(data["channels"]),
                timezone_name=data["timezone"],
            )
            messages.success(request, _("Saved: your reminders are set."))
            return redirect("reminder-settings")
    else:
        form = ReminderSettingsForm(
            initial={
                "enabled": preferences.enabled,
                "time": preferences.time,
                "channels": list(preferences.channels),
                "timezone": preferences.timezone,
            }
        )
    return render(
        request,
        "patient/reminders.html",
        {
            "form": form,
            "preferences": preferences,
            "devices": list(selectors.push_subscriptions(patient=patient)),
            "push_available": vapid_keys() is not None,
        },
    )


@login_required
@require_POST
def timezone_confirm(request: HttpRequest) -> HttpResponse:
    """The prompt's two buttons: "Use it" posts the phone's zone, "Keep ..." the current one."""
    user, patient = _own_patient(request)
    form = TimezoneConfirmForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("That time zone is not one we know; choose yours below."))
        return redirect("reminder-settings")
    services.patient_timezone_confirm(
        actor=user, patient=patient, timezone_name=form.cleaned_data["timezone"]
    )
    messages.success(
        request,
        _("Your reminders follow %(zone)s time.")
        % {"zone": form.cleaned_data["timezone"].replace("_", " ")},
    )
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/"
    return redirect(target)


# Mail providers POST the RFC 8058 one-click body ("List-Unsubscribe=One-Click") with no cookie
# and no CSRF token, so the POST is exempt; the signed token in the address is what authorises it,
# and all it can do is turn that patient's reminder emails off.
@never_cache
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    patient = patient_for_token(token)
    if patient is None:
        return render(request, "patient/unsubscribe_invalid.html", status=404)
    if request.method == "POST":
        services.email_reminders_unsubscribe(patient=patient)
        return render(request, "patient/unsubscribe_done.html")
    # A GET changes nothing: link scanners and previews open every link in an email.
    return render(
        request,
        "patient/unsubscribe.html",
        {"token": token, "already_off": not patient.reminder_by_email},
    )
