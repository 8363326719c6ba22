"""People, clinics and who belongs where.

A user has one role and, unless they are a platform superuser, one clinic. A patient's clinical
identity (their assigned therapist, their time zone) lives on ``Patient``, which episodes point at.
"""

from __future__ import annotations

import datetime
import zoneinfo
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone as dj_timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.emails import normalize_email


class Role(models.TextChoices):
    PATIENT = "patient", _("Patient")
    THERAPIST = "therapist", _("Physical therapist")
    CLINIC_ADMIN = "clinic_admin", _("Clinic admin")


def validate_identifier_system(value: str) -> None:
    """A FHIR identifier system: an http(s) address or a URN (``urn:oid:…``)."""
    if value and not value.startswith(("https://", "http://", "urn:")):
        raise ValidationError(_("Enter an http:// or https:// address, or a urn:."))


class Sex(models.TextChoices):
    """Sex as the clinic records it: FHIR's administrative gender values, so that the export
    carries it as ``Patient.gender`` unchanged (docs/fhir.md)."""

    MALE = "male", _("Male")
    FEMALE = "female", _("Female")
    OTHER = "other", pgettext_lazy("sex", "Other")
    UNKNOWN = "unknown", pgettext_lazy("sex", "Unknown")


class Clinic(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    created_at = models.DateTimeField(default=dj_timezone.now)
    # When on, therapists and clinic admins must set up and pass two-factor sign-in before any
    # staff page or session API call (accounts.middleware.TwoFactorMiddleware).
    require_two_factor = models.BooleanField(
        default=False,
        help_text=_("Therapists and clinic admins must use an authenticator app to sign in."),
    )
    # The system URI of the clinic's medical record numbers, as its EHR names them (the FHIR
    # Patient.identifier.system). Blank: PAIS_MRN_SYSTEM, else one under PAIS_SITE_URL
    # (accounts.identifiers.mrn_system, docs/fhir.md).
    mrn_system = models.CharField(
        max_length=255,
        blank=True,
        validators=[validate_identifier_system],
        help_text=_(
            "The identifier system of this clinic's medical record numbers, as its EHR names it "
            "(e.g. https://hospital.example.org/fhir/sid/mrn). Blank: the installation's default."
        ),
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    @classmethod
    def normalize_email(cls, email: str | None) -> str:
        # The project's one spelling of an address (accounts/emails.py), not Django's, which
        # lower-cases only the domain.
        return normalize_email(email or "")

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email=normalize_email(username or ""))

    def _create_user(self, email: str, password: str | None, **extra: Any) -> User:
        if not email:
            raise ValueError("An email address is required")
        user = self.model(email=self.normalize_email(email), **extra)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """Signs in with an email address. ``role`` and ``clinic`` decide what they may reach."""

    email = models.EmailField(unique=True)
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    role = models.CharField(max_length=20, choices=Role.choices, blank=True)
    clinic = models.ForeignKey(
        Clinic, null=True, blank=True, on_delete=models.PROTECT, related_name="members"
    )
    is_active = models.BooleanField(default=True)
    # Django admin access, for the operators of an installation; not a clinic role.
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=dj_timezone.now)
    # The language of their pages, emails and push texts: a code of settings.LANGUAGES, or blank
    # until chosen (pages then follow the browser; emails the site's default). No choices here,
    # so adding a language needs no migration; accounts/language.py validates (docs/i18n.md).
    language = models.CharField(max_length=10, blank=True, default="")

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        ordering = ["email"]
        constraints = [
            models.CheckConstraint(
                name="clinic_role_needs_clinic",
                condition=models.Q(role="") | models.Q(clinic__isnull=False),
            )
        ]

    def __str__(self) -> str:
        return self.email

    def clean(self) -> None:
        # Model forms (the Django admin's) call this before their uniqueness check, so that
        # check sees the address as it will be stored.
        super().clean()
        self.email = normalize_email(self.email)

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Every address is stored in its one spelling, whichever path wrote it (a service, the
        # admin, a fixture): lookups compare by equality (accounts/emails.py).
        self.email = normalize_email(self.email)
        super().save(*args, **kwargs)

    @property
    def language_or_default(self) -> str:
        """The language to write to them in when they are not here to ask (emails, push)."""
        return self.language or settings.LANGUAGE_CODE

    def get_full_name(self) -> str:
        full = f"{self.first_name} {self.last_name}".strip()
        return full or self.email

    def get_short_name(self) -> str:
        return self.first_name or self.email

    @property
    def is_patient(self) -> bool:
        return self.role == Role.PATIENT

    @property
    def is_therapist(self) -> bool:
        return self.role == Role.THERAPIST

    @property
    def is_clinic_admin(self) -> bool:
        return self.role == Role.CLINIC_ADMIN

    @property
    def is_clinic_staff(self) -> bool:
        """Therapists and clinic admins: the people who manage patients."""
        return self.role in (Role.THERAPIST, Role.CLINIC_ADMIN)

    @property
    def is_privileged(self) -> bool:
        """Clinic staff and the installation's operators: the accounts that reach other people's
        data, which get the short session and two-factor sign-in."""
        return self.is_clinic_staff or self.is_staff or self.is_superuser


DEFAULT_REMINDER_TIME = datetime.time(19, 0)


def validate_timezone_name(value: str) -> None:
    from django.core.exceptions import ValidationError

    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(f"'{value}' is not a known time zone (e.g. Europe/London).") from exc


class Patient(models.Model):
    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="patient")
    therapist = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_patients",
        limit_choices_to={"role": Role.THERAPIST},
    )
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone_name])
    # The patient said this zone is theirs (the clinic's guess, or what their phone reported).
    # Until then their pages offer the phone's zone once (docs/reminders.md).
    timezone_confirmed = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=dj_timezone.now)
    # The daily-entry reminder, as the patient chose it (rehab/reminders/, docs/reminders.md).
    reminders_enabled = models.BooleanField(default=True)
    reminder_time = models.TimeField(default=DEFAULT_REMINDER_TIME)
    reminder_by_email = models.BooleanField(default=True)
    # Turned on when the patient subscribes their first device to Web Push.
    reminder_by_push = models.BooleanField(default=False)
    # Identifiers an EHR matches the patient on (issue 16; docs/fhir.md). Entered by staff
    # (accounts.services.patient_identifiers_update); all optional. The medical record number is
    # unique within the clinic when given (checked by the service: the clinic is on the user).
    birth_date = models.DateField(_("date of birth"), null=True, blank=True)
    sex = models.CharField(_("sex"), max_length=8, choices=Sex.choices, blank=True)
    mrn = models.CharField(_("medical record number"), max_length=64, blank=True)

    class Meta:
        ordering = ["user__last_name", "user__first_name", "id"]

    def __str__(self) -> str:
        return self.user.get_full_name()

    @property
    def clinic_id(self) -> int | None:
        return self.user.clinic_id

    def local_today(self) -> datetime.date:
        """Today's date where the patient is: entries are dated in the patient's own day."""
        return dj_timezone.now().astimezone(zoneinfo.ZoneInfo(self.timezone)).date()


