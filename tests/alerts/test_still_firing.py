"""Resolving an alert whose finding still fires (docs/alerts.md): allowed, said so, and it holds
back new alerts and notifications of its (episode, code) until an evaluation no longer finds it.

The pure diff first (``rehab.alert_diff``), then the whole path: the API's resolve, the
evaluation service, the caseload's triage and the episode page.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from django.core import mail
from hypothesis import given, settings
from hypothesis import strategies as st

from rehab import rules
from rehab.alert_diff import (
    RESOLVED,
    AlertRecord,
    KeepSuppressed,
    Lift,
    Raise,
    Suppression,
    apply_changes,
    diff_alerts,
)
from rehab.models import Alert, AlertStatus, Delivery
from tests.alerts.conftest import evaluate
from tests.alerts.factories import AlertFactory
from tests.api.helpers import entry_url, url
from tests.personas import signed_in_client

AS_OF = dt.date(2026, 3, 2)


def _finding(code: str) -> rules.Finding:
    return rules.Finding(
        code=code, severity=rules.FINDING_SEVERITY[code], message=f"{code}", evidence={}
    )


# --- The pure diff -----------------------------------------------------------------------------


def test_a_suppressed_code_found_again_raises_nothing_and_notifies_nobody():
    held = Suppression(id=4, code="PAIN_WORSENING", last_found_on=AS_OF - dt.timedelta(days=1))
    changes = diff_alerts(
        live=[], suppressed=[held], findings=[_finding("PAIN_WORSENING")], as_of=AS_OF
    )
    assert changes == [KeepSuppressed(alert_id=4, last_found_on=AS_OF)]


def test_a_suppression_whose_finding_is_gone_is_lifted_and_a_recurrence_alerts_again():
    held = Suppression(id=4, code="PAIN_WORSENING", last_found_on=AS_OF)
    assert diff_alerts(live=[], suppressed=[held], findings=[], as_of=AS_OF) == [Lift(alert_id=4)]
    # Lifted, the next finding is a new alert that notifies (high).
    (change,) = diff_alerts(live=[], findings=[_finding("PAIN_WORSENING")], as_of=AS_OF)
    assert isinstance(change, Raise) and change.notify


def test_a_suppression_holds_back_its_own_code_only():
    held = Suppression(id=4, code="PAIN_WORSENING", last_found_on=AS_OF)
    changes = diff_alerts(
        live=[],
        suppressed=[held],
        findings=[_finding("PAIN_WORSENING"), _finding("REFERRAL_OVERDUE")],
        as_of=AS_OF,
    )
    assert changes[0] == KeepSuppressed(alert_id=4, last_found_on=AS_OF)
    assert isinstance(changes[1], Raise) and changes[1].code == "REFERRAL_OVERDUE"


def test_a_code_both_live_and_suppressed_is_refused():
    held = Suppression(id=4, code="PAIN_WORSENING", last_found_on=AS_OF)
    record = AlertRecord(
        id=5,
        code="PAIN_WORSENING",
        severity=rules.HIGH,
        status="open",
        message="",
        evidence={},
        first_found_on=AS_OF,
        last_found_on=AS_OF,
    )
    with pytest.raises(ValueError, match="both live and suppressed"):
        diff_alerts(live=[record.live()], suppressed=[held], findings=[], as_of=AS_OF)


def test_apply_changes_keeps_the_resolved_record_and_clears_its_flag_when_lifted():
    record = AlertRecord(
        id=4,
        code="PAIN_WORSENING",
        severity=rules.HIGH,
        status=RESOLVED,
        message="",
        evidence={},
        first_found_on=AS_OF - dt.timedelta(days=5),
        last_found_on=AS_OF - dt.timedelta(days=1),
        suppressing=True,
    )
    found = diff_alerts(
        live=[],
        suppressed=[record.suppression()],
        findings=[_finding("PAIN_WORSENING")],
        as_of=AS_OF,
    )
    (kept,) = apply_changes([record], found)
    assert (kept.status, kept.suppressing, kept.last_found_on) == (RESOLVED, True, AS_OF)
    gone = diff_alerts(live=[], suppressed=[kept.suppression()], findings=[], as_of=AS_OF)
    (lifted,) = apply_changes([kept], gone)
    assert (lifted.status, lifted.suppressing) == (RESOLVED, False)


# --- The whole path ----------------------------------------------------------------------------

pytestmark_db = pytest.mark.django_db


@pytestmark_db
def test_resolving_a_still_firing_alert_says_so_and_sends_nothing_new(cast, api, example_1):
    # Day 57 is the patient's today: REFERRAL_OVERDUE (critical) fires.
    (alert_id,) = [
        pk
        for pk in evaluate(example_1, 57).raised
        if Alert.objects.get(pk=pk).code == "REFERRAL_OVERDUE"
    ]
    deliveries = Delivery.objects.count()
    mail.outbox.clear()

    response = api(cast.therapist).post(
        url("api-alert-resolve", pk=alert_id), {"note": "Discussed"}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "resolved"
    assert body["still_firing"] is True and body["suppressed_until_clear"] is True
    assert body["suppressing"] is True
    assert body["resolved_by"] == cast.therapist.pk
    assert body["resolved_by_name"] == cast.therapist.get_full_name()

    # The next evaluation, and a new entry (which evaluates on commit), raise nothing.
    outcome = evaluate(example_1, 57)
    assert (outcome.raised, outcome.suppressed, outcome.deliveries) == ([], [alert_id], [])
    response = api(cast.patient_a.user).put(
        entry_url(example_1.pk, dt.date(2026, 3, 2)),
        {"pain_activity": 7, "exercises": []},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert not Alert.objects.filter(episode_id=example_1.pk, code="REFERRAL_OVERDUE").exclude(
        status=AlertStatus.RESOLVED
    )
    assert Delivery.objects.count() == deliveries
    assert mail.outbox == []

    # The caseload keeps the patient at the finding's urgency (critical), not lower.
    response = signed_in_client(cast.therapist).get("/")
    (row,) = [r for r in response.context["rows"] if r.episode_id == example_1.pk]
    assert row.worst_severity == rules.CRITICAL
    assert "found today; no unresolved alert" in row.top_alert

    # The episode page shows the resolved alert, who resolved it, and that it still fires.
    page = signed_in_client(cast.therapist).get(f"/episodes/{example_1.pk}/").content.decode()
    assert "The finding still fires." in page
    assert f"Resolved by {cast.therapist.get_full_name()}" in page


@pytestmark_db
def test_the_suppression_lifts_when_the_finding_clears_and_a_recurrence_alerts(
    cast, api, example_1
):
    (overdue,) = Alert.objects.filter(
        pk__in=evaluate(example_1, 57).raised, code="REFERRAL_OVERDUE"
    ).values_list("pk", flat=True)
    api(cast.therapist).post(url("api-alert-resolve", pk=overdue), {}, format="json")
    # As of day 50 the overdue finding is gone (it is day 42–55's "consider" instead).
    assert evaluate(example_1, 50).lifted == [overdue]
    assert Alert.objects.get(pk=overdue).suppressing is False
    # Found again: a new alert, notified again.
    before = Delivery.objects.count()
    again = evaluate(example_1, 57)
    (new,) = Alert.objects.filter(pk__in=again.raised, code="REFERRAL_OVERDUE")
    assert new.pk != overdue and new.status == AlertStatus.OPEN
    assert Delivery.objects.count() > before


@pytestmark_db
def test_resolving_an_alert_whose_finding_is_gone_holds_nothing_back(cast, api, example_1):
    # REFERRAL_CONSIDER was found on day 42; on the patient's today (day 57) it no longer is.
    consider = evaluate(example_1, 42).raised[0]
    response = api(cast.therapist).post(url("api-alert-resolve", pk=consider), {}, format="json")
    assert response.json()["still_firing"] is False
    assert Alert.objects.get(pk=consider).suppressing is False


@pytestmark_db
def test_acknowledged_alerts_say_who_and_when(cast, api, example_1):
    alert_id = evaluate(example_1, 42).raised[0]
    api(cast.therapist).post(url("api-alert-acknowledge", pk=alert_id), {}, format="json")
    body = api(cast.admin).get(url("api-alert-detail", pk=alert_id)).json()
    assert body["acknowledged_by"] == cast.therapist.pk
    assert body["acknowledged_by_name"] == cast.therapist.get_full_name()
    assert body["acknowledged_at"]
    for page in ("/alerts/", f"/episodes/{example_1.pk}/"):
        html = signed_in_client(cast.admin).get(page).content.decode()
        assert f"Acknowledged by {cast.therapist.get_full_name()} on" in html, page


@pytestmark_db
def test_counts_name_each_status(cast, api, example_1):
    (overdue,) = evaluate(example_1, 57).raised
    AlertFactory(episode=example_1.episode, code="LOGGING_GAP", severity=rules.WARNING)
    AlertFactory(
        episode=example_1.episode, code="ADHERENCE_LOW", severity=rules.WARNING, status="snoozed"
    )
    api(cast.therapist).post(url("api-alert-acknowledge", pk=overdue), {}, format="json")
    response = signed_in_client(cast.therapist).get("/")
    (row,) = [r for r in response.context["rows"] if r.episode_id == example_1.pk]
    assert row.alert_status_words == "1 open · 1 acknowledged · 1 snoozed"
    html = response.content.decode()
    assert "1 open · 1 acknowledged · 1 snoozed" in html
    # The navigation counts open ones only.
    assert '<span class="count">1<span class="visually-hidden"> open' in html
    page = signed_in_client(cast.therapist).get(f"/episodes/{example_1.pk}/").content.decode()
    assert "1 open · 1 acknowledged · 1 snoozed" in page


# --- Properties of suppression -----------------------------------------------------------------

_CODES = sorted(
    code for code, sev in rules.FINDING_SEVERITY.items() if sev in rules.ALERT_SEVERITIES
)
_DAYS = st.dates(min_value=AS_OF - dt.timedelta(days=5), max_value=AS_OF + dt.timedelta(days=5))


@st.composite
def _alerts_with_suppressions(draw: st.DrawFn) -> list[AlertRecord]:
    """Unresolved alerts for some codes, suppressing resolved ones for some of the others."""
    codes = draw(st.lists(st.sampled_from(_CODES), unique=True))
    records = []
    for n, code in enumerate(codes, start=1):
        day = draw(_DAYS)
        records.append(
            AlertRecord(
                id=n,
                code=code,
                severity=rules.FINDING_SEVERITY[code],
                status=draw(st.sampled_from(["open", "acknowledged", RESOLVED])),
                message="",
                evidence={},
                first_found_on=day,
                last_found_on=day,
            )
        )
    return [replace(r, suppressing=True) if r.status == RESOLVED else r for r in records]


def _diff(records: list[AlertRecord], codes: list[str], as_of: dt.date):
    changes = diff_alerts(
        live=[r.live() for r in records if r.status != RESOLVED],
        suppressed=[r.suppression() for r in records if r.suppressing],
        findings=[_finding(code) for code in codes],
        as_of=as_of,
    )
    return changes, apply_changes(records, changes)


@settings(max_examples=200, deadline=None)
@given(_alerts_with_suppressions(), st.lists(st.sampled_from(_CODES), unique=True), _DAYS)
def test_a_suppressed_code_never_raises_and_a_lifted_one_is_gone_from_the_findings(
    records, codes, as_of
):
    changes, after = _diff(records, codes, as_of)
    held = {r.code for r in records if r.suppressing}
    raised = {c.code for c in changes if isinstance(c, Raise)}
    assert not raised & held  # nothing new, nothing notified, for a held-back code
    for record in after:
        if record.suppressing:
            assert record.code in codes  # still found: still held back
    assert {r.code for r in after if r.status == RESOLVED and not r.suppressing} >= (
        held - set(codes)
    )
    # Evaluating again with the same findings changes nothing but the clock.
    again, twice = _diff(after, codes, as_of)
    assert all(not isinstance(c, Raise | Lift) for c in again)
    assert twice == after
