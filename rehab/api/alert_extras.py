"""Issue 14's alert API (docs/api.md, "Alert notifications and escalation"): the caller's new
inbox notifications and marking them read, and the clinic's escalation settings."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api.base import ID_MAX, ApiView
from rehab import selectors
from rehab.escalation import (
    MAX_HOURS,
    MIN_HOURS,
    EscalationPolicy,
    clinic_escalation,
    clinic_escalation_update,
)
from rehab.inbox import inbox_messages_mark_read
from rehab.models import InboxMessage

ALERT_TAG = ["alerts"]
SETTINGS_TAG = ["clinic settings"]


class NotificationSerializer(serializers.ModelSerializer[InboxMessage]):
    episode = serializers.IntegerField(source="alert.episode_id", read_only=True)
    alert_status = serializers.CharField(source="alert.status", read_only=True)

    class Meta:
        model = InboxMessage
        fields = ["id", "alert", "episode", "alert_status", "title", "created_at"]
        read_only_fields = fields


class MarkReadInputSerializer(serializers.Serializer[Any]):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=ID_MAX),
        required=False,
        max_length=500,
        help_text="The notifications to mark read; leave out (with all: true) for every new one.",
    )
    all = serializers.BooleanField(required=False, default=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("all") and not attrs.get("ids"):
            raise serializers.ValidationError(
                {"ids": ["Name the notifications to mark read, or send all: true."]}
            )
        return attrs


class MarkReadOutputSerializer(serializers.Serializer[Any]):
    marked = serializers.IntegerField()


class NotificationListView(ApiView):
    @extend_schema(
        tags=ALERT_TAG,
        operation_id="alert_notifications_list",
        summary="The caller's new notifications: not marked read, alert not resolved",
        responses=NotificationSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        actor = self.require_clinic_staff()
        return self.paginated_response(
            selectors.new_notifications(user=actor), NotificationSerializer
        )


class NotificationReadView(ApiView):
    @extend_schema(
        tags=ALERT_TAG,
        operation_id="alert_notifications_read",
        summary="Mark notifications read for the caller (ids out of reach are passed over)",
        request=MarkReadInputSerializer,
        responses=MarkReadOutputSerializer,
    )
    def post(self, request: Request) -> Response:
        actor = self.require_clinic_staff()
        data = MarkReadInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        ids = None if data.validated_data["all"] else data.validated_data["ids"]
        return Response({"marked": inbox_messages_mark_read(actor=actor, message_ids=ids)})


class EscalationSerializer(serializers.Serializer[Any]):
    critical_enabled = serializers.BooleanField()
    critical_hours = serializers.IntegerField(min_value=MIN_HOURS, max_value=MAX_HOURS)
    high_enabled = serializers.BooleanField()
    high_hours = serializers.IntegerField(min_value=MIN_HOURS, max_value=MAX_HOURS)
    daily_summary = serializers.BooleanField()
    updated_at = serializers.DateTimeField(allow_null=True, read_only=True)
    updated_by = serializers.IntegerField(allow_null=True, read_only=True)


class EscalationInputSerializer(serializers.Serializer[Any]):
    # Documentation of the body only: the service checks it (strict types, labels in errors).
    critical_enabled = serializers.BooleanField(required=False)
    critical_hours = serializers.IntegerField(
        required=False, min_value=MIN_HOURS, max_value=MAX_HOURS
    )
    high_enabled = serializers.BooleanField(required=False)
    high_hours = serializers.IntegerField(required=False, min_value=MIN_HOURS, max_value=MAX_HOURS)
    daily_summary = serializers.BooleanField(required=False)


def _body(policy: EscalationPolicy) -> dict[str, Any]:
    return {
        **policy.as_dict(),
        "updated_at": policy.updated_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        if policy.updated_at
        else None,
        "updated_by": policy.updated_by.pk if policy.updated_by else None,
    }


class ClinicEscalationView(ApiView):
    @extend_schema(
        tags=SETTINGS_TAG,
        operation_id="clinic_escalation_retrieve",
        summary="When the caller's clinic escalates unacknowledged alerts (clinic staff)",
        responses=EscalationSerializer,
    )
    def get(self, request: Request) -> Response:
        actor = self.require_clinic_staff()
        assert actor.clinic_id is not None
        return Response(_body(clinic_escalation(clinic_id=actor.clinic_id)))

    @extend_schema(
        tags=SETTINGS_TAG,
        operation_id="clinic_escalation_update",
        summary="Set the clinic's escalation (clinic admin); a name left out keeps its value",
        request=EscalationInputSerializer,
        responses=EscalationSerializer,
    )
    def put(self, request: Request) -> Response:
        actor = self.require_clinic_staff()
        if not actor.is_clinic_admin:
            raise PermissionDenied("Only a clinic admin may change the escalation settings.")
        if not isinstance(request.data, dict):
            raise serializers.ValidationError(
                {"non_field_errors": ["Send an object of setting names and values."]}
            )
        # The service checks types and bounds strictly (JSON booleans, whole hours), and names
        # each field by its label.
        return Response(_body(clinic_escalation_update(actor=actor, values=request.data)))
