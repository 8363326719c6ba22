from django.contrib import admin

from rehab.models import DailyEntry, Episode, Exercise, ExerciseLog, Intervention, Prescription


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
