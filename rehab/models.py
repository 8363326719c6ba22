"""The conservative-trial domain: episodes of care, what was prescribed, what the patient logged.

Models hold data and database constraints only. Every write goes through ``rehab.services``.
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from accounts.models import Patient, User

PAIN_VALIDATORS = [MinValueValidator(0), MaxValueValidator(10)]
ROM_VALIDATORS = [MinValueValidator(0), MaxValueValidator(90)]


class Side(models.TextChoices):
    LEFT = "left", "Left"
    RIGHT = "right", "Right"


class Diagnosis(models.TextChoices):
    OS_TRIGONUM = "os_trigonum", "Os trigonum"
    POSTERIOR_TALAR_PROCESS = "posterior_talar_process", "Posterior talar process"
    SOFT_TISSUE = "soft_tissue", "Soft-tissue impingement"
    UNSPECIFIED = "unspecified", "Unspecified"


class EpisodeStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    REFERRED = "referred", "Referred"
    CLOSED = "closed", "Closed"


class Outcome(models.TextChoices):
    RESOLVED = "resolved", "Resolved"
    DISCONTINUED = "discontinued", "Discontinued"


class Episode(models.Model):
    """One conservative trial for one ankle, from its start date to referral or closure."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="episodes")
    affected_side = models.CharField(max_length=5, choices=Side.choices)
    diagnosis = models.CharField(
        max_length=32, choices=Diagnosis.choices, default=Diagnosis.UNSPECIFIED
    )
    start_date = models.DateField()
    status = models.CharField(
        max_length=10, choices=EpisodeStatus.choices, default=EpisodeStatus.ACTIVE
    )
    intake_pain_activity = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=PAIN_VALIDATORS
    )
    intake_pf_rom_affected = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=ROM_VALIDATORS
    )
    intake_pf_rom_unaffected = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=ROM_VALIDATORS
    )
    bmi = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)

    referral_date = models.DateField(null=True, blank=True)
    referred_to = models.CharField(max_length=200, blank=True)
    referral_note = models.TextField(blank=True)
    closed_date = models.DateField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True)

    created_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-start_date", "-id"]
        indexes = [models.Index(fields=["status", "start_date"])]

    def __str__(self) -> str:
        return f"{self.patient} — {self.get_affected_side_display()} ankle from {self.start_date}"


class Exercise(models.Model):
    """The clinic-independent catalogue of PAIS exercises a therapist can prescribe."""

    name = models.CharField(max_length=120, unique=True)
    category = models.CharField(max_length=40)
    instructions = models.TextField()
    default_sets = models.PositiveSmallIntegerField(default=3)
    default_reps = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["category", "name"]

    def __str__(self) -> str:
        return self.name


class Prescription(models.Model):
    """An exercise prescribed for an episode, active from ``start_date`` to ``end_date``."""

    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="prescriptions")
    exercise = models.ForeignKey(
        Exercise, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The name as prescribed: a catalogue name, or free text for an exercise not in it.
    name = models.CharField(max_length=120)
    sets = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    reps = models.CharField(max_length=40, blank=True)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["start_date", "id"]
        constraints = [
            models.CheckConstraint(
                name="prescription_sets_positive", condition=models.Q(sets__gte=1)
            ),
            models.CheckConstraint(
                name="prescription_end_after_start",
                condition=models.Q(end_date__isnull=True)
                | models.Q(end_date__gte=models.F("start_date")),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} × {self.sets}"

    def is_active_on(self, day: object) -> bool:
        return self.start_date <= day and (self.end_date is None or day <= self.end_date)  # type: ignore[operator]


class DailyEntry(models.Model):
    """What the patient reported for one calendar day (their local date) of an episode."""

    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="entries")
    date = models.DateField()
    pain_activity = models.PositiveSmallIntegerField(validators=PAIN_VALIDATORS)
    pain_rest = models.PositiveSmallIntegerField(null=True, blank=True, validators=PAIN_VALIDATORS)
    pf_rom_affected = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=ROM_VALIDATORS
    )
    pf_rom_unaffected = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=ROM_VALIDATORS
    )
    note = models.TextField(blank=True)
    recorded_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-date"]
        verbose_name_plural = "daily entries"
        constraints = [
            models.UniqueConstraint(fields=["episode", "date"], name="one_entry_per_episode_day"),
            models.CheckConstraint(
                name="entry_pain_activity_range",
                condition=models.Q(pain_activity__gte=0, pain_activity__lte=10),
            ),
            models.CheckConstraint(
                name="entry_pain_rest_range",
                condition=models.Q(pain_rest__isnull=True)
                | models.Q(pain_rest__gte=0, pain_rest__lte=10),
            ),
            models.CheckConstraint(
                name="entry_rom_affected_range",
                condition=models.Q(pf_rom_affected__isnull=True)
                | models.Q(pf_rom_affected__gte=0, pf_rom_affected__lte=90),
            ),
            models.CheckConstraint(
                name="entry_rom_unaffected_range",
                condition=models.Q(pf_rom_unaffected__isnull=True)
                | models.Q(pf_rom_unaffected__gte=0, pf_rom_unaffected__lte=90),
            ),
        ]

    def __str__(self) -> str:
        return f"Entry {self.date} of episode {self.episode_id}"


class ExerciseLog(models.Model):
    """Sets of one prescribed exercise done on the day of an entry."""

    entry = models.ForeignKey(DailyEntry, on_delete=models.CASCADE, related_name="exercises")
    prescription = models.ForeignKey(Prescription, on_delete=models.CASCADE, related_name="logs")
    sets_completed = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["prescription_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["entry", "prescription"], name="one_log_per_prescription_per_entry"
            )
        ]

    def __str__(self) -> str:
        return f"{self.sets_completed} sets of prescription {self.prescription_id}"


class InterventionKind(models.TextChoices):
    IMMOBILIZATION = "immobilization", "Immobilization"
    CORTICOSTEROID_INJECTION = "corticosteroid_injection", "Corticosteroid injection"
    NSAID = "nsaid", "NSAID"
    PARACETAMOL = "paracetamol", "Paracetamol"
    HEEL_LIFT = "heel_lift", "Heel lift"
    ORTHOSIS = "orthosis", "Orthosis"
    ACTIVITY_MODIFICATION = "activity_modification", "Activity modification"


class Intervention(models.Model):
    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="interventions")
    kind = models.CharField(max_length=32, choices=InterventionKind.choices)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    site = models.CharField(max_length=200, blank=True)
    note = models.TextField(blank=True)
    created_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["start_date", "id"]
        constraints = [
            models.CheckConstraint(
                name="intervention_end_after_start",
                condition=models.Q(end_date__isnull=True)
                | models.Q(end_date__gte=models.F("start_date")),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} from {self.start_date}"
