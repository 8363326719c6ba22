"""The words of a notification: what an email or an inbox line says about an alert.

Notifications leave the app (mail servers, phones' lock screens), so they carry the minimum:
what kind of alert, how severe, the patient's initials and a link to sign in and read the rest.
No pain scores, no notes, no full names.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from rehab.models import Alert, AlertStatus, Delivery, Severity
from rehab.vocabulary import CODE_LABELS, SEVERITY_LABELS, code_label

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

CODE_WORDS = CODE_LABELS
SEVERITY_WORDS = SEVERITY_LABELS

EVENT_WORDS: dict[str, StrOrPromise] = {
    "alert.raised": _("New alert"),
    "alert.reopened": _("Alert back after its snooze"),
    "alert.escalated": _("Alert not acknowledged"),
    "webhook.test": _("Test event"),
}


def code_words(code: str) -> str:
    return code_label(code)


def initials(first_name: str, last_name: str) -> str:
    """Initials only, e.g. Jane van Dijk -> J.v.D.; a dash when no name is known."""
    parts = [*first_name.split(), *last_name.split()]
    return "".join(f"{part[0]}." for part in parts if part) or "–"


def alert_context(delivery: Delivery) -> dict[str, Any]:
    """Template context for an alert email: references and words only, never health values."""
    alert = delivery.alert
    assert alert is not None
    user = alert.episode.patient.user
    data = delivery.payload.get("data", {}) if isinstance(delivery.payload, dict) else {}
    return {
        "event": delivery.event_type,
        "event_words": EVENT_WORDS.get(delivery.event_type, delivery.event_type),
        "code": alert.code,
        "what": code_words(alert.code),
        "severity": SEVERITY_WORDS.get(alert.severity, alert.severity),
        "patient_initials": initials(user.first_name, user.last_name),
        "episode_id": alert.episode_id,
        "url": data.get("url") or "",
        "recipient_name": delivery.recipient.get_short_name() if delivery.recipient else "",
        "raised_on": alert.first_found_on,
    }


def email_subject(delivery: Delivery) -> str:
    context = alert_context(delivery)
    if delivery.event_type == "alert.escalated":
        return gettext("Unacknowledged %(severity)s alert: %(what)s (patient %(initials)s)") % {
            "severity": str(context["severity"]).lower(),
            "what": context["what"],
            "initials": context["patient_initials"],
        }
    return gettext("%(severity)s alert: %(what)s (patient %(initials)s)") % {
        "severity": context["severity"],
        "what": context["what"],
        "initials": context["patient_initials"],
    }


def inbox_title(alert: Alert, event_type: str) -> str:
    user = alert.episode.patient.user
    if event_type == "alert.reopened":
        title = gettext("Back after snooze · %(severity)s: %(what)s · patient %(initials)s")
    else:
        title = gettext("%(severity)s: %(what)s · patient %(initials)s")
    params = {
        "severity": SEVERITY_WORDS.get(alert.severity, alert.severity),
        "what": code_words(alert.code),
        "initials": initials(user.first_name, user.last_name),
    }
    return (title % params)[:200]


# Most severe first in a list of alerts (weekly digest, admins' daily summary).
SEVERITY_RANK: dict[str, int] = {
    Severity.CRITICAL: 0,
    Severity.HIGH: 1,
    Severity.WARNING: 2,
    Severity.INFO: 3,
}


@dataclass(frozen=True)
class AlertLine:
    """One alert in an email that lists several (the weekly digest, the admins' daily summary):
    initials and words only.

    The words are looked up when the email is rendered, inside the recipient's language: the
    list is built before anybody's language is chosen, so words fixed then would be in whatever
    language happened to be active (another recipient's, or a request's)."""

    alert_id: int
    initials: str
    code: str
    severity: str
    status_code: str
    days_open: int
    escalated: bool = False

    @classmethod
    def of(cls, alert: Alert, *, now: dt.datetime) -> AlertLine:
        user = alert.episode.patient.user
        return cls(
            alert_id=alert.pk,
            initials=initials(user.first_name, user.last_name),
            code=alert.code,
            severity=alert.severity,
            status_code=alert.status,
            days_open=max((now - alert.created_at).days, 0),
            escalated=alert.escalated_at is not None,
        )

    @property
    def words(self) -> str:
        return code_words(self.code)

    @property
    def severity_label(self) -> str:
        return str(SEVERITY_LABELS.get(self.severity, self.severity))

    @property
    def status(self) -> str:
        return str(dict(AlertStatus.choices).get(self.status_code, self.status_code))

    def sort_key(self) -> tuple[int, int, int]:
        """Most severe first, then the longest open."""
        return (SEVERITY_RANK.get(self.severity, 9), -self.days_open, self.alert_id)
