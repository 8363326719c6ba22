"""Pages that need ``reports``: the triaged caseload (the staff home), the staff episode page
with its course charts, the patient's progress.

``rehab`` must not import ``reports`` (imports run reports -> rehab -> accounts), so every page
that draws a chart or a caseload is a view of this app. "/" and "/episodes/{id}/" answer staff
and patients differently: ``config.pages`` routes them, to the caseload and staff episode page
here, or to ``rehab.views`` for a patient's entry and history.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.audit import audit_read
from accounts.models import User
from rehab import referral_selectors, selectors
from rehab.evaluation import thresholds_for_clinic
from rehab.models import Episode, EpisodeStatus
from rehab.referral_forms import FollowUpForm, follow_up_initial
from reports.caseload import CaseloadFilters, caseload
from reports.charts import charts_for_series, episode_page_series
from reports.function import function_panel
from reports.patient_progress import patient_progress

# --- Staff: the caseload (their home) and the episode page --------------------------------------


def caseload_page(request: HttpRequest, *, user: User) -> HttpResponse:
    """A therapist's or clinic admin's home: the triaged caseload. ``config.pages.home`` serves
    "/" and hands staff here, after checking that ``user`` may manage patients."""
    if request.method != "GET":
        # Only the patient's entry form posts to "/".
        return HttpResponseNotAllowed(["GET"])
    filters = CaseloadFilters.from_query(request.GET, user=user)
    # Filtered, sorted and paged in SQL over the stored evaluations (reports/caseload.py).
    data = caseload(user=user, filters=filters, page=request.GET.get("page"))
    page = data.page
    audit_read(user, action="caseload.viewed", obj=Episode, count=len(data.rows))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "therapist/caseload.html",
        {"caseload": data, "rows": data.rows, "page": page, "page_query": query.urlencode()},
    )


def staff_episode_page(request: HttpRequest, pk: int, *, user: User) -> HttpResponse:
    """The episode page staff see: progress, alerts, course charts, entries, prescriptions.

    ``config.pages.episode_page`` hands staff here; the episode is fetched within ``user``'s
    reach, so one out of reach is a 404 like any other."""
    detail = selectors.episode_detail_for(user=user, episode_id=pk)
    episode = detail.episode
    today = episode.patient.local_today()
    audit_read(user, action="episode.viewed", obj=episode, patient_id=episode.patient_id)
    progress = selectors.episode_progress_for(episode=episode, as_of=today)
    referral = referral_selectors.referral_panel(episode=episode)
    interventions = list(episode.interventions.all())
    series = episode_page_series(
        episode=episode, evaluation=progress.evaluation, as_of=progress.as_of
    )
    return render(
        request,
        "therapist/episode_detail.html",
        {
            "progress": progress,
            "charts": charts_for_series(series),
            # The FAAM and PSFS: due / done per window and every response (reports/function.py).
            "function": series.function,
            "function_panel": function_panel(
                episode=episode,
                evaluation=progress.evaluation,
                thresholds=thresholds_for_clinic(episode.patient.user.clinic_id),
                responses=selectors.questionnaire_responses(episode=episode).select_related(
                    "recorded_by"
                ),
                as_of=progress.as_of,
            ),
            "next_url": request.get_full_path(),
            "episode": episode,
            "history": detail.history,
            "prescriptions": list(episode.prescriptions.all()),
            "interventions": interventions,
            "needs_review": [i for i in interventions if i.needs_review],
            "corrections": selectors.episode_corrections(episode=episode),
            "trial_day": selectors.trial_day(episode=episode, today=today),
            "is_open": episode.status != EpisodeStatus.CLOSED,
            "today": today,
            # The referral follow-up panel (docs/referrals.md).
            "referral": referral,
            "referral_form": FollowUpForm(initial=follow_up_initial(referral)),
        },
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
