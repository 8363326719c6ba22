"""Report pages: the referral report (HTML and PDF) and the clinic outcomes report (HTML, CSV).

Views stay thin: check reach and role, read through ``reports.referral``/``reports.outcomes``,
render. Everything here is clinical data, so no response may be kept by a cache (``never_cache``
sends ``Cache-Control: no-store``).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.audit import audit_read
from accounts.models import User
from accounts.scoping import can_manage_patients, therapists_in_clinic
from config.csv_export import csv_text
from rehab.models import Episode
from reports.charts import charts_for_series
from reports.outcomes import (
    CSV_HEADER,
    OutcomesReport,
    clinic_outcomes,
    outcomes_csv_rows,
    outcomes_export_record,
)
from reports.pdf import referral_pdf
from reports.referral import referral_report, report_export_record


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # every caller is behind login_required
    return user


# --- Referral report ---------------------------------------------------------------------------


@never_cache
@login_required
@require_GET
def referral_report_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The printable referral report (stable link: /episodes/{id}/report/)."""
    user = _user(request)
    report = referral_report(user=user, episode_id=pk)
    episode = report.episode
    audit_read(user, action="report.viewed", obj=episode, patient_id=episode.patient_id)
    return render(
        request,
        "reports/referral.html",
        {
            "report": report,
            "episode": report.episode,
            "evaluation": report.evaluation,
            "charts": charts_for_series(report.course.series, prefix="report"),
        },
    )


@never_cache
@login_required
@require_GET
def referral_report_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The referral report as a PDF download (stable link: /episodes/{id}/report.pdf)."""
    user = _user(request)
    report = referral_report(user=user, episode_id=pk)
    body = referral_pdf(report)
    report_export_record(actor=user, report=report)
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{report.filename}"'
    return response


# --- Clinic outcomes ---------------------------------------------------------------------------


class TherapistChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.get_full_name())


class OutcomesFilterForm(forms.Form):
    date_from = forms.DateField(
        required=False,
        label=_("Started from"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    date_to = forms.DateField(
        required=False,
        label=_("Started until"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    therapist = TherapistChoiceField(
        queryset=User.objects.none(), required=False, empty_label=_("All therapists")
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        therapist = self.fields["therapist"]
        assert isinstance(therapist, TherapistChoiceField)
        therapist.queryset = therapists_in_clinic(user).order_by("last_name", "first_name")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", gettext("The end of the range is before its start."))
        return data


def _require_clinic_admin(request: HttpRequest) -> User:
    user = _user(request)
    if not can_manage_patients(user):
        # Patients (and users without a clinic role) do not learn that the page exists.
        raise Http404("Not found.")
    if not user.is_clinic_admin:
        raise PermissionDenied(gettext("Only a clinic admin may see the clinic's outcomes."))
    return user


def _outcomes_csv(user: User, report: OutcomesReport) -> HttpResponse:
    response = HttpResponse(
        csv_text(CSV_HEADER, outcomes_csv_rows(report)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="outcomes-{timezone.localdate():%Y-%m-%d}.csv"'
    )
    outcomes_export_record(actor=user)
    return response


@never_cache
@login_required
@require_GET
def outcomes_page(request: HttpRequest, as_csv: bool = False) -> HttpResponse:
    """The clinic's outcomes (clinic admin): ``?format=csv`` or ``.csv`` downloads the rows."""
    user = _require_clinic_admin(request)
    as_csv = as_csv or request.GET.get("format") == "csv"
    query = request.GET.copy()
    query.pop("format", None)
    form = OutcomesFilterForm(query, user=user)
    if not form.is_valid():
        if as_csv:
            return HttpResponse(
                "; ".join(f"{k}: {' '.join(str(m) for m in v)}" for k, v in form.errors.items()),
                status=400,
                content_type="text/plain; charset=utf-8",
            )
        return render(request, "reports/outcomes.html", {"form": form, "report": None}, status=400)
    data = form.cleaned_data
    report = clinic_outcomes(
        user=user,
        today=timezone.localdate(),
        date_from=data.get("date_from"),
        date_to=data.get("date_to"),
        therapist=data.get("therapist"),
    )
    if as_csv:
        return _outcomes_csv(user, report)
    audit_read(user, action="outcomes.viewed", obj=Episode, count=len(report.rows))
    query_string = query.urlencode()
    return render(
        request,
        "reports/outcomes.html",
        {
            "form": form,
            "report": report,
            "csv_query": query_string,
        },
    )
