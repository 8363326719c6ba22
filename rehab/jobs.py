"""The periodic jobs behind Celery beat: what they do, without Celery.

``rehab.tasks`` holds thin task shells that call these functions, so the rules of each job can be
read (and tested under ``time_machine``) without a broker. Each job is safe to run twice at once
(two beat processes, a redelivered task):

* the evaluation relay re-runs evaluations whose task was lost (the episode row remembers the
  request in ``evaluation_requested_at``; ``evaluate_episode`` locks the episode row);
* the reminder writes a ``ReminderLog`` row first (with its push notifications as outbox rows
  in the same transaction), and the (patient, date) unique constraint lets only one writer
  through;
* escalation claims each alert with a conditional UPDATE and acts only if it changed the row;
* the admins' daily summary writes an ``AdminSummaryLog`` row per (admin, date) first, and its
  unique constraint lets only one writer through;
* the digest writes a ``DigestLog`` row per (person, ISO week) first, and its unique constraint
  lets only one writer through, as the reminder's does.

No health values (pain scores, notes, measurements) leave through these emails or the logs.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import zoneinfo
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy, ngettext

from accounts.language import in_language_of
from accounts.models import Clinic, Patient, User
from rehab import escalation
from rehab.models import (
    AdminSummaryLog,
    Alert,
    AlertStatus,
    Channel,
    DailyEntry,
    Delivery,
    DigestLog,
    Episode,
    EpisodeStatus,
    PushSubscription,
    ReminderLog,
    Severity,
)
from rehab.nightly import EvaluationSummary, evaluate_episodes
from rehab.notify.messages import AlertLine
from rehab.notify.outbox import deliveries_create
from rehab.reminders.unsubscribe import unsubscribe_url

logger = logging.getLogger(__name__)

# --- Evaluation relay ------------------------------------------------------------------------

# An entry's own evaluation task normally runs within seconds; a request older than this was
# most likely lost with the broker (or a worker), so the relay runs it.
RELAY_MIN_AGE = dt.timedelta(minutes=1)
RELAY_BATCH = 100


def evaluation_relay(
    *, min_age: dt.timedelta = RELAY_MIN_AGE, limit: int = RELAY_BATCH
) -> EvaluationSummary:
    """Evaluate episodes whose requested evaluation has waited longer than ``min_age``.

    Oldest requests first, at most ``limit`` per run so one run stays well inside the task's time
    limit; the next run (a minute later) takes the rest. ``evaluate_episode`` clears the request
    it saw, so an episode is not picked up again unless a newer entry asks again.
    """
    cutoff = timezone.now() - min_age
    ids = list(
        Episode.objects.filter(evaluation_requested_at__lte=cutoff)
        .order_by("evaluation_requested_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    if not ids:
        return EvaluationSummary()
    summary = evaluate_episodes(ids, None)
    logger.info("Evaluation relay: %s", summary.line())
    return summary


# --- Patient reminder ------------------------------------------------------------------------

# Marked lazily: the row is written in the recipient's language (_push_reminders_write), as the
# service worker has no catalogue and shows the payload's words as they are.
REMINDER_PUSH_PAYLOAD = {
    "title": gettext_lazy("Rehab diary"),
    "body": gettext_lazy("A minute for today's diary? Tap to fill it in."),
    "url": "/",
}


@dataclass(frozen=True)
class ReminderRun:
    reminded: list[int]  # patient ids
    checked_timezones: int


def reminders_send(*, now: dt.datetime | None = None) -> ReminderRun:
    """Remind each patient who has not logged today, once a day, from the time they chose in
    their own time zone, on the channels they chose (docs/reminders.md).

    Beat runs this every 15 minutes, so a reminder goes at the first run at or after the chosen
    time. Patients are grouped by time zone, so the number of queries grows with the number of
    zones in use, not with the number of patients.
    """
    now = now or timezone.now()
    zones = (
        Patient.objects.filter(
            user__is_active=True,
            reminders_enabled=True,
            episodes__status=EpisodeStatus.ACTIVE,
        )
        .order_by()  # no default ordering columns in the DISTINCT
        .values_list("timezone", flat=True)
        .distinct()
    )
    reminded: list[int] = []
    checked = 0
    for zone in sorted(set(zones)):
        try:
            local = now.astimezone(zoneinfo.ZoneInfo(zone))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            logger.warning("Skipping reminders for unknown time zone %r", zone)
            continue
        checked += 1
        reminded += _remind_zone(
            zone=zone, local_date=local.date(), local_time=local.time().replace(tzinfo=None)
        )
    return ReminderRun(reminded=reminded, checked_timezones=checked)


def _remind_zone(*, zone: str, local_date: dt.date, local_time: dt.time) -> list[int]:
    # An episode that starts tomorrow has no form to fill in today.
    active = Episode.objects.filter(
        patient=OuterRef("pk"), status=EpisodeStatus.ACTIVE, start_date__lte=local_date
    )
    logged = DailyEntry.objects.filter(episode__patient=OuterRef("pk"), date=local_date)
    already = ReminderLog.objects.filter(patient=OuterRef("pk"), date=local_date)
    devices = PushSubscription.objects.filter(patient=OuterRef("pk"))
    due = (
        Patient.objects.filter(
            timezone=zone,
            user__is_active=True,
            reminders_enabled=True,
            reminder_time__lte=local_time,
        )
        .alias(has_device=Exists(devices))
        # A reminder that could reach nobody is not written (nor counted as today's).
        .filter(Q(reminder_by_email=True) | Q(reminder_by_push=True, has_device=True))
        .filter(Exists(active))
        .exclude(Exists(logged))
        .exclude(Exists(already))
        .select_related("user", "user__clinic")
        .order_by("pk")
    )
    sent: list[int] = []
    for patient in due:
        try:
            with transaction.atomic():
                ReminderLog.objects.create(patient=patient, date=local_date)
                if patient.reminder_by_push:
                    # Outbox rows, in the same transaction: each device gets its message
                    # (retried on failure) if and only if the day's log row is committed.
                    _push_reminders_write(patient=patient)
                if patient.reminder_by_email:
                    # Sent only once the row is committed: a second beat that lost the race on
                    # the unique constraint sends nothing.
                    transaction.on_commit(
                        functools.partial(_send_reminder, patient=patient, local_date=local_date)
                    )
        except IntegrityError:
            continue
        sent.append(patient.pk)
    return sent


def _push_reminders_write(*, patient: Patient) -> list[int]:
    clinic_id = patient.user.clinic_id
    if clinic_id is None:  # a patient always belongs to a clinic; a Delivery row needs one
        return []
    with in_language_of(patient.user):
        payload = {key: str(value) for key, value in REMINDER_PUSH_PAYLOAD.items()}
    rows = [
        Delivery(
            clinic_id=clinic_id,
            channel=Channel.PUSH,
            event_type="reminder.daily",
            recipient=patient.user,
            push_subscription=subscription,
            payload=dict(payload),
        )
        for subscription in PushSubscription.objects.filter(patient=patient).order_by("pk")
    ]
    return deliveries_create(rows)


def _send_reminder(*, patient: Patient, local_date: dt.date) -> None:
    user = patient.user
    unsubscribe = unsubscribe_url(patient)
    context = {
        "first_name": user.first_name or gettext_lazy("there"),
        "clinic": user.clinic.name if user.clinic else gettext_lazy("your clinic"),
        "url": f"{settings.SITE_URL}/",
        "settings_url": f"{settings.SITE_URL}{reverse('reminder-settings')}",
        "unsubscribe_url": unsubscribe,
        "date": local_date,
    }
    _send_email(
        subject=gettext_lazy("A minute for today's rehab diary?"),
        template="emails/reminder",
        context=context,
        to=user,
        what=f"reminder to patient {patient.pk}",
        # RFC 8058: mail providers show an "Unsubscribe" button that POSTs
        # "List-Unsubscribe=One-Click" to this address, with no cookies and no sign-in.
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )


# --- Escalation and the admins' daily summary (rehab.escalation) -----------------------------


def escalation_run(*, now: dt.datetime | None = None) -> list[int]:
    """Hand alerts left open past their clinic's delay for their severity to the clinic's admins
    (``rehab.escalation.escalation_run``: per clinic and severity; a snooze that ends re-arms)."""
    return escalation.escalation_run(now=now)


def admin_summary_send(*, now: dt.datetime | None = None) -> list[int]:
    """Send each active clinic admin one email of their clinic's unacknowledged alerts today.

    Nothing when a clinic has none, or turned the summary off. At most once per (admin, UTC
    date): the ``AdminSummaryLog`` row is written first and its unique constraint lets one of
    two runs through; the email leaves once that row is committed. Returns the admins' ids.
    """
    now = now or timezone.now()
    today = now.date()
    by_clinic = escalation.unacknowledged_by_clinic(now=now)
    if not by_clinic:
        return []
    policies = escalation.escalation_for_clinics(by_clinic)
    names = dict(Clinic.objects.filter(pk__in=list(by_clinic)).values_list("pk", "name"))
    sent: list[int] = []
    for clinic_id in sorted(by_clinic):
        if not policies[clinic_id].daily_summary:
            continue
        lines = by_clinic[clinic_id]
        for admin in escalation.clinic_admins(clinic_id):
            context = {
                "first_name": admin.first_name or gettext_lazy("there"),
                "clinic": names.get(clinic_id, ""),
                "lines": lines,
                "url": f"{settings.SITE_URL}{reverse('alert-inbox')}?tab=open",
                "settings_url": f"{settings.SITE_URL}{reverse('alert-settings')}",
                "date": today,
            }
            try:
                with transaction.atomic():
                    AdminSummaryLog.objects.create(user=admin, date=today, alerts=len(lines))
                    transaction.on_commit(
                        functools.partial(
                            _send_email,
                            subject=functools.partial(_summary_subject, len(lines)),
                            template="emails/admin_summary",
                            context=context,
                            to=admin,
                            what=f"daily alert summary to user {admin.pk}",
                        )
                    )
            except IntegrityError:
                continue
            sent.append(admin.pk)
    return sent


def _summary_subject(count: int) -> str:
    return ngettext(
        "Daily summary: %(count)d unacknowledged alert",
        "Daily summary: %(count)d unacknowledged alerts",
        count,
    ) % {"count": count}


# --- Weekly digest -----------------------------------------------------------------------------


def digest_recipients_and_lines(*, now: dt.datetime) -> dict[User, list[AlertLine]]:
    """Every unresolved alert, grouped by whom it reaches: the treating therapist, or the
    clinic's admins for a patient without an active therapist."""
    alerts = (
        Alert.objects.exclude(status=AlertStatus.RESOLVED)
        .select_related("episode__patient__user", "episode__patient__therapist")
        .order_by("created_at", "pk")
    )
    by_user: dict[User, list[AlertLine]] = defaultdict(list)
    admins_by_clinic: dict[int | None, list[User]] = {}
    for alert in alerts:
        patient = alert.episode.patient
        line = AlertLine.of(alert, now=now)
        therapist = patient.therapist
        recipients: Iterable[User]
        if therapist is not None and therapist.is_active:
            recipients = [therapist]
        else:
            clinic_id = patient.user.clinic_id
            if clinic_id not in admins_by_clinic:
                admins_by_clinic[clinic_id] = escalation.clinic_admins(clinic_id)
            recipients = admins_by_clinic[clinic_id]
        for user in recipients:
            by_user[user].append(line)
    for lines in by_user.values():
        # Most serious first, then the longest open.
        lines.sort(key=AlertLine.sort_key)
    return by_user


