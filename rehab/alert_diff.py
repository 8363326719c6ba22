"""What an evaluation changes in an episode's alerts: a pure function, no database.

``diff_alerts`` takes the episode's unresolved alerts (``LiveAlert``), the rules' findings and the
date evaluated as of, and returns the changes, in the order they are to be written:

- a finding that is an alert (warning, high, critical) with no unresolved alert of its code
  **raises** one (``Raise``); high and critical notify;
- one whose alert is snoozed until a date on or before the evaluated day **reopens** it
  (``Reopen``): open again, the snooze cleared, notified again if high or critical;
- one whose alert is open, acknowledged, or snoozed until later is **refreshed** (``Refresh``):
  severity, message (and its phrase) and evidence as found now, ``last_found_on`` never moved
  back; the status stays (an acknowledged alert is not raised again while its condition
  lasts), nothing is sent;
- an unresolved alert whose finding is gone is **resolved** automatically (``Resolve``), with
  the reason, whatever its status;
- a finding whose (episode, code) is held back by an alert resolved by hand while it still
  fired (``Suppression``) raises nothing and notifies nobody: the resolved alert is **kept
  suppressing** (``KeepSuppressed``, its ``last_found_on`` moved on);
- a suppression whose finding is gone is **lifted** (``Lift``): a later recurrence raises a
  new alert and notifies as usual (docs/alerts.md, "Resolving an alert that still fires").

So there is at most one unresolved alert per (episode, code), evaluating again changes nothing
but the clock, and info findings never become alerts (docs/clinical-rules.md, "Alerts";
``rehab.alerts`` says what acknowledge, snooze and resolve mean to a clinician).

``rehab.alert_sync`` reads the live alerts and writes the changes for one episode or a whole
nightly chunk; ``apply_changes`` is the same semantics on plain values, for reasoning and tests.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from rehab import rules

# The alert statuses (``rehab.models.AlertStatus`` holds the same values).
OPEN = "open"
ACKNOWLEDGED = "acknowledged"
SNOOZED = "snoozed"
RESOLVED = "resolved"

NOTIFYING_SEVERITIES = frozenset({rules.HIGH, rules.CRITICAL})


@dataclass(frozen=True, slots=True)
class LiveAlert:
    """An unresolved alert, as much of it as the diff decides on."""

    id: int
    code: str
    status: str  # open, acknowledged or snoozed
    snoozed_until: dt.date | None
    last_found_on: dt.date


@dataclass(frozen=True, slots=True)
class Suppression:
    """A resolved alert that holds back its code: resolved by hand while its finding fired."""

    id: int
    code: str
    last_found_on: dt.date


@dataclass(frozen=True, slots=True)
class Raise:
    """A new alert, first and last found on ``found_on``."""

    code: str
    severity: str
    message: str
    evidence: dict[str, Any]
    found_on: dt.date
    notify: bool
    # The message as a template and values (``rules.phrase_to_json``), worded for each reader
    # later; None for a finding without one. Not part of equality, as in ``rules.Finding``.
    message_phrase: dict[str, Any] | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Refresh:
    """An unresolved alert found again; its status stays."""

    alert_id: int
    severity: str
    message: str
    evidence: dict[str, Any]
    last_found_on: dt.date
    # The message as a template and values (``rules.phrase_to_json``), worded for each reader
    # later; None for a finding without one. Not part of equality, as in ``rules.Finding``.
    message_phrase: dict[str, Any] | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Reopen:
    """A snoozed alert whose snooze has ended and whose condition still holds: open again."""

    alert_id: int
    severity: str
    message: str
    evidence: dict[str, Any]
    last_found_on: dt.date
    notify: bool
    # The message as a template and values (``rules.phrase_to_json``), worded for each reader
    # later; None for a finding without one. Not part of equality, as in ``rules.Finding``.
    message_phrase: dict[str, Any] | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Resolve:
    """An unresolved alert no longer found."""

    alert_id: int
    reason: str


@dataclass(frozen=True, slots=True)
class KeepSuppressed:
    """A suppressed code found again: nothing raised, nothing sent; the date it was seen moves."""

    alert_id: int
    last_found_on: dt.date


@dataclass(frozen=True, slots=True)
class Lift:
    """A suppressed code no longer found: the suppression ends; the next finding alerts again."""

    alert_id: int


AlertChange = Raise | Refresh | Reopen | Resolve | KeepSuppressed | Lift


def resolution_reason(as_of: dt.date) -> str:
    return f"Resolved automatically: no longer found when evaluated as of {as_of:%Y-%m-%d}."


def diff_alerts(
    *,
    live: Sequence[LiveAlert],
    findings: Iterable[rules.Finding],
    as_of: dt.date,
    suppressed: Sequence[Suppression] = (),
) -> list[AlertChange]:
    """The changes that make one episode's unresolved alerts agree with its findings.

    Raises, refreshes, reopens and kept suppressions come in the order of the findings (the
    order notifications are written), then the resolves in the order of ``live``, then the
    lifts in the order of ``suppressed``. ``live`` holds at most one alert per code, so do
    ``suppressed`` and the findings, and no code is both live and suppressed (the database and
    the rules guarantee all of it); anything else is refused rather than guessed at.
    """
    unresolved: dict[str, LiveAlert] = {}
    for alert in live:
        if alert.code in unresolved:
            raise ValueError(f"Two unresolved alerts of code {alert.code}.")
        if alert.status == RESOLVED:
            raise ValueError(f"Alert {alert.id} is resolved, not live.")
        unresolved[alert.code] = alert
    held: dict[str, Suppression] = {}
    for suppression in suppressed:
        if suppression.code in held:
            raise ValueError(f"Two suppressing alerts of code {suppression.code}.")
        if suppression.code in unresolved:
            raise ValueError(f"Code {suppression.code} is both live and suppressed.")
        held[suppression.code] = suppression
    changes: list[AlertChange] = []
    seen: set[str] = set()
    for finding in findings:
        if not finding.is_alert:
            continue
        if finding.code in seen:
            raise ValueError(f"Two findings of code {finding.code}.")
        seen.add(finding.code)
        notify = finding.severity in NOTIFYING_SEVERITIES
        phrase = rules.finding_phrase_json(finding)
        if finding.code in held:
            suppression = held.pop(finding.code)
            changes.append(
                KeepSuppressed(
                    alert_id=suppression.id,
                    last_found_on=max(suppression.last_found_on, as_of),
                )
            )
            continue
        if finding.code not in unresolved:
            changes.append(
                Raise(
                    code=finding.code,
                    severity=finding.severity,
                    message=finding.message,
                    message_phrase=phrase,
                    evidence=finding.evidence,
                    found_on=as_of,
                    notify=notify,
                )
            )
            continue
        alert = unresolved.pop(finding.code)
        last_found_on = max(alert.last_found_on, as_of)
        if (
            alert.status == SNOOZED
            and alert.snoozed_until is not None
            and alert.snoozed_until <= as_of
        ):
            changes.append(
                Reopen(
                    alert_id=alert.id,
                    severity=finding.severity,
                    message=finding.message,
                    message_phrase=phrase,
                    evidence=finding.evidence,
                    last_found_on=last_found_on,
                    notify=notify,
                )
            )
        else:
            changes.append(
                Refresh(
                    alert_id=alert.id,
                    severity=finding.severity,
                    message=finding.message,
                    message_phrase=phrase,
                    evidence=finding.evidence,
                    last_found_on=last_found_on,
                )
            )
    reason = resolution_reason(as_of)
    changes += [Resolve(alert_id=alert.id, reason=reason) for alert in unresolved.values()]
    changes += [Lift(alert_id=suppression.id) for suppression in held.values()]
    return changes


# --- The same semantics on plain values ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AlertRecord:
    """An alert's columns that the changes set, as a value (``apply_changes``)."""

    id: int
    code: str
    severity: str
    status: str
    message: str
    evidence: dict[str, Any]
    first_found_on: dt.date
    last_found_on: dt.date
    snoozed_until: dt.date | None = None
    resolution_reason: str = ""
    message_phrase: dict[str, Any] | None = field(default=None, compare=False)
    suppressing: bool = False

    def suppression(self) -> Suppression:
        return Suppression(id=self.id, code=self.code, last_found_on=self.last_found_on)

    def live(self) -> LiveAlert:
        return LiveAlert(
            id=self.id,
            code=self.code,
            status=self.status,
            snoozed_until=self.snoozed_until,
            last_found_on=self.last_found_on,
        )


