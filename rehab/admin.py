from typing import Any

from django.contrib import admin
from django.db import models
from django.http import HttpRequest

from accounts.admin_reads import ClinicalRecordAdmin, ReadOnlyInline
from rehab.models import (
    Alert,
    ClinicRuleSettings,
    DailyEntry,
    Delivery,
    DeliveryAttempt,
    DigestLog,
    Episode,
    Exercise,
    ExerciseLog,
    InboxMessage,
    Intervention,
    Prescription,
    PushSubscription,
    ReminderLog,
    WebhookEndpoint,
)

# --- Clinical records ----------------------------------------------------------------------------
#
# A patient's episodes, entries, prescriptions and interventions change only through the services
# (validated, audited, notifying); here they are read-only, and every page that shows them writes
# an audit row (accounts/admin_reads.py).


class PrescriptionInline(ReadOnlyInline):
    model = Prescription
    raw_id_fields = ("exercise", "created_by")


class InterventionInline(ReadOnlyInline):
    model = Intervention
    raw_id_fields = ("created_by",)


@admin.register(Episode)
class EpisodeAdmin(ClinicalRecordAdmin):
    list_display = ("id", "patient", "affected_side", "start_date", "status", "diagnosis")
    list_filter = ("status", "diagnosis", "patient__user__clinic")
    list_select_related = ("patient__user",)
    search_fields = ("patient__user__email", "patient__user__last_name")
    raw_id_fields = ("patient", "created_by")
    date_hierarchy = "start_date"
    inlines = [PrescriptionInline, InterventionInline]
    patient_id_path = "patient_id"


@admin.register(Exercise)
class ExerciseAdmin(admin.ModelAdmin):
    list_display = ("name", "category", "default_sets", "default_reps")
    list_filter = ("category",)
    search_fields = ("name",)


@admin.register(Prescription)
class PrescriptionAdmin(ClinicalRecordAdmin):
    list_display = ("name", "episode", "sets", "reps", "start_date", "end_date")
    raw_id_fields = ("episode", "exercise", "created_by")
    patient_id_path = "episode.patient_id"


class ExerciseLogInline(ReadOnlyInline):
    model = ExerciseLog
    raw_id_fields = ("prescription",)


@admin.register(DailyEntry)
class DailyEntryAdmin(ClinicalRecordAdmin):
    list_display = ("episode", "date", "pain_activity", "pain_rest", "pf_rom_affected")
    list_filter = ("date",)
    raw_id_fields = ("episode", "recorded_by")
    date_hierarchy = "date"
    inlines = [ExerciseLogInline]
    patient_id_path = "episode.patient_id"


@admin.register(ExerciseLog)
class ExerciseLogAdmin(ClinicalRecordAdmin):
    list_display = ("entry", "prescription", "sets_completed")
    raw_id_fields = ("entry", "prescription")
    patient_id_path = "entry.episode.patient_id"


@admin.register(Intervention)
class InterventionAdmin(ClinicalRecordAdmin):
    list_display = ("kind", "episode", "start_date", "end_date", "site")
    list_filter = ("kind",)
    raw_id_fields = ("episode", "created_by")
    patient_id_path = "episode.patient_id"


# --- Rule settings, alerts and notifications ---------------------------------------------------
#
# Alerts and the notification rows are written by the evaluation and the delivery tasks, with
# audit rows and an outbox: editing them here would bypass both, so they are read-only; those
# about a patient's alerts are clinical records (no delete either, reads audited). Clinic
# thresholds are edited on /settings/thresholds/ (validated, audited); here they are read-only
# too, for the same reason.


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ClinicRuleSettings)
class ClinicRuleSettingsAdmin(ReadOnlyAdmin):
    list_display = ("clinic", "overrides", "updated_by", "updated_at")
    list_select_related = ("clinic", "updated_by")


@admin.register(Alert)
class AlertAdmin(ClinicalRecordAdmin):
    list_display = ("id", "code", "severity", "status", "episode", "first_found_on", "created_at")
    list_filter = ("status", "severity", "code", "episode__patient__user__clinic")
    list_select_related = ("episode__patient__user",)
    search_fields = ("code", "episode__patient__user__email")
    raw_id_fields = ("episode", "acknowledged_by", "resolved_by")
    date_hierarchy = "created_at"
    patient_id_path = "episode.patient_id"


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnlyAdmin):
    # Clinic admins manage endpoints on their webhooks page, which refuses private addresses and
    # shows the signing secret once; the secret never appears here.
    list_display = ("url", "clinic", "is_active", "disabled_reason", "created_at")
    list_filter = ("is_active", "clinic")
    exclude = ("secret",)
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


class DeliveryAttemptInline(ReadOnlyInline):
    model = DeliveryAttempt
    fields = ("started_at", "duration_ms", "status_code", "outcome", "error")
    readonly_fields = fields


@admin.register(Delivery)
class DeliveryAdmin(ClinicalRecordAdmin):
    list_display = ("id", "channel", "event_type", "status", "attempts", "clinic", "created_at")
    list_filter = ("status", "channel", "event_type")
    raw_id_fields = ("alert", "endpoint", "recipient")
    date_hierarchy = "created_at"
    inlines = [DeliveryAttemptInline]
    # A webhook test has no alert, and so no patient.
    patient_id_path = "alert.episode.patient_id"


@admin.register(InboxMessage)
class InboxMessageAdmin(ClinicalRecordAdmin):
    list_display = ("title", "clinic", "alert", "created_at")
    list_filter = ("clinic",)
    raw_id_fields = ("alert", "delivery")
    patient_id_path = "alert.episode.patient_id"


@admin.register(DigestLog)
class DigestLogAdmin(ReadOnlyAdmin):
    list_display = ("user", "week", "sent_at")
    raw_id_fields = ("user",)
    date_hierarchy = "week"


@admin.register(ReminderLog)
class ReminderLogAdmin(ClinicalRecordAdmin):
    # When a patient was reminded tells that they are in rehab, and on which days.
    list_display = ("patient", "date", "sent_at")
    raw_id_fields = ("patient",)
    date_hierarchy = "date"
    patient_id_path = "patient_id"


@admin.register(PushSubscription)
class PushSubscriptionAdmin(ClinicalRecordAdmin):
    # A patient's devices that get reminders: only the browser and the patient change them.
    list_display = ("patient", "created_at", "last_used_at")
    raw_id_fields = ("patient",)
    # The endpoint and keys are the device's address and encryption keys: not shown.
    exclude = ("endpoint", "p256dh", "auth")
    patient_id_path = "patient_id"
