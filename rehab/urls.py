import datetime as dt

from django.urls import URLPattern, path, register_converter

from rehab import (
    alert_views,
    clinic_exercise_views,
    correction_views,
    programme_views,
    questionnaire_views,
    referral_views,
    views,
)


class IsoDateConverter:
    """``YYYY-MM-DD`` in the address; an impossible date (2026-02-30) is a 404."""

    regex = r"\d{4}-\d{2}-\d{2}"

    def to_python(self, value: str) -> dt.date:
        return dt.date.fromisoformat(value)

    def to_url(self, value: dt.date | str) -> str:
        return value.isoformat() if isinstance(value, dt.date) else value


register_converter(IsoDateConverter, "isodate")

urlpatterns: list[URLPattern] = [
    # "/" (name "home") and "/episodes/{id}/" (name "episode") are routed by config.pages:
    # staff get pages of reports there, patients the views below.
    path("manifest.webmanifest", views.manifest, name="manifest"),
    # The offline diary (docs/diary.md): the service worker at the root, so that it may serve
    # every page, and the page it shows for an address not stored on the phone.
    path("sw.js", views.service_worker, name="service-worker"),
    path("offline/", views.offline_page, name="offline"),
    # The patient's diary.
    path("log/<isodate:day>/", views.patient_log, name="patient-log"),
    path("history/", views.patient_history, name="patient-history"),
    # The patient's questionnaires (FAAM and PSFS; docs/patient-pages.md, "Questionnaires").
    path("questionnaires/", questionnaire_views.questionnaire_list, name="patient-questionnaires"),
    path(
        "questionnaires/<slug:instrument>/",
        questionnaire_views.questionnaire_page,
        name="patient-questionnaire",
    ),
    path("episodes/<int:pk>/prescriptions/new/", views.prescription_new, name="prescription-new"),
    path("episodes/<int:pk>/interventions/new/", views.intervention_new, name="intervention-new"),
    path("episodes/<int:pk>/referral/", views.episode_referral, name="episode-referral"),
    path(
        "episodes/<int:pk>/programme/",
        programme_views.programme_page,
        name="episode-programme",
    ),
    path(
        "episodes/<int:pk>/programme.pdf",
        programme_views.programme_pdf_view,
        name="episode-programme-pdf",
    ),
    path(
        "episodes/<int:pk>/programme/email/",
        programme_views.programme_email,
        name="episode-programme-email",
    ),
    path("episodes/<int:pk>/close/", views.episode_close_view, name="episode-close"),
    # Therapist and clinic admin pages.
    path("patients/", views.patient_list, name="patient-list"),
    path("patients/new/", views.patient_new, name="patient-new"),
    path("patients/<int:pk>/", views.patient_detail, name="patient-detail"),
    path("patients/<int:pk>/invite/", views.patient_reinvite, name="patient-reinvite"),
    path("patients/<int:pk>/identifiers/", views.patient_identifiers, name="patient-identifiers"),
    path(
        "patients/<int:pk>/password-reset/",
        views.patient_password_reset,
        name="patient-password-reset",
    ),
    path("patients/<int:pk>/episodes/new/", views.episode_new, name="episode-new"),
    # The alert inbox: a stable link (api-contract.md, "Stable page links").
    path("alerts/", views.alert_inbox, name="alert-inbox"),
    # Issue 14 (docs/alerts.md): marking notifications read; the clinic's escalation settings.
    path(
        "alerts/notifications/read/",
        alert_views.notifications_mark_read,
        name="alert-notifications-read",
    ),
    path("settings/alerts/", alert_views.alert_settings, name="alert-settings"),
    path("alerts/<int:pk>/<slug:action>/", views.alert_action, name="alert-action"),
    path("settings/thresholds/", views.thresholds_settings, name="thresholds-settings"),
    # A clinic's own exercises and their pictures (issue 16, docs/clinic-exercises.md).
    path(
        "settings/exercises/",
        clinic_exercise_views.clinic_exercise_list,
        name="clinic-exercise-list",
    ),
    path(
        "settings/exercises/new/",
        clinic_exercise_views.clinic_exercise_new,
        name="clinic-exercise-new",
    ),
    path(
        "settings/exercises/<int:pk>/",
        clinic_exercise_views.clinic_exercise_edit,
        name="clinic-exercise-edit",
    ),
    path(
        "settings/exercises/<int:pk>/archive/",
        clinic_exercise_views.clinic_exercise_archive_view,
        name="clinic-exercise-archive",
    ),
    path(
        "settings/exercises/<int:pk>/restore/",
        clinic_exercise_views.clinic_exercise_restore_view,
        name="clinic-exercise-restore",
    ),
    path(
        "exercises/<int:pk>/image/",
        clinic_exercise_views.exercise_picture,
        name="exercise-image",
    ),
    # Referral follow-up (issue 14, docs/referrals.md): the list of referred patients, and an
    # episode's follow-up, correction and withdrawal of its referral.
    path("referrals/", referral_views.referral_list, name="referral-list"),
    path(
        "episodes/<int:pk>/referral/follow-up/",
        referral_views.referral_follow_up,
        name="referral-follow-up",
    ),
    path(
        "episodes/<int:pk>/referral/correct/",
        referral_views.referral_correct_view,
        name="referral-correct",
    ),
    path(
        "episodes/<int:pk>/referral/withdraw/",
        referral_views.referral_withdraw_view,
        name="referral-withdraw",
    ),
    # Issue 14 (C): correcting an episode's records, with a reason (docs/corrections.md).
    path(
        "episodes/<int:pk>/interventions/<int:intervention_id>/correct/",
        correction_views.intervention_correct_view,
        name="intervention-correct",
    ),
    path(
        "episodes/<int:pk>/prescriptions/<int:prescription_id>/correct/",
        correction_views.prescription_correct_view,
        name="prescription-correct",
    ),
    path(
        "episodes/<int:pk>/intake/correct/",
        correction_views.intake_correct_view,
        name="intake-correct",
    ),
    path(
        "settings/thresholds/runs/<int:run_id>/",
        views.reevaluation_run_page,
        name="reevaluation-run",
    ),
]