def apply_changes(
    records: Sequence[AlertRecord], changes: Iterable[AlertChange]
) -> list[AlertRecord]:
    """One episode's alerts after ``changes``: what ``rehab.alert_sync`` writes, on values.

    New alerts take the ids after the largest one given, in order.
    """
    by_id = {record.id: record for record in records}
    next_id = max(by_id, default=0) + 1
    for change in changes:
        if isinstance(change, Raise):
            by_id[next_id] = AlertRecord(
                id=next_id,
                code=change.code,
                severity=change.severity,
                status=OPEN,
                message=change.message,
                message_phrase=change.message_phrase,
                evidence=change.evidence,
                first_found_on=change.found_on,
                last_found_on=change.found_on,
            )
            next_id += 1
        elif isinstance(change, Refresh):
            by_id[change.alert_id] = replace(
                by_id[change.alert_id],
                severity=change.severity,
                message=change.message,
                message_phrase=change.message_phrase,
                evidence=change.evidence,
                last_found_on=change.last_found_on,
            )
        elif isinstance(change, Reopen):
            by_id[change.alert_id] = replace(
                by_id[change.alert_id],
                severity=change.severity,
                message=change.message,
                message_phrase=change.message_phrase,
                evidence=change.evidence,
                last_found_on=change.last_found_on,
                status=OPEN,
                snoozed_until=None,
            )
        elif isinstance(change, KeepSuppressed):
            by_id[change.alert_id] = replace(
                by_id[change.alert_id], last_found_on=change.last_found_on
            )
        elif isinstance(change, Lift):
            by_id[change.alert_id] = replace(by_id[change.alert_id], suppressing=False)
        else:
            by_id[change.alert_id] = replace(
                by_id[change.alert_id], status=RESOLVED, resolution_reason=change.reason
            )
    return list(by_id.values())
