from __future__ import annotations

from django.urls import URLPattern, path

from rehab.notify import views

urlpatterns: list[URLPattern] = [
    path("settings/webhooks/", views.webhook_list, name="webhook-list"),
    path("settings/webhooks/<int:pk>/", views.webhook_detail, name="webhook-detail"),
    path("settings/webhooks/<int:pk>/rotate/", views.webhook_rotate, name="webhook-rotate"),
    path("settings/webhooks/<int:pk>/test/", views.webhook_test, name="webhook-test"),
    path(
        "settings/webhooks/<int:pk>/disable/",
        views.webhook_set_active,
        {"active": False},
        name="webhook-disable",
    ),
    path(
        "settings/webhooks/<int:pk>/enable/",
        views.webhook_set_active,
        {"active": True},
        name="webhook-enable",
    ),
    path("settings/webhooks/<int:pk>/delete/", views.webhook_delete, name="webhook-delete"),
]
