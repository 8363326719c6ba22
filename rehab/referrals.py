"""Referral follow-up: what became of a referral, corrections of the referral itself, and the
reminder when no appointment is recorded 14 days after it (docs/referrals.md).

Every write here is a service: keyword-only arguments, every problem refused with a
``ValidationError`` keyed by field before anything is written, one transaction with an audit row
(ids only) and a ``ReferralChange`` row holding the values before and after. Fields left out of a
call (``UNCHANGED``) keep their stored value, so the API's PATCH and the page's form share one
function.

The reminder is not a finding of the clinical rules (their list is fixed): it is a daily job that
claims the follow-up row with a conditional UPDATE and sends the email once that is committed,
so however often it runs, a referral gets one reminder.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import logging
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal, TypeAlias, TypeVar

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.audit import audit_record
from accounts.language import in_language_of
from accounts.models import Role, User
from accounts.scoping import can_manage_patients
from rehab.dates import Ahead, clinical_date_problem
from rehab.free_text import NOTE_MAX_LENGTH, Errors, check_text
from rehab.models import (
    Episode,
    EpisodeStatus,
    ReferralChange,
    ReferralChangeAction,
    ReferralFollowUp,
    ReferralOutcome,
)
from rehab.services import episode_evaluation_request

logger = logging.getLogger(__name__)

# "No appointment 14 days after referral" (issue 14): the list marks it, the job reminds once.
FOLLOW_UP_DUE_DAYS = 14
REFERRED_TO_MAX_LENGTH = 200
REASON_MAX_LENGTH = 1000


class _Unchanged(enum.Enum):
    UNCHANGED = "unchanged"


UNCHANGED: Final = _Unchanged.UNCHANGED
T = TypeVar("T")
# A field a call leaves as it is stored.
Maybe: TypeAlias = T | Literal[_Unchanged.UNCHANGED]

FOLLOW_UP_FIELDS = ("appointment_date", "outcome", "outcome_date", "surgery_date", "note")


def _require_staff(actor: User) -> None:
    if not can_manage_patients(actor):
        raise PermissionError("Only therapists and clinic admins may do this.")


def _audit(actor: User | None, action: str, obj: Any, episode: Episode) -> None:
    audit_record(
        actor=actor,
        action=action,
        obj=obj,
        clinic_id=episode.patient.user.clinic_id,
        patient_id=episode.patient_id,
    )


def _json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def follow_up_values(follow_up: ReferralFollowUp | None) -> dict[str, Any]:
    """The follow-up's recorded values as JSON (all empty when nothing is recorded yet)."""
    return {
        name: _json(getattr(follow_up, name))
        if follow_up is not None
        else ("" if name in {"outcome", "note"} else None)
        for name in FOLLOW_UP_FIELDS
    }


def referral_values(episode: Episode) -> dict[str, Any]:
    return {
        "date": _json(episode.referral_date),
        "referred_to": episode.referred_to,
        "note": episode.referral_note,
    }


def _check_date(
    errors: Errors,
    field: str,
    value: dt.date | None,
    *,
    episode: Episode,
    referral_date: dt.date | None,
    ahead: Ahead,
) -> None:
    """A follow-up date: within the episode's clinical window, and not before the referral."""
    if value is None:
        return
    problem = clinical_date_problem(
        value,
        episode_start=episode.start_date,
        today=episode.patient.local_today(),
        ahead=ahead,
    )
    if problem is None and referral_date is not None and value < referral_date:
        problem = gettext("Cannot be before the referral date (%(day)s).") % {
            "day": referral_date.isoformat()
        }
    if problem is not None:
        errors.add(field, problem)


def _check_reason(errors: Errors, reason: str) -> str:
    text = check_text(errors, "reason", reason, max_length=REASON_MAX_LENGTH)
    if not text and "reason" not in errors:
        errors.add(
            "reason",
            gettext(
                "Say why you are changing the referral: the reason and the old values are kept."
            ),
        )
    return text


def _no_referral(errors: Errors, episode: Episode) -> bool:
    if episode.referral_date is None:
        errors.add("non_field_errors", gettext("No referral is recorded for this episode."))
        return True
    return False


# --- Recording the follow-up -------------------------------------------------------------------


