"""API v1: the exercises a caller may prescribe or see, and a clinic's own exercises
(docs/clinic-exercises.md, docs/api.md "Exercises").

``GET /exercises/`` lists the shared catalogue and the caller's clinic's own exercises. Staff add
(POST) and change (PATCH, ``"archived": true|false`` included) their clinic's own; a picture is
sent on its own address as ``multipart/form-data`` (PUT) and removed with DELETE. Another
clinic's exercise is absent (404) for everybody; a patient asking for a clinic exercise gets 404;
the catalogue is read-only (PATCH: 403).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.http import FileResponse, Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.base import ApiView, StrictIntegerField
from accounts.scoping import can_manage_patients
from rehab.clinic_exercise_views import picture_response, picture_url
from rehab.clinic_exercises import (
    clinic_exercise_archive,
    clinic_exercise_create,
    clinic_exercise_or_404,
    clinic_exercise_update,
    exercise_picture_or_404,
    exercises_visible_to,
)
from rehab.models import Exercise

EXERCISE_TAG = ["exercises"]
PICTURE_UPLOAD_SCHEMA = {
    "type": "object",
    "properties": {"image": {"type": "string", "format": "binary"}},
    "required": ["image"],
}


class ExerciseOutSerializer(serializers.ModelSerializer[Exercise]):
    clinic = serializers.IntegerField(
        source="clinic_id",
        read_only=True,
        allow_null=True,
        help_text="null for the shared catalogue; the clinic's id for its own exercise.",
    )
    picture = serializers.SerializerMethodField(
        help_text="The address of the clinic exercise's picture (sign-in needed), or null."
    )
    archived = serializers.SerializerMethodField(
        help_text="True when the clinic no longer offers it for prescribing."
    )

    class Meta:
        model = Exercise
        fields = [
            "id",
            "clinic",
            "name",
            "category",
            "instructions",
            "steps",
            "dosage",
            "feel",
            "stop_if",
            "default_sets",
            "default_reps",
            "illustration",
            "picture",
            "archived",
        ]
        read_only_fields = fields

    def get_picture(self, exercise: Exercise) -> str | None:
        return picture_url(exercise) or None

    def get_archived(self, exercise: Exercise) -> bool:
        return exercise.archived_at is not None


class ExerciseInputSerializer(serializers.Serializer[Any]):
    """The shape of a POST or PATCH body; the service checks every value."""

    name = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    category = serializers.CharField(required=False, allow_blank=True)
    instructions = serializers.CharField(required=False, allow_blank=True)
    steps = serializers.ListField(child=serializers.CharField(allow_blank=True), required=False)
    dosage = serializers.CharField(required=False, allow_blank=True)
    feel = serializers.CharField(required=False, allow_blank=True)
    stop_if = serializers.CharField(required=False, allow_blank=True)
    default_sets = StrictIntegerField(required=False)
    default_reps = serializers.CharField(required=False, allow_blank=True)
    archived = serializers.BooleanField(required=False, help_text="PATCH only.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        unknown = (
            set(self.initial_data) - set(self.fields)
            if isinstance(self.initial_data, dict)
            else set()
        )
        if unknown:
            raise ValidationError({name: ["Unknown field."] for name in sorted(unknown)})
        return attrs


class ExerciseListCreateView(ApiView):
    @extend_schema(
        tags=EXERCISE_TAG,
        operation_id="exercises_list",
        summary="The exercise catalogue and the caller's clinic's own exercises",
        responses=ExerciseOutSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        return self.paginated_response(exercises_visible_to(request.user), ExerciseOutSerializer)

    @extend_schema(
        tags=EXERCISE_TAG,
        operation_id="exercises_create",
        summary="Add an exercise of the caller's clinic (staff)",
        request=ExerciseInputSerializer,
        responses={201: ExerciseOutSerializer},
    )
    def post(self, request: Request) -> Response:
        actor = self.require_clinic_staff()
        data = ExerciseInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        if "archived" in values:
            raise ValidationError({"archived": ["A new exercise cannot be archived."]})
        exercise = clinic_exercise_create(actor=actor, values=values)
        return Response(ExerciseOutSerializer(exercise).data, status=status.HTTP_201_CREATED)


def _visible_or_404(request: Request, pk: int) -> Exercise:
    try:
        return exercises_visible_to(request.user).get(pk=pk)
    except (ObjectDoesNotExist, ValueError, TypeError) as exc:
        raise Http404("Not found.") from exc


class ExerciseDetailView(ApiView):
    @extend_schema(
        tags=EXERCISE_TAG,
        operation_id="exercises_retrieve",
        summary="One exercise of the catalogue, or of the caller's clinic (a patient: prescribed)",
        responses=ExerciseOutSerializer,
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(ExerciseOutSerializer(_visible_or_404(request, pk)).data)

    def _is_staff(self) -> bool:
        return can_manage_patients(self.request.user)

    @extend_schema(
        tags=EXERCISE_TAG,
        operation_id="exercises_partial_update",
        summary="Change one of the clinic's own exercises, or archive it (staff)",
        request=ExerciseInputSerializer,
        responses={200: ExerciseOutSerializer},
    )
    def patch(self, request: Request, pk: int) -> Response:
        exercise = _visible_or_404(request, pk)
        if exercise.clinic_id is not None and not self._is_staff():
            raise Http404("Not found.")
        actor = self.require_clinic_staff()
        if exercise.clinic_id is None:
            raise PermissionError("The shared catalogue cannot be changed.")
        data = ExerciseInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        archived = values.pop("archived", None)
        if values:
            exercise = clinic_exercise_update(actor=actor, exercise=exercise, values=values)
        if archived is not None:
            exercise = clinic_exercise_archive(actor=actor, exercise=exercise, archived=archived)
        return Response(ExerciseOutSerializer(exercise).data)


class ExercisePictureView(ApiView):
    parser_classes = (MultiPartParser,)  # type: ignore[assignment]

    @extend_schema(
        tags=EXERCISE_TAG,
        operation_id="exercises_picture_retrieve",
        summary="A clinic exercise's picture (its staff; patients with it prescribed)",
        responses={(200, "image/*"): OpenApiTypes.BINARY},
    )
    def get(self, request: Request, pk: int) -> FileResponse:
        return picture_response(exercise_picture_or_404(user=request.user, pk=pk))

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(response, FileResponse):
            # The picture keeps its own headers (private, nosniff); ApiView's no-store is for JSON.
            return APIView.finalize_response(self, request, response, *args, **kwargs)  # type: ignore[arg-type]
        return super().finalize_response(request, response, *args, **kwargs)

    @extend_schema(
        tags=EXERCISE_TAG,
        operation_id="exercises_picture_update",
        summary="Upload or replace the picture of one of the clinic's exercises (staff)",
        request={"multipart/form-data": PICTURE_UPLOAD_SCHEMA},
        responses={200: ExerciseOutSerializer},
    )
    def put(self, request: Request, pk: int) -> Response:
        exercise = clinic_exercise_or_404(user=request.user, pk=pk)
        actor = self.require_clinic_staff()
        upload = request.FILES.get("image")
        if upload is None:
            raise ValidationError({"image": ["Send the picture as the form field 'image'."]})
        exercise = clinic_exercise_update(actor=actor, exercise=exercise, values={}, image=upload)
        return Response(ExerciseOutSerializer(exercise).data)

    @extend_schema(
        tags=EXERCISE_TAG,
        operation_id="exercises_picture_destroy",
        summary="Remove the picture of one of the clinic's exercises (staff)",
        responses={204: OpenApiResponse(description="Removed.")},
    )
    def delete(self, request: Request, pk: int) -> Response:
        exercise = clinic_exercise_or_404(user=request.user, pk=pk)
        actor = self.require_clinic_staff()
        clinic_exercise_update(actor=actor, exercise=exercise, values={}, image=None)
        return Response(status=status.HTTP_204_NO_CONTENT)
