"""API shapes for reminders and devices (api-contract.md, "Reminders and push")."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import urlsplit

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from rehab.notify.addresses import MAX_URL_LENGTH
from rehab.notify.push import allow_private
from rehab.reminders.services import CHANNELS, is_known_timezone

_HH_MM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
# base64url without padding, as PushSubscription.toJSON() gives the keys.
_B64URL = re.compile(r"^[A-Za-z0-9_-]+={0,2}$")


@extend_schema_field(OpenApiTypes.STR)
class ClockTimeField(serializers.Field[dt.time, str, str, Any]):
    default_error_messages = {"invalid": _("Use a 24-hour time HH:MM, e.g. 19:00.")}

    def to_internal_value(self, data: Any) -> dt.time:
        if not isinstance(data, str) or not _HH_MM.match(data):
            self.fail("invalid")
        hours, minutes = data.split(":")
        return dt.time(int(hours), int(minutes))

    def to_representation(self, value: dt.time) -> str:
        return value.strftime("%H:%M")


class TimezoneField(serializers.CharField):
    default_error_messages = {
        "unknown": _("Use a time zone name from the IANA database, e.g. Europe/Madrid."),
    }

    def to_internal_value(self, data: Any) -> str:
        name = super().to_internal_value(data)
        if not is_known_timezone(name):
            self.fail("unknown")
        return name


class ReminderPreferencesSerializer(serializers.Serializer[Any]):
    enabled = serializers.BooleanField()
    time = ClockTimeField()
    channels = serializers.ListField(
        child=serializers.ChoiceField(
            choices=list(CHANNELS),
            error_messages={"invalid_choice": 'Use "push" and/or "email" ("{input}" is not one).'},
        ),
        allow_empty=True,
        max_length=len(CHANNELS),
    )
    timezone = TimezoneField(max_length=64)

    def validate_channels(self, value: list[str]) -> list[str]:
        return [name for name in CHANNELS if name in value]


class PushKeysSerializer(serializers.Serializer[Any]):
    # A P-256 point is 65 bytes (87 characters), an auth secret 16 bytes (22).
    p256dh = serializers.RegexField(_B64URL, max_length=100)
    auth = serializers.RegexField(_B64URL, max_length=50)


class PushSubscriptionInputSerializer(serializers.Serializer[Any]):
    endpoint = serializers.URLField(max_length=MAX_URL_LENGTH)
    # PushSubscription.toJSON() also sends expirationTime (usually null): accepted and ignored.
    expirationTime = serializers.IntegerField(required=False, allow_null=True)
    keys = PushKeysSerializer()

    def validate_endpoint(self, value: str) -> str:
        # The full guard (public address, pinned connection) runs at every send; here only what
        # needs no DNS lookup on the request path.
        if not allow_private() and urlsplit(value).scheme.lower() != "https":
            raise serializers.ValidationError(_("A push endpoint must be an https:// address."))
        return value


class PushSubscriptionSerializer(serializers.Serializer[Any]):
    endpoint = serializers.CharField()
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True)


class PushKeySerializer(serializers.Serializer[Any]):
    public_key = serializers.CharField()
