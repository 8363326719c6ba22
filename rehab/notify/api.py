"""API v1: a clinic admin's webhook endpoints (/api/v1/webhooks/).

Each view fetches the endpoint within the caller's clinic first (another clinic's: 404 for
everybody), then checks the role (not a clinic admin: 403), then validates input (400) and calls
one service in :mod:`rehab.notify.endpoints`.
"""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api.base import ApiView
from accounts.models import User
from rehab.models import WebhookEndpoint
from rehab.notify import endpoints
from rehab.notify.serializers import (
    DeliverySerializer,
    WebhookEndpointCreateInputSerializer,
    WebhookEndpointSerializer,
    WebhookEndpointUpdateInputSerializer,
    WebhookEndpointWithSecretSerializer,
)

TAG = ["webhooks"]


class WebhookApiView(ApiView):
    def require_admin(self) -> User:
        if not endpoints.can_manage_webhooks(self.request.user):
            raise PermissionDenied("Only clinic admins manage webhooks.")
        return self.caller

    def get_endpoint(self, pk: int) -> WebhookEndpoint:
        endpoint = endpoints.endpoints_for(self.request.user).filter(pk=pk).first()
        if endpoint is None:
            raise Http404("Not found.")
        return endpoint


class WebhookListCreateView(WebhookApiView):
    @extend_schema(
        tags=TAG,
        operation_id="webhooks_list",
        summary="The clinic's webhook endpoints",
        responses=WebhookEndpointSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        self.require_admin()
        return self.paginated_response(
            endpoints.endpoints_for(request.user), WebhookEndpointSerializer
        )

    @extend_schema(
        tags=TAG,
        operation_id="webhooks_create",
        summary="Add an endpoint; the answer holds its signing secret, shown only this once",
        request=WebhookEndpointCreateInputSerializer,
        responses={201: WebhookEndpointWithSecretSerializer},
    )
    def post(self, request: Request) -> Response:
        actor = self.require_admin()
        data = WebhookEndpointCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        created = endpoints.webhook_endpoint_create(actor=actor, **data.validated_data)
        body = WebhookEndpointWithSecretSerializer(
            created.endpoint, context={"secret": created.secret}
        ).data
        return Response(body, status=status.HTTP_201_CREATED)


class WebhookDetailView(WebhookApiView):
    @extend_schema(
        tags=TAG,
        operation_id="webhooks_retrieve",
        summary="One endpoint (with a hint of its secret, never the secret)",
        responses=WebhookEndpointSerializer,
    )
    def get(self, request: Request, pk: int) -> Response:
        endpoint = self.get_endpoint(pk)
        self.require_admin()
        return Response(WebhookEndpointSerializer(endpoint).data)

    @extend_schema(
        tags=TAG,
        operation_id="webhooks_update",
        summary="Change the description, or turn deliveries off or back on",
        request=WebhookEndpointUpdateInputSerializer,
        responses=WebhookEndpointSerializer,
    )
    def patch(self, request: Request, pk: int) -> Response:
        endpoint = self.get_endpoint(pk)
        actor = self.require_admin()
        data = WebhookEndpointUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint = endpoints.webhook_endpoint_update(
            actor=actor, endpoint=endpoint, **data.validated_data
        )
        return Response(WebhookEndpointSerializer(endpoint).data)

    @extend_schema(
        tags=TAG,
        operation_id="webhooks_destroy",
        summary="Delete the endpoint and its delivery history",
        request=None,
        responses={204: OpenApiResponse(description="Deleted")},
    )
    def delete(self, request: Request, pk: int) -> Response:
        endpoint = self.get_endpoint(pk)
        actor = self.require_admin()
        endpoints.webhook_endpoint_delete(actor=actor, endpoint=endpoint)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookRotateView(WebhookApiView):
    @extend_schema(
        tags=TAG,
        operation_id="webhooks_rotate_secret",
        summary="Replace the signing secret; the answer holds the new one, shown only this once",
        request=None,
        responses=WebhookEndpointWithSecretSerializer,
    )
    def post(self, request: Request, pk: int) -> Response:
        endpoint = self.get_endpoint(pk)
        actor = self.require_admin()
        rotated = endpoints.webhook_endpoint_rotate_secret(actor=actor, endpoint=endpoint)
        return Response(
            WebhookEndpointWithSecretSerializer(
                rotated.endpoint, context={"secret": rotated.secret}
            ).data
        )


class WebhookTestView(WebhookApiView):
    @extend_schema(
        tags=TAG,
        operation_id="webhooks_test",
        summary="Send a webhook.test event to the endpoint, like any other delivery",
        request=None,
        responses={202: DeliverySerializer},
    )
    def post(self, request: Request, pk: int) -> Response:
        endpoint = self.get_endpoint(pk)
        actor = self.require_admin()
        delivery = endpoints.webhook_endpoint_test(actor=actor, endpoint=endpoint)
        return Response(DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


class WebhookDeliveryListView(WebhookApiView):
    @extend_schema(
        tags=TAG,
        operation_id="webhooks_deliveries",
        summary="The endpoint's recent deliveries, newest first, each with its attempts",
        responses=DeliverySerializer(many=True),
    )
    def get(self, request: Request, pk: int) -> Response:
        endpoint = self.get_endpoint(pk)
        self.require_admin()
        return self.paginated_response(
            endpoints.deliveries_of(endpoint=endpoint), DeliverySerializer
        )
