"""API v1: correcting an episode's records with a reason (docs/corrections.md).

``PATCH|DELETE /episodes/{id}/interventions/{intervention_id}/`` (the contract's), the same for
prescriptions, ``PATCH /episodes/{id}/`` for the intake values, and the episode's corrections.
Reach first (404), then the role (403 for a patient), then the body (400), then one service.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, OpenApiTypes, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.audit import audit_read
from rehab.api import views
from rehab.api.serializers import (
    EpisodeIntakeCorrectionInputSerializer,
    EpisodeSerializer,
    InterventionCorrectionInputSerializer,
    InterventionSerializer,
    PrescriptionCorrectionInputSerializer,
    PrescriptionSerializer,
    RecordCorrectionSerializer,
    RecordDeleteInputSerializer,
)
from rehab.api.views import EPISODE_TAG, INTERVENTION_TAG, PRESCRIPTION_TAG, EpisodeApiView
from rehab.corrections import (
    episode_intake_correct,
    intervention_correct,
    intervention_delete,
    prescription_correct,
    prescription_delete,
)
from rehab.models import Episode, Intervention, Prescription, RecordCorrection

REASON_PARAMETER = OpenApiParameter(
    "reason",
    OpenApiTypes.STR,
    description="Required: why the record is deleted (also accepted as a JSON body field).",
)


def _delete_reason(request: Request) -> str:
    # The reason may come as a body field or, for clients that send no body with a DELETE,
    # as ?reason=.
    body = request.data if isinstance(request.data, dict) else {}
    data = RecordDeleteInputSerializer(
        data={"reason": body.get("reason", request.query_params.get("reason", ""))}
    )
    data.is_valid(raise_exception=True)
    reason: str = data.validated_data["reason"]
    return reason


def _changes(validated: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    values = dict(validated)
    return values.pop("reason", ""), values


class InterventionDetailView(EpisodeApiView):
    def get_intervention(self, episode: Episode, intervention_id: int) -> Intervention:
        try:
            return Intervention.objects.get(episode=episode, pk=intervention_id)
        except Intervention.DoesNotExist:
            raise Http404("Not found.") from None

    @extend_schema(
        tags=INTERVENTION_TAG,
        operation_id="interventions_retrieve",
        summary="One intervention",
        responses=InterventionSerializer,
    )
    def get(self, request: Request, pk: int, intervention_id: int) -> Response:
        episode = self.get_episode(pk)
        intervention = self.get_intervention(episode, intervention_id)
        body = InterventionSerializer(intervention).data
        audit_read(
            request.user,
            action="intervention.viewed",
            obj=intervention,
            patient_id=episode.patient_id,
        )
        return Response(body)

    @extend_schema(
        tags=INTERVENTION_TAG,
        operation_id="interventions_correct",
        summary="Correct an intervention, with a reason (old and new values kept)",
        request=InterventionCorrectionInputSerializer,
        responses=InterventionSerializer,
    )
    def patch(self, request: Request, pk: int, intervention_id: int) -> Response:
        episode = self.get_episode(pk)
        intervention = self.get_intervention(episode, intervention_id)
        actor = self.require_clinic_staff()
        data = InterventionCorrectionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        reason, changes = _changes(data.validated_data)
        intervention = intervention_correct(
            actor=actor, intervention=intervention, reason=reason, changes=changes
        )
        return Response(InterventionSerializer(intervention).data)

    @extend_schema(
        tags=INTERVENTION_TAG,
        operation_id="interventions_delete",
        summary="Delete an intervention recorded by mistake, with a reason",
        parameters=[REASON_PARAMETER],
        request=RecordDeleteInputSerializer,
        responses={204: None},
    )
    def delete(self, request: Request, pk: int, intervention_id: int) -> Response:
        episode = self.get_episode(pk)
        intervention = self.get_intervention(episode, intervention_id)
        actor = self.require_clinic_staff()
        intervention_delete(actor=actor, intervention=intervention, reason=_delete_reason(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class PrescriptionDetailView(EpisodeApiView):
    def get_prescription(self, episode: Episode, prescription_id: int) -> Prescription:
        try:
            return Prescription.objects.get(episode=episode, pk=prescription_id)
        except Prescription.DoesNotExist:
            raise Http404("Not found.") from None

    @extend_schema(
        tags=PRESCRIPTION_TAG,
        operation_id="prescriptions_retrieve",
        summary="One prescription",
        responses=PrescriptionSerializer,
    )
    def get(self, request: Request, pk: int, prescription_id: int) -> Response:
        episode = self.get_episode(pk)
        prescription = self.get_prescription(episode, prescription_id)
        body = PrescriptionSerializer(prescription).data
        audit_read(
            request.user,
            action="prescription.viewed",
            obj=prescription,
            patient_id=episode.patient_id,
        )
        return Response(body)

    @extend_schema(
        tags=PRESCRIPTION_TAG,
        operation_id="prescriptions_correct",
        summary="Correct a prescription, with a reason (old and new values kept)",
        request=PrescriptionCorrectionInputSerializer,
        responses=PrescriptionSerializer,
    )
    def patch(self, request: Request, pk: int, prescription_id: int) -> Response:
        episode = self.get_episode(pk)
        prescription = self.get_prescription(episode, prescription_id)
        actor = self.require_clinic_staff()
        data = PrescriptionCorrectionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        reason, changes = _changes(data.validated_data)
        prescription = prescription_correct(
            actor=actor, prescription=prescription, reason=reason, changes=changes
        )
        return Response(PrescriptionSerializer(prescription).data)

    @extend_schema(
        tags=PRESCRIPTION_TAG,
        operation_id="prescriptions_delete",
        summary="Delete a prescription made by mistake (and its logged sets), with a reason",
        parameters=[REASON_PARAMETER],
        request=RecordDeleteInputSerializer,
        responses={204: None},
    )
    def delete(self, request: Request, pk: int, prescription_id: int) -> Response:
        episode = self.get_episode(pk)
        prescription = self.get_prescription(episode, prescription_id)
        actor = self.require_clinic_staff()
        prescription_delete(actor=actor, prescription=prescription, reason=_delete_reason(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class EpisodeDetailView(views.EpisodeDetailView):
    """``GET /episodes/{id}/`` as before, and ``PATCH``: the intake values, with a reason."""

    @extend_schema(
        tags=EPISODE_TAG,
        operation_id="episodes_correct_intake",
        summary="Correct the intake values (side, diagnosis, intake pain and ROM, BMI), "
        "with a reason",
        request=EpisodeIntakeCorrectionInputSerializer,
        responses=EpisodeSerializer,
    )
    def patch(self, request: Request, pk: int) -> Response:
        episode = self.get_episode(pk)
        actor = self.require_clinic_staff()
        data = EpisodeIntakeCorrectionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        reason, changes = _changes(data.validated_data)
        episode = episode_intake_correct(
            actor=actor, episode=episode, reason=reason, changes=changes
        )
        return Response(EpisodeSerializer(episode).data)


class EpisodeCorrectionListView(EpisodeApiView):
    @extend_schema(
        tags=EPISODE_TAG,
        operation_id="episodes_corrections",
        summary="The corrections of the episode's records, oldest first",
        responses=RecordCorrectionSerializer(many=True),
    )
    def get(self, request: Request, pk: int) -> Response:
        episode = self.get_episode(pk)
        response = self.paginated_response(
            RecordCorrection.objects.filter(episode=episode), RecordCorrectionSerializer
        )
        self.audit_list(response, action="corrections.listed", episode=episode)
        return response
