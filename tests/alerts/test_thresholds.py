"""A clinic's own thresholds: GET/PUT /api/v1/clinic/thresholds/ and their effect on the rules."""

from __future__ import annotations

import pytest

from accounts.models import AuditEvent
from rehab import rules
from rehab.models import Alert, ClinicRuleSettings
from tests.alerts.conftest import day, evaluate
from tests.api.helpers import errors, url
from tests.factories import ClinicAdminFactory

pytestmark = pytest.mark.django_db

DEFAULTS = rules.Thresholds().as_dict()


def put(client, body):
    return client.put(url("api-clinic-thresholds"), body, format="json")


def test_everyone_on_the_staff_reads_the_defaults_at_first(cast, api):
    for user in (cast.therapist, cast.admin, cast.other_therapist):
        response = api(user).get(url("api-clinic-thresholds"))
        assert response.status_code == 200
        body = response.json()
        assert body["values"] == body["defaults"] == DEFAULTS
        assert body["overrides"] == {}
        assert body["ruleset"] == rules.RULESET_VERSION
        assert body["updated_at"] is None


def test_an_admin_overrides_and_only_the_differences_are_stored(cast, api):
    response = put(api(cast.admin), {"review_day": 45, "mcid_points": 2.0, "mcid_percent": 25})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["overrides"] == {"review_day": 45, "mcid_percent": 25.0}
    assert body["values"] == {**DEFAULTS, "review_day": 45, "mcid_percent": 25.0}
    assert body["updated_by"] == cast.admin.pk and body["updated_at"].endswith("Z")
    stored = ClinicRuleSettings.objects.get(clinic=cast.clinic)
    assert stored.overrides == {"review_day": 45, "mcid_percent": 25.0}
    event = AuditEvent.objects.get(action="clinic.thresholds_updated")
    assert (event.actor, event.clinic_id, event.object_id) == (
        cast.admin,
        cast.clinic.pk,
        str(stored.pk),
    )
    # The therapist of the clinic reads the same; another clinic keeps the defaults.
    assert (
        api(cast.therapist).get(url("api-clinic-thresholds")).json()["values"]["review_day"] == 45
    )
    other = api(cast.other_therapist).get(url("api-clinic-thresholds")).json()
    assert other["values"] == DEFAULTS
    # Putting the same again changes nothing and is not audited again.
    put(api(cast.admin), {"review_day": 45, "mcid_percent": 25})
    assert AuditEvent.objects.filter(action="clinic.thresholds_updated").count() == 1


def test_put_replaces_so_a_name_left_out_returns_to_its_default(cast, api):
    client = api(cast.admin)
    put(client, {"review_day": 45, "bmi_flag": 35})
    body = put(client, {"bmi_flag": 35}).json()
    assert body["overrides"] == {"bmi_flag": 35.0}
    assert put(client, {}).json()["overrides"] == {}
    assert ClinicRuleSettings.objects.get(clinic=cast.clinic).overrides == {}


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"review_day": 60}, {"overdue_day"}),  # the default overdue day 56 is before it
        ({"review_day": 30, "overdue_day": 30}, {"overdue_day"}),
        ({"mcid_percent": 150, "review_day": "42"}, {"mcid_percent", "review_day"}),
        ({"review_day": 42.5}, {"review_day"}),
        ({"review_day": True}, {"review_day"}),
        ({"mcid_points": None, "min_entries_per_week": 0}, {"min_entries_per_week"}),
        ({"bogus": 1}, {"bogus"}),
        (["review_day", 45], {"non_field_errors"}),
    ],
)
def test_bad_values_are_400s_naming_the_fields_and_change_nothing(cast, api, body, fields):
    client = api(cast.admin)
    put(client, {"bmi_flag": 35})
    response = put(client, body)
    assert set(errors(response)) == fields
    assert ClinicRuleSettings.objects.get(clinic=cast.clinic).overrides == {"bmi_flag": 35.0}


def test_only_a_clinic_admin_may_change_them(cast, api):
    for user in (cast.therapist, cast.patient_a.user):
        assert put(api(user), {"review_day": 45}).status_code == 403
    assert api(cast.patient_a.user).get(url("api-clinic-thresholds")).status_code == 403
    assert not ClinicRuleSettings.objects.exists()


def test_overrides_change_the_outcome_and_are_stored_on_the_alert(cast, api, example_1):
    put(api(cast.admin), {"review_day": 45})
    therapist = api(cast.therapist)
    progress = url("api-episode-progress", pk=example_1.pk)
    on_42 = therapist.get(f"{progress}?as_of={day(42)}").json()
    assert on_42["recommendation"] == "continue"
    on_45 = therapist.get(f"{progress}?as_of={day(45)}").json()
    assert on_45["recommendation"] == "consider_referral"
    assert on_45["findings"][0]["evidence"]["review_day"] == 45

    assert evaluate(example_1, 42).raised == []
    alert = Alert.objects.get(pk=evaluate(example_1, 45).raised[0])
    assert alert.thresholds == {**DEFAULTS, "review_day": 45}
    detail = therapist.get(url("api-alert-detail", pk=alert.pk)).json()
    assert detail["thresholds"]["review_day"] == 45
    assert detail["ruleset"] == rules.RULESET_VERSION


def test_another_clinics_overrides_do_not_reach_this_one(cast, api, example_1):
    other_admin = ClinicAdminFactory(clinic=cast.other_clinic)
    assert put(api(other_admin), {"review_day": 50}).status_code == 200
    body = (
        api(cast.therapist)
        .get(url("api-episode-progress", pk=example_1.pk) + f"?as_of={day(42)}")
        .json()
    )
    assert body["recommendation"] == "consider_referral"
