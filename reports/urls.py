from django.urls import URLPattern, path

from reports import views

urlpatterns: list[URLPattern] = [
    # "/" is every signed-in user's home (api-contract.md, "Stable page links").
    path("", views.home, name="home"),
    path("progress/", views.progress, name="patient-progress"),
]