class Invitation(models.Model):
    """A one-time link that lets an invited patient set a password.

    Only a SHA-256 digest of the token is stored, so a database leak does not hand out accounts.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="invitations")
    token_digest = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=dj_timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    # The first GET of the link. From then on it works for PAIS_INVITATION_OPENED_LIFETIME_HOURS
    # at most, and the patient's page tells staff it was opened and not used.
    opened_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Invitation for {self.user}"

    def usable_until(self) -> datetime.datetime:
        if self.opened_at is None:
            return self.expires_at
        opened_window = datetime.timedelta(hours=settings.PAIS_INVITATION_OPENED_LIFETIME_HOURS)
        return min(self.expires_at, self.opened_at + opened_window)

    def is_usable(self, *, now: Any | None = None) -> bool:
        """Unused, within its lifetime (shortened once opened), and for a user who has never
        set a password: an invitation is never a way into an account somebody already uses."""
        now = now or dj_timezone.now()
        return (
            self.used_at is None
            and self.usable_until() > now
            and not self.user.has_usable_password()
            and self.user.last_login is None
        )


class CoverQuerySet(models.QuerySet["Cover"]):
    def in_force(self, on: datetime.date) -> CoverQuerySet:
        """Covers that give reach on ``on``: not cancelled, and ``on`` within start..end."""
        return self.filter(cancelled_at__isnull=True, start_date__lte=on, end_date__gte=on)


class Cover(models.Model):
    """While a therapist is away, a colleague of the same clinic covers their patients.

    From ``start_date`` to ``end_date`` (both included, dates of the server's time zone,
    ``TIME_ZONE``) the covering therapist reaches the absent therapist's patients as if they were
    their own (accounts/scoping.py) and gets their alert emails (rehab/notify/outbox.py). The
    patients stay assigned to the absent therapist: nothing moves. A cover is set and cancelled
    by a clinic admin through accounts/staff.py (docs/staff-administration.md).
    """

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="covers")
    absent = models.ForeignKey(User, on_delete=models.CASCADE, related_name="covered_by")
    covering = models.ForeignKey(User, on_delete=models.CASCADE, related_name="covering")
    start_date = models.DateField()
    end_date = models.DateField()
    note = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=dj_timezone.now)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects: ClassVar[CoverQuerySet] = CoverQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        ordering = ["start_date", "id"]
        indexes = [models.Index(fields=["covering", "start_date", "end_date"])]
        constraints = [
            models.CheckConstraint(
                name="cover_ends_after_it_starts",
                condition=models.Q(end_date__gte=models.F("start_date")),
            ),
            models.CheckConstraint(
                name="cover_not_oneself", condition=~models.Q(absent=models.F("covering"))
            ),
        ]

    def __str__(self) -> str:
        return f"{self.covering} covers {self.absent} {self.start_date}..{self.end_date}"


class ApiToken(models.Model):
    """A bearer token for API v1 (``Authorization: Token <key>``), stored as a digest."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    key_digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=dj_timezone.now)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"API token of {self.user} from {self.created_at:%Y-%m-%d}"


