"""Every write about reminders: the patient's preferences, their devices, the email unsubscribe.

Each function takes the patient already fetched within the caller's reach (the views use
``accounts.scoping`` through ``rehab.selectors.patient_of``), writes, and records an audit row
in the same transaction. No health data is involved or logged.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from functools import cache

from django.db import IntegrityError, transaction

from accounts.audit import audit_record
from accounts.models import Patient, User
from rehab.models import PushSubscription

EMAIL = "email"
PUSH = "push"
CHANNELS = (PUSH, EMAIL)


@cache
def known_timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones() | {"UTC"})


def is_known_timezone(name: str) -> bool:
    return name in known_timezones()


@dataclass(frozen=True)
class ReminderPreferences:
    enabled: bool
    time: dt.time
    channels: tuple[str, ...]  # in CHANNELS order
    timezone: str
    timezone_confirmed: bool


def reminder_preferences(*, patient: Patient) -> ReminderPreferences:
    channels = tuple(
        name
        for name, on in ((PUSH, patient.reminder_by_push), (EMAIL, patient.reminder_by_email))
        if on
    )
    return ReminderPreferences(
        enabled=patient.reminders_enabled,
        time=patient.reminder_time,
        channels=channels,
        timezone=patient.timezone,
        timezone_confirmed=patient.timezone_confirmed,
    )


def reminder_preferences_update(
    *,
    actor: User,
    patient: Patient,
    enabled: bool,
    time: dt.time,
    channels: tuple[str, ...] | list[str],
    timezone_name: str,
) -> ReminderPreferences:
    """Store the patient's choice. Values were validated by the form or serializer; the zone is
    checked again here because a stored unknown zone would stop the patient's reminders."""
    if not is_known_timezone(timezone_name):
        raise ValueError(f"Unknown time zone {timezone_name!r}.")
    unknown = set(channels) - set(CHANNELS)
    if unknown:
        raise ValueError(f"Unknown channels {sorted(unknown)!r}.")
    with transaction.atomic():
        patient.reminders_enabled = enabled
        # Minutes are what the job works with; seconds would only make equal times look different.
        patient.reminder_time = time.replace(second=0, microsecond=0)
        patient.reminder_by_email = EMAIL in channels
        patient.reminder_by_push = PUSH in channels
        patient.timezone = timezone_name
        # Choosing a zone on the settings page (or keeping the one shown) confirms it.
        patient.timezone_confirmed = True
        patient.save(
            update_fields=[
                "reminders_enabled",
                "reminder_time",
                "reminder_by_email",
                "reminder_by_push",
                "timezone",
                "timezone_confirmed",
            ]
        )
        _audit(actor, "reminders.updated", patient)
    return reminder_preferences(patient=patient)


def patient_timezone_confirm(*, actor: User, patient: Patient, timezone_name: str) -> None:
    """The patient answered the prompt: use their phone's zone, or keep the one they had."""
    if not is_known_timezone(timezone_name):
        raise ValueError(f"Unknown time zone {timezone_name!r}.")
    with transaction.atomic():
        patient.timezone = timezone_name
        patient.timezone_confirmed = True
        patient.save(update_fields=["timezone", "timezone_confirmed"])
        _audit(actor, "reminders.timezone_confirmed", patient)


# --- Devices (Web Push subscriptions) ------------------------------------------------------------


@dataclass(frozen=True)
class SavedSubscription:
    subscription: PushSubscription
    created: bool


def push_subscription_save(
    *, actor: User, patient: Patient, endpoint: str, p256dh: str, auth: str
) -> SavedSubscription:
    """Add this device, or refresh its keys when the browser subscribed again.

    An endpoint is one browser's; if another patient's row holds it (a shared phone, the other
    person signed out and this one subscribed), it now belongs to whoever subscribed last, so
    reminders never reach somebody else's lock screen.
    """
    try:
        return _push_subscription_save(
            actor=actor, patient=patient, endpoint=endpoint, p256dh=p256dh, auth=auth
        )
    except IntegrityError:
        # The same browser sent the same subscription twice at once and the other request
        # created the row first: this one now finds and refreshes it.
        return _push_subscription_save(
            actor=actor, patient=patient, endpoint=endpoint, p256dh=p256dh, auth=auth
        )


def _push_subscription_save(
    *, actor: User, patient: Patient, endpoint: str, p256dh: str, auth: str
) -> SavedSubscription:
    with transaction.atomic():
        existing = PushSubscription.objects.select_for_update().filter(endpoint=endpoint).first()
        created = existing is None
        if existing is None:
            subscription = PushSubscription.objects.create(
                patient=patient, endpoint=endpoint, p256dh=p256dh, auth=auth
            )
        else:
            existing.patient = patient
            existing.p256dh = p256dh
            existing.auth = auth
            existing.save(update_fields=["patient", "p256dh", "auth"])
            subscription = existing
        if created and not patient.reminder_by_push:
            # The patient asked for reminders on this phone: that is choosing the push channel.
            patient.reminder_by_push = True
            patient.save(update_fields=["reminder_by_push"])
        if created:
            _audit(actor, "push_subscription.added", patient, obj=subscription)
    return SavedSubscription(subscription=subscription, created=created)


def push_subscription_delete(*, actor: User, patient: Patient, endpoint: str) -> bool:
    """Forget one of the patient's devices; False when it is not theirs (or not known)."""
    with transaction.atomic():
        subscription = PushSubscription.objects.filter(patient=patient, endpoint=endpoint).first()
        if subscription is None:
            return False
        _audit(actor, "push_subscription.removed", patient, obj=subscription)
        subscription.delete()
        if not PushSubscription.objects.filter(patient=patient).exists():
            patient.reminder_by_push = False
            patient.save(update_fields=["reminder_by_push"])
    return True


# --- Email unsubscribe ---------------------------------------------------------------------------


def email_reminders_unsubscribe(*, patient: Patient) -> bool:
    """The one-click unsubscribe (no sign-in): email reminders off. False if they already were."""
    with transaction.atomic():
        changed = Patient.objects.filter(pk=patient.pk, reminder_by_email=True).update(
            reminder_by_email=False
        )
        if changed:
            audit_record(
                actor=None,
                action="reminders.email_unsubscribed",
                obj=patient,
                clinic_id=patient.user.clinic_id,
                patient_id=patient.pk,
            )
    patient.reminder_by_email = False
    return bool(changed)


def _audit(
    actor: User, action: str, patient: Patient, *, obj: Patient | PushSubscription | None = None
) -> None:
    audit_record(
        actor=actor,
        action=action,
        obj=obj if obj is not None else patient,
        clinic_id=patient.user.clinic_id,
        patient_id=patient.pk,
    )
