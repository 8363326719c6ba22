from __future__ import annotations

from django.urls import URLPattern, path

from rehab.api import (
    alert_extras,
    clinic_exercise_views,
    correction_views,
    questionnaire_views,
    referral_views,
    views,
)

urlpatterns: list[URLPattern] = [
    # The catalogue and the clinic's own exercises (issue 16, docs/clinic-exercises.md).
    path(
        "exercises/",
        clinic_exercise_views.ExerciseListCreateView.as_view(),
        name="api-exercise-list",
    ),
    path(
        "exercises/<int:pk>/",
        clinic_exercise_views.ExerciseDetailView.as_view(),
        name="api-exercise-detail",
    ),
    path(
        "exercises/<int:pk>/picture/",
        clinic_exercise_views.ExercisePictureView.as_view(),
        name="api-exercise-picture",
    ),
    path("episodes/", views.EpisodeListCreateView.as_view(), name="api-episode-list"),
    # GET as before; PATCH corrects the intake values (issue 14, docs/corrections.md).
    path(
        "episodes/<int:pk>/",
        correction_views.EpisodeDetailView.as_view(),
        name="api-episode-detail",
    ),
    path(
        "episodes/<int:pk>/referral/",
        views.EpisodeReferralView.as_view(),
        name="api-episode-referral",
    ),
    path("episodes/<int:pk>/close/", views.EpisodeCloseView.as_view(), name="api-episode-close"),
    path(
        "episodes/<int:pk>/prescriptions/",
        views.PrescriptionListCreateView.as_view(),
        name="api-prescription-list",
    ),
    path(
        "episodes/<int:pk>/prescriptions/<int:prescription_id>/end/",
        views.PrescriptionEndView.as_view(),
        name="api-prescription-end",
    ),
    path("episodes/<int:pk>/entries/", views.EntryListView.as_view(), name="api-entry-list"),
    path(
        "episodes/<int:pk>/entries/<str:date>/",
        views.EntryDetailView.as_view(),
        name="api-entry-detail",
    ),
    path(
        "episodes/<int:pk>/interventions/",
        views.InterventionListCreateView.as_view(),
        name="api-intervention-list",
    ),
    # Issue 15: the FAAM and PSFS responses (docs/questionnaires.md).
    path(
        "episodes/<int:pk>/questionnaire-responses/",
        questionnaire_views.QuestionnaireResponseListView.as_view(),
        name="api-questionnaire-response-list",
    ),
    path(
        "episodes/<int:pk>/progress/",
        views.EpisodeProgressView.as_view(),
        name="api-episode-progress",
    ),
    # Issue 14 (docs/alerts.md): new notifications, marking them read; escalation settings.
    path(
        "alerts/notifications/",
        alert_extras.NotificationListView.as_view(),
        name="api-alert-notifications",
    ),
    path(
        "alerts/notifications/read/",
        alert_extras.NotificationReadView.as_view(),
        name="api-alert-notifications-read",
    ),
    path(
        "clinic/escalation/",
        alert_extras.ClinicEscalationView.as_view(),
        name="api-clinic-escalation",
    ),
    path("alerts/", views.AlertListView.as_view(), name="api-alert-list"),
    path("alerts/<int:pk>/", views.AlertDetailView.as_view(), name="api-alert-detail"),
    path(
        "alerts/<int:pk>/acknowledge/",
        views.AlertAcknowledgeView.as_view(),
        name="api-alert-acknowledge",
    ),
    path("alerts/<int:pk>/resolve/", views.AlertResolveView.as_view(), name="api-alert-resolve"),
    path("alerts/<int:pk>/snooze/", views.AlertSnoozeView.as_view(), name="api-alert-snooze"),
    path(
        "clinic/thresholds/",
        views.ClinicThresholdsView.as_view(),
        name="api-clinic-thresholds",
    ),
    # Referral follow-up (issue 14, docs/api.md "Referral follow-up").
    path("referrals/", referral_views.ReferralListView.as_view(), name="api-referral-list"),
    path(
        "episodes/<int:pk>/referral/follow-up/",
        referral_views.ReferralFollowUpView.as_view(),
        name="api-referral-follow-up",
    ),
    # Issue 14 (C): correcting records with a reason; re-evaluation runs (docs/corrections.md).
    path(
        "episodes/<int:pk>/interventions/<int:intervention_id>/",
        correction_views.InterventionDetailView.as_view(),
        name="api-intervention-detail",
    ),
    path(
        "episodes/<int:pk>/prescriptions/<int:prescription_id>/",
        correction_views.PrescriptionDetailView.as_view(),
        name="api-prescription-detail",
    ),
    path(
        "episodes/<int:pk>/corrections/",
        correction_views.EpisodeCorrectionListView.as_view(),
        name="api-episode-corrections",
    ),
    path(
        "clinic/reevaluations/<int:pk>/",
        views.ReevaluationRunView.as_view(),
        name="api-clinic-reevaluation",
    ),
]
