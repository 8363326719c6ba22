"""Pages that need ``reports``: the triaged caseload (the staff home), the patient's progress.

``rehab`` must not import ``reports``, so the ``/`` route lives here: staff get the caseload,
everybody else is handed to ``rehab.views.home`` (a patient's entry for today).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods

from accounts.audit import audit_read
from accounts.scoping import can_manage_patients
from rehab import views as rehab_views
from rehab.models import Episode
from reports.caseload import CaseloadFilters, caseload
from reports.patient_progress import patient_progress

# A therapist's caseload fits on one page; a large clinic's admin pages through it, most urgent
# first, instead of downloading a thousand rows.
CASELOAD_PAGE_SIZE = 100

# --- Home: the caseload (staff) or today's entry (patients) --------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def home(request: HttpRequest) -> HttpResponse:
    """Staff land on their caseload; a patient (whatever the query string) on today's entry."""
    user = request.user
    if not can_manage_patients(user):
        return rehab_views.home(request)
    if request.method != "GET":
        # Only the patient's entry form posts to "/".
        return HttpResponseNotAllowed(["GET"])
    filters = CaseloadFilters.from_query(request.GET, user=user)
    data = caseload(user=user, filters=filters)
    # Every row is computed (the order needs them all); only a page of them is drawn.
    page = Paginator(data.rows, CASELOAD_PAGE_SIZE).get_page(request.GET.get("page"))
    audit_read(user, action="caseload.viewed", obj=Episode, count=len(page.object_list))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "therapist/caseload.html",
        {"caseload": data, "rows": data.rows, "page": page, "page_query": query.urlencode()},
    )


# --- The patient's own progress ------------------------------------------------------------------


@login_required
@require_GET
def progress(request: HttpRequest) -> HttpResponse:
    """The patient's progress on a phone; staff and other patients' episodes get a 404."""
    data = patient_progress(user=request.user, episode_id=request.GET.get("episode") or None)
    if data is None:
        return render(request, "patient/no_episode.html", {"past_episodes": []})
    return render(request, "patient/progress.html", {"progress": data})
