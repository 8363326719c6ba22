"""The alert lifecycle as the clinical spec describes it, driven by the evaluation service.

Entries, referrals, closures and clinicians' actions go through the API; the evaluation runs
through ``rehab.evaluation.evaluate_episode``, the service the nightly job and the command call.
"""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from rehab.models import Alert, AlertStatus, Channel, Delivery
from tests.alerts.conftest import NOW, SETS, day, evaluate
from tests.alerts.factories import AlertFactory
from tests.api.helpers import entry_url, url

pytestmark = pytest.mark.django_db


def _alert(course, code: str = "REFERRAL_CONSIDER") -> Alert:
    return Alert.objects.exclude(status=AlertStatus.RESOLVED).get(episode_id=course.pk, code=code)


def test_day_42_raises_one_high_alert_that_notifies_once(example_1):
    outcome = evaluate(example_1, 42)
    assert outcome.recommendation == "consider_referral"
    assert len(outcome.raised) == 1
    alert = Alert.objects.get(pk=outcome.raised[0])
    assert (alert.code, alert.severity, alert.status) == ("REFERRAL_CONSIDER", "high", "open")
    channels = sorted(Delivery.objects.filter(alert=alert).values_list("channel", flat=True))
    assert channels == sorted([Channel.EMAIL, Channel.INBOX])
    # Again on the same day and the next: updated, nothing new, nothing sent.
    for n in (42, 43):
        again = evaluate(example_1, n)
        assert (again.raised, again.updated, again.deliveries) == ([], [alert.pk], [])
    assert Alert.objects.count() == 1
    assert Delivery.objects.count() == 2
    alert.refresh_from_db()
    assert alert.last_found_on == day(43)


def test_an_acknowledged_alert_stays_unresolved_and_is_not_raised_again(cast, api, example_1):
    alert_id = evaluate(example_1, 42).raised[0]
    response = api(cast.therapist).post(
        url("api-alert-acknowledge", pk=alert_id), {"note": "Seen"}, format="json"
    )
    assert response.status_code == 200
    deliveries = Delivery.objects.count()
    for n in (43, 44, 50):
        outcome = evaluate(example_1, n)
        assert (outcome.raised, outcome.updated, outcome.reopened) == ([], [alert_id], [])
    alert = Alert.objects.get(pk=alert_id)
    assert alert.status == AlertStatus.ACKNOWLEDGED
    assert alert.note == "Seen"
    assert Alert.objects.filter(episode_id=example_1.pk).count() == 1
    assert Delivery.objects.count() == deliveries


def test_a_snoozed_alert_comes_back_when_the_snooze_ends_if_still_found(
    cast, api, example_1, clock
):
    alert_id = evaluate(example_1, 42).raised[0]
    # The therapist snoozes it on day 42 until day 45.
    clock.move_to(NOW.replace(month=2, day=15))
    response = api(cast.therapist).post(
        url("api-alert-snooze", pk=alert_id), {"until": day(45).isoformat()}, format="json"
    )
    assert response.status_code == 200, response.content
    deliveries = Delivery.objects.count()

    outcome = evaluate(example_1, 44)
    assert outcome.reopened == [] and outcome.updated == [alert_id]
    assert Alert.objects.get(pk=alert_id).status == AlertStatus.SNOOZED

    outcome = evaluate(example_1, 45)
    assert outcome.reopened == [alert_id] and outcome.raised == []
    alert = Alert.objects.get(pk=alert_id)
    assert (alert.status, alert.snoozed_until) == (AlertStatus.OPEN, None)
    # Reopening a high alert notifies again.
    assert Delivery.objects.count() > deliveries
    assert set(
        Delivery.objects.filter(alert=alert, event_type="alert.reopened").values_list(
            "channel", flat=True
        )
    ) == {Channel.EMAIL, Channel.INBOX}


def test_a_snoozed_alert_whose_condition_went_away_is_resolved(cast, api, example_1, clock):
    alert_id = evaluate(example_1, 42).raised[0]
    clock.move_to(NOW.replace(month=2, day=15))
    api(cast.therapist).post(
        url("api-alert-snooze", pk=alert_id), {"until": day(45).isoformat()}, format="json"
    )
    # As of day 41 the trial has not reached the review day: no referral finding.
    evaluate(example_1, 41)
    assert Alert.objects.get(pk=alert_id).status == AlertStatus.RESOLVED


