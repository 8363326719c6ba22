"""What a clinician does to an alert: acknowledge, snooze, resolve. Each leaves an audit row.

- acknowledged: "I have seen it". It stays unresolved (and is not raised again) while the
  condition lasts, and resolves by itself when a later evaluation no longer finds it.
- snoozed until a date: hidden from the open list; if the condition still holds when the snooze
  ends, the next evaluation reopens it and notifies again.
- resolved: closed by hand. Allowed even while the finding still fires as of the patient's
  today; then the alert says so (``suppressing``) and holds back its (episode, code): no new
  alert and no notification until an evaluation no longer finds it, after which a recurrence
  alerts again (docs/alerts.md). The caseload's triage keeps following the current findings
  meanwhile, so a resolved alert never hides a patient who is still getting worse.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from accounts.audit import audit_record
from accounts.models import User
from accounts.scoping import can_manage_patients
from rehab.evaluation import episode_progress
from rehab.free_text import NOTE_MAX_LENGTH, Errors, check_text
from rehab.models import Alert, AlertStatus, Episode
from rehab.read_model import alerts_changed

MAX_SNOOZE_DAYS = 90


def _require_staff(actor: User) -> None:
    if not can_manage_patients(actor):
        raise PermissionError("Only therapists and clinic admins act on alerts.")


def _audit(actor: User, action: str, alert: Alert) -> None:
    audit_record(
        actor=actor,
        action=action,
        obj=alert,
        clinic_id=actor.clinic_id,
        patient_id=alert.episode.patient_id,
    )


def _checked_note(alert: Alert, note: str) -> str:
    """The clinician's note, stripped; refused (with a resolved alert) before anything is saved."""
    errors = Errors()
    if alert.status == AlertStatus.RESOLVED:
        errors.add("non_field_errors", gettext("This alert is already resolved."))
    note = check_text(errors, "note", note, max_length=NOTE_MAX_LENGTH)
    errors.raise_if_any()
    return note


def alert_acknowledge(*, actor: User, alert: Alert, note: str = "") -> Alert:
    _require_staff(actor)
    note = _checked_note(alert, note)
    now = timezone.now()
    with transaction.atomic():
        alert.status = AlertStatus.ACKNOWLEDGED
        alert.acknowledged_at = now
        alert.acknowledged_by = actor
        alert.snoozed_until = None
        if note:
            alert.note = note
        alert.updated_at = now
        alert.save()
        _audit(actor, "alert.acknowledged", alert)
    return alert


def alert_snooze(*, actor: User, alert: Alert, until: dt.date, today: dt.date) -> Alert:
    _require_staff(actor)
    errors: dict[str, list[str]] = {}
    if alert.status == AlertStatus.RESOLVED:
        errors["non_field_errors"] = [gettext("This alert is already resolved.")]
    if until <= today:
        errors["until"] = [gettext("Snooze until a date after today.")]
    elif (until - today).days > MAX_SNOOZE_DAYS:
        errors["until"] = [
            ngettext(
                "Snooze for at most %(days)d day.",
                "Snooze for at most %(days)d days.",
                MAX_SNOOZE_DAYS,
            )
            % {"days": MAX_SNOOZE_DAYS}
        ]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        alert.status = AlertStatus.SNOOZED
        alert.snoozed_until = until
        alert.updated_at = timezone.now()
        alert.save(update_fields=["status", "snoozed_until", "updated_at"])
        _audit(actor, "alert.snoozed", alert)
    return alert


def finding_still_fires(*, alert: Alert, as_of: dt.date | None = None) -> bool:
    """Whether the rules find the alert's code on its episode as of a date (default: the
    patient's today). Reads only."""
    episode = alert.episode
    as_of = as_of or episode.patient.local_today()
    return alert.code in {f.code for f in episode_progress(episode=episode, as_of=as_of).findings}


def alert_resolve(*, actor: User, alert: Alert, note: str = "") -> Alert:
    """Resolve by hand. When the finding still fires as of the patient's today the alert is
    kept ``suppressing`` its (episode, code) until an evaluation no longer finds it."""
    _require_staff(actor)
    note = _checked_note(alert, note)
    now = timezone.now()
    still_firing = finding_still_fires(alert=alert)
    with transaction.atomic():
        if still_firing:
            # One suppression per (episode, code): an older one (there should be none while
            # this alert was live) gives way to this one.
            Alert.objects.filter(
                episode_id=alert.episode_id, code=alert.code, suppressing=True
            ).exclude(pk=alert.pk).update(suppressing=False)
        alert.status = AlertStatus.RESOLVED
        alert.resolved_at = now
        alert.resolved_by = actor
        alert.suppressing = still_firing
        alert.resolution_reason = f"Resolved by {actor.get_full_name()}." + (
            " The finding still fired: no new alert until an evaluation no longer finds it."
            if still_firing
            else ""
        )
        if note:
            alert.note = note
        alert.updated_at = now
        alert.save()
        _audit(actor, "alert.resolved", alert)
        alerts_changed(episode_ids=[alert.episode_id])  # the caseload's urgency
    return alert


def alerts_resolve_for_episode(
    *, episode: Episode, reason: str, codes: Collection[str] | None = None
) -> int:
    """Resolve an episode's unresolved alerts (all, or those with ``codes``) with a reason."""
    now = timezone.now()
    queryset = Alert.objects.filter(episode=episode).exclude(status=AlertStatus.RESOLVED)
    if codes is not None:
        queryset = queryset.filter(code__in=list(codes))
    resolved = queryset.update(
        status=AlertStatus.RESOLVED, resolved_at=now, resolution_reason=reason, updated_at=now
    )
    alerts_changed(episode_ids=[episode.pk])  # the caseload's urgency
    return resolved