def referral_follow_up_update(
    *,
    actor: User,
    episode: Episode,
    appointment_date: Maybe[dt.date | None] = UNCHANGED,
    outcome: Maybe[str] = UNCHANGED,
    outcome_date: Maybe[dt.date | None] = UNCHANGED,
    surgery_date: Maybe[dt.date | None] = UNCHANGED,
    note: Maybe[str] = UNCHANGED,
) -> ReferralFollowUp:
    """Record the appointment and the outcome of a referral (fields left out keep their values).

    An outcome needs its date; "surgery scheduled" needs the surgery's date, which no other
    outcome takes. Appointment and surgery may lie ahead (planned); the outcome's date may not.
    Changing nothing writes nothing.
    """
    _require_staff(actor)
    errors = Errors()
    if _no_referral(errors, episode):
        errors.raise_if_any()
    current = ReferralFollowUp.objects.filter(episode=episode).first()
    old = follow_up_values(current)
    new = dict(old)
    given = {
        name: value
        for name, value in (
            ("appointment_date", appointment_date),
            ("outcome", outcome),
            ("outcome_date", outcome_date),
            ("surgery_date", surgery_date),
            ("note", note),
        )
        if value is not UNCHANGED
    }
    if "outcome" in given:
        value = given["outcome"] if given["outcome"] is not None else ""
        if not isinstance(value, str) or value not in {"", *ReferralOutcome.values}:
            errors.add(
                "outcome",
                gettext("Must be one of: %(values)s (or empty).")
                % {"values": ", ".join(ReferralOutcome.values)},
            )
            value = old["outcome"]
        new["outcome"] = value
        # Another outcome than "surgery scheduled" has no surgery date, and no outcome no date.
        if value != ReferralOutcome.SURGERY_SCHEDULED and "surgery_date" not in given:
            new["surgery_date"] = None
        if not value and "outcome_date" not in given:
            new["outcome_date"] = None
    if "note" in given:
        new["note"] = check_text(errors, "note", given["note"], max_length=NOTE_MAX_LENGTH)
    referral_date = episode.referral_date
    for name, ahead in (
        ("appointment_date", Ahead.PLANNED),
        ("outcome_date", Ahead.NOT_AFTER_TODAY),
        ("surgery_date", Ahead.PLANNED),
    ):
        if name not in given:
            continue
        day = given[name]
        if day is not None and not isinstance(day, dt.date):
            errors.add(name, gettext("Must be a date (YYYY-MM-DD)."))
            continue
        _check_date(errors, name, day, episode=episode, referral_date=referral_date, ahead=ahead)
        new[name] = _json(day)
    if new["outcome"] and not new["outcome_date"] and "outcome_date" not in errors:
        errors.add("outcome_date", gettext("Give the date of the outcome."))
    if new["outcome_date"] and not new["outcome"] and "outcome" not in errors:
        errors.add("outcome", gettext("Choose the outcome this date belongs to."))
    if new["outcome"] == ReferralOutcome.SURGERY_SCHEDULED:
        if not new["surgery_date"] and "surgery_date" not in errors:
            errors.add("surgery_date", gettext("Give the date the surgery is scheduled for."))
    elif new["surgery_date"] and "surgery_date" not in errors:
        errors.add(
            "surgery_date",
            gettext("A surgery date goes with the outcome “Surgery scheduled” only."),
        )
    errors.raise_if_any()
    if current is not None and new == old:
        return current
    now = timezone.now()
    with transaction.atomic():
        follow_up = current or ReferralFollowUp(episode=episode)
        for name in FOLLOW_UP_FIELDS:
            value = new[name]
            if name.endswith("_date") and value is not None:
                value = dt.date.fromisoformat(value)
            setattr(follow_up, name, value)
        follow_up.updated_by = actor
        follow_up.updated_at = now
        follow_up.save()
        ReferralChange.objects.create(
            episode=episode,
            action=ReferralChangeAction.FOLLOW_UP,
            old_values=old if current is not None else None,
            new_values=new,
            changed_by=actor,
            changed_at=now,
        )
        _audit(actor, "referral.follow_up_recorded", follow_up, episode)
    return follow_up


# --- Correcting or withdrawing the referral ------------------------------------------------------


