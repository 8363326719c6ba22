from django.urls import URLPattern, path

from rehab.reminders import views

urlpatterns: list[URLPattern] = [
    path("account/reminders/", views.reminder_settings, name="reminder-settings"),
    path("account/reminders/timezone/", views.timezone_confirm, name="reminder-timezone"),
    # The link in every reminder email (RFC 8058 one-click); works without signing in.
    path("unsubscribe/<str:token>/", views.unsubscribe, name="reminders-unsubscribe"),
]
