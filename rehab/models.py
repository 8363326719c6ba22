"""The conservative-trial domain: episodes of care, what was prescribed, what the patient logged.

Models hold data and database constraints only. Every write goes through ``rehab.services``.
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import Clinic, Patient, User

PAIN_VALIDATORS = [MinValueValidator(0), MaxValueValidator(10)]
# Plantar flexion in degrees, kept to 0.1° (docs/clinical-rules.md, "Input rules").
ROM_VALIDATORS = [MinValueValidator(0), MaxValueValidator(90)]


class Side(models.TextChoices):
    LEFT = "left", _("Left")
    RIGHT = "right", _("Right")


class Diagnosis(models.TextChoices):
    OS_TRIGONUM = "os_trigonum", _("Os trigonum")
    POSTERIOR_TALAR_PROCESS = "posterior_talar_process", _("Posterior talar process")
    SOFT_TISSUE = "soft_tissue", _("Soft-tissue impingement")
    UNSPECIFIED = "unspecified", _("Unspecified")


class EpisodeStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    REFERRED = "referred", _("Referred")
    CLOSED = "closed", _("Closed")


class Outcome(models.TextChoices):
    RESOLVED = "resolved", _("Resolved")
    DISCONTINUED = "discontinued", _("Discontinued")


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
    intake_pf_rom_affected = models.DecimalField(
        max_digits=4, decimal_places=1, null=True, blank=True, validators=ROM_VALIDATORS
    )
    intake_pf_rom_unaffected = models.DecimalField(
        max_digits=4, decimal_places=1, null=True, blank=True, validators=ROM_VALIDATORS
    )
    bmi = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)

    referral_date = models.DateField(null=True, blank=True)
    referred_to = models.CharField(max_length=200, blank=True)
    referral_note = models.TextField(blank=True)
    closed_date = models.DateField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True)

    # Set in the same transaction as a new or changed entry, cleared by the evaluation that
    # saw it: a row, not only a queued task, so an evaluation lost with the broker is re-run.
    evaluation_requested_at = models.DateTimeField(null=True, blank=True, db_index=True)

    created_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-start_date", "-id"]
        indexes = [models.Index(fields=["status", "start_date"])]

    def __str__(self) -> str:
        return f"{self.patient} — {self.get_affected_side_display()} ankle from {self.start_date}"


class Exercise(models.Model):
    """An exercise a therapist can prescribe, with what a patient needs to do it at home.

    ``clinic`` is null for the shared PAIS catalogue (rehab/catalogue.py, stored in English and
    translated when shown) and set for a clinic's own exercises. A name is unique within the
    catalogue and within each clinic, not globally. ``illustration`` is a static path for the
    catalogue's in-house drawings; ``image`` an uploaded picture for a clinic's own exercise
    (docs/exercises.md, docs/clinic-exercises.md).
    """

    clinic = models.ForeignKey(
        Clinic, null=True, blank=True, on_delete=models.CASCADE, related_name="exercises"
    )
    name = models.CharField(max_length=120)
    category = models.CharField(max_length=40)
    instructions = models.TextField()
    default_sets = models.PositiveSmallIntegerField(default=3)
    default_reps = models.CharField(max_length=40, blank=True)
    # How to do it, one short sentence per step.
    steps = models.JSONField(default=list, blank=True)
    # Sets × repetitions or hold time in words, e.g. "3 sets × 30 s hold".
    dosage = models.CharField(max_length=120, blank=True)
    # What it should feel like, and when to stop.
    feel = models.TextField(blank=True)
    stop_if = models.TextField(blank=True)
    # A static path such as "img/exercises/calf-stretch-gastrocnemius.svg" (catalogue only).
    illustration = models.CharField(max_length=200, blank=True)
    # An uploaded picture (a clinic's own exercise), stored through Django's storage API.
    image = models.FileField(upload_to="exercises/", blank=True)
    # A clinic's own exercise it no longer offers for prescribing (docs/clinic-exercises.md);
    # prescriptions that name it keep it. Null: in use.
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["category", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["name"],
                condition=models.Q(clinic__isnull=True),
                name="exercise_catalogue_name_unique",
            ),
            models.UniqueConstraint(
                fields=["clinic", "name"],
                condition=models.Q(clinic__isnull=False),
                name="exercise_clinic_name_unique",
            ),
        ]

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

    # No index of its own: the unique (episode, date) constraint and the covering index below
    # both start with the episode.
    episode = models.ForeignKey(
        Episode, on_delete=models.CASCADE, related_name="entries", db_index=False
    )
    date = models.DateField()
    pain_activity = models.PositiveSmallIntegerField(validators=PAIN_VALIDATORS)
    pain_rest = models.PositiveSmallIntegerField(null=True, blank=True, validators=PAIN_VALIDATORS)
    pf_rom_affected = models.DecimalField(
        max_digits=4, decimal_places=1, null=True, blank=True, validators=ROM_VALIDATORS
    )
    pf_rom_unaffected = models.DecimalField(
        max_digits=4, decimal_places=1, null=True, blank=True, validators=ROM_VALIDATORS
    )
    note = models.TextField(blank=True)
    recorded_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-date"]
        verbose_name_plural = _("daily entries")
        indexes = [
            # Everything the rules read about an entry, so that reading the diaries of a chunk
            # of episodes is an index-only scan (docs/performance.md). PostgreSQL only; other
            # databases get a plain (episode, date) index.
            models.Index(
                fields=["episode", "date"],
                include=[
                    "id",
                    "pain_activity",
                    "pain_rest",
                    "pf_rom_affected",
                    "pf_rom_unaffected",
                ],
                name="entry_rules_covering",
            )
        ]
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

    # Neither foreign key needs an index of its own: the unique (entry, prescription) constraint
    # starts with the entry, the covering index below with the prescription.
    entry = models.ForeignKey(
        DailyEntry, on_delete=models.CASCADE, related_name="exercises", db_index=False
    )
    prescription = models.ForeignKey(
        Prescription, on_delete=models.CASCADE, related_name="logs", db_index=False
    )
    sets_completed = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["prescription_id"]
        indexes = [
            # The logs of a chunk of episodes are read through their prescriptions, an
            # index-only scan that needs no join with the entries (docs/performance.md).
            models.Index(
                fields=["prescription"],
                include=["entry", "sets_completed"],
                name="log_by_prescription_covering",
            )
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["entry", "prescription"], name="one_log_per_prescription_per_entry"
            )
        ]

    def __str__(self) -> str:
        return f"{self.sets_completed} sets of prescription {self.prescription_id}"


class CorrectionAction(models.TextChoices):
    CREATED = "created", _("Created")
    REPLACED = "replaced", _("Replaced")
    DELETED = "deleted", _("Deleted")


class EntryCorrection(models.Model):
    """A staff correction of a referred or closed episode's diary: why, and what it replaced.

    After referral or closure the diary is the evidence behind the decision: the patient can no
    longer change it, and staff may only with a reason. The audit trail (``accounts.AuditEvent``)
    holds ids only, so the reason and the old values are kept here, with the patient's clinical
    record (erased with it, exported with it); the audit row ``entry.corrected`` points here.
    """

    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="entry_corrections")
    entry_date = models.DateField()
    action = models.CharField(max_length=10, choices=CorrectionAction.choices)
    reason = models.TextField()
    # The entry as it was before the correction (values and exercise logs); null when the
    # correction created the day's entry.
    old_values = models.JSONField(null=True, blank=True)
    corrected_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    corrected_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["corrected_at", "id"]

    def __str__(self) -> str:
        return f"Correction ({self.action}) of entry {self.entry_date} of episode {self.episode_id}"


class InterventionKind(models.TextChoices):
    IMMOBILIZATION = "immobilization", _("Immobilization")
    CORTICOSTEROID_INJECTION = "corticosteroid_injection", _("Corticosteroid injection")
    NSAID = "nsaid", _("NSAID")
    PARACETAMOL = "paracetamol", _("Paracetamol")
    HEEL_LIFT = "heel_lift", _("Heel lift")
    ORTHOSIS = "orthosis", _("Orthosis")
    ACTIVITY_MODIFICATION = "activity_modification", _("Activity modification")


class Intervention(models.Model):
    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="interventions")
    kind = models.CharField(max_length=32, choices=InterventionKind.choices)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    # A code of rehab.injection_sites.InjectionSite for a corticosteroid injection; free text
    # for the other kinds.
    site = models.CharField(max_length=200, blank=True)
    note = models.TextField(blank=True)
    # Set by the migration that coded the injection sites (0013) on an injection whose free-text
    # site matched no code: it became "other", the text went to the note, and staff check it.
    # Cleared by a correction.
    needs_review = models.BooleanField(default=False)
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


class RecordAction(models.TextChoices):
    CHANGED = "changed", _("Changed")
    DELETED = "deleted", _("Deleted")


class RecordCorrection(models.Model):
    """A staff correction of a clinical record of an episode, with why and what it replaced.

    Interventions, prescriptions, the intake values and the referral are corrected or deleted
    through ``rehab.corrections``: the reason and the old and new values are kept here, with the
    patient's clinical record (erased and exported with it); the audit row ``record.corrected``
    points here (audit rows hold ids only).
    """

    episode = models.ForeignKey(
        Episode, on_delete=models.CASCADE, related_name="record_corrections"
    )
    # The record corrected: its model ("intervention", "prescription", "episode", ...) and id.
    object_type = models.CharField(max_length=60)
    object_id = models.PositiveBigIntegerField(null=True, blank=True)
    action = models.CharField(max_length=10, choices=RecordAction.choices)
    reason = models.TextField()
    # Only the values that changed (all of them for a deletion); null where there is none.
    old_values = models.JSONField(null=True, blank=True)
    new_values = models.JSONField(null=True, blank=True)
    corrected_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    corrected_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["corrected_at", "id"]
        indexes = [models.Index(fields=["episode", "corrected_at"])]

    def __str__(self) -> str:
        return f"Correction ({self.action}) of {self.object_type} {self.object_id}"


# --- Clinical evaluation: thresholds, alerts and their deliveries --------------------------------


class ClinicRuleSettings(models.Model):
    """A clinic's overrides of the rule thresholds; keys absent here use the spec's defaults."""

    clinic = models.OneToOneField(Clinic, on_delete=models.CASCADE, related_name="rule_settings")
    overrides = models.JSONField(default=dict, blank=True)
    updated_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("clinic rule settings")
        verbose_name_plural = _("clinic rule settings")

    def __str__(self) -> str:
        return f"Rule thresholds of {self.clinic}"


class Severity(models.TextChoices):
    INFO = "info", _("Info")
    WARNING = "warning", _("Warning")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


class AlertStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    SNOOZED = "snoozed", _("Snoozed")
    RESOLVED = "resolved", _("Resolved")


class Alert(models.Model):
    """A finding of warning severity or above, with a lifecycle a therapist acts on."""

    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="alerts")
    code = models.CharField(max_length=40)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    status = models.CharField(max_length=14, choices=AlertStatus.choices, default=AlertStatus.OPEN)
    message = models.TextField()
    # The message's template and values (rehab.rules.phrase_to_json), so each reader sees it in
    # their language (rehab.finding_text.alert_message); ``message`` is its English. Null on
    # alerts raised before it was kept: they show ``message``.
    message_phrase = models.JSONField(null=True, blank=True, default=None)
    evidence = models.JSONField(default=dict)
    ruleset = models.CharField(max_length=40)
    thresholds = models.JSONField(default=dict)
    first_found_on = models.DateField()
    last_found_on = models.DateField()
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    snoozed_until = models.DateField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolution_reason = models.TextField(blank=True)
    note = models.TextField(blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    # When the escalation clock started: the alert's raising, or the end of its last snooze
    # (a reopened alert is escalated again if nobody acknowledges it). Null on alerts raised
    # before it was kept: their clock runs from ``created_at``.
    escalation_clock_from = models.DateTimeField(null=True, blank=True)
    # Resolved by hand while its finding still fired (docs/alerts.md): no new alert of this
    # (episode, code) is raised, and nobody is notified, until an evaluation no longer finds
    # it; then this is cleared, and a later recurrence alerts again.
    suppressing = models.BooleanField(default=False, db_default=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # The database, not only the code, guarantees one live alert per (episode, code).
            models.UniqueConstraint(
                fields=["episode", "code"],
                condition=~models.Q(status="resolved"),
                name="one_unresolved_alert_per_episode_code",
            ),
            # ... and at most one resolved alert holding back its (episode, code).
            models.UniqueConstraint(
                fields=["episode", "code"],
                condition=models.Q(suppressing=True),
                name="one_suppressing_alert_per_episode_code",
            ),
        ]
        indexes = [models.Index(fields=["status", "severity"])]

    def __str__(self) -> str:
        return f"{self.code} ({self.status}) on episode {self.episode_id}"


class WebhookEndpoint(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    # Standard Webhooks secret ("whsec_" + base64). It signs; it must be readable, not hashed.
    secret = models.CharField(max_length=100)
    is_active = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    secret_rotated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.url


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    WEBHOOK = "webhook", _("Webhook")
    INBOX = "inbox", _("In-app inbox")
    PUSH = "push", _("Web Push")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")


class Delivery(models.Model):
    """One notification to one recipient: written with the alert (an outbox), sent by a task."""

    alert = models.ForeignKey(
        Alert, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    event_type = models.CharField(max_length=40)
    endpoint = models.ForeignKey(
        WebhookEndpoint, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    recipient = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # A reminder to one of a patient's devices. Deleted with the subscription: a device that
    # is gone (404/410) or erased with its patient has nothing left to deliver.
    push_subscription = models.ForeignKey(
        "PushSubscription",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    payload = models.JSONField(default=dict)
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    queued_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = _("deliveries")
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.channel} {self.event_type} ({self.status})"


class DeliveryAttempt(models.Model):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    started_at = models.DateTimeField(default=timezone.now)
    duration_ms = models.PositiveIntegerField(default=0)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=20)  # delivered | retry | failed | disabled
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["started_at", "id"]

    def __str__(self) -> str:
        return f"Attempt on delivery {self.delivery_id}: {self.outcome}"


class InboxMessage(models.Model):
    """The clinic's in-app inbox: one row per high/critical alert notification."""

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+")
    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="inbox_messages")
    delivery = models.OneToOneField(Delivery, on_delete=models.CASCADE, related_name="+")
    title = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title


