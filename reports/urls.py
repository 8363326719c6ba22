from django.urls import URLPattern, path

from reports import privacy_views, views

urlpatterns: list[URLPattern] = [
    # "/" is every signed-in user's home (api-contract.md, "Stable page links").
    path("", views.home, name="home"),
    path("progress/", views.progress, name="patient-progress"),
    # The patient's own data: download (JSON, FHIR); the files come from api-me-export.
    path("my-data/", privacy_views.my_data_page, name="my-data"),
]