def referral_correct(
    *,
    actor: User,
    episode: Episode,
    reason: str,
    date: Maybe[dt.date] = UNCHANGED,
    referred_to: Maybe[str] = UNCHANGED,
    note: Maybe[str] = UNCHANGED,
) -> Episode:
    """Correct the recorded referral (its date, to whom, its note) with a required reason; the
    old and new values are kept. Correcting to the values already recorded writes nothing."""
    _require_staff(actor)
    errors = Errors()
    if _no_referral(errors, episode):
        errors.raise_if_any()
    reason = _check_reason(errors, reason)
    old = referral_values(episode)
    new = dict(old)
    if date is not UNCHANGED:
        if not isinstance(date, dt.date):
            errors.add("date", gettext("Must be a date (YYYY-MM-DD)."))
        else:
            problem = clinical_date_problem(
                date, episode_start=episode.start_date, today=episode.patient.local_today()
            )
            follow_up = ReferralFollowUp.objects.filter(episode=episode).first()
            later = [
                day
                for day in (
                    follow_up and follow_up.appointment_date,
                    follow_up and follow_up.outcome_date,
                )
                if isinstance(day, dt.date)
            ]
            if problem is None and later and date > min(later):
                problem = gettext(
                    "Cannot be after the appointment or outcome already recorded (%(day)s)."
                ) % {"day": min(later).isoformat()}
            if problem is not None:
                errors.add("date", problem)
            new["date"] = _json(date)
    if referred_to is not UNCHANGED:
        new["referred_to"] = check_text(
            errors, "referred_to", referred_to, max_length=REFERRED_TO_MAX_LENGTH
        )
    if note is not UNCHANGED:
        new["note"] = check_text(errors, "note", note, max_length=NOTE_MAX_LENGTH)
    errors.raise_if_any()
    if new == old:
        return episode
    now = timezone.now()
    with transaction.atomic():
        episode.referral_date = dt.date.fromisoformat(new["date"])
        episode.referred_to = new["referred_to"]
        episode.referral_note = new["note"]
        episode.save(update_fields=["referral_date", "referred_to", "referral_note", "updated_at"])
        ReferralChange.objects.create(
            episode=episode,
            action=ReferralChangeAction.CORRECTED,
            reason=reason,
            old_values=old,
            new_values=new,
            changed_by=actor,
            changed_at=now,
        )
        _audit(actor, "referral.corrected", episode, episode)
    return episode


def referral_withdraw(*, actor: User, episode: Episode, reason: str) -> Episode:
    """Withdraw a referral recorded by mistake: the episode is active again, its referral and
    follow-up are cleared (kept, with the reason, in a ``ReferralChange``) and it is evaluated
    again, so the referral findings come back if they still apply."""
    _require_staff(actor)
    errors = Errors()
    if episode.status == EpisodeStatus.CLOSED:
        errors.add("non_field_errors", gettext("This episode is closed; reopen is not supported."))
    elif episode.status != EpisodeStatus.REFERRED:
        errors.add("non_field_errors", gettext("No referral is recorded for this episode."))
    reason = _check_reason(errors, reason)
    errors.raise_if_any()
    now = timezone.now()
    with transaction.atomic():
        follow_up = ReferralFollowUp.objects.filter(episode=episode).first()
        old = {**referral_values(episode), "follow_up": follow_up_values(follow_up)}
        if follow_up is not None:
            follow_up.delete()
        episode.status = EpisodeStatus.ACTIVE
        episode.referral_date = None
        episode.referred_to = ""
        episode.referral_note = ""
        episode.save(
            update_fields=["status", "referral_date", "referred_to", "referral_note", "updated_at"]
        )
        ReferralChange.objects.create(
            episode=episode,
            action=ReferralChangeAction.WITHDRAWN,
            reason=reason,
            old_values=old,
            new_values=None,
            changed_by=actor,
            changed_at=now,
        )
        _audit(actor, "referral.withdrawn", episode, episode)
        episode_evaluation_request(episode=episode)
    return episode


# --- The reminder: no appointment 14 days after referral ---------------------------------------


def follow_up_due(*, episode: Episode, follow_up: ReferralFollowUp | None, today: dt.date) -> bool:
    """Whether a referral waits for its follow-up: still referred, no appointment and no outcome
    recorded, and at least ``FOLLOW_UP_DUE_DAYS`` days since the referral (patient's today)."""
    if episode.status != EpisodeStatus.REFERRED or episode.referral_date is None:
        return False
    if follow_up is not None and (follow_up.appointment_date or follow_up.outcome):
        return False
    return (today - episode.referral_date).days >= FOLLOW_UP_DUE_DAYS


@dataclass(frozen=True)
class ReminderRun:
    reminded: list[int]  # episode ids