def digest_send(*, now: dt.datetime | None = None) -> list[int]:
    """Send each therapist one email listing their unresolved alerts; returns the user ids.

    At most once per (user, ISO week): a ``DigestLog`` row is written first, and the unique
    constraint lets only one of two runs (a redelivered task, a second beat) through. The email
    leaves once that row is committed.
    """
    now = now or timezone.now()
    year, week, weekday = now.isocalendar()
    monday = now.date() - dt.timedelta(days=weekday - 1)
    sent: list[int] = []
    for user, lines in sorted(
        digest_recipients_and_lines(now=now).items(), key=lambda item: item[0].pk
    ):
        context = {
            "first_name": user.first_name or gettext_lazy("there"),
            "lines": lines,
            "warnings": sum(1 for x in lines if x.severity == Severity.WARNING),
            # Each status under its own word: "open" is open only (docs/alerts.md, "Counts").
            "status_words": functools.partial(_status_words, [x.status_code for x in lines]),
            "url": f"{settings.SITE_URL}/alerts/",
            "week": f"{year}-W{week:02d}",
        }
        count = len(lines)
        try:
            with transaction.atomic():
                DigestLog.objects.create(user=user, week=monday)
                transaction.on_commit(
                    functools.partial(
                        _send_email,
                        subject=functools.partial(_digest_subject, count),
                        template="emails/digest",
                        context=context,
                        to=user,
                        what=f"weekly digest to user {user.pk}",
                    )
                )
        except IntegrityError:
            continue
        sent.append(user.pk)
    return sent


