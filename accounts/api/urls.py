from __future__ import annotations

from django.urls import URLPattern, path

from accounts.api import views

urlpatterns: list[URLPattern] = [
    path("auth/token/", views.TokenObtainView.as_view(), name="api-auth-token"),
    path("auth/token/revoke/", views.TokenRevokeView.as_view(), name="api-auth-token-revoke"),
    path("auth/tokens/", views.TokenListView.as_view(), name="api-auth-token-list"),
    path("auth/tokens/<int:pk>/", views.TokenDetailView.as_view(), name="api-auth-token-detail"),
    path(
        "auth/invitations/accept/",
        views.InvitationAcceptView.as_view(),
        name="api-auth-invitation-accept",
    ),
    path("patients/", views.PatientListCreateView.as_view(), name="api-patient-list"),
    path("patients/<int:pk>/", views.PatientDetailView.as_view(), name="api-patient-detail"),
    path(
        "patients/<int:pk>/invitation/",
        views.PatientInvitationView.as_view(),
        name="api-patient-invitation",
    ),
    path(
        "patients/<int:pk>/password-reset/",
        views.PatientPasswordResetView.as_view(),
        name="api-patient-password-reset",
    ),
]
