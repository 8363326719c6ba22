from django.contrib.auth.views import LogoutView
from django.urls import URLPattern, path

from accounts import audit_views, erasure_views, language_views, staff_views, views

urlpatterns: list[URLPattern] = [
    path("accounts/login/", views.SignInView.as_view(), name="login"),
    # Django's LogoutView answers POST only, so a link or a prefetch cannot sign anybody out. It
    # deletes the session row, so a copied session cookie stops working too.
    path("accounts/logout/", LogoutView.as_view(), name="logout"),
    # The language switch (sign-in, invitation and Account pages): docs/i18n.md.
    path("accounts/language/", language_views.language_choose, name="language-choose"),
    # Before the token route: "set-password" is no token (tokens are 43 random characters).
    path("invite/set-password/", views.invitation_set_password, name="invitation-set-password"),
    path("invite/<str:token>/", views.invitation, name="invitation"),
    # Anyone asks for a reset link by email (api-contract.md, "Accounts"); the link's token
    # moves into the session at once ("<uidb64>/set-password/").
    path("accounts/password/reset/", views.ResetRequestView.as_view(), name="password-reset"),
    path(
        "accounts/password/reset/sent/", views.ResetDoneView.as_view(), name="password-reset-done"
    ),
    path(
        "accounts/password/reset/done/",
        views.ResetCompleteView.as_view(),
        name="password-reset-complete",
    ),
    path(
        "accounts/password/reset/<uidb64>/<token>/",
        views.ResetConfirmView.as_view(),
        name="password-reset-confirm",
    ),
    # The signed-in user's own security: password, two-factor, API tokens.
    path("accounts/security/", views.account_security, name="account-security"),
    path(
        "accounts/security/tokens/<int:pk>/revoke/",
        views.account_token_revoke,
        name="account-token-revoke",
    ),
    path("accounts/password/", views.password_change, name="password-change"),
    path("accounts/two-factor/setup/", views.two_factor_setup, name="two-factor-setup"),
    path("accounts/two-factor/verify/", views.two_factor_verify, name="two-factor-verify"),
    path("accounts/two-factor/disable/", views.two_factor_disable, name="two-factor-disable"),
    path(
        "accounts/two-factor/recovery-codes/",
        views.two_factor_recovery_codes,
        name="two-factor-recovery-codes",
    ),
    # The clinic's security settings (clinic admins change them, therapists read them).
    path("settings/security/", views.clinic_security, name="security-settings"),
    # The clinic's audit trail (clinic admins).
    path("settings/audit/", audit_views.audit_trail_page, name="audit-trail"),
    # Erasing a patient on request (clinic admins), after typing the patient's email.
    path("patients/<int:pk>/erase/", erasure_views.patient_erase_page, name="patient-erase"),
    # Staff administration (clinic admins; issue 14, docs/staff-administration.md).
    path("settings/staff/", staff_views.staff_list, name="staff-list"),
    path("settings/staff/invite/", staff_views.staff_invite, name="staff-invite"),
    path("settings/staff/covers/new/", staff_views.cover_new, name="cover-new"),
    path("settings/staff/covers/<int:pk>/cancel/", staff_views.cover_cancel, name="cover-cancel"),
    path("settings/staff/<int:pk>/", staff_views.staff_detail, name="staff-detail"),
    path("settings/staff/<int:pk>/invite/", staff_views.staff_reinvite, name="staff-reinvite"),
    path(
        "settings/staff/<int:pk>/deactivate/",
        staff_views.staff_deactivate,
        name="staff-deactivate",
    ),
    path(
        "settings/staff/<int:pk>/reactivate/",
        staff_views.staff_reactivate,
        name="staff-reactivate",
    ),
    path("patients/<int:pk>/therapist/", staff_views.patient_reassign, name="patient-reassign"),
]