def test_an_alert_resolves_itself_with_the_reason_when_the_condition_goes_away(
    cast, api, example_1
):
    alert_id = evaluate(example_1, 42).raised[0]
    # Days 43-49 the pain falls to 3: an important improvement by day 49.
    patient = api(cast.patient_a.user)
    for n in range(43, 50):
        response = patient.put(
            entry_url(example_1.pk, day(n)),
            {
                "pain_activity": 3,
                "exercises": [{"prescription": example_1.prescription_id, "sets_completed": SETS}],
            },
            format="json",
        )
        assert response.status_code == 200
    outcome = evaluate(example_1, 49)
    assert outcome.resolved == [alert_id]
    assert outcome.recommendation == "continue"
    alert = Alert.objects.get(pk=alert_id)
    assert alert.status == AlertStatus.RESOLVED
    assert alert.resolved_at is not None
    assert alert.resolution_reason == (
        "Resolved automatically: no longer found when evaluated as of 2026-02-22."
    )


def test_day_56_replaces_consider_with_overdue(example_1):
    consider = evaluate(example_1, 42).raised[0]
    outcome = evaluate(example_1, 56)
    assert outcome.recommendation == "refer_now"
    assert outcome.resolved == [consider]
    overdue = Alert.objects.get(pk=outcome.raised[0])
    assert (overdue.code, overdue.severity) == ("REFERRAL_OVERDUE", "critical")
    assert Delivery.objects.filter(alert=overdue).exists()


def test_recording_a_referral_resolves_the_referral_alerts(cast, api, example_1):
    alert_id = evaluate(example_1, 56).raised[0]
    response = api(cast.therapist).post(
        url("api-episode-referral", pk=example_1.pk),
        {"date": "2026-03-01", "referred_to": "Foot and ankle surgery"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["status"] == "referred"
    alert = Alert.objects.get(pk=alert_id)
    assert alert.status == AlertStatus.RESOLVED
    assert "referral" in alert.resolution_reason.lower()
    # A referred episode is out of the trial: the evaluation leaves it alone.
    outcome = evaluate(example_1, 57)
    assert not outcome.evaluated
    assert not Alert.objects.exclude(status=AlertStatus.RESOLVED).exists()


def test_closing_an_episode_resolves_its_alerts_and_stops_evaluation(cast, api, course_builder):
    # A logging gap from day 7 on (a warning) and, with no week 1, a missing baseline.
    course = course_builder({1: 5, 2: 5})
    outcome = evaluate(course, 14)
    codes = set(Alert.objects.filter(pk__in=outcome.raised).values_list("code", flat=True))
    assert codes == {"LOGGING_GAP", "BASELINE_MISSING"}
    response = api(cast.therapist).post(
        url("api-episode-close", pk=course.pk),
        {"date": "2026-01-20", "outcome": "discontinued"},
        format="json",
    )
    assert response.status_code == 200
    assert not Alert.objects.filter(episode_id=course.pk).exclude(status="resolved").exists()
    for n in (15, 30):
        assert not evaluate(course, n).evaluated
    assert not Alert.objects.filter(episode_id=course.pk).exclude(status="resolved").exists()


def test_the_database_allows_one_unresolved_alert_per_episode_and_code(cast):
    AlertFactory(episode=cast.episode_a, code="LOGGING_GAP", status=AlertStatus.ACKNOWLEDGED)
    with pytest.raises(IntegrityError), transaction.atomic():
        AlertFactory(episode=cast.episode_a, code="LOGGING_GAP", status=AlertStatus.OPEN)
    with pytest.raises(IntegrityError), transaction.atomic():
        AlertFactory(episode=cast.episode_a, code="LOGGING_GAP", status=AlertStatus.SNOOZED)
    # Resolved ones are history: any number may sit beside the live one.
    AlertFactory(episode=cast.episode_a, code="LOGGING_GAP", status=AlertStatus.RESOLVED)
    AlertFactory(episode=cast.episode_a, code="LOGGING_GAP", status=AlertStatus.RESOLVED)
    # Another code, or another episode, is another alert.
    AlertFactory(episode=cast.episode_a, code="BASELINE_MISSING")
    AlertFactory(episode=cast.episode_b, code="LOGGING_GAP")
    assert Alert.objects.filter(episode=cast.episode_a, code="LOGGING_GAP").count() == 3


def test_resolved_by_hand_then_found_again_is_a_new_alert(cast, api, example_1):
    first = evaluate(example_1, 42).raised[0]
    api(cast.therapist).post(url("api-alert-resolve", pk=first), {}, format="json")
    outcome = evaluate(example_1, 43)
    assert len(outcome.raised) == 1 and outcome.raised[0] != first
    assert _alert(example_1).pk == outcome.raised[0]
