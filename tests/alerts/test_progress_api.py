"""GET /api/v1/episodes/{id}/progress/: the contract's "Progress" section, read-only."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rehab import rules
from rehab.models import Alert, Delivery
from tests.alerts.conftest import SETS, WEEK_1, day, evaluate
from tests.api.helpers import entry_url, errors, url

pytestmark = pytest.mark.django_db

METRIC_KEYS = {
    "pain_baseline",
    "pain_current",
    "pain_change",
    "pain_change_pct",
    "adherence_pct",
    "entries_last_7_days",
    "rom_week1",
    "rom_current",
    "rom_reference",
    "rom_deficit",
    "faam_adl_baseline",
    "faam_adl_current",
    "faam_sports_baseline",
    "faam_sports_current",
    "psfs_baseline",
    "psfs_current",
}


def progress(client, episode_id: int, as_of: dt.date | str | None = None):
    address = url("api-episode-progress", pk=episode_id)
    if as_of is not None:
        address += f"?as_of={as_of if isinstance(as_of, str) else as_of.isoformat()}"
    return client.get(address)


def test_worked_example_1_on_day_42_considers_referral(cast, api, example_1):
    response = progress(api(cast.therapist), example_1.pk, day(42))
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {
        "episode",
        "as_of",
        "trial_day",
        "trial_week",
        "recommendation",
        "metrics",
        "findings",
        "questionnaires_due",
        "ruleset",
    }
    assert body["episode"] == example_1.pk
    assert body["as_of"] == "2026-02-15"
    assert (body["trial_day"], body["trial_week"]) == (42, 6)
    assert body["recommendation"] == "consider_referral"
    assert body["ruleset"] == rules.RULESET_VERSION
    metrics = body["metrics"]
    assert set(metrics) == METRIC_KEYS
    assert metrics["pain_baseline"] == 7.0
    assert metrics["pain_current"] == 6.0
    assert metrics["pain_change"] == 1.0
    assert metrics["pain_change_pct"] == pytest.approx(14.29)
    assert metrics["adherence_pct"] == 100.0
    assert metrics["entries_last_7_days"] == 7
    # No plantar flexion was measured: unknown, not zero.
    for key in ("rom_week1", "rom_current", "rom_reference", "rom_deficit"):
        assert metrics[key] is None
    assert [(f["code"], f["severity"]) for f in body["findings"]] == [("REFERRAL_CONSIDER", "high")]
    finding = body["findings"][0]
    assert set(finding) == {"code", "severity", "message", "evidence"}
    assert finding["message"]
    assert finding["evidence"]["trial_day"] == 42
    assert finding["evidence"]["pain_baseline"] == 7.0
    assert finding["evidence"]["pain_current"] == 6.0


def test_worked_example_1_on_day_41_has_no_referral_finding(cast, api, example_1):
    body = progress(api(cast.therapist), example_1.pk, day(41)).json()
    assert body["trial_day"] == 41
    assert not {f["code"] for f in body["findings"]} & {"REFERRAL_CONSIDER", "REFERRAL_OVERDUE"}
    assert body["recommendation"] == "continue"


def test_worked_example_4_on_day_56_says_refer_now(cast, api, example_1):
    body = progress(api(cast.therapist), example_1.pk, day(56)).json()
    assert body["trial_day"] == 56
    assert body["recommendation"] == "refer_now"
    assert [(f["code"], f["severity"]) for f in body["findings"]] == [
        ("REFERRAL_OVERDUE", "critical")
    ]


def test_worked_example_2_improving_continues(cast, api, course_builder):
    course = course_builder({**WEEK_1, **{n: 4 for n in range(36, 43)}})
    body = progress(api(cast.therapist), course.pk, day(42)).json()
    assert body["recommendation"] == "continue"
    assert [f["code"] for f in body["findings"]] == ["IMPROVING"]
    assert body["metrics"]["pain_change"] == 3.0


def test_worked_example_3_low_adherence_is_not_a_referral(cast, api, course_builder):
    course = course_builder({**WEEK_1, **{n: 6 for n in range(36, 43)}}, sets_done=1)
    body = progress(api(cast.therapist), course.pk, day(42)).json()
    assert body["recommendation"] == "address_adherence"
    codes = {f["code"] for f in body["findings"]}
    assert "ADHERENCE_LOW" in codes
    assert not codes & {"REFERRAL_CONSIDER", "REFERRAL_OVERDUE"}


def test_as_of_defaults_to_the_patients_local_today(cast, api, example_1):
    # Noon UTC on 2 March is already 3 March on Kiritimati (UTC+14).
    cast.patient_a.timezone = "Pacific/Kiritimati"
    cast.patient_a.save(update_fields=["timezone"])
    body = progress(api(cast.therapist), example_1.pk).json()
    assert body["as_of"] == "2026-03-03"
    assert body["trial_day"] == 58


@pytest.mark.parametrize("bad", ["2026-02-30", "20260215", "yesterday", "2026-2-15", ""])
def test_a_bad_as_of_is_a_400_naming_it(cast, api, example_1, bad):
    response = progress(api(cast.therapist), example_1.pk, bad)
    if bad == "":
        # An empty value is no value: the default applies.
        assert response.status_code == 200
        return
    assert "as_of" in errors(response)


def test_reading_progress_never_creates_or_changes_alerts(cast, api, example_1):
    client = api(cast.therapist)
    # Nothing evaluated yet: reading a referral-worthy course raises nothing.
    assert progress(client, example_1.pk, day(56)).json()["recommendation"] == "refer_now"
    assert not Alert.objects.exists()
    # An existing alert is left exactly as it was, and nothing is sent.
    evaluate(example_1, 42)
    before = list(Alert.objects.values())
    deliveries = Delivery.objects.count()
    for n in (41, 42, 43, 56):
        assert progress(client, example_1.pk, day(n)).status_code == 200
    assert progress(api(cast.patient_a.user), example_1.pk).status_code == 200
    assert list(Alert.objects.values()) == before
    assert Delivery.objects.count() == deliveries


def test_patients_read_their_own_progress_only(cast, api, example_1):
    assert progress(api(cast.patient_a.user), example_1.pk, day(42)).status_code == 200
    for user in (cast.patient_b.user, cast.therapist_2, cast.other_therapist):
        assert progress(api(user), example_1.pk, day(42)).status_code == 404
    assert progress(api(cast.admin), example_1.pk, day(42)).status_code == 200
    assert progress(api(None), example_1.pk, day(42)).status_code == 401


def test_progress_costs_the_same_queries_for_5_or_50_entries(cast, api, course_builder):
    client = api(cast.therapist)
    short = course_builder({n: 5 for n in range(1, 6)})
    long = course_builder({n: 5 for n in range(1, 51)}, patient=cast.patient_b)
    progress(client, short.pk, day(50))  # warm up (token lookup caches, content types)
    with CaptureQueriesContext(connection) as few:
        assert progress(client, short.pk, day(50)).status_code == 200
    with CaptureQueriesContext(connection) as many:
        assert progress(client, long.pk, day(50)).status_code == 200
    assert len(few) == len(many)
    assert len(many) <= 10


def test_entries_after_as_of_do_not_count(cast, api, example_1):
    # A very painful day 43 changes nothing as of day 42.
    client = api(cast.patient_a.user)
    response = client.put(
        entry_url(example_1.pk, day(43)),
        {
            "pain_activity": 10,
            "exercises": [{"prescription": example_1.prescription_id, "sets_completed": SETS}],
        },
        format="json",
    )
    assert response.status_code == 200
    body = progress(api(cast.therapist), example_1.pk, day(42)).json()
    assert body["metrics"]["pain_current"] == 6.0


def test_referred_and_closed_episodes_say_so(cast, api, example_1):
    staff = api(cast.therapist)
    response = staff.post(
        url("api-episode-referral", pk=example_1.pk), {"date": "2026-02-16"}, format="json"
    )
    assert response.status_code == 200
    body = progress(staff, example_1.pk, day(56)).json()
    assert body["recommendation"] == "referred"
    assert not {f["code"] for f in body["findings"]} & {"REFERRAL_CONSIDER", "REFERRAL_OVERDUE"}
