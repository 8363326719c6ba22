"""The two stable links whose page depends on who asks: "/" and "/episodes/{id}/".

Staff get pages that draw the caseload and the course charts, which live in ``reports``; a
patient gets their diary pages, which live in ``rehab``. Imports run reports -> rehab ->
accounts, so neither app may route to the other: the choice is made here, at the root of the
site beside the root URLconf, which is the one place that already sees every app.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET, require_http_methods

from accounts.models import User
from accounts.scoping import can_manage_patients
from rehab import views as rehab_views
from reports import views as reports_views


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # every caller is behind login_required
    return user


@login_required
@require_http_methods(["GET", "POST"])
def home(request: HttpRequest) -> HttpResponse:
    """Staff land on their caseload; a patient (whatever the query string) on today's entry."""
    user = _user(request)
    if can_manage_patients(user):
        return reports_views.caseload_page(request, user=user)
    return rehab_views.patient_home(request)


@login_required
@require_GET
def episode_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Staff get the episode page with its charts; the patient their history (out of reach: 404)."""
    user = _user(request)
    if can_manage_patients(user):
        return reports_views.staff_episode_page(request, pk, user=user)
    return rehab_views.episode_history(request, pk)