class AuditTrailIsAppendOnly(Exception):
    """Raised on any attempt to change or delete an audit row."""


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    # Bulk changes skip Model.save() and .delete(), so they are refused here too. (On PostgreSQL
    # a trigger refuses them even for raw SQL: migration 0003.)
    def update(self, **kwargs: Any) -> int:
        raise AuditTrailIsAppendOnly("Audit rows cannot be changed.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AuditTrailIsAppendOnly("Audit rows cannot be deleted.")


class AuditEvent(models.Model):
    """Append-only record of who did what to which object, and when.

    It names objects by type and id and never holds health values (no pain scores, no notes).
    A read of a list is one row whose ``item_count`` says how many items were shown.

    ``actor`` and ``clinic`` are plain ids at the database level (no foreign key constraint, no
    ``ON DELETE``): deleting a user must not rewrite the rows that say what they did, and a row
    that names an erased or deleted user keeps the id.
    """

    actor = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    clinic = models.ForeignKey(
        Clinic,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64)
    # Blank for a list that is not under one object (e.g. "patients.listed").
    object_id = models.CharField(max_length=64, blank=True)
    patient_id = models.BigIntegerField(null=True, blank=True)
    item_count = models.PositiveIntegerField(null=True, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=dj_timezone.now, db_index=True)

    objects: ClassVar[AuditEventQuerySet] = AuditEventQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["clinic", "-created_at"]),
            models.Index(fields=["clinic", "patient_id", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} {self.object_type}#{self.object_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AuditTrailIsAppendOnly("Audit rows cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AuditTrailIsAppendOnly("Audit rows cannot be deleted.")
