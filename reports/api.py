"""API v1 exports of one episode (its entries as CSV and the episode as a FHIR R4 Bundle), and
the FHIR definitions the bundle refers to (the FAAM and PSFS Questionnaires, the local
CodeSystems).

Exports: reach first (anything out of reach is a 404, like every other endpoint), then the export,
then its audit row. Both carry patient data, so ``ApiView`` marks every response ``no-store``.
The definitions carry none: any signed-in user reads them, and they are not audited.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from django.http import Http404, HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api.base import ApiView
from accounts.scoping import can_manage_patients, get_in_reach_or_404
from rehab.models import Episode
from reports import fhir_questionnaires, fhir_terminology
from reports.exports import (
    BUNDLE_TYPES,
    COLLECTION,
    entries_csv,
    episode_export_record,
    fhir_bundle,
)

EXPORT_TAG = ["exports"]


class CsvRenderer(BaseRenderer):
    """Lets a client ask for ``Accept: text/csv``; errors then arrive as JSON text."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        if isinstance(data, str):
            return data.encode()
        return json.dumps(data).encode()


class FhirJsonRenderer(JSONRenderer):
    """``application/fhir+json``, the FHIR media type: the default of every FHIR endpoint
    (``Accept: application/json`` still gets plain JSON)."""

    media_type = "application/fhir+json"
    format = "fhir"


# FHIR first: what a client gets without asking, errors included.
FHIR_RENDERERS = (FhirJsonRenderer, JSONRenderer)


class ExportApiView(ApiView):
    def get_episode(self, pk: int) -> Episode:
        return get_in_reach_or_404(
            self.request.user,
            Episode.objects.select_related("patient__user"),
            via="patient",
            pk=pk,
        )


class EpisodeEntriesCsvView(ExportApiView):
    renderer_classes = (JSONRenderer, CsvRenderer)

    @extend_schema(
        tags=EXPORT_TAG,
        operation_id="episodes_entries_csv",
        summary="The episode's daily entries as CSV (a header row, one row per entry)",
        description=(
            "Columns: date, trial_day, pain_activity, pain_rest, pf_rom_affected, "
            "pf_rom_unaffected, exercises, note. Text that a spreadsheet would run as a formula "
            "(starting with =, +, -, @, tab or carriage return) is prefixed with an apostrophe."
        ),
        responses={
            (200, "text/csv"): OpenApiResponse(
                response=OpenApiTypes.STR, description="The entries as CSV."
            )
        },
    )
    def get(self, request: Request, pk: int) -> HttpResponse:
        episode = self.get_episode(pk)
        body = entries_csv(episode)
        episode_export_record(actor=self.caller, episode=episode, action="entries.exported")
        response = HttpResponse(body, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="entries-episode-{episode.pk}.csv"'
        return response


class EpisodeFhirView(ExportApiView):
    renderer_classes = FHIR_RENDERERS

    @extend_schema(
        tags=EXPORT_TAG,
        operation_id="episodes_fhir",
        summary="The episode as a FHIR R4 Bundle of type collection or transaction",
        description=(
            "Patient (the clinic's record number, date of birth, gender when recorded), a "
            "Condition (closest SNOMED CT and ICD-10-CM codes, affected side as body site), one "
            "Observation per pain score (LOINC 72514-3 and a local code for during activity or "
            "at rest) and per plantar-flexion measurement (local code, UCUM deg, the ankle and "
            "its laterality), each FAAM or PSFS response as a QuestionnaireResponse with an "
            "Observation (category survey) per score, and a Flag per unresolved alert (clinic "
            "staff only: alerts are never shown to patients). `type=transaction`: every entry "
            "carries a conditional create (`ifNoneExist` on its first identifier), so that a "
            "FHIR server can take the bundle as it is, and again without duplicates. Every code "
            "and its source: docs/fhir.md. Served as `application/fhir+json`."
        ),
        parameters=[
            OpenApiParameter(
                "type",
                OpenApiTypes.STR,
                enum=list(BUNDLE_TYPES),
                description="The Bundle's type. Default: collection.",
            )
        ],
        responses={
            200: OpenApiResponse(response=OpenApiTypes.OBJECT, description="A FHIR R4 Bundle."),
            400: OpenApiResponse(description="`type` is neither collection nor transaction"),
        },
    )
    def get(self, request: Request, pk: int) -> Response:
        episode = self.get_episode(pk)
        bundle_type = request.query_params.get("type", COLLECTION)
        if bundle_type not in BUNDLE_TYPES:
            raise serializers.ValidationError(
                {"type": [f"Choose one of: {', '.join(BUNDLE_TYPES)}."]}
            )
        bundle = fhir_bundle(
            episode,
            include_flags=can_manage_patients(self.caller),
            now=timezone.now(),
            bundle_type=bundle_type,
        )
        episode_export_record(actor=self.caller, episode=episode, action="fhir.exported")
        return Response(bundle)


DEFINITION_TAG = ["fhir definitions"]


class QuestionnaireView(ApiView):
    renderer_classes = FHIR_RENDERERS

    @extend_schema(
        tags=DEFINITION_TAG,
        operation_id="questionnaires_retrieve",
        summary="The FAAM or PSFS as a FHIR R4 Questionnaire",
        description=(
            "`faam`: the Foot and Ankle Ability Measure, a group per subscale with the items "
            "adl-1 ... adl-21 and sports-1 ... sports-8 in the order of the published form, each "
            "a choice among the faam-answer codes 4 ... 0 and na. `psfs`: the Patient-Specific "
            "Functional Scale, a repeating group `activities` (1-5) of `activity` (text) and "
            "`score` (0-10). Each carries its canonical `url` and `version`, which every "
            "exported QuestionnaireResponse names. Anything else: 404."
        ),
        responses={
            200: OpenApiResponse(
                response=OpenApiTypes.OBJECT, description="A FHIR R4 Questionnaire."
            )
        },
    )
    def get(self, request: Request, instrument: str) -> Response:
        resource = fhir_questionnaires.questionnaire(instrument)
        if resource is None:
            raise Http404
        return Response(resource)


class CodeSystemView(ApiView):
    renderer_classes = FHIR_RENDERERS

    @extend_schema(
        tags=DEFINITION_TAG,
        operation_id="code_systems_retrieve",
        summary="A local FHIR R4 CodeSystem: faam-answer, function-score, observation or finding",
        description=(
            "`faam-answer`: the FAAM answers 4 (no difficulty at all) ... 0 (unable to do) and "
            "na. `function-score`: the codes of the score Observations, faam-adl, faam-sports "
            "and psfs. Local codes, because no LOINC code exists for the FAAM (docs/fhir.md). "
            "`observation`: pain-activity, pain-rest and ankle-plantar-flexion-rom. `finding`: "
            "the finding codes the alert Flags carry (REFERRAL_CONSIDER, ...). Anything else: "
            "404."
        ),
        responses={
            200: OpenApiResponse(response=OpenApiTypes.OBJECT, description="A FHIR R4 CodeSystem.")
        },
    )
    def get(self, request: Request, name: str) -> Response:
        resource = fhir_terminology.code_system(name)
        if resource is None:
            raise Http404
        return Response(resource)
