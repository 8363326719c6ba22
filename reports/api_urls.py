from __future__ import annotations

from django.urls import URLPattern, path

from reports import api, privacy_views

urlpatterns: list[URLPattern] = [
    path(
        "episodes/<int:pk>/entries.csv",
        api.EpisodeEntriesCsvView.as_view(),
        name="api-episode-entries-csv",
    ),
    path("episodes/<int:pk>/fhir/", api.EpisodeFhirView.as_view(), name="api-episode-fhir"),
    path("me/export/", privacy_views.MyExportView.as_view(), name="api-me-export"),
    path(
        "questionnaires/<slug:instrument>/",
        api.QuestionnaireView.as_view(),
        name="api-questionnaire",
    ),
    path("code-systems/<slug:name>/", api.CodeSystemView.as_view(), name="api-code-system"),
]
