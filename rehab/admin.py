from typing import Any

from django.contrib import admin
from django.db import models
from django.http import HttpRequest

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
    ReminderLog,
    WebhookEndpoint,
)


class PrescriptionInline(admin.TabularInline):
    model = Prescription
    extra = 0
    raw_id_fields = ("exercise", "created_by")


class InterventionInline(admin.TabularInline):
    model = Intervention
    extra = 0
    raw_id_fields = ("created_by",)


@admin.register(Episode)
class EpisodeAdmin(admin.ModelAdmin):
    list_display = ("id", "patient", "affected_side", "start_date", "status", "diagnosis")
    list_filter = ("status", "diagnosis", "patient__user__clinic")
    list_select_related = ("patient__user",)
    search_fields = ("patient__user__email", "patient__user__last_name")
    raw_id_fields = ("patient", "created_by")
    date_hierarchy = "start_date"
    inlines = [PrescriptionInline, InterventionInline]


@admin.register(Exercise)
class ExerciseAdmin(admin.ModelAdmin):
    list_display = ("name", "category", "default_sets", "default_reps")
    list_filter = ("category",)
    search_fields = ("name",)


@admin.register(Prescription)
class PrescriptionAdmin(admin.ModelAdmin):
    list_display = ("name", "episode", "sets", "reps", "start_date", "end_date")
    raw_id_fields = ("episode", "exercise", "created_by")


class ExerciseLogInline(admin.TabularInline):
    model = ExerciseLog
    extra = 0
    raw_id_fields = ("prescription",)


@admin.register(DailyEntry)
class DailyEntryAdmin(admin.ModelAdmin):
    list_display = ("episode", "date", "pain_activity", "pain_rest", "pf_rom_affected")
    list_filter = ("date",)
    raw_id_fields = ("episode", "recorded_by")
    date_hierarchy = "date"
    inlines = [ExerciseLogInline]


@admin.register(ExerciseLog)
class ExerciseLogAdmin(admin.ModelAdmin):
    list_display = ("entry", "prescription", "sets_completed")
    raw_id_fields = ("entry", "prescription")


@admin.register(Intervention)
class InterventionAdmin(admin.ModelAdmin):
    list_display = ("kind", "episode", "start_date", "end_date", "site")
    list_filter = ("kind",)
    raw_id_fields = ("episode", "created_by")


# --- Rule settings, alerts and notifications ---------------------------------------------------
#
# Alerts and the notification rows are written by the evaluation and the delivery tasks, with
# audit rows and an outbox: editing them here would bypass both, so they are read-only. Clinic
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
class AlertAdmin(ReadOnlyAdmin):
    list_display = ("id", "code", "severity", "status", "episode", "first_found_on", "created_at")
    list_filter = ("status", "severity", "code", "episode__patient__user__clinic")
    list_select_related = ("episode__patient__user",)
    search_fields = ("code", "episode__patient__user__email")
    raw_id_fields = ("episode", "acknowledged_by", "resolved_by")
    date_hierarchy = "created_at"


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnlyAdmin):
    # Clinic admins manage endpoints on their webhooks page, which refuses private addresses and
    # shows the signing secret once; the secret never appears here.
    list_display = ("url", "clinic", "is_active", "disabled_reason", "created_at")
    list_filter = ("is_active", "clinic")
    exclude = ("secret",)
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    fields = ("started_at", "duration_ms", "status_code", "outcome", "error")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ("id", "channel", "event_type", "status", "attempts", "clinic", "created_at")
    list_filter = ("status", "channel", "event_type")
    raw_id_fields = ("alert", "endpoint", "recipient")
    date_hierarchy = "created_at"
    inlines = [DeliveryAttemptInline]


@admin.register(InboxMessage)
class InboxMessageAdmin(ReadOnlyAdmin):
    list_display = ("title", "clinic", "alert", "created_at")
    list_filter = ("clinic",)
    raw_id_fields = ("alert", "delivery")


@admin.register(DigestLog)
class DigestLogAdmin(ReadOnlyAdmin):
    list_display = ("user", "week", "sent_at")
    raw_id_fields = ("user",)
    date_hierarchy = "week"


@admin.register(ReminderLog)
class ReminderLogAdmin(ReadOnlyAdmin):
    list_display = ("patient", "date", "sent_at")
    raw_id_fields = ("patient",)
    date_hierarchy = "date"
