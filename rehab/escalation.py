"""Escalation of unacknowledged alerts, per clinic and per severity, and the admins' daily summary.

docs/alerts.md says it in a clinic's words. In short:

- A clinic chooses which severities escalate (critical and high; both on by default) and after
  how many hours each (48 and 72 by default, 1 to 336). ``ClinicEscalationSettings`` holds a
  clinic's choice; a clinic without a row uses ``DEFAULTS``.
- An alert escalates when it is still **open** (nobody acknowledged or snoozed it) that many
  hours after its escalation clock started: when it was raised, or when its snooze ended (the
  evaluation that reopens a snoozed alert restarts the clock and clears ``escalated_at``, so a
  snooze that expires re-arms escalation). Acknowledging stops it. Each alert is escalated at
  most once per clock: a conditional UPDATE claims it, in the transaction that writes its
  notifications (rows first, as every job here).
- Every day each clinic admin gets one email listing the clinic's open (unacknowledged) alerts,
  most severe first; none when there is nothing to list, and never two for one day
  (``AdminSummaryLog``'s unique (user, date) lets one writer through).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from accounts.audit import audit_record
from accounts.models import Role, User
from rehab.models import (
    Alert,
    AlertStatus,
    ClinicEscalationSettings,
    Severity,
)
from rehab.notify.messages import AlertLine
from rehab.notify.outbox import escalation_notifications_write

logger = logging.getLogger(__name__)

MIN_HOURS = 1
MAX_HOURS = 14 * 24  # two weeks: later than that is no escalation

ESCALATING_SEVERITIES = (Severity.CRITICAL, Severity.HIGH)


@dataclass(frozen=True, slots=True)
class EscalationPolicy:
    critical_enabled: bool = True
    critical_hours: int = 48
    high_enabled: bool = True
    high_hours: int = 72
    daily_summary: bool = True
    updated_at: dt.datetime | None = None
    updated_by: User | None = None

    def delay_for(self, severity: str) -> dt.timedelta | None:
        """How long an alert of this severity may stay open before it escalates; None: never."""
        if severity == Severity.CRITICAL and self.critical_enabled:
            return dt.timedelta(hours=self.critical_hours)
        if severity == Severity.HIGH and self.high_enabled:
            return dt.timedelta(hours=self.high_hours)
        return None

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in FIELDS}


DEFAULTS = EscalationPolicy()
FIELDS = ("critical_enabled", "critical_hours", "high_enabled", "high_hours", "daily_summary")
BOOLEAN_FIELDS = ("critical_enabled", "high_enabled", "daily_summary")
HOURS_FIELDS = ("critical_hours", "high_hours")

# The words a clinic admin sees, page and API alike (errors name the field by its label).
LABELS: dict[str, Any] = {
    "critical_enabled": gettext_lazy("Escalate critical alerts"),
    "critical_hours": gettext_lazy("Hours before a critical alert escalates"),
    "high_enabled": gettext_lazy("Escalate high alerts"),
    "high_hours": gettext_lazy("Hours before a high alert escalates"),
    "daily_summary": gettext_lazy("Daily summary email to the clinic admins"),
}


def _policy(row: ClinicEscalationSettings | None) -> EscalationPolicy:
    if row is None:
        return DEFAULTS
    return EscalationPolicy(
        critical_enabled=row.critical_enabled,
        critical_hours=row.critical_hours,
        high_enabled=row.high_enabled,
        high_hours=row.high_hours,
        daily_summary=row.daily_summary,
        updated_at=row.updated_at,
        updated_by=row.updated_by,
    )


def clinic_escalation(*, clinic_id: int) -> EscalationPolicy:
    """The escalation settings in force for a clinic (one query)."""
    return _policy(
        ClinicEscalationSettings.objects.select_related("updated_by")
        .filter(clinic_id=clinic_id)
        .first()
    )


def escalation_for_clinics(clinic_ids: Iterable[int]) -> dict[int, EscalationPolicy]:
    """The settings of several clinics in one query; a clinic without a row gets the defaults."""
    wanted = set(clinic_ids)
    rows = {
        row.clinic_id: row for row in ClinicEscalationSettings.objects.filter(clinic_id__in=wanted)
    }
    return {pk: _policy(rows.get(pk)) for pk in wanted}


def escalation_validate(
    values: Mapping[str, Any], *, current: EscalationPolicy
) -> EscalationPolicy:
    """The new settings: ``current`` with ``values`` applied. Unknown names, booleans that are
    not JSON booleans, and hours that are not whole numbers from 1 to 336 are refused, each
    error under its field and naming it by its label."""
    errors: dict[str, list[str]] = {}
    unknown = sorted(str(name) for name in values if name not in FIELDS)
    if unknown:
        errors["non_field_errors"] = [
            gettext("Unknown setting: %(names)s.") % {"names": ", ".join(unknown)}
        ]
    changed: dict[str, Any] = {}
    for name in BOOLEAN_FIELDS:
        if name not in values:
            continue
        value = values[name]
        if not isinstance(value, bool):
            errors[name] = [gettext("%(label)s: choose yes or no.") % {"label": LABELS[name]}]
        else:
            changed[name] = value
    for name in HOURS_FIELDS:
        if name not in values:
            continue
        value = values[name]
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            errors[name] = [
                gettext("%(label)s: a whole number of hours.") % {"label": LABELS[name]}
            ]
        elif not MIN_HOURS <= value <= MAX_HOURS:
            errors[name] = [
                gettext("%(label)s: from %(min)d to %(max)d hours (two weeks).")
                % {"label": LABELS[name], "min": MIN_HOURS, "max": MAX_HOURS}
            ]
        else:
            changed[name] = value
    if errors:
        raise ValidationError(errors)
    return replace(current, **changed)


def clinic_escalation_update(*, actor: User, values: Mapping[str, Any]) -> EscalationPolicy:
    """Change the actor's clinic's escalation settings (clinic admins); names left out keep
    their value. Audited."""
    if not actor.is_clinic_admin or actor.clinic_id is None:
        raise PermissionError("Only a clinic admin may change the escalation settings.")
    current = clinic_escalation(clinic_id=actor.clinic_id)
    policy = escalation_validate(values, current=current)
    now = timezone.now()
    with transaction.atomic():
        ClinicEscalationSettings.objects.update_or_create(
            clinic_id=actor.clinic_id,
            defaults={**policy.as_dict(), "updated_by": actor, "updated_at": now},
        )
        audit_record(
            actor=actor,
            action="clinic.escalation_updated",
            obj=ClinicEscalationSettings,
            clinic_id=actor.clinic_id,
        )
    return replace(policy, updated_at=now, updated_by=actor)


# --- The hourly escalation run ---------------------------------------------------------------


def escalation_run(*, now: dt.datetime | None = None) -> list[int]:
    """Hand alerts left open past their clinic's delay for their severity to the clinic's admins.

    Returns the ids of the alerts escalated by this run.
    """
    now = now or timezone.now()
    candidates = list(
        Alert.objects.filter(
            severity__in=ESCALATING_SEVERITIES,
            status=AlertStatus.OPEN,
            escalated_at__isnull=True,
        )
        .annotate(clock=Coalesce(F("escalation_clock_from"), F("created_at")))
        .select_related("episode__patient__user")
        .order_by("clock", "pk")
    )
    if not candidates:
        return []
    clinic_of = {alert.pk: alert.episode.patient.user.clinic_id for alert in candidates}
    policies = escalation_for_clinics(pk for pk in clinic_of.values() if pk is not None)
    admins_by_clinic: dict[int | None, list[User]] = {}
    escalated: list[int] = []
    for alert in candidates:
        clinic_id = clinic_of[alert.pk]
        if clinic_id is None:
            continue
        delay = policies[clinic_id].delay_for(alert.severity)
        clock: dt.datetime = alert.clock
        if delay is None or clock > now - delay:
            continue
        if clinic_id not in admins_by_clinic:
            admins_by_clinic[clinic_id] = clinic_admins(clinic_id)
        admins = admins_by_clinic[clinic_id]
        if not admins:
            # Left unclaimed on purpose: it is escalated at the first run after the clinic
            # has an admin again, and until then this warning repeats every hour.
            logger.warning(
                "Alert %s is due for escalation but clinic %s has no active admin",
                alert.pk,
                clinic_id,
            )
            continue
        with transaction.atomic():
            claimed = Alert.objects.filter(
                pk=alert.pk, status=AlertStatus.OPEN, escalated_at__isnull=True
            ).update(escalated_at=now)
            if claimed != 1:
                continue  # acknowledged meanwhile, or another run took it
            escalation_notifications_write(alert=alert, admins=admins)
        escalated.append(alert.pk)
    return escalated


def clinic_admins(clinic_id: int | None) -> list[User]:
    if clinic_id is None:
        return []
    return list(
        User.objects.filter(clinic_id=clinic_id, role=Role.CLINIC_ADMIN, is_active=True).order_by(
            "pk"
        )
    )


# --- The admins' daily summary ---------------------------------------------------------------


def unacknowledged_by_clinic(*, now: dt.datetime) -> dict[int, list[AlertLine]]:
    """Each clinic's open (unacknowledged, not snoozed) alerts, most severe first, then the
    longest open. Initials and words only: the email leaves the app."""
    lines: dict[int, list[AlertLine]] = defaultdict(list)
    for alert in (
        Alert.objects.filter(status=AlertStatus.OPEN)
        .select_related("episode__patient__user")
        .order_by("created_at", "pk")
    ):
        user = alert.episode.patient.user
        if user.clinic_id is None:
            continue
        lines[user.clinic_id].append(AlertLine.of(alert, now=now))
    for clinic_lines in lines.values():
        clinic_lines.sort(key=AlertLine.sort_key)
    return lines
