from __future__ import annotations

from django.urls import URLPattern, path

from accounts.api import staff_views, views

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
    # Staff administration (clinic admins; issue 14, docs/staff-administration.md).
    path("staff/", staff_views.StaffListView.as_view(), name="api-staff-list"),
    path("staff/covers/", staff_views.CoverListView.as_view(), name="api-cover-list"),
    path("staff/covers/<int:pk>/", staff_views.CoverDetailView.as_view(), name="api-cover-detail"),
    path(
        "staff/covers/<int:pk>/cancel/",
        staff_views.CoverCancelView.as_view(),
        name="api-cover-cancel",
    ),
    path("staff/<int:pk>/", staff_views.StaffDetailView.as_view(), name="api-staff-detail"),
    path(
        "staff/<int:pk>/invitation/",
        staff_views.StaffInvitationView.as_view(),
        name="api-staff-invitation",
    ),
    path(
        "staff/<int:pk>/deactivate/",
        staff_views.StaffDeactivateView.as_view(),
        name="api-staff-deactivate",
    ),
    path(
        "staff/<int:pk>/reactivate/",
        staff_views.StaffReactivateView.as_view(),
        name="api-staff-reactivate",
    ),
]
