"""The patient's "download my data": a page that explains it, and the API that serves it.

``GET /api/v1/me/export/?format=json|fhir`` answers the caller's own record (JSON by default,
``application/fhir+json`` for FHIR) as a download; the page's buttons are links to it, which the
browser follows with its session. Only patients have a record of their own: staff get a 403.
Every download writes one audit row, "patient.exported".
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api.base import ApiView
from accounts.models import Patient
from rehab import selectors
from reports.api import FhirJsonRenderer
from reports.privacy import patient_export_record, patient_fhir_bundle, patient_record


def _own_patient(user: Any) -> Patient:
    patient = selectors.patient_of(user)
    if patient is None:
        raise PermissionDenied(gettext("Only patients have a record of their own to download."))
    return patient


@never_cache
@login_required
@require_GET
def my_data_page(request: HttpRequest) -> HttpResponse:
    """What we hold and the two download buttons."""
    patient = _own_patient(request.user)
    return render(
        request,
        "patient/my_data.html",
        {"patient": patient, "episode_count": patient.episodes.count()},
    )


class ExportFormatNegotiation(DefaultContentNegotiation):
    """``?format=`` must name one of the view's formats: anything else is a 400 naming the
    field (DRF's own answer to an unknown format is a 404, which would read as "no record").
    A named format wins over the ``Accept`` header, so a browser link always downloads."""

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        wanted = request.query_params.get(self.settings.URL_FORMAT_OVERRIDE or "format")
        renderers = list(renderers)
        known = [renderer.format for renderer in renderers]
        if wanted is None:
            return super().select_renderer(request, renderers, format_suffix)
        for renderer in renderers:
            if renderer.format == wanted:
                return renderer, renderer.media_type
        raise exceptions.ValidationError(
            {
                "format": [
                    gettext("Choose one of: %(formats)s.")
                    % {"formats": ", ".join(str(k) for k in known)}
                ]
            }
        )


class MyExportView(ApiView):
    renderer_classes = (JSONRenderer, FhirJsonRenderer)
    content_negotiation_class = ExportFormatNegotiation

    @extend_schema(
        tags=["exports"],
        operation_id="me_export",
        summary="Download all of the caller's own data (patients): JSON or a FHIR R4 Bundle",
        description=(
            "`format=json` (the default): the profile and every episode with its "
            "prescriptions, daily entries and interventions, in API v1's shapes. "
            "`format=fhir`: one FHIR R4 collection Bundle (Patient, a Condition per episode, "
            "Observations). Alerts are the clinic's working list and are not included. "
            "Staff have no record of their own here: 403."
        ),
        parameters=[
            OpenApiParameter(
                "format", OpenApiTypes.STR, enum=["json", "fhir"], description="Default: json."
            )
        ],
        responses={
            200: OpenApiResponse(response=OpenApiTypes.OBJECT, description="The caller's data."),
            400: OpenApiResponse(description="Unknown format"),
            403: OpenApiResponse(description="Not a patient"),
        },
    )
    def get(self, request: Request) -> Response:
        user = self.caller
        patient = _own_patient(user)
        now = timezone.now()
        fhir = request.accepted_renderer.format == FhirJsonRenderer.format
        if fhir:
            body = patient_fhir_bundle(patient=patient, now=now)
        else:
            body = patient_record(patient=patient, now=now)
        patient_export_record(actor=user, patient=patient)
        response = Response(body)
        name = "my-rehab-data.fhir.json" if fhir else "my-rehab-data.json"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
