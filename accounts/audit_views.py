"""The clinic admin's audit trail (/settings/audit/): filter, page through, download as CSV.

Only the rows of the admin's own clinic are ever read (:func:`audit_trail`); therapists and
patients get a 403. The rows hold ids, never health values, so the page shows ids too, with the
actor's email address.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.audit import audit_record
from accounts.emails import normalize_email
from accounts.models import AuditEvent, User
from config.csv_export import csv_lines

PAGE_SIZE = 50
CSV_HEADER = [
    "time_utc",
    "actor_id",
    "actor_email",
    "action",
    "object_type",
    "object_id",
    "patient_id",
    "item_count",
    "ip_address",
]


class AuditFilterForm(forms.Form):
    actor = forms.CharField(
        required=False, label=_("Actor's email"), max_length=254, help_text=_("The exact address.")
    )
    action = forms.ChoiceField(required=False, label=_("Action"))
    patient = forms.IntegerField(required=False, label=_("Patient id"), min_value=1)
    date_from = forms.DateField(
        required=False, label=_("From (UTC)"), widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, label=_("Until (UTC)"), widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, actions: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        action = self.fields["action"]
        assert isinstance(action, forms.ChoiceField)
        action.choices = [("", gettext("Any action")), *((a, a) for a in actions)]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", gettext("The end of the range is before its start."))
        return data


def clinic_audit_events(*, clinic_id: int) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(clinic_id=clinic_id)


def audit_trail(
    *,
    clinic_id: int,
    actor_email: str = "",
    action: str = "",
    patient_id: int | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> QuerySet[AuditEvent]:
    """The clinic's rows, newest first, narrowed by the filters (dates are UTC days)."""
    rows = clinic_audit_events(clinic_id=clinic_id).select_related("actor")
    if actor_email:
        rows = rows.filter(actor__email=normalize_email(actor_email))
    if action:
        rows = rows.filter(action=action)
    if patient_id is not None:
        rows = rows.filter(patient_id=patient_id)
    if date_from is not None:
        rows = rows.filter(
            created_at__gte=dt.datetime.combine(date_from, dt.time.min, tzinfo=dt.UTC)
        )
    if date_to is not None:
        after = date_to + dt.timedelta(days=1)
        rows = rows.filter(created_at__lt=dt.datetime.combine(after, dt.time.min, tzinfo=dt.UTC))
    return rows.order_by("-created_at", "-id")


def _clinic_admin(request: HttpRequest) -> User:
    user = request.user
    if not (
        isinstance(user, User)
        and user.is_active
        and user.is_clinic_admin
        and user.clinic_id is not None
    ):
        raise PermissionDenied(gettext("Only a clinic admin may read the clinic's audit trail."))
    return user


def _csv_lines(rows: QuerySet[AuditEvent]) -> Iterator[str]:
    # An actor's email address is chosen by people and may look like a formula
    # ("=2+5+cmd|...@x.test" is a valid address): the safe writer makes such cells text.
    return csv_lines(
        CSV_HEADER,
        (
            [
                row.created_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                row.actor_id or "",
                row.actor.email if row.actor else "",
                row.action,
                row.object_type,
                row.object_id,
                row.patient_id,
                row.item_count,
                row.ip_address or "",
            ]
            for row in rows.iterator(chunk_size=2000)
        ),
    )


@never_cache
@login_required
@require_GET
def audit_trail_page(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    user = _clinic_admin(request)
    assert user.clinic_id is not None
    actions = sorted(
        set(clinic_audit_events(clinic_id=user.clinic_id).values_list("action", flat=True))
    )
    query = request.GET.copy()
    as_csv = query.pop("format", None) == ["csv"]
    query.pop("page", None)
    form = AuditFilterForm(query, actions=actions)
    if not form.is_valid():
        return render(
            request, "settings/audit.html", {"form": form, "page": None, "query": ""}, status=400
        )
    data = form.cleaned_data
    rows = audit_trail(
        clinic_id=user.clinic_id,
        actor_email=data.get("actor") or "",
        action=data.get("action") or "",
        patient_id=data.get("patient"),
        date_from=data.get("date_from"),
        date_to=data.get("date_to"),
    )
    if as_csv:
        # The download is itself a read worth knowing about (it holds ids, not health data).
        audit_record(actor=user, action="audit.exported", obj=AuditEvent)
        response = StreamingHttpResponse(_csv_lines(rows), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="audit-{timezone.now():%Y-%m-%d}.csv"'
        )
        return response
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "settings/audit.html",
        {"form": form, "page": page, "query": query.urlencode()},
    )
