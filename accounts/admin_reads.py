"""The Django admin's pages over patient data: every read audited, clinical records read-only.

Operators use the admin to look things up; what they see of a patient is a read like any staff
read, so it writes one audit row per request (:func:`accounts.audit.audit_read`):

- ``admin.listed`` for a changelist: the model of its items and how many the page showed;
- ``admin.viewed`` for a change (detail) page or an object's history: the object, and the
  patient it belongs to.

Clinical records (a patient's episodes, entries, prescriptions, interventions, alerts and the
notifications about them) change only through the services, which validate and audit each
write; here they are read-only: no add, change, delete or bulk delete.
"""

from __future__ import annotations

import operator
from typing import Any

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from accounts.audit import audit_read

LISTED = "admin.listed"
VIEWED = "admin.viewed"


class AuditedReadsAdmin(admin.ModelAdmin):
    """Writes an audit row for each changelist, change page and history page it shows.

    ``patient_id_path`` is the dotted attribute path from a row to its patient's id
    ("episode.patient_id"); empty when rows belong to no single patient.
    """

    patient_id_path: str = ""

    def patient_id_of(self, obj: Model) -> int | None:
        if not self.patient_id_path:
            return None
        try:
            value = operator.attrgetter(self.patient_id_path)(obj)
        except AttributeError:  # a link on the way is empty (a delivery without an alert)
            return None
        return value if isinstance(value, int) else None

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().changelist_view(request, extra_context)
        changelist = _context(response).get("cl")
        if response.status_code == 200 and changelist is not None:
            audit_read(
                request.user, action=LISTED, obj=self.model, count=len(changelist.result_list)
            )
        return response

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        response = super().change_view(request, object_id, form_url, extra_context)
        self._audit_detail(request, response, _context(response).get("original"))
        return response

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().history_view(request, object_id, extra_context)
        self._audit_detail(request, response, _context(response).get("object"))
        return response

    def _audit_detail(self, request: HttpRequest, response: HttpResponse, obj: Any) -> None:
        # A POST that saved redirects (the service or save_model audited the write); a refused
        # or missing object never reaches a 200 with the object in its context.
        if response.status_code == 200 and isinstance(obj, self.model):
            audit_read(request.user, action=VIEWED, obj=obj, patient_id=self.patient_id_of(obj))


def _context(response: HttpResponse) -> dict[str, Any]:
    if isinstance(response, TemplateResponse) and isinstance(response.context_data, dict):
        return response.context_data
    return {}


class ClinicalRecordAdmin(AuditedReadsAdmin):
    """A patient's clinical data: shown (and audited), never added, changed or deleted here."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    """Rows shown under a clinical record's page, as read-only as the record itself."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