class ReminderLog(models.Model):
    """At most one daily-entry reminder per patient per local date."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="+")
    date = models.DateField()
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["patient", "date"], name="one_reminder_per_day")
        ]

    def __str__(self) -> str:
        return f"Reminder to patient {self.patient_id} on {self.date}"


class PushSubscription(models.Model):
    """One device (a browser's push subscription) that receives a patient's reminders.

    ``endpoint`` is the push service's URL the browser handed us: an address the client chose,
    so every send checks it like a webhook URL (rehab/notify/push.py).
    """

    patient = models.ForeignKey(
        Patient, on_delete=models.CASCADE, related_name="push_subscriptions"
    )
    endpoint = models.CharField(max_length=500, unique=True)
    # The browser's P-256 public key (65 bytes) and auth secret (16 bytes), base64url: what the
    # message is encrypted to (RFC 8291).
    p256dh = models.CharField(max_length=100)
    auth = models.CharField(max_length=50)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Push subscription {self.pk} of patient {self.patient_id}"


class DigestLog(models.Model):
    """At most one weekly digest per person per ISO week (``week`` is its Monday)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    week = models.DateField()
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "week"], name="one_digest_per_week")]

    def __str__(self) -> str:
        return f"Weekly digest to user {self.user_id} for the week of {self.week}"