def _status_words(statuses: list[str]) -> str:
    """ "2 open · 1 acknowledged · 1 snoozed", in the active language (the email's)."""
    words = []
    for status, count in (
        (AlertStatus.OPEN, statuses.count(AlertStatus.OPEN)),
        (AlertStatus.ACKNOWLEDGED, statuses.count(AlertStatus.ACKNOWLEDGED)),
        (AlertStatus.SNOOZED, statuses.count(AlertStatus.SNOOZED)),
    ):
        if not count:
            continue
        if status == AlertStatus.OPEN:
            text = ngettext("%(count)d open", "%(count)d open", count)
        elif status == AlertStatus.ACKNOWLEDGED:
            text = ngettext("%(count)d acknowledged", "%(count)d acknowledged", count)
        else:
            text = ngettext("%(count)d snoozed", "%(count)d snoozed", count)
        words.append(text % {"count": count})
    return " · ".join(words)


def _digest_subject(count: int) -> str:
    return ngettext(
        "Weekly summary: %(count)d unresolved alert",
        "Weekly summary: %(count)d unresolved alerts",
        count,
    ) % {"count": count}


# --- Email ---------------------------------------------------------------------------------------


def _send_email(
    *,
    subject: str | Promise | Callable[[], str],
    template: str,
    context: Mapping[str, object],
    to: User,
    what: str,
    headers: dict[str, str] | None = None,
) -> None:
    """One email to ``to``, written in their language (the subject is lazy or a callable, so it
    is worded inside that language too)."""
    try:
        with in_language_of(to):
            mail = EmailMultiAlternatives(
                subject=subject() if callable(subject) else str(subject),
                body=render_to_string(f"{template}.txt", dict(context)),
                to=[to.email],
                headers={**(headers or {}), "Content-Language": translation.get_language()},
            )
            mail.attach_alternative(
                render_to_string(f"{template}.html", dict(context)), "text/html"
            )
        mail.send()
    except Exception:
        # The row that makes this send once-only is already written; a mail server outage costs
        # this one message, which is better than sending it twice. Ids only in the log.
        logger.exception("Could not send the %s", what)
