from __future__ import annotations

from django.urls import URLPattern, path

from rehab.notify import api

urlpatterns: list[URLPattern] = [
    path("webhooks/", api.WebhookListCreateView.as_view(), name="api-webhook-list"),
    path("webhooks/<int:pk>/", api.WebhookDetailView.as_view(), name="api-webhook-detail"),
    path("webhooks/<int:pk>/rotate/", api.WebhookRotateView.as_view(), name="api-webhook-rotate"),
    path("webhooks/<int:pk>/test/", api.WebhookTestView.as_view(), name="api-webhook-test"),
    path(
        "webhooks/<int:pk>/deliveries/",
        api.WebhookDeliveryListView.as_view(),
        name="api-webhook-deliveries",
    ),
]
