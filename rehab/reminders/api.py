"""API v1 for the signed-in patient's own reminders and devices.

``/me/...`` is the caller's own: for anybody who is not a patient there is nothing there, so
it answers 404 (the contract's answer for what is outside the caller's reach), never 403.
"""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api.base import ApiView
from accounts.models import Patient
from rehab import selectors
from rehab.notify.addresses import MAX_URL_LENGTH
from rehab.reminders import services
from rehab.reminders.serializers import (
    PushKeySerializer,
    PushSubscriptionInputSerializer,
    PushSubscriptionSerializer,
    ReminderPreferencesSerializer,
)
from rehab.reminders.vapid import vapid_keys

TAG = ["reminders"]


class OwnPatientView(ApiView):
    def own_patient(self) -> Patient:
        patient = selectors.patient_of(self.request.user)
        if patient is None:
            raise Http404(_("Reminders are for patients."))
        return patient


def _preferences_data(preferences: services.ReminderPreferences) -> dict[str, object]:
    return {
        "enabled": preferences.enabled,
        "time": preferences.time.strftime("%H:%M"),
        "channels": list(preferences.channels),
        "timezone": preferences.timezone,
    }


class ReminderPreferencesView(OwnPatientView):
    @extend_schema(
        tags=TAG,
        operation_id="me_reminders_get",
        summary="Your daily reminder",
        responses=ReminderPreferencesSerializer,
    )
    def get(self, request: Request) -> Response:
        patient = self.own_patient()
        return Response(_preferences_data(services.reminder_preferences(patient=patient)))

    @extend_schema(
        tags=TAG,
        operation_id="me_reminders_update",
        summary="Change your daily reminder",
        request=ReminderPreferencesSerializer,
        responses=ReminderPreferencesSerializer,
    )
    def put(self, request: Request) -> Response:
        patient = self.own_patient()
        serializer = ReminderPreferencesSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        preferences = services.reminder_preferences_update(
            actor=self.caller,
            patient=patient,
            enabled=data["enabled"],
            time=data["time"],
            channels=data["channels"],
            timezone_name=data["timezone"],
        )
        return Response(_preferences_data(preferences))


class PushKeyView(ApiView):
    @extend_schema(
        tags=TAG,
        operation_id="push_key",
        summary="The VAPID public key to subscribe with (applicationServerKey)",
        responses={200: PushKeySerializer, 404: OpenApiResponse(description="Push is off")},
    )
    def get(self, request: Request) -> Response:
        keys = vapid_keys()
        if keys is None:
            raise Http404(_("Web Push is not configured on this server."))
        return Response({"public_key": keys.public_key})


class PushSubscriptionsView(OwnPatientView):
    @extend_schema(
        tags=TAG,
        operation_id="me_push_subscriptions_list",
        summary="Your devices that get reminders",
        responses=PushSubscriptionSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        devices = selectors.push_subscriptions(patient=self.own_patient())
        return self.paginated_response(devices, PushSubscriptionSerializer)

    @extend_schema(
        tags=TAG,
        operation_id="me_push_subscriptions_add",
        summary="Get reminders on this device (the browser's PushSubscription.toJSON())",
        request=PushSubscriptionInputSerializer,
        responses={201: PushSubscriptionSerializer, 200: PushSubscriptionSerializer},
    )
    def post(self, request: Request) -> Response:
        patient = self.own_patient()
        serializer = PushSubscriptionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        saved = services.push_subscription_save(
            actor=self.caller,
            patient=patient,
            endpoint=data["endpoint"],
            p256dh=data["keys"]["p256dh"],
            auth=data["keys"]["auth"],
        )
        return Response(
            PushSubscriptionSerializer(saved.subscription).data,
            status=status.HTTP_201_CREATED if saved.created else status.HTTP_200_OK,
        )

    @extend_schema(
        tags=TAG,
        operation_id="me_push_subscriptions_remove",
        summary="Stop reminders on a device",
        parameters=[OpenApiParameter("endpoint", str, required=True)],
        responses={204: None, 404: OpenApiResponse(description="Not one of your devices")},
    )
    def delete(self, request: Request) -> Response:
        patient = self.own_patient()
        endpoint = request.query_params.get("endpoint", "")
        if not endpoint:
            raise ValidationError({"endpoint": [_("Give the device's endpoint (?endpoint=...).")]})
        if len(endpoint) > MAX_URL_LENGTH or "\x00" in endpoint:
            # No stored endpoint looks like this (and PostgreSQL refuses NUL in a query).
            raise Http404(_("Not one of your devices."))
        if not services.push_subscription_delete(
            actor=self.caller, patient=patient, endpoint=endpoint
        ):
            raise Http404(_("Not one of your devices."))
        return Response(status=status.HTTP_204_NO_CONTENT)
