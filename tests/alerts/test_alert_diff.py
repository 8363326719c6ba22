"""The alert lifecycle as a pure function: live alerts + findings -> changes (``rehab.alert_diff``).

One plain test per rule of the lifecycle (docs/clinical-rules.md, "Alerts"; ``rehab.alerts``),
then properties over generated alerts and findings (hypothesis). No database: the diff is plain
data in, plain data out, and ``apply_changes`` is what the writer does with it.
"""

from __future__ import annotations

import ast
import datetime as dt
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rehab import alert_diff, rules
from rehab.alert_diff import (
    ACKNOWLEDGED,
    OPEN,
    RESOLVED,
    SNOOZED,
    AlertRecord,
    LiveAlert,
    Raise,
    Refresh,
    Reopen,
    Resolve,
    apply_changes,
    diff_alerts,
    resolution_reason,
)
from rehab.models import AlertStatus

AS_OF = dt.date(2026, 3, 2)
YESTERDAY = AS_OF - dt.timedelta(days=1)
ALERT_CODES = sorted(code for code, sev in rules.FINDING_SEVERITY.items() if sev != rules.INFO)
INFO_CODES = sorted(code for code, sev in rules.FINDING_SEVERITY.items() if sev == rules.INFO)
SEVERITIES = [rules.INFO, rules.WARNING, rules.HIGH, rules.CRITICAL]


def finding(code: str, severity: str | None = None, **evidence: Any) -> rules.Finding:
    return rules.Finding(
        code=code,
        severity=severity or rules.FINDING_SEVERITY[code],
        message=f"{code} as found",
        evidence=evidence,
    )


def record(
    id: int,
    code: str,
    status: str = OPEN,
    *,
    snoozed_until: dt.date | None = None,
    last_found_on: dt.date = YESTERDAY,
    severity: str | None = None,
) -> AlertRecord:
    return AlertRecord(
        id=id,
        code=code,
        severity=severity or rules.FINDING_SEVERITY[code],
        status=status,
        message=f"{code} as found before",
        evidence={"before": True},
        first_found_on=dt.date(2026, 2, 1),
        last_found_on=last_found_on,
        snoozed_until=snoozed_until,
    )


def live(*records: AlertRecord) -> list[LiveAlert]:
    return [r.live() for r in records if r.status != RESOLVED]


# --- One test per rule ---------------------------------------------------------------------------


def test_the_statuses_are_the_models():
    assert {OPEN, ACKNOWLEDGED, SNOOZED, RESOLVED} == set(AlertStatus.values)


def test_a_new_warning_raises_an_alert_that_notifies_nobody():
    changes = diff_alerts(live=[], findings=[finding("LOGGING_GAP", logs=2)], as_of=AS_OF)
    assert changes == [
        Raise(
            code="LOGGING_GAP",
            severity=rules.WARNING,
            message="LOGGING_GAP as found",
            evidence={"logs": 2},
            found_on=AS_OF,
            notify=False,
        )
    ]


@pytest.mark.parametrize("code", ["PAIN_WORSENING", "REFERRAL_OVERDUE"])
def test_a_new_high_or_critical_finding_raises_an_alert_that_notifies(code):
    (change,) = diff_alerts(live=[], findings=[finding(code)], as_of=AS_OF)
    assert isinstance(change, Raise) and change.notify
    assert change.severity in {rules.HIGH, rules.CRITICAL}


def test_info_findings_never_become_alerts():
    findings = [finding(code) for code in INFO_CODES]
    assert diff_alerts(live=[], findings=findings, as_of=AS_OF) == []


def test_found_again_the_open_alert_is_refreshed_and_nothing_is_sent():
    alert = record(7, "PAIN_WORSENING")
    changes = diff_alerts(live=live(alert), findings=[finding("PAIN_WORSENING", d=3)], as_of=AS_OF)
    assert changes == [
        Refresh(
            alert_id=7,
            severity=rules.HIGH,
            message="PAIN_WORSENING as found",
            evidence={"d": 3},
            last_found_on=AS_OF,
        )
    ]
    (after,) = apply_changes([alert], changes)
    assert (after.status, after.first_found_on, after.last_found_on) == (
        OPEN,
        alert.first_found_on,
        AS_OF,
    )


def test_evaluating_an_earlier_day_never_moves_last_found_on_back():
    alert = record(7, "LOGGING_GAP", last_found_on=AS_OF)
    (change,) = diff_alerts(live=live(alert), findings=[finding("LOGGING_GAP")], as_of=YESTERDAY)
    assert isinstance(change, Refresh) and change.last_found_on == AS_OF