# --- Referral follow-up (docs/referrals.md) ------------------------------------------------------


class ReferralOutcome(models.TextChoices):
    SEEN = "seen", _("Seen")
    SURGERY_SCHEDULED = "surgery_scheduled", _("Surgery scheduled")
    SURGERY_DECLINED = "surgery_declined", _("Surgery declined")
    RETURNED_TO_CONSERVATIVE = "returned_to_conservative", _("Returned to conservative care")


class ReferralFollowUp(models.Model):
    """What became of a referral: the appointment with the surgeon or clinic referred to, and its
    outcome. One row per referred episode, written on the first follow-up (or reminder); the
    referral itself (date, to whom, note) stays on the episode.
    """

    episode = models.OneToOneField(
        Episode, on_delete=models.CASCADE, related_name="referral_follow_up"
    )
    appointment_date = models.DateField(null=True, blank=True)
    outcome = models.CharField(max_length=32, choices=ReferralOutcome.choices, blank=True)
    outcome_date = models.DateField(null=True, blank=True)
    # Only with the outcome "surgery_scheduled".
    surgery_date = models.DateField(null=True, blank=True)
    note = models.TextField(blank=True)
    # The one "no appointment 14 days after referral" reminder of this referral: set by the job
    # that claims it (a conditional UPDATE), so two runs never send it twice.
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    updated_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="referral_surgery_date_only_when_scheduled",
                condition=models.Q(surgery_date__isnull=True)
                | models.Q(outcome="surgery_scheduled"),
            ),
        ]

    def __str__(self) -> str:
        return f"Referral follow-up of episode {self.episode_id}"


