"""Input and output shapes of the webhook endpoints API. The secret appears in one shape only:
the answer to a create or a rotate."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from rehab.api.serializers import text_up_to
from rehab.models import Delivery, DeliveryAttempt, WebhookEndpoint
from rehab.notify.addresses import MAX_URL_LENGTH
from rehab.notify.channels import message_id
from rehab.notify.endpoints import DESCRIPTION_MAX
from rehab.notify.signing import secret_hint


class WebhookEndpointCreateInputSerializer(serializers.Serializer[Any]):
    # Only parsed: the endpoint service checks the address and both lengths, with the same words
    # for the page and the API.
    url = text_up_to(
        MAX_URL_LENGTH,
        help_text="Where events are POSTed: a public https:// address.",
    )
    description = text_up_to(DESCRIPTION_MAX, allow_blank=True, default="")


class WebhookEndpointUpdateInputSerializer(serializers.Serializer[Any]):
    description = text_up_to(DESCRIPTION_MAX, allow_blank=True, required=False)
    is_active = serializers.BooleanField(
        required=False, help_text="false turns deliveries off; true turns them back on."
    )


class WebhookEndpointSerializer(serializers.ModelSerializer[WebhookEndpoint]):
    secret_hint = serializers.SerializerMethodField(
        help_text="The secret's last characters, to tell secrets apart; never the secret."
    )

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "description",
            "is_active",
            "disabled_reason",
            "secret_hint",
            "created_at",
            "secret_rotated_at",
        ]
        read_only_fields = fields

    def get_secret_hint(self, endpoint: WebhookEndpoint) -> str:
        return secret_hint(endpoint.secret)


class WebhookEndpointWithSecretSerializer(WebhookEndpointSerializer):
    """The answer to a create or a rotate: the only time the secret is shown."""

    secret = serializers.SerializerMethodField(
        help_text="The signing secret (whsec_…). Store it now: it is not shown again."
    )

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]
        read_only_fields = fields

    def get_secret(self, endpoint: WebhookEndpoint) -> str:
        return str(self.context["secret"])


class DeliveryAttemptSerializer(serializers.ModelSerializer[DeliveryAttempt]):
    class Meta:
        model = DeliveryAttempt
        fields = ["started_at", "duration_ms", "status_code", "outcome", "error"]
        read_only_fields = fields


class DeliverySerializer(serializers.ModelSerializer[Delivery]):
    webhook_id = serializers.SerializerMethodField(
        help_text="The webhook-id header of this delivery, the same on every retry."
    )
    attempt_log = DeliveryAttemptSerializer(many=True, read_only=True)

    class Meta:
        model = Delivery
        fields = [
            "id",
            "webhook_id",
            "event_type",
            "alert",
            "status",
            "attempts",
            "next_attempt_at",
            "delivered_at",
            "last_error",
            "created_at",
            "attempt_log",
        ]
        read_only_fields = fields

    def get_webhook_id(self, delivery: Delivery) -> str:
        return message_id(delivery)