def test_an_acknowledged_alert_stays_acknowledged_while_its_condition_lasts():
    alert = record(7, "ADHERENCE_LOW", ACKNOWLEDGED)
    changes = diff_alerts(live=live(alert), findings=[finding("ADHERENCE_LOW")], as_of=AS_OF)
    assert [type(c) for c in changes] == [Refresh]
    assert apply_changes([alert], changes)[0].status == ACKNOWLEDGED


def test_an_alert_snoozed_until_a_later_day_stays_snoozed():
    until = AS_OF + dt.timedelta(days=1)
    alert = record(7, "PAIN_WORSENING", SNOOZED, snoozed_until=until)
    changes = diff_alerts(live=live(alert), findings=[finding("PAIN_WORSENING")], as_of=AS_OF)
    assert [type(c) for c in changes] == [Refresh]
    (after,) = apply_changes([alert], changes)
    assert (after.status, after.snoozed_until) == (SNOOZED, until)


@pytest.mark.parametrize("days_before", [0, 3])
def test_a_snooze_that_has_ended_reopens_the_alert_and_notifies_again(days_before):
    alert = record(
        7, "PAIN_WORSENING", SNOOZED, snoozed_until=AS_OF - dt.timedelta(days=days_before)
    )
    changes = diff_alerts(live=live(alert), findings=[finding("PAIN_WORSENING")], as_of=AS_OF)
    assert changes == [
        Reopen(
            alert_id=7,
            severity=rules.HIGH,
            message="PAIN_WORSENING as found",
            evidence={},
            last_found_on=AS_OF,
            notify=True,
        )
    ]
    (after,) = apply_changes([alert], changes)
    assert (after.status, after.snoozed_until) == (OPEN, None)


def test_a_reopened_warning_notifies_nobody():
    alert = record(7, "LOGGING_GAP", SNOOZED, snoozed_until=AS_OF)
    (change,) = diff_alerts(live=live(alert), findings=[finding("LOGGING_GAP")], as_of=AS_OF)
    assert isinstance(change, Reopen) and not change.notify


@pytest.mark.parametrize(
    "status, snoozed_until",
    [(OPEN, None), (ACKNOWLEDGED, None), (SNOOZED, AS_OF + dt.timedelta(days=5))],
)
def test_an_alert_no_longer_found_is_resolved_automatically_with_the_reason(status, snoozed_until):
    alert = record(7, "ROM_DECLINE", status, snoozed_until=snoozed_until)
    changes = diff_alerts(live=live(alert), findings=[finding("ROM_DEFICIT")], as_of=AS_OF)
    assert changes == [Resolve(alert_id=7, reason=resolution_reason(AS_OF))]
    (after,) = apply_changes([alert], changes)
    assert after.status == RESOLVED
    assert after.resolution_reason == (
        "Resolved automatically: no longer found when evaluated as of 2026-03-02."
    )


def test_a_hand_resolved_alert_whose_condition_remains_is_raised_anew():
    # Only unresolved alerts are live: "resolve" is for conditions that are gone.
    gone = record(7, "PAIN_WORSENING", RESOLVED)
    changes = diff_alerts(live=live(gone), findings=[finding("PAIN_WORSENING")], as_of=AS_OF)
    assert [type(c) for c in changes] == [Raise]
    after = apply_changes([gone], changes)
    assert [(a.id, a.status) for a in after] == [(7, RESOLVED), (8, OPEN)]


def test_a_change_of_severity_is_written_on_the_alert_without_a_new_notification():
    alert = record(7, "LOGGING_GAP", severity=rules.WARNING)
    found = finding("LOGGING_GAP", rules.HIGH)
    (change,) = diff_alerts(live=live(alert), findings=[found], as_of=AS_OF)
    assert isinstance(change, Refresh) and change.severity == rules.HIGH
    assert apply_changes([alert], [change])[0].severity == rules.HIGH


def test_changes_follow_the_findings_then_the_resolves():
    old = record(1, "ROM_DECLINE")
    snoozed = record(2, "PAIN_WORSENING", SNOOZED, snoozed_until=YESTERDAY)
    changes = diff_alerts(
        live=live(old, snoozed),
        findings=[finding("LOGGING_GAP"), finding("PAIN_WORSENING"), finding("BMI_ELEVATED")],
        as_of=AS_OF,
    )
    assert [type(c) for c in changes] == [Raise, Reopen, Resolve]


def test_two_live_alerts_of_one_code_are_refused():
    with pytest.raises(ValueError, match="Two unresolved alerts"):
        diff_alerts(
            live=live(record(1, "LOGGING_GAP"), record(2, "LOGGING_GAP")), findings=[], as_of=AS_OF
        )


def test_two_findings_of_one_code_are_refused():
    with pytest.raises(ValueError, match="Two findings"):
        diff_alerts(live=[], findings=[finding("LOGGING_GAP"), finding("LOGGING_GAP")], as_of=AS_OF)


# --- Properties ----------------------------------------------------------------------------------

PROPERTY = settings(max_examples=200, deadline=None)
# A short window, so that snoozes end on, before and after the day evaluated.
DAYS = st.dates(min_value=dt.date(2026, 3, 1), max_value=dt.date(2026, 3, 12))
EVIDENCE = st.dictionaries(st.sampled_from("abc"), st.integers(-3, 3), max_size=2)


@st.composite
def episode_alerts(draw: st.DrawFn) -> list[AlertRecord]:
    """An episode's alerts: at most one unresolved per code, any number resolved before."""
    records: list[AlertRecord] = []
    for code in draw(st.lists(st.sampled_from(ALERT_CODES), unique=True)):
        status = draw(st.sampled_from([OPEN, ACKNOWLEDGED, SNOOZED]))
        first = draw(DAYS)
        records.append(
            AlertRecord(
                id=0,
                code=code,
                severity=draw(st.sampled_from(SEVERITIES[1:])),
                status=status,
                message=draw(st.text(max_size=5)),
                evidence=draw(EVIDENCE),
                first_found_on=first,
                last_found_on=draw(st.dates(min_value=first, max_value=dt.date(2026, 3, 12))),
                snoozed_until=draw(DAYS) if status == SNOOZED else None,
            )
        )
    for code in draw(st.lists(st.sampled_from(ALERT_CODES), max_size=3)):
        first = draw(DAYS)
        records.append(
            AlertRecord(
                id=0,
                code=code,
                severity=rules.FINDING_SEVERITY[code],
                status=RESOLVED,
                message="resolved before",
                evidence={},
                first_found_on=first,
                last_found_on=first,
                resolution_reason="Resolved by hand.",
            )
        )
    order = draw(st.permutations(range(len(records))))
    return [
        AlertRecord(**{**_fields(records[n]), "id": position + 1})
        for position, n in enumerate(order)
    ]


def _fields(r: AlertRecord) -> dict[str, Any]:
    return {name: getattr(r, name) for name in AlertRecord.__dataclass_fields__}


@st.composite
def findings_of_a_day(draw: st.DrawFn) -> list[rules.Finding]:
    """Findings as the rules give them: one per code, any severity (info never alerts)."""
    codes = draw(st.lists(st.sampled_from(sorted(rules.FINDING_SEVERITY)), unique=True))
    return [
        rules.Finding(
            code=code,
            severity=draw(st.sampled_from(SEVERITIES)),
            message=draw(st.text(max_size=5)),
            evidence=draw(EVIDENCE),
        )
        for code in codes
    ]


def evaluate(records: list[AlertRecord], findings: list[rules.Finding], as_of: dt.date):
    changes = diff_alerts(live=live(*records), findings=findings, as_of=as_of)
    return changes, apply_changes(records, changes)


def unresolved(records: list[AlertRecord]) -> dict[str, AlertRecord]:
    found: dict[str, AlertRecord] = {}
    for r in records:
        if r.status != RESOLVED:
            assert r.code not in found, f"two unresolved {r.code}"
            found[r.code] = r
    return found


@PROPERTY
@given(episode_alerts(), findings_of_a_day(), DAYS)
def test_diffing_again_after_applying_changes_nothing(records, findings, as_of):
    _, once = evaluate(records, findings, as_of)
    again, twice = evaluate(once, findings, as_of)
    assert all(isinstance(change, Refresh) for change in again)  # found again, nothing else
    assert twice == once


@PROPERTY
@given(episode_alerts(), findings_of_a_day(), DAYS)
def test_every_alert_finding_has_exactly_one_live_alert_that_shows_it(records, findings, as_of):
    _, after = evaluate(records, findings, as_of)
    live_by_code = unresolved(after)  # never two unresolved of a code
    alerting = {f.code: f for f in findings if f.is_alert}
    assert set(live_by_code) == set(alerting)
    for code, f in alerting.items():
        alert = live_by_code[code]
        shown = (alert.severity, alert.message, alert.evidence)
        assert shown == (f.severity, f.message, f.evidence)
        assert alert.last_found_on >= as_of