class ReferralChangeAction(models.TextChoices):
    FOLLOW_UP = "follow_up", _("Follow-up recorded")
    CORRECTED = "corrected", _("Referral corrected")
    WITHDRAWN = "withdrawn", _("Referral withdrawn")


class ReferralChange(models.Model):
    """One change to a referral or its follow-up, by whom, when, and (for a correction or a
    withdrawal) why, with the values before and after. The audit row (``accounts.AuditEvent``)
    holds ids only; the values are kept here, with the patient's clinical record.
    """

    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="referral_changes")
    action = models.CharField(max_length=12, choices=ReferralChangeAction.choices)
    reason = models.TextField(blank=True)
    old_values = models.JSONField(null=True, blank=True)
    new_values = models.JSONField(null=True, blank=True)
    changed_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"Referral {self.action} on episode {self.episode_id}"


# --- Alerts: who read the inbox, escalation settings, the admins' daily summary -----------------


class InboxMessageRead(models.Model):
    """One person marked one inbox notification read: it leaves their "New notifications"."""

    message = models.ForeignKey(InboxMessage, on_delete=models.CASCADE, related_name="reads")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    read_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["message", "user"], name="one_read_per_message_user")
        ]

    def __str__(self) -> str:
        return f"Notification {self.message_id} read by user {self.user_id}"


class ClinicEscalationSettings(models.Model):
    """When a clinic's unacknowledged alerts go to its admins (docs/alerts.md, "Escalation").

    A clinic without a row uses the defaults of ``rehab.escalation.DEFAULTS``.
    """

    clinic = models.OneToOneField(Clinic, on_delete=models.CASCADE, related_name="escalation")
    critical_enabled = models.BooleanField(default=True)
    critical_hours = models.PositiveSmallIntegerField(default=48)
    high_enabled = models.BooleanField(default=True)
    high_hours = models.PositiveSmallIntegerField(default=72)
    daily_summary = models.BooleanField(default=True)
    updated_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("clinic escalation settings")
        verbose_name_plural = _("clinic escalation settings")

    def __str__(self) -> str:
        return f"Escalation settings of {self.clinic}"


class AdminSummaryLog(models.Model):
    """At most one daily summary of unacknowledged alerts per clinic admin per date (UTC)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    date = models.DateField()
    alerts = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "date"], name="one_admin_summary_per_day")
        ]

    def __str__(self) -> str:
        return f"Daily alert summary to user {self.user_id} for {self.date}"


class ReevaluationStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    # A context of its own: "Running" is also a FAAM Sports item (rehab/function_scores.py).
    RUNNING = "running", pgettext_lazy("re-evaluation status", "Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class ReevaluationRun(models.Model):
    """Re-evaluating a clinic's active episodes at once (after its thresholds changed).

    Written with the change (a row first); the Celery task ``rehab.tasks.reevaluate_clinic``
    works through the episodes in id order and counts ``done``, so the settings page shows the
    progress, and a task run twice continues from ``last_episode_id``.
    """

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+")
    requested_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(
        max_length=10, choices=ReevaluationStatus.choices, default=ReevaluationStatus.QUEUED
    )
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    last_episode_id = models.PositiveBigIntegerField(default=0)
    summary = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Re-evaluation {self.pk} of clinic {self.clinic_id} ({self.status})"

    @property
    def percent(self) -> int:
        return 100 if not self.total else min(100, round(100 * self.done / self.total))

    @property
    def finished(self) -> bool:
        return self.status in (ReevaluationStatus.DONE, ReevaluationStatus.FAILED)


class Instrument(models.TextChoices):
    """The function questionnaires (docs/questionnaires.md)."""

    FAAM = "faam", _("FAAM (Foot and Ankle Ability Measure)")
    PSFS = "psfs", _("PSFS (Patient-Specific Functional Scale)")


class QuestionnaireResponse(models.Model):
    """One FAAM or PSFS response of an episode, at most one per instrument and date.

    ``answers`` holds what the patient answered: for FAAM ``{link_id: 0–4 | "na"}`` (items left
    blank are left out), for PSFS ``[{"activity": text, "score": 0–10}, ...]``. The scores are
    computed from it by ``rehab.function_scores`` when it is written (rounded to 0.1, for
    display and queries); the rules recompute them exactly from the answers.
    """

    episode = models.ForeignKey(
        Episode, on_delete=models.CASCADE, related_name="questionnaire_responses"
    )
    instrument = models.CharField(max_length=10, choices=Instrument.choices)
    date = models.DateField()
    answers = models.JSONField()
    score_adl = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    score_sports = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    score_psfs = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    recorded_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["date", "instrument", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["episode", "instrument", "date"],
                name="one_questionnaire_per_episode_instrument_day",
            ),
            models.CheckConstraint(
                name="questionnaire_instrument_known",
                condition=models.Q(instrument__in=["faam", "psfs"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.instrument.upper()} {self.date} of episode {self.episode_id}"


class EpisodeEvaluation(models.Model):
    """The latest evaluation of an episode, as the caseload lists it: the read model.

    Every evaluation (after an entry, at the patient's local midnight, after a threshold change)
    writes this row, so a list of thousands of episodes filters, sorts and pages in SQL instead
    of running the rules for every row (``rehab.read_model``, docs/performance.md). The row
    holds as of which date it was computed and the span of time that date is the patient's
    today (``fresh_from``/``fresh_until``); outside that span, or once the episode asked for an
    evaluation since, the row is stale and is computed again before anyone is shown it.
    """

    episode = models.OneToOneField(
        Episode, primary_key=True, on_delete=models.CASCADE, related_name="current_evaluation"
    )
    as_of = models.DateField()
    evaluated_at = models.DateTimeField()
    # The patient's local midnight starting as_of, and the next one (UTC instants).
    fresh_from = models.DateTimeField()
    fresh_until = models.DateTimeField(db_index=True)
    ruleset = models.CharField(max_length=32)
    # False when a page computed the row (rules only): the local-midnight job then evaluates
    # the episode with its alerts at its next run.
    alerts_synced = models.BooleanField(default=True)
    recommendation = models.CharField(max_length=32)
    trial_day = models.IntegerField()
    trial_week = models.IntegerField()
    # The most urgent alerting finding as of as_of: 0 critical, 1 high, 2 warning, 3 none.
    finding_rank = models.PositiveSmallIntegerField()
    # The most urgent unresolved alert, ranked alike; kept current by whatever resolves or
    # raises one (rehab.read_model.alerts_changed, the evaluations).
    alert_rank = models.PositiveSmallIntegerField(default=3)
    # The caseload's triage: the more urgent of the two (docs/alerts.md).
    urgency = models.PositiveSmallIntegerField(default=3)
    # The patient's name as the caseload sorts it (casefolded; the email when no name), as of
    # the evaluation: ties of urgency and trial day go alphabetically.
    sort_name = models.CharField(max_length=320, blank=True)
    # The alerting findings, most urgent first: [[severity, code], ...].
    alert_findings = models.JSONField(default=list)
    pain_baseline = models.FloatField(null=True)
    pain_current = models.FloatField(null=True)
    adherence_pct = models.FloatField(null=True)
    has_prescriptions = models.BooleanField(default=False)
    last_entry = models.DateField(null=True)
    entries_last_7_days = models.PositiveSmallIntegerField(default=0)
    faam_subscale = models.CharField(max_length=8, blank=True)
    faam_baseline = models.FloatField(null=True)
    faam_current = models.FloatField(null=True)
    questionnaires_due = models.JSONField(default=list)
    # Activity pain of the sparkline's days, oldest first, ending on as_of: one value per
    # calendar day, null for a day without an entry (or before the trial).
    recent_pain = models.JSONField(default=list)

    class Meta:
        # The caseload's order: most urgent, then furthest in the trial.
        indexes = [
            models.Index(
                fields=["urgency", "-trial_day", "sort_name", "episode"], name="evaluation_triage"
            )
        ]
        verbose_name = _("stored episode evaluation")
        verbose_name_plural = _("stored episode evaluations")

    def __str__(self) -> str:
        return f"Evaluation of episode {self.episode_id} as of {self.as_of}"

    def set_alert_rank(self, rank: int) -> None:
        """The most urgent unresolved alert's rank, and the urgency it makes with the
        findings' (stored, not computed per query: the caseload's order is an index on it)."""
        self.alert_rank = rank
        self.urgency = min(rank, self.finding_rank)
