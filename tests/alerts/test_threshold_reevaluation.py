"""Saving thresholds re-evaluates the clinic's active episodes at once, with progress; values are
bounded (400 naming the field's label) and warned outside the published range (issue 14, 3)."""

from __future__ import annotations

import pytest

from rehab import rules
from rehab.models import Alert, AlertStatus, ClinicRuleSettings, ReevaluationRun
from rehab.reevaluation import reevaluation_relay, reevaluation_run
from tests.alerts.conftest import evaluate
from tests.api.helpers import errors, url
from tests.factories import ClinicAdminFactory
from tests.personas import signed_in_client

pytestmark = pytest.mark.django_db


def put(client, body):
    return client.put(url("api-clinic-thresholds"), body, format="json")


def live(episode_id: int) -> dict[str, str]:
    return dict(
        Alert.objects.filter(episode_id=episode_id)
        .exclude(status=AlertStatus.RESOLVED)
        .values_list("code", "severity")
    )


def test_saving_re_evaluates_the_clinics_active_episodes_at_once(
    cast, api, example_1, django_capture_on_commit_callbacks
):
    # Day 57: overdue with the defaults, and the alert says so.
    evaluate(example_1, 57)
    assert live(example_1.pk) == {rules.REFERRAL_OVERDUE: "critical"}

    with django_capture_on_commit_callbacks(execute=True):
        response = put(api(cast.admin), {"overdue_day": 60})
    assert response.status_code == 200
    body = response.json()
    run = ReevaluationRun.objects.get()
    assert body["reevaluation"]["id"] == run.pk
    # The clinic's three active episodes (patient A's two and patient B's), none of Northside's.
    assert run.total == 3
    run.refresh_from_db()
    assert (run.status, run.done) == ("done", 3)
    # Not tonight: the alerts agree with the new thresholds now.
    assert live(example_1.pk) == {rules.REFERRAL_CONSIDER: "high"}

    progress = api(cast.admin).get(url("api-clinic-reevaluation", pk=run.pk)).json()
    assert progress == {**progress, "status": "done", "total": 3, "done": 3}


def test_saving_the_same_values_again_queues_nothing(cast, api):
    put(api(cast.admin), {"review_day": 45})
    assert put(api(cast.admin), {"review_day": 45}).json()["reevaluation"] is None
    assert ReevaluationRun.objects.count() == 1


def test_a_run_is_idempotent_and_counts_each_episode_once(cast, api, example_1):
    put(api(cast.admin), {"overdue_day": 60})
    run = ReevaluationRun.objects.get()
    assert run.status == "queued"
    reevaluation_run(run_id=run.pk, chunk_size=1)
    reevaluation_run(run_id=run.pk, chunk_size=1)  # a redelivered task
    run.refresh_from_db()
    assert (run.status, run.done, run.total) == ("done", 3, 3)
    assert live(example_1.pk) == {rules.REFERRAL_CONSIDER: "high"}


def test_a_run_whose_task_was_lost_is_picked_up_by_the_relay(cast, api, clock):
    put(api(cast.admin), {"overdue_day": 60})
    run = ReevaluationRun.objects.get()
    assert reevaluation_relay() == []  # too young: its task may still be on the way
    clock.shift(120)
    assert reevaluation_relay() == [run.pk]
    run.refresh_from_db()
    assert run.status == "done"


@pytest.mark.parametrize(
    ("body", "field", "label"),
    [
        ({"mcid_points": 7}, "mcid_points", "Important improvement, points"),
        ({"review_day": 3}, "review_day", "Review day"),
        ({"bmi_flag": "thirty"}, "bmi_flag", "BMI flag from"),
        ({"review_day": 45.5}, "review_day", "Review day"),
        ({"review_day": 50, "overdue_day": 49}, "overdue_day", "Overdue day"),
    ],
)
def test_hard_limits_are_400s_whose_message_names_the_label(cast, api, body, field, label):
    response = errors(put(api(cast.admin), body))
    assert list(response) == [field]
    message = response[field][0]
    assert label in message
    assert field not in message
    assert not ClinicRuleSettings.objects.exists()
    assert not ReevaluationRun.objects.exists()


def test_the_api_saves_values_outside_the_published_range_and_lists_warnings(cast, api):
    body = put(api(cast.admin), {"mcid_points": 0.8}).json()
    assert body["values"]["mcid_points"] == 0.8
    [warning] = body["warnings"]
    assert warning["field"] == "mcid_points"
    assert warning["label"] == "Important improvement, points"
    assert "Important improvement, points is 0.8" in warning["message"]
    assert "1–3" in warning["message"]


def test_the_page_asks_to_confirm_a_value_outside_the_published_range(cast):
    page = signed_in_client(cast.admin)
    response = page.post("/settings/thresholds/", {"mcid_points": "0.8"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Important improvement, points is 0.8" in html
    assert 'name="confirm"' in html
    assert not ClinicRuleSettings.objects.exists()

    response = page.post("/settings/thresholds/", {"mcid_points": "0.8", "confirm": "on"})
    run = ReevaluationRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/settings/thresholds/runs/{run.pk}/"
    assert ClinicRuleSettings.objects.get().overrides == {"mcid_points": 0.8}


def test_a_hard_limit_on_the_page_names_the_label(cast):
    response = signed_in_client(cast.admin).post("/settings/thresholds/", {"review_day": "3"})
    assert response.status_code == 200
    assert "Review day: must be from 21 to 112 (got 3)." in response.content.decode()


def test_the_run_page_refreshes_itself_until_done(cast, api):
    put(api(cast.admin), {"overdue_day": 60})
    run = ReevaluationRun.objects.get()
    page = signed_in_client(cast.admin)
    html = page.get(f"/settings/thresholds/runs/{run.pk}/").content.decode()
    assert '<meta http-equiv="refresh" content="3">' in html
    assert "0 of 2 active episodes" in html
    reevaluation_run(run_id=run.pk)
    html = page.get(f"/settings/thresholds/runs/{run.pk}/").content.decode()
    assert 'http-equiv="refresh"' not in html
    assert "2 of 2 active episodes" in html
    # The therapists of the clinic may follow it; another clinic cannot see it.
    assert (
        signed_in_client(cast.therapist).get(f"/settings/thresholds/runs/{run.pk}/").status_code
        == 200
    )
    other_admin = ClinicAdminFactory(clinic=cast.other_clinic)
    assert (
        signed_in_client(other_admin).get(f"/settings/thresholds/runs/{run.pk}/").status_code == 404
    )
    assert api(other_admin).get(url("api-clinic-reevaluation", pk=run.pk)).status_code == 404
    # A clinic's object: a patient of the clinic finds nothing either.
    assert (
        api(cast.patient_a.user).get(url("api-clinic-reevaluation", pk=run.pk)).status_code == 404
    )
    assert (
        signed_in_client(cast.patient_a).get(f"/settings/thresholds/runs/{run.pk}/").status_code
        == 404
    )