@PROPERTY
@given(episode_alerts(), findings_of_a_day(), DAYS)
def test_alerts_whose_finding_vanished_are_resolved_and_history_is_untouched(
    records, findings, as_of
):
    _, after = evaluate(records, findings, as_of)
    by_id = {r.id: r for r in after}
    alerting = {f.code for f in findings if f.is_alert}
    for before in records:
        now = by_id[before.id]
        assert now.first_found_on == before.first_found_on
        if before.status == RESOLVED:
            assert now == before
        elif before.code not in alerting:
            assert now == AlertRecord(
                **{
                    **_fields(before),
                    "status": RESOLVED,
                    "resolution_reason": resolution_reason(as_of),
                }
            )
    for new in after[len(records) :]:
        assert (new.status, new.first_found_on, new.last_found_on) == (OPEN, as_of, as_of)


@PROPERTY
@given(episode_alerts(), findings_of_a_day(), DAYS)
def test_acknowledged_and_snoozed_states_last_until_the_snooze_ends(records, findings, as_of):
    _, after = evaluate(records, findings, as_of)
    by_id = {r.id: r for r in after}
    alerting = {f.code for f in findings if f.is_alert}
    for before in records:
        if before.status == RESOLVED or before.code not in alerting:
            continue
        now = by_id[before.id]
        snooze_over = before.snoozed_until is not None and before.snoozed_until <= as_of
        if before.status == SNOOZED and snooze_over:
            assert (now.status, now.snoozed_until) == (OPEN, None)
        else:
            assert (now.status, now.snoozed_until) == (before.status, before.snoozed_until)


@PROPERTY
@given(episode_alerts(), findings_of_a_day(), DAYS)
def test_only_raised_and_reopened_high_or_critical_alerts_notify(records, findings, as_of):
    changes, _ = evaluate(records, findings, as_of)
    severity = {f.code: f.severity for f in findings}
    code_of = {r.id: r.code for r in records}
    for change in changes:
        if isinstance(change, Raise):
            assert change.notify == (severity[change.code] in {rules.HIGH, rules.CRITICAL})
        elif isinstance(change, Reopen):
            assert change.notify == (
                severity[code_of[change.alert_id]] in {rules.HIGH, rules.CRITICAL}
            )


@PROPERTY
@given(episode_alerts(), st.lists(st.tuples(findings_of_a_day(), DAYS), max_size=6))
def test_over_many_evaluations_an_episode_never_holds_two_unresolved_alerts_of_a_code(
    records, nights
):
    for findings, as_of in nights:
        _, records = evaluate(records, findings, as_of)
        unresolved(records)
        assert len({r.id for r in records}) == len(records)


def test_the_diff_imports_nothing_from_django():
    tree = ast.parse(Path(alert_diff.__file__).read_text())
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "rehab":
            imported |= {f"rehab.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module or "")
        elif isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
    plain = {"__future__", "datetime", "collections.abc", "dataclasses", "typing", "rehab.rules"}
    assert imported and imported <= plain  # the rules (rehab.rules) and the standard library


# --- The message's phrase ------------------------------------------------------------------------


def test_raise_refresh_and_reopen_carry_the_finding_s_phrase_and_apply_changes_keeps_it():
    template = rules.ngettext_lazy("Only %(n)s entry.", "Only %(n)s entries.", 2)
    found = rules.Finding(
        code="LOGGING_GAP",
        severity=rules.WARNING,
        message="Only 2 entries.",
        evidence={"logs": 2},
        message_template=template,
        message_params={"n": 2},
    )
    phrase = rules.phrase_to_json(template, {"n": 2})
    raised = diff_alerts(live=[], findings=[found], as_of=AS_OF)
    assert isinstance(raised[0], Raise)
    assert raised[0].message_phrase == phrase
    # Not part of equality: a change is the same change whatever its phrase.
    assert raised == [replace(raised[0], message_phrase=None)]

    old = record(1, "LOGGING_GAP")
    refreshed = diff_alerts(live=live(old), findings=[found], as_of=AS_OF)
    assert isinstance(refreshed[0], Refresh)
    assert refreshed[0].message_phrase == phrase
    [after] = apply_changes([old], refreshed)
    assert after.message_phrase == phrase

    snoozed = record(1, "LOGGING_GAP", SNOOZED, snoozed_until=AS_OF)
    reopened = diff_alerts(live=live(snoozed), findings=[found], as_of=AS_OF)
    assert isinstance(reopened[0], Reopen)
    assert reopened[0].message_phrase == phrase


def test_a_finding_without_a_template_carries_no_phrase():
    [change] = diff_alerts(live=[], findings=[finding("LOGGING_GAP")], as_of=AS_OF)
    assert isinstance(change, Raise)
    assert change.message_phrase is None
