"""Input and output shapes of the rehab endpoints.

The entry and episode input serializers only parse: they check that each value has the JSON
type and shape the contract names (a 400 naming the field otherwise) and hand it on. The limits
(ranges, the note's length, the date window, the number of exercises) are checked once, in
``rehab.services``, so the page, the API and the service refuse a value with the same words.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.api.base import ID_MAX, StrictIntegerField
from accounts.models import Patient
from accounts.scoping import patients_for
from rehab import rules
from rehab.finding_text import alert_message
from rehab.injection_sites import REFUSED, InjectionSite, site_label
from rehab.models import (
    Alert,
    AlertStatus,
    DailyEntry,
    Diagnosis,
    EntryCorrection,
    Episode,
    EpisodeStatus,
    Exercise,
    ExerciseLog,
    Instrument,
    Intervention,
    InterventionKind,
    Outcome,
    Prescription,
    RecordCorrection,
    ReevaluationStatus,
    Side,
)
from rehab.services import (
    BMI_MAX,
    BMI_MIN,
    DATE_MAX,
    DATE_MIN,
    EXERCISE_NAME_MAX_LENGTH,
    EXERCISES_MAX,
    MAX_SETS,
    NOTE_MAX_LENGTH,
    PAIN_MAX,
    PAIN_MIN,
    REFERRED_TO_MAX_LENGTH,
    REPS_MAX_LENGTH,
    ROM_MAX,
    ROM_MIN,
    SITE_MAX_LENGTH,
)
from rehab.thresholds import LABELS


@extend_schema_field({"type": "integer", "minimum": PAIN_MIN, "maximum": PAIN_MAX})
class PainScoreField(serializers.IntegerField):
    """A JSON number with an integral value: ``7`` and ``7.0`` are 7; ``7.5``, ``"7"`` and
    ``true`` are refused (docs/clinical-rules.md, "Input rules"). Its range is the service's
    to check (the schema states it)."""

    default_error_messages = {
        "invalid": "Must be a whole number (a JSON number such as 7, not text, 7.5 or true).",
    }

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        if isinstance(data, float):
            if not data.is_integer():  # also NaN and the infinities
                self.fail("invalid")
            return int(data)
        return data


@extend_schema_field(
    {"type": "number", "minimum": ROM_MIN, "maximum": ROM_MAX, "description": "Degrees."}
)
class DegreesField(serializers.Field[int | float, Any, float, Any]):
    """A JSON number of degrees (``31.5``, ``30``): text and booleans are refused.

    The number is handed on as parsed; ``rehab.services`` keeps it to 0.1° and checks its range.
    Shown as a JSON number (``31.5``), never as text.
    """

    default_error_messages = {
        "invalid": "Must be a number of degrees (a JSON number such as 31.5, not text or true).",
    }

    def to_internal_value(self, data: Any) -> int | float:
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        if isinstance(data, float) and not math.isfinite(data):
            self.fail("invalid")
        return data

    def to_representation(self, value: Any) -> float:
        # A tenth of a degree (at most 90.0) reads back from a float exactly as stored.
        return float(value)


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_SETS})
class SetsField(StrictIntegerField):
    """Sets per day of a prescription: its range is the service's to check (the schema states
    it)."""


@extend_schema_field({"type": "number", "minimum": int(BMI_MIN), "maximum": int(BMI_MAX)})
class BmiField(serializers.DecimalField):
    """A BMI in kg/m²: parsed here; ``rehab.services`` checks its range and keeps it to one
    decimal place (the schema states the range)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_digits=None, decimal_places=None, coerce_to_string=False, **kwargs)


@functools.cache
def _text_class(max_length: int) -> type[serializers.CharField]:
    @extend_schema_field({"type": "string", "maxLength": max_length})
    class LimitedText(serializers.CharField):
        """Text whose length the service checks, so the page and the API refuse it alike; the
        schema states the limit."""

    return LimitedText


def text_up_to(max_length: int, **kwargs: Any) -> serializers.CharField:
    """A text field that only parses; ``max_length`` is the service's limit, for the schema."""
    return _text_class(max_length)(**kwargs)


def _pain(*, help_text: str = "0–10.", **kwargs: Any) -> PainScoreField:
    return PainScoreField(help_text=help_text, **kwargs)


def _rom(**kwargs: Any) -> DegreesField:
    return DegreesField(
        help_text=f"Plantar flexion in degrees, {ROM_MIN}–{ROM_MAX}, kept to 0.1° (more decimals "
        "are rounded half away from zero).",
        **kwargs,
    )


def _note() -> serializers.CharField:
    return text_up_to(
        NOTE_MAX_LENGTH,
        allow_blank=True,
        default="",
        help_text=f"Up to {NOTE_MAX_LENGTH} characters.",
    )


def _correction_reason() -> serializers.CharField:
    return serializers.CharField(
        allow_blank=True,
        default="",
        help_text="Staff only, required once the episode is referred or closed: why the diary "
        "is corrected. Kept with the old values.",
    )


# --- Episodes ----------------------------------------------------------------------------------
class EpisodeCreateInputSerializer(serializers.Serializer[Any]):
    patient = StrictIntegerField(help_text="The id of a patient in the caller's reach.")
    affected_side = serializers.ChoiceField(choices=Side.choices)
    start_date = serializers.DateField()
    diagnosis = serializers.ChoiceField(choices=Diagnosis.choices, default=Diagnosis.UNSPECIFIED)
    intake_pain_activity = _pain(allow_null=True, default=None)
    intake_pf_rom_affected = _rom(allow_null=True, default=None)
    intake_pf_rom_unaffected = _rom(allow_null=True, default=None)
    bmi = BmiField(
        allow_null=True,
        default=None,
        help_text=f"kg/m², {BMI_MIN}–{BMI_MAX}; kept to one decimal place.",
    )

    def validate_patient(self, value: int) -> Patient:
        # Out of reach reads exactly like unknown, so the answer reveals nothing about other
        # clinics' patients.
        patient = patients_for(self.context["request"].user).filter(pk=value).first()
        if patient is None:
            raise serializers.ValidationError("Patient not found.")
        return patient


class EpisodeListQuerySerializer(serializers.Serializer[Any]):
    patient = serializers.IntegerField(
        required=False, min_value=1, max_value=ID_MAX, help_text="Only this patient's episodes."
    )
    status = serializers.ChoiceField(choices=EpisodeStatus.choices, required=False)


class EpisodeSerializer(serializers.ModelSerializer[Episode]):
    patient_name = serializers.SerializerMethodField()
    # Declared, not derived: a derived read-only field loses allow_blank, and the schema then
    # promised an outcome to episodes that have none yet ("" until closed; found by
    # schemathesis).
    outcome = serializers.ChoiceField(
        choices=Outcome.choices,
        allow_blank=True,
        read_only=True,
        help_text="How a closed episode ended; empty until the episode is closed.",
    )
    bmi = serializers.DecimalField(
        max_digits=4, decimal_places=1, coerce_to_string=False, allow_null=True, read_only=True
    )
    intake_pf_rom_affected = _rom(allow_null=True, read_only=True)
    intake_pf_rom_unaffected = _rom(allow_null=True, read_only=True)

    class Meta:
        model = Episode
        fields = [
            "id",
            "patient",
            "patient_name",
            "affected_side",
            "diagnosis",
            "start_date",
            "status",
            "intake_pain_activity",
            "intake_pf_rom_affected",
            "intake_pf_rom_unaffected",
            "bmi",
            "referral_date",
            "referred_to",
            "referral_note",
            "closed_date",
            "outcome",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_patient_name(self, episode: Episode) -> str:
        return episode.patient.user.get_full_name()


class ReferralInputSerializer(serializers.Serializer[Any]):
    date = serializers.DateField()
    referred_to = text_up_to(REFERRED_TO_MAX_LENGTH, allow_blank=True, default="")
    note = _note()


class CloseInputSerializer(serializers.Serializer[Any]):
    date = serializers.DateField()
    outcome = serializers.ChoiceField(choices=Outcome.choices)


# --- Exercises and prescriptions ---------------------------------------------------------------
class ExerciseSerializer(serializers.ModelSerializer[Exercise]):
    class Meta:
        model = Exercise
        fields = ["id", "name", "category", "instructions", "default_sets", "default_reps"]
        read_only_fields = fields


class PrescriptionCreateInputSerializer(serializers.Serializer[Any]):
    exercise = text_up_to(
        EXERCISE_NAME_MAX_LENGTH,
        help_text="A catalogue name (matched case-insensitively) or free text.",
    )
    sets = SetsField(help_text=f"1–{MAX_SETS} a day.")
    reps = text_up_to(REPS_MAX_LENGTH, allow_blank=True, default="")
    start_date = serializers.DateField(
        allow_null=True, default=None, help_text="Default: the episode's start."
    )
    end_date = serializers.DateField(allow_null=True, default=None, help_text="Default: open.")


class PrescriptionEndInputSerializer(serializers.Serializer[Any]):
    end_date = serializers.DateField()


class PrescriptionSerializer(serializers.ModelSerializer[Prescription]):
    exercise = serializers.CharField(source="name", read_only=True)
    catalogue_exercise: serializers.PrimaryKeyRelatedField[Exercise] = (
        serializers.PrimaryKeyRelatedField(
            source="exercise",
            read_only=True,
            allow_null=True,
            help_text="The catalogue exercise matched, or null for free text.",
        )
    )

    class Meta:
        model = Prescription
        fields = [
            "id",
            "episode",
            "exercise",
            "catalogue_exercise",
            "sets",
            "reps",
            "start_date",
            "end_date",
            "created_at",
        ]
        read_only_fields = fields


# --- Daily entries -----------------------------------------------------------------------------
class EntryExerciseInputSerializer(serializers.Serializer[Any]):
    prescription = StrictIntegerField(help_text="The id of a prescription of this episode.")
    sets_completed = StrictIntegerField(help_text=f"0–{MAX_SETS}.")


class EntryInputSerializer(serializers.Serializer[Any]):
    """A whole day's entry: PUT replaces it, so an optional value left out is cleared."""

    pain_activity = _pain(help_text=f"{PAIN_MIN}–{PAIN_MAX}: worst pain during activity today.")
    pain_rest = _pain(allow_null=True, default=None)
    pf_rom_affected = _rom(allow_null=True, default=None)
    pf_rom_unaffected = _rom(allow_null=True, default=None)
    exercises = serializers.ListField(
        child=EntryExerciseInputSerializer(),
        default=list,
        help_text=f"At most {EXERCISES_MAX} items.",
    )
    note = _note()
    reason = _correction_reason()


class EntryDeleteInputSerializer(serializers.Serializer[Any]):
    reason = _correction_reason()


class EntryCorrectionSerializer(serializers.ModelSerializer[EntryCorrection]):
    """A staff correction of a referred or closed episode's diary (in the patient's export)."""

    class Meta:
        model = EntryCorrection
        fields = [
            "id",
            "entry_date",
            "action",
            "reason",
            "old_values",
            "corrected_by",
            "corrected_at",
        ]
        read_only_fields = fields


class EntryExerciseSerializer(serializers.ModelSerializer[ExerciseLog]):
    exercise = serializers.CharField(source="prescription.name", read_only=True)
    sets_prescribed = serializers.IntegerField(source="prescription.sets", read_only=True)

    class Meta:
        model = ExerciseLog
        fields = ["prescription", "exercise", "sets_completed", "sets_prescribed"]
        read_only_fields = fields


class EntrySerializer(serializers.ModelSerializer[DailyEntry]):
    exercises = EntryExerciseSerializer(many=True, read_only=True)
    pf_rom_affected = _rom(allow_null=True, read_only=True)
    pf_rom_unaffected = _rom(allow_null=True, read_only=True)

    class Meta:
        model = DailyEntry
        fields = [
            "episode",
            "date",
            "pain_activity",
            "pain_rest",
            "pf_rom_affected",
            "pf_rom_unaffected",
            "exercises",
            "note",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class EntryRangeQuerySerializer(serializers.Serializer[Any]):
    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        # "from" is a Python keyword, so the fields cannot be declared as class attributes.
        return {
            "from": serializers.DateField(required=False),
            "to": serializers.DateField(required=False),
        }

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs.get("from"), attrs.get("to")
        if start is not None and end is not None and end < start:
            raise serializers.ValidationError({"to": ["Must not be before 'from'."]})
        return attrs


# --- Interventions -----------------------------------------------------------------------------
_SITE_HELP = (
    "For a corticosteroid injection, required: one of "
    + ", ".join(f"`{code}`" for code in InjectionSite.values)
    + " (docs/clinical-rules.md, 'Injection sites'); "
    + ", ".join(f"`{code}`" for code in sorted(REFUSED))
    + " are refused, `other` needs the site described in `note`, and a note that names the "
    "Achilles is refused. For other kinds: free text."
)


class InterventionCreateInputSerializer(serializers.Serializer[Any]):
    kind = serializers.ChoiceField(choices=InterventionKind.choices)
    start_date = serializers.DateField()
    end_date = serializers.DateField(allow_null=True, default=None)
    site = text_up_to(SITE_MAX_LENGTH, allow_blank=True, default="", help_text=_SITE_HELP)
    note = _note()


class InterventionSerializer(serializers.ModelSerializer[Intervention]):
    site_label = serializers.SerializerMethodField(
        help_text="The injection site's words in the request's language; other kinds: the site."
    )
    needs_review = serializers.BooleanField(
        read_only=True,
        help_text="An injection whose free-text site could not be coded when the sites were "
        "coded: staff check and correct it.",
    )

    class Meta:
        model = Intervention
        fields = [
            "id",
            "episode",
            "kind",
            "start_date",
            "end_date",
            "site",
            "site_label",
            "note",
            "needs_review",
            "created_at",
        ]
        read_only_fields = fields

    def get_site_label(self, intervention: Intervention) -> str:
        if intervention.kind == InterventionKind.CORTICOSTEROID_INJECTION:
            return site_label(intervention.site)
        return intervention.site


# --- Progress ----------------------------------------------------------------------------------
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class StrictDateField(serializers.DateField):
    """A date written exactly YYYY-MM-DD (no "20260105", no week dates)."""

    default_error_messages = {"invalid": "Use a real calendar date written YYYY-MM-DD."}

    def to_internal_value(self, value: Any) -> dt.date:
        if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
            self.fail("invalid")
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            self.fail("invalid")


class ProgressQuerySerializer(serializers.Serializer[Any]):
    as_of = StrictDateField(
        required=False, help_text="Evaluate as of this date (default: the patient's local today)."
    )

    def validate_as_of(self, value: dt.date) -> dt.date:
        if not DATE_MIN <= value <= DATE_MAX:
            raise serializers.ValidationError(f"Must be a date from {DATE_MIN} to {DATE_MAX}.")
        return value


class MetricsSerializer(serializers.Serializer[Any]):
    # Output only (the schema of the progress response); null where unknown.
    pain_baseline = serializers.FloatField(allow_null=True)
    pain_current = serializers.FloatField(allow_null=True)
    pain_change = serializers.FloatField(allow_null=True)
    pain_change_pct = serializers.FloatField(allow_null=True)
    adherence_pct = serializers.FloatField(allow_null=True)
    entries_last_7_days = serializers.IntegerField(allow_null=True)
    rom_week1 = serializers.FloatField(allow_null=True)
    rom_current = serializers.FloatField(allow_null=True)
    rom_reference = serializers.FloatField(allow_null=True)
    rom_deficit = serializers.FloatField(allow_null=True)
    # The function questionnaires (docs/questionnaires.md), rounded to 0.1.
    faam_adl_baseline = serializers.FloatField(allow_null=True)
    faam_adl_current = serializers.FloatField(allow_null=True)
    faam_sports_baseline = serializers.FloatField(allow_null=True)
    faam_sports_current = serializers.FloatField(allow_null=True)
    psfs_baseline = serializers.FloatField(allow_null=True)
    psfs_current = serializers.FloatField(allow_null=True)


class QuestionnaireDueSerializer(serializers.Serializer[Any]):
    # Output only: an instrument whose window is open on as_of with no response in it.
    instrument = serializers.ChoiceField(choices=Instrument.choices)
    window_start = serializers.DateField()
    window_end = serializers.DateField()


class FindingSerializer(serializers.Serializer[Any]):
    code = serializers.ChoiceField(choices=sorted(rules.FINDING_SEVERITY))
    severity = serializers.ChoiceField(choices=rules.SEVERITIES)
    message = serializers.CharField(help_text="One sentence a clinician can read aloud.")
    evidence = serializers.DictField(help_text="The metrics and thresholds the finding used.")


class ProgressSerializer(serializers.Serializer[Any]):
    episode = serializers.IntegerField()
    as_of = serializers.DateField()
    trial_day = serializers.IntegerField()
    trial_week = serializers.IntegerField()
    recommendation = serializers.ChoiceField(choices=rules.RECOMMENDATIONS)
    metrics = MetricsSerializer()
    findings = FindingSerializer(many=True)
    questionnaires_due = QuestionnaireDueSerializer(
        many=True, help_text="The questionnaires due as of this date (a to-do, not a finding)."
    )
    ruleset = serializers.CharField()


# --- Alerts ------------------------------------------------------------------------------------
class AlertListQuerySerializer(serializers.Serializer[Any]):
    status = serializers.ChoiceField(choices=AlertStatus.choices, required=False)
    episode = serializers.IntegerField(
        required=False, min_value=1, max_value=ID_MAX, help_text="Only this episode's alerts."
    )


class AlertSerializer(serializers.ModelSerializer[Alert]):
    patient = serializers.IntegerField(source="episode.patient_id", read_only=True)
    patient_name = serializers.SerializerMethodField()
    acknowledged_by_name = serializers.SerializerMethodField(
        help_text="Who acknowledged it (null when nobody has)."
    )
    resolved_by_name = serializers.SerializerMethodField(
        help_text="Who resolved it by hand (null when unresolved or resolved automatically)."
    )
    suppressing = serializers.BooleanField(
        read_only=True,
        help_text="Resolved by hand while its finding still fired: no new alert of this code "
        "for the episode, and no notification, until an evaluation no longer finds it.",
    )
    message = serializers.SerializerMethodField(
        help_text="One sentence a clinician can read aloud, in the request's language "
        "(Accept-Language), as a finding's message."
    )

    class Meta:
        model = Alert
        fields = [
            "id",
            "episode",
            "patient",
            "patient_name",
            "code",
            "severity",
            "status",
            "message",
            "evidence",
            "ruleset",
            "thresholds",
            "first_found_on",
            "last_found_on",
            "snoozed_until",
            "acknowledged_at",
            "acknowledged_by",
            "acknowledged_by_name",
            "resolved_at",
            "resolved_by",
            "resolved_by_name",
            "resolution_reason",
            "suppressing",
            "escalated_at",
            "note",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_patient_name(self, alert: Alert) -> str:
        return alert.episode.patient.user.get_full_name()

    def get_acknowledged_by_name(self, alert: Alert) -> str | None:
        by = alert.acknowledged_by
        return by.get_full_name() or by.email if by is not None else None

    def get_resolved_by_name(self, alert: Alert) -> str | None:
        by = alert.resolved_by
        return by.get_full_name() or by.email if by is not None else None

    def get_message(self, alert: Alert) -> str:
        return alert_message(alert)


class AlertResolvedSerializer(AlertSerializer):
    still_firing = serializers.SerializerMethodField(
        help_text="The finding still fired as of the patient's today when it was resolved."
    )
    suppressed_until_clear = serializers.SerializerMethodField(
        help_text="No new alert or notification of this code until an evaluation no longer "
        "finds it (the same as still_firing at the moment of resolving)."
    )

    class Meta(AlertSerializer.Meta):
        fields = [*AlertSerializer.Meta.fields, "still_firing", "suppressed_until_clear"]
        read_only_fields = fields

    def get_still_firing(self, alert: Alert) -> bool:
        return alert.suppressing

    def get_suppressed_until_clear(self, alert: Alert) -> bool:
        return alert.suppressing


class AlertNoteInputSerializer(serializers.Serializer[Any]):
    note = _note()


class AlertSnoozeInputSerializer(serializers.Serializer[Any]):
    until = StrictDateField(help_text="The alert stays snoozed up to this date.")


# --- Clinic thresholds -------------------------------------------------------------------------
class ThresholdWarningSerializer(serializers.Serializer[Any]):
    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        # "label" is an attribute of every serializer: the fields are given here instead.
        return {
            "field": serializers.CharField(help_text="The threshold's name."),
            "label": serializers.CharField(
                help_text="The threshold's label, in the request's language."
            ),
            "message": serializers.CharField(),
        }


class ReevaluationRunSerializer(serializers.Serializer[Any]):
    # Output only: the progress of a re-evaluation of a clinic's active episodes.
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=ReevaluationStatus.choices)
    total = serializers.IntegerField()
    done = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


class ThresholdsSerializer(serializers.Serializer[Any]):
    # Output only: the values in force, the defaults, and what the clinic changed.
    values = serializers.DictField(child=serializers.FloatField())
    defaults = serializers.DictField(child=serializers.FloatField())
    overrides = serializers.DictField(child=serializers.FloatField())
    ruleset = serializers.CharField()
    updated_at = serializers.DateTimeField(allow_null=True)
    updated_by = serializers.IntegerField(allow_null=True)
    warnings = ThresholdWarningSerializer(
        many=True, help_text="After a PUT: the values saved outside their published range."
    )
    reevaluation = ReevaluationRunSerializer(
        allow_null=True,
        help_text="After a PUT that changed a value: the re-evaluation of the clinic's active "
        "episodes it queued.",
    )


class ThresholdsInputSerializer(serializers.Serializer[Any]):
    """Every threshold, optional: one left out (or null) is the default. PUT replaces all."""

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        # Types and ranges are checked by the rules' own Thresholds (rehab.thresholds), so the
        # API and the page give the same messages; these fields only describe the schema.
        return {
            name: serializers.JSONField(
                required=False, allow_null=True, help_text=f"{label}. {help_text}"
            )
            for name, (label, help_text) in LABELS.items()
        }


# --- Corrections (rehab.corrections) -----------------------------------------------------------


def _required_reason() -> serializers.CharField:
    return serializers.CharField(
        allow_blank=True,
        default="",
        help_text="Required: why the record is corrected. Kept with the old and new values "
        "(400 naming `reason` without one).",
    )


class InterventionCorrectionInputSerializer(serializers.Serializer[Any]):
    """The fields to correct (any subset) and the reason; left out: unchanged."""

    kind = serializers.ChoiceField(choices=InterventionKind.choices, required=False)
    start_date = serializers.DateField(required=False)
    end_date = serializers.DateField(allow_null=True, required=False)
    site = text_up_to(SITE_MAX_LENGTH, allow_blank=True, required=False, help_text=_SITE_HELP)
    note = text_up_to(NOTE_MAX_LENGTH, allow_blank=True, required=False)
    reason = _required_reason()


class PrescriptionCorrectionInputSerializer(serializers.Serializer[Any]):
    exercise = text_up_to(EXERCISE_NAME_MAX_LENGTH, required=False)
    sets = SetsField(required=False, help_text=f"1–{MAX_SETS} a day.")
    reps = text_up_to(REPS_MAX_LENGTH, allow_blank=True, required=False)
    start_date = serializers.DateField(
        allow_null=True, required=False, help_text="null: the episode's start."
    )
    end_date = serializers.DateField(allow_null=True, required=False, help_text="null: open.")
    reason = _required_reason()


class EpisodeIntakeCorrectionInputSerializer(serializers.Serializer[Any]):
    affected_side = serializers.ChoiceField(choices=Side.choices, required=False)
    diagnosis = serializers.ChoiceField(choices=Diagnosis.choices, required=False)
    intake_pain_activity = _pain(allow_null=True, required=False)
    intake_pf_rom_affected = _rom(allow_null=True, required=False)
    intake_pf_rom_unaffected = _rom(allow_null=True, required=False)
    bmi = BmiField(allow_null=True, required=False, help_text=f"kg/m², {BMI_MIN}–{BMI_MAX}.")
    reason = _required_reason()


class RecordDeleteInputSerializer(serializers.Serializer[Any]):
    reason = _required_reason()


class RecordCorrectionSerializer(serializers.ModelSerializer[RecordCorrection]):
    """A staff correction of a record of the episode: the values before and after, and why."""

    class Meta:
        model = RecordCorrection
        fields = [
            "id",
            "episode",
            "object_type",
            "object_id",
            "action",
            "reason",
            "old_values",
            "new_values",
            "corrected_by",
            "corrected_at",
        ]
        read_only_fields = fields
