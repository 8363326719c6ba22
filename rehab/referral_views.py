"""Pages of the referral follow-up (docs/referrals.md): the list of referred patients, and the
forms that record a referral's follow-up, correct it or withdraw it.

Thin like every view: reach first (out of reach: 404), then the role (a patient: 403), then the
form, then one service. The episode page shows the follow-up panel (``reports.views``).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from accounts.audit import audit_read
from accounts.models import User
from accounts.scoping import can_manage_patients
from rehab import referral_selectors, selectors
from rehab.forms import add_service_errors
from rehab.models import Episode
from rehab.referral_forms import (
    FollowUpForm,
    ReferralCorrectForm,
    ReferralWithdrawForm,
    follow_up_initial,
)
from rehab.referrals import referral_correct, referral_follow_up_update, referral_withdraw

GET_POST = ["GET", "POST"]
PAGE_SIZE = 100


def _staff(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # behind login_required
    if not can_manage_patients(user):
        raise PermissionDenied(gettext("Only therapists and clinic admins may open this page."))
    return user


def _staff_episode(request: HttpRequest, pk: int) -> tuple[User, Episode]:
    user = request.user
    assert isinstance(user, User)
    # Reach first: an episode out of reach is a 404 for everybody, a patient's own a 403.
    episode = selectors.episode_in_reach(user=user, episode_id=pk)
    return _staff(request), episode


@never_cache
@login_required
@require_GET
def referral_list(request: HttpRequest) -> HttpResponse:
    """Referred patients in reach with what became of each referral, follow-up due first."""
    user = _staff(request)
    show = request.GET.get("show") or referral_selectors.SHOW_ALL
    data = referral_selectors.referral_list(user=user, show=show)
    page = Paginator(data.rows, PAGE_SIZE).get_page(request.GET.get("page"))
    audit_read(user, action="referrals.listed", obj=Episode, count=len(page.object_list))
    return render(
        request,
        "therapist/referrals.html",
        {
            "referrals": data,
            "page": page,
            "filters": [
                {
                    "key": key,
                    "label": label,
                    "count": data.counts[key],
                    "current": key == data.show,
                }
                for key, label in referral_selectors.SHOW_CHOICES
            ],
            "due_days": referral_selectors.FOLLOW_UP_DUE_DAYS,
        },
    )


def _form_page(
    request: HttpRequest, episode: Episode, form: Any, title: str, submit: str, intro: str = ""
) -> HttpResponse:
    return render(
        request,
        "therapist/form.html",
        {
            "form": form,
            "title": title,
            "intro": intro,
            "episode": episode,
            "submit": submit,
            "cancel_url": reverse("episode", args=[episode.pk]),
        },
    )


@never_cache
@login_required
@require_http_methods(GET_POST)
def referral_follow_up(request: HttpRequest, pk: int) -> HttpResponse:
    """Record the appointment and outcome of the episode's referral (also posted to from the
    episode page's panel; errors come back on this page, next to their fields)."""
    user, episode = _staff_episode(request, pk)
    if request.method == "POST":
        form = FollowUpForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            outcome = data.get("outcome") or ""
            outcome_date = data.get("outcome_date")
            if outcome and outcome_date is None:
                outcome_date = episode.patient.local_today()
            try:
                referral_follow_up_update(
                    actor=user,
                    episode=episode,
                    appointment_date=data.get("appointment_date"),
                    outcome=outcome,
                    outcome_date=outcome_date,
                    surgery_date=data.get("surgery_date"),
                    note=data.get("note") or "",
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, gettext("Referral follow-up saved."))
                return redirect(f"{reverse('episode', args=[episode.pk])}#referral-title")
    else:
        form = FollowUpForm(
            initial=follow_up_initial(referral_selectors.referral_panel(episode=episode))
        )
    return _form_page(
        request,
        episode,
        form,
        gettext("Referral follow-up"),
        gettext("Save follow-up"),
    )


@never_cache
@login_required
@require_http_methods(GET_POST)
def referral_correct_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Correct the recorded referral (date, to whom, note) with a reason."""
    user, episode = _staff_episode(request, pk)
    if request.method == "POST":
        form = ReferralCorrectForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                referral_correct(
                    actor=user,
                    episode=episode,
                    reason=data["reason"],
                    date=data["date"],
                    referred_to=data.get("referred_to") or "",
                    note=data.get("note") or "",
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, gettext("Referral corrected."))
                return redirect(f"{reverse('episode', args=[episode.pk])}#referral-title")
    else:
        form = ReferralCorrectForm(
            initial={
                "date": episode.referral_date,
                "referred_to": episode.referred_to,
                "note": episode.referral_note,
            }
        )
    return _form_page(
        request,
        episode,
        form,
        gettext("Correct the referral"),
        gettext("Save correction"),
        intro=gettext("The old values are kept with your reason in the referral's history."),
    )


@never_cache
@login_required
@require_http_methods(GET_POST)
def referral_withdraw_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Withdraw a referral recorded by mistake: the episode is active again."""
    user, episode = _staff_episode(request, pk)
    form = ReferralWithdrawForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            referral_withdraw(actor=user, episode=episode, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, gettext("Referral withdrawn; the episode is active again."))
            return redirect("episode", pk=episode.pk)
    return _form_page(
        request,
        episode,
        form,
        gettext("Withdraw the referral"),
        gettext("Withdraw referral"),
        intro=gettext(
            "Only for a referral recorded by mistake. The episode becomes active again and is "
            "evaluated as of today; the referral and its follow-up are kept in its history."
        ),
    )
