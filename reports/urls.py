from django.urls import URLPattern, path

from reports import privacy_views, views

# "/" and "/episodes/{id}/" are served by config.pages, which hands staff to reports.views.
urlpatterns: list[URLPattern] = [
    path("progress/", views.progress, name="patient-progress"),
    # The patient's own data: download (JSON, FHIR); the files come from api-me-export.
    path("my-data/", privacy_views.my_data_page, name="my-data"),
]
