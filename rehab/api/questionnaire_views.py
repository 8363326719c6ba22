"""API v1: the episode's FAAM and PSFS responses (docs/api.md, "Questionnaires").

``POST /episodes/{id}/questionnaire-responses/`` records the day's response of one instrument
(201; posting again the same day replaces it, 200); ``GET`` lists them, oldest first. The
patient for their own episode, staff in reach on their behalf; out of reach is 404. The body is
checked by the service (``rehab.questionnaires``), which names every bad item.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from rehab import function_scores, selectors
from rehab.api.views import EpisodeApiView
from rehab.models import Instrument, QuestionnaireResponse
from rehab.questionnaires import questionnaire_response_record

QUESTIONNAIRE_TAG = ["questionnaires"]


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


class QuestionnaireResponseSerializer(serializers.ModelSerializer[QuestionnaireResponse]):
    scores = serializers.SerializerMethodField(
        help_text='FAAM: {"adl", "sports"} (null under the 90% rule); PSFS: {"psfs"}. '
        "Rounded to 0.1."
    )
    answers = serializers.SerializerMethodField(
        help_text='FAAM only: {"adl-1": 0–4 | "na", ...}; items left blank are left out.'
    )
    activities = serializers.SerializerMethodField(
        help_text='PSFS only: [{"activity", "score": 0–10}, ...].'
    )

    class Meta:
        model = QuestionnaireResponse
        fields = [
            "id",
            "episode",
            "instrument",
            "date",
            "scores",
            "answers",
            "activities",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.DictField(child=serializers.FloatField(allow_null=True)))
    def get_scores(self, response: QuestionnaireResponse) -> dict[str, float | None]:
        if response.instrument == function_scores.FAAM:
            return {"adl": _number(response.score_adl), "sports": _number(response.score_sports)}
        return {"psfs": _number(response.score_psfs)}

    @extend_schema_field(serializers.DictField(allow_null=True))
    def get_answers(self, response: QuestionnaireResponse) -> dict[str, Any] | None:
        if response.instrument != function_scores.FAAM:
            return None
        return dict(response.answers or {})

    @extend_schema_field(serializers.ListField(allow_null=True))
    def get_activities(self, response: QuestionnaireResponse) -> list[Any] | None:
        if response.instrument != function_scores.PSFS:
            return None
        return list(response.answers or [])


class QuestionnaireResponseInputSerializer(serializers.Serializer[Any]):
    # For the schema only: the service checks every value and names each bad item.
    instrument = serializers.ChoiceField(choices=Instrument.choices)
    date = serializers.DateField(help_text="The day answered, YYYY-MM-DD (the patient's date).")
    answers = serializers.DictField(
        required=False, help_text='FAAM: {"adl-1": 0–4 | "na", ...}; leave out unanswered items.'
    )
    activities = serializers.ListField(
        child=serializers.DictField(),
        required=False,
        help_text='PSFS: 1–5 of {"activity": text, "score": 0–10}.',
    )
    reason = serializers.CharField(
        required=False,
        help_text="Staff, once the episode is referred or closed: why (kept with the change).",
    )


_FIELDS = ("instrument", "date", "answers", "activities", "reason")


class QuestionnaireResponseListView(EpisodeApiView):
    @extend_schema(
        tags=QUESTIONNAIRE_TAG,
        operation_id="questionnaire_responses_list",
        summary="The episode's FAAM and PSFS responses, oldest first",
        responses=QuestionnaireResponseSerializer(many=True),
    )
    def get(self, request: Request, pk: int) -> Response:
        episode = self.get_episode(pk)
        response = self.paginated_response(
            selectors.questionnaire_responses(episode=episode), QuestionnaireResponseSerializer
        )
        self.audit_list(response, action="questionnaire_responses.listed", episode=episode)
        return response

    @extend_schema(
        tags=QUESTIONNAIRE_TAG,
        operation_id="questionnaire_responses_create",
        summary="Record the day's FAAM or PSFS response (again the same day: replaced)",
        request=QuestionnaireResponseInputSerializer,
        responses={
            201: OpenApiResponse(QuestionnaireResponseSerializer, description="Created"),
            200: OpenApiResponse(QuestionnaireResponseSerializer, description="Replaced"),
            409: OpenApiResponse(
                description="The episode is referred or closed: the patient can no longer "
                "answer (staff record it with a reason)."
            ),
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        episode = self.get_episode(pk)
        body = request.data
        if not isinstance(body, dict):
            raise serializers.ValidationError(
                {"non_field_errors": ["Send a JSON object with instrument, date and answers."]}
            )
        unknown = sorted(str(name) for name in body if name not in _FIELDS)
        if unknown:
            raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        reason = body.get("reason", "")
        response, created = questionnaire_response_record(
            actor=self.caller,
            episode=episode,
            instrument=body.get("instrument", ""),
            date=body.get("date", ""),
            answers=body.get("answers"),
            activities=body.get("activities"),
            reason=reason if isinstance(reason, str) else "",
        )
        return Response(
            QuestionnaireResponseSerializer(response).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )
