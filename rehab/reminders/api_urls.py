from __future__ import annotations

from django.urls import URLPattern, path

from rehab.reminders import api

urlpatterns: list[URLPattern] = [
    path("me/reminders/", api.ReminderPreferencesView.as_view(), name="api-me-reminders"),
    path(
        "me/push-subscriptions/",
        api.PushSubscriptionsView.as_view(),
        name="api-me-push-subscriptions",
    ),
    path("push/key/", api.PushKeyView.as_view(), name="api-push-key"),
]