def referral_reminders_send(*, now: dt.datetime | None = None) -> ReminderRun:
    """Remind the treating therapist (none active: the clinic's admins) once per referral that
    has no appointment or outcome recorded 14 days after it, in the patient's time zone.

    Safe to run twice at once: the follow-up row is claimed with a conditional UPDATE
    (``reminder_sent_at`` still empty, nothing recorded yet) in a transaction, and the email
    leaves only once that is committed.
    """
    now = now or timezone.now()
    # Every time zone is within a day of UTC's date; the exact day is checked per patient.
    latest = now.date() - dt.timedelta(days=FOLLOW_UP_DUE_DAYS - 1)
    # Reminded already, or an appointment or outcome recorded: nothing to remind of.
    settled = ReferralFollowUp.objects.filter(episode=OuterRef("pk")).filter(
        Q(reminder_sent_at__isnull=False) | Q(appointment_date__isnull=False) | ~Q(outcome="")
    )
    candidates = (
        Episode.objects.filter(
            status=EpisodeStatus.REFERRED,
            referral_date__isnull=False,
            referral_date__lte=latest,
        )
        .exclude(Exists(settled))
        .select_related("patient__user", "patient__therapist", "referral_follow_up")
        .order_by("referral_date", "pk")
    )
    reminded: list[int] = []
    for episode in candidates:
        today = now.astimezone(zoneinfo.ZoneInfo(episode.patient.timezone)).date()
        if not follow_up_due(episode=episode, follow_up=_follow_up_or_none(episode), today=today):
            continue
        recipients = _recipients(episode)
        if not recipients:
            logger.warning(
                "Referral of episode %s is due for a reminder but nobody active treats it",
                episode.pk,
            )
            continue
        try:
            with transaction.atomic():
                follow_up, _created = ReferralFollowUp.objects.get_or_create(episode=episode)
                claimed = ReferralFollowUp.objects.filter(
                    pk=follow_up.pk,
                    reminder_sent_at__isnull=True,
                    appointment_date__isnull=True,
                    outcome="",
                ).update(reminder_sent_at=now)
                if claimed != 1:
                    continue  # recorded meanwhile, or another run took it
                _audit(None, "referral.reminder_sent", follow_up, episode)
                for user in recipients:
                    transaction.on_commit(
                        functools.partial(_send_reminder, episode=episode, to=user, today=today)
                    )
        except IntegrityError:
            continue  # another run created the row first; it sends the reminder
        reminded.append(episode.pk)
    return ReminderRun(reminded=reminded)


def _follow_up_or_none(episode: Episode) -> ReferralFollowUp | None:
    try:
        return episode.referral_follow_up
    except ReferralFollowUp.DoesNotExist:
        return None


def _recipients(episode: Episode) -> list[User]:
    therapist = episode.patient.therapist
    if therapist is not None and therapist.is_active:
        return [therapist]
    clinic_id = episode.patient.user.clinic_id
    if clinic_id is None:
        return []
    return list(
        User.objects.filter(clinic_id=clinic_id, role=Role.CLINIC_ADMIN, is_active=True).order_by(
            "pk"
        )
    )


REMINDER_SUBJECT = _("No appointment recorded 14 days after a referral")


def _send_reminder(*, episode: Episode, to: User, today: dt.date) -> None:
    """One reminder email, in the recipient's language: the patient's initials, the referral's
    date and a link; no health values and no names (the email leaves the app)."""
    from rehab.notify.messages import initials

    patient = episode.patient.user
    assert episode.referral_date is not None
    context: Mapping[str, object] = {
        "first_name": to.first_name or _("there"),
        "initials": initials(patient.first_name, patient.last_name),
        "referral_date": episode.referral_date,
        "days": (today - episode.referral_date).days,
        "url": f"{settings.SITE_URL}/episodes/{episode.pk}/",
        "list_url": f"{settings.SITE_URL}/referrals/?show=due",
    }
    try:
        with in_language_of(to):
            mail = EmailMultiAlternatives(
                subject=str(REMINDER_SUBJECT),
                body=render_to_string("emails/referral_reminder.txt", dict(context)),
                to=[to.email],
                headers={"Content-Language": translation.get_language()},
            )
            mail.attach_alternative(
                render_to_string("emails/referral_reminder.html", dict(context)), "text/html"
            )
        mail.send()
    except Exception:
        # The claim that makes this reminder once-only is committed; a mail server outage costs
        # this one message rather than sending it twice. Ids only in the log.
        logger.exception("Could not send the referral reminder of episode %s", episode.pk)
