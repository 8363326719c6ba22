"""FAAM and PSFS responses through the API: recording, replacing, every 400 naming its item,
reach, the diary rules after referral or closure, and what progress shows of them."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import AuditEvent
from rehab import rules
from rehab.models import EpisodeStatus, QuestionnaireResponse, RecordCorrection
from rehab.rule_inputs import episode_row_of, read_rule_inputs
from tests.api.helpers import errors, url
from tests.courses import referral_course
from tests.days import day
from tests.personas import out_of_reach_of, user_of

pytestmark = pytest.mark.django_db


def responses_url(episode_id: int) -> str:
    return url("api-questionnaire-response-list", pk=episode_id)


def faam_answers(adl: int | str = 3, sports: int | str = 2, **items: Any) -> dict[str, Any]:
    """Every FAAM item answered: ADL items ``adl``, Sports items ``sports``; ``items`` (with
    ``_`` for ``-``: adl_3=1) override single items."""
    answers: dict[str, Any] = {f"adl-{n}": adl for n in range(1, 22)}
    answers |= {f"sports-{n}": sports for n in range(1, 9)}
    answers |= {name.replace("_", "-"): value for name, value in items.items()}
    return answers


def faam(date: dt.date, answers: dict[str, Any]) -> dict[str, Any]:
    return {"instrument": "faam", "date": date.isoformat(), "answers": answers}


def psfs(date: dt.date, *ratings: tuple[str, Any]) -> dict[str, Any]:
    return {
        "instrument": "psfs",
        "date": date.isoformat(),
        "activities": [{"activity": name, "score": score} for name, score in ratings],
    }


def stored(episode_id: int) -> list[tuple[Any, ...]]:
    return list(
        QuestionnaireResponse.objects.filter(episode_id=episode_id)
        .order_by("date", "instrument")
        .values_list("instrument", "date", "answers", "score_adl", "score_sports", "score_psfs")
    )


# --- Recording ------------------------------------------------------------------------------------


def test_the_patient_records_a_faam_then_replaces_it_the_same_day(cast, api):
    episode = cast.episode_a
    client = api(cast.patient_a.user)
    on = episode.start_date + dt.timedelta(days=1)

    first = client.post(responses_url(episode.pk), faam(on, faam_answers()), format="json")

    assert first.status_code == 201, first.content
    body = first.json()
    assert {"id", "instrument", "date", "scores"} <= set(body)
    # ADL: 21 × 3 of 84 = 75; Sports: 8 × 2 of 32 = 50.
    assert (body["instrument"], body["date"]) == ("faam", on.isoformat())
    assert body["scores"] == {"adl": 75.0, "sports": 50.0}

    again = client.post(
        responses_url(episode.pk), faam(on, faam_answers(adl=4, sports="na")), format="json"
    )

    assert again.status_code == 200, again.content
    assert again.json()["id"] == body["id"]
    # All Sports items N/A: fewer than 7 answered 0–4, so Sports is unknown (null).
    assert again.json()["scores"] == {"adl": 100.0, "sports": None}
    assert QuestionnaireResponse.objects.filter(episode=episode).count() == 1
    actions = AuditEvent.objects.filter(action__startswith="questionnaire_response.")
    assert list(actions.order_by("id").values_list("action", flat=True)) == [
        "questionnaire_response.created",
        "questionnaire_response.replaced",
    ]


def test_a_therapist_records_a_psfs_on_the_patients_behalf(cast, api):
    episode = cast.episode_a
    on = episode.start_date

    response = api(cast.therapist).post(
        responses_url(episode.pk), psfs(on, ("Relevé", 3), ("Small jumps", 4.0)), format="json"
    )

    assert response.status_code == 201, response.content
    assert response.json()["scores"] == {"psfs": 3.5}
    assert response.json()["activities"] == [
        {"activity": "Relevé", "score": 3},
        {"activity": "Small jumps", "score": 4},
    ]
    row = QuestionnaireResponse.objects.get(episode=episode)
    assert row.recorded_by == cast.therapist


def test_the_90_percent_rule_at_its_edge_through_the_api(cast, api):
    episode = cast.episode_a
    client = api(cast.patient_a.user)
    # 19 ADL items answered (2 left out) and 7 Sports (1 N/A): both valid.
    answers = faam_answers(adl=2, sports=4, sports_8="na")
    del answers["adl-20"], answers["adl-21"]
    valid = client.post(responses_url(episode.pk), faam(episode.start_date, answers), format="json")
    # 18 ADL answered (one more N/A) and 6 Sports (one more blank): both unknown.
    answers |= {"adl-19": "na", "sports-7": None}
    short = client.post(
        responses_url(episode.pk),
        faam(episode.start_date + dt.timedelta(days=1), answers),
        format="json",
    )

    assert valid.json()["scores"] == {"adl": 50.0, "sports": 100.0}
    assert short.json()["scores"] == {"adl": None, "sports": None}
    # Blank items are not stored; N/A is.
    assert "sports-7" not in short.json()["answers"]
    assert short.json()["answers"]["adl-19"] == "na"


def test_scores_are_rounded_half_away_from_zero(cast, api):
    episode = cast.episode_a
    # Sports: 6 items of 4, 1 of 3, 1 of 2 -> 29 of 32 = 90.625 -> 90.6; ADL: 20 × 4 + 3 = 83
    # of 84 = 98.8095... -> 98.8.
    answers = faam_answers(adl=4, sports=4, sports_7=3, sports_8=2, adl_21=3)

    response = api(cast.patient_a.user).post(
        responses_url(episode.pk), faam(episode.start_date, answers), format="json"
    )

    assert response.json()["scores"] == {"adl": 98.8, "sports": 90.6}


def test_the_list_shows_the_responses_oldest_first(cast, api):
    episode = cast.episode_a
    client = api(cast.patient_a.user)
    later = episode.start_date + dt.timedelta(days=3)
    client.post(responses_url(episode.pk), psfs(later, ("Running", 5)), format="json")
    client.post(responses_url(episode.pk), faam(later, faam_answers()), format="json")
    client.post(responses_url(episode.pk), psfs(episode.start_date, ("Running", 2)), format="json")

    body = api(cast.therapist).get(responses_url(episode.pk)).json()

    assert body["count"] == 3
    listed = [(r["date"], r["instrument"], r["scores"]) for r in body["results"]]
    assert listed == [
        (episode.start_date.isoformat(), "psfs", {"psfs": 2.0}),
        (later.isoformat(), "faam", {"adl": 75.0, "sports": 50.0}),
        (later.isoformat(), "psfs", {"psfs": 5.0}),
    ]
    assert body["results"][1]["answers"]["adl-1"] == 3
    assert body["results"][1]["activities"] is None
    assert AuditEvent.objects.filter(action="questionnaire_responses.listed").count() == 1


# --- 400s naming the item -----------------------------------------------------------------------

BAD_FAAM = [
    pytest.param({"adl-3": 5}, "answers.adl-3", id="out of range"),
    pytest.param({"adl-3": -1}, "answers.adl-3", id="negative"),
    pytest.param({"sports-2": 2.5}, "answers.sports-2", id="not whole"),
    pytest.param({"sports-2": "3"}, "answers.sports-2", id="text"),
    pytest.param({"adl-1": True}, "answers.adl-1", id="boolean"),
    pytest.param({"adl-1": "N/A"}, "answers.adl-1", id="N/A is written na"),
    pytest.param({"adl-22": 4}, "answers.adl-22", id="no 22nd ADL item"),
    pytest.param({"sports-9": 4}, "answers.sports-9", id="no 9th Sports item"),
    pytest.param({"walking": 4}, "answers.walking", id="unknown item"),
]


@pytest.mark.parametrize(("override", "field"), BAD_FAAM)
def test_a_bad_faam_answer_is_a_400_naming_the_item_and_keeps_what_was_saved(
    cast, api, override, field
):
    episode = cast.episode_a
    client = api(cast.patient_a.user)
    on = episode.start_date
    client.post(responses_url(episode.pk), faam(on, faam_answers()), format="json")
    before = stored(episode.pk)

    response = client.post(
        responses_url(episode.pk), faam(on, faam_answers(adl=4) | override), format="json"
    )

    assert list(errors(response)) == [field]
    assert stored(episode.pk) == before


def test_every_bad_item_is_named_at_once(cast, api):
    episode = cast.episode_a
    answers = faam_answers() | {"adl-3": 9, "sports-8": "x"}

    response = api(cast.patient_a.user).post(
        responses_url(episode.pk), faam(episode.start_date, answers), format="json"
    )

    assert set(errors(response)) == {"answers.adl-3", "answers.sports-8"}
    assert "0 to 4" in errors(response)["answers.adl-3"][0]


BAD_PSFS = [
    pytest.param([("Running", 11)], "activities[0].score", id="above 10"),
    pytest.param([("Running", 4), ("Jumps", -1)], "activities[1].score", id="second below 0"),
    pytest.param([("Running", 4), ("Jumps", 7.5)], "activities[1].score", id="not whole"),
    pytest.param([("Running", "7")], "activities[0].score", id="text"),
    pytest.param([("Running", None)], "activities[0].score", id="missing"),
    pytest.param([("  ", 5)], "activities[0].activity", id="blank activity"),
    pytest.param([("x" * 121, 5)], "activities[0].activity", id="activity too long"),
    pytest.param([(f"Activity {n}", 5) for n in range(6)], "activities", id="six activities"),
    pytest.param([], "activities", id="no activity"),
]


@pytest.mark.parametrize(("ratings", "field"), BAD_PSFS)
def test_a_bad_psfs_is_a_400_naming_the_activity(cast, api, ratings, field):
    episode = cast.episode_a

    response = api(cast.patient_a.user).post(
        responses_url(episode.pk), psfs(episode.start_date, *ratings), format="json"
    )

    assert list(errors(response)) == [field]
    assert stored(episode.pk) == []


BAD_BODIES = [
    pytest.param({"instrument": "koos", "date": "{start}"}, "instrument", id="unknown instrument"),
    pytest.param({"date": "{start}", "answers": {"adl-1": 4}}, "instrument", id="no instrument"),
    pytest.param({"instrument": "faam", "answers": {"adl-1": 4}}, "date", id="no date"),
    pytest.param(
        {"instrument": "faam", "date": "2026-02-30", "answers": {"adl-1": 4}},
        "date",
        id="not a calendar date",
    ),
    pytest.param(
        {"instrument": "faam", "date": "{before}", "answers": {"adl-1": 4}},
        "date",
        id="before the start",
    ),
    pytest.param(
        {"instrument": "faam", "date": "{tomorrow}", "answers": {"adl-1": 4}},
        "date",
        id="after the patient's today",
    ),
    pytest.param({"instrument": "faam", "date": "{start}"}, "answers", id="FAAM without answers"),
    pytest.param(
        {"instrument": "faam", "date": "{start}", "answers": {"adl-1": None}},
        "answers",
        id="FAAM with only blanks",
    ),
    pytest.param(
        {"instrument": "faam", "date": "{start}", "answers": [4, 4]},
        "answers",
        id="answers not an object",
    ),
    pytest.param(
        {
            "instrument": "faam",
            "date": "{start}",
            "answers": {"adl-1": 4},
            "activities": [{"activity": "Running", "score": 3}],
        },
        "activities",
        id="FAAM with activities",
    ),
    pytest.param(
        {"instrument": "psfs", "date": "{start}", "activities": {"Running": 3}},
        "activities",
        id="activities not a list",
    ),
    pytest.param(
        {"instrument": "psfs", "date": "{start}", "activities": ["Running"]},
        "activities[0]",
        id="activity not an object",
    ),
    pytest.param(
        {"instrument": "psfs", "date": "{start}", "answers": {"adl-1": 4}},
        "answers",
        id="PSFS with answers",
    ),
    pytest.param(
        {"instrument": "faam", "date": "{start}", "answers": {"adl-1": 4}, "score": 100},
        "score",
        id="unknown field",
    ),
]


@pytest.mark.parametrize(("body", "field"), BAD_BODIES)
def test_a_bad_body_is_a_400_naming_the_field(cast, api, body, field):
    episode = cast.episode_a
    dates = {
        "{start}": episode.start_date.isoformat(),
        "{before}": (episode.start_date - dt.timedelta(days=1)).isoformat(),
        "{tomorrow}": (episode.patient.local_today() + dt.timedelta(days=1)).isoformat(),
    }
    body = {k: dates.get(v, v) if isinstance(v, str) else v for k, v in body.items()}

    response = api(cast.patient_a.user).post(responses_url(episode.pk), body, format="json")

    assert field in errors(response)
    assert stored(episode.pk) == []


# --- Reach and rights ---------------------------------------------------------------------------


@pytest.mark.parametrize("persona", out_of_reach_of("patient_a"))
def test_out_of_reach_is_404_for_reading_and_writing(cast, api, persona):
    episode = cast.episode_a
    client = api(user_of(cast, persona))

    assert client.get(responses_url(episode.pk)).status_code == 404
    written = client.post(
        responses_url(episode.pk), faam(episode.start_date, faam_answers()), format="json"
    )
    assert written.status_code == 404
    assert stored(episode.pk) == []


def test_anonymous_is_401(cast, api):
    assert api(None).get(responses_url(cast.episode_a.pk)).status_code == 401


@pytest.mark.parametrize("persona", ["patient_a", "therapist", "admin"])
def test_who_reaches_the_episode_may_record(cast, api, persona):
    episode = cast.episode_a

    response = api(user_of(cast, persona)).post(
        responses_url(episode.pk), psfs(episode.start_date, ("Stairs", 6)), format="json"
    )

    assert response.status_code == 201, response.content


def test_after_referral_the_patient_gets_409_and_staff_need_a_reason(cast, api):
    episode = cast.episode_a
    episode.status = EpisodeStatus.REFERRED
    episode.referral_date = episode.patient.local_today()
    episode.save(update_fields=["status", "referral_date"])
    body = faam(episode.start_date, faam_answers())

    refused = api(cast.patient_a.user).post(responses_url(episode.pk), body, format="json")
    no_reason = api(cast.therapist).post(responses_url(episode.pk), body, format="json")
    with_reason = api(cast.therapist).post(
        responses_url(episode.pk), {**body, "reason": "Paper form from the intake"}, format="json"
    )

    assert refused.status_code == 409
    assert list(errors(no_reason)) == ["reason"]
    assert with_reason.status_code == 201, with_reason.content
    correction = RecordCorrection.objects.get(episode=episode)
    assert correction.reason == "Paper form from the intake"
    assert correction.object_type == "questionnaireresponse"
    assert correction.new_values == {"answers": faam_answers()}


# --- Progress -------------------------------------------------------------------------------------


def test_progress_shows_the_function_metrics_the_finding_and_whats_due(cast, api):
    # Worked example 1 of the rules (REFERRAL_CONSIDER on day 42), with FAAM on days 2 and 40
    # and a PSFS on day 2 only.
    episode = referral_course(cast.patient_a)
    client = api(cast.patient_a.user)
    for body in (
        faam(day(2), faam_answers(adl=3, sports=2)),  # ADL 75, Sports 50
        faam(day(40), faam_answers(adl=3, sports=2, sports_1=3, sports_2=3)),  # Sports 56.25
        psfs(day(2), ("Relevé", 2), ("Jumps", 3)),  # 2.5
    ):
        assert client.post(responses_url(episode.pk), body, format="json").status_code == 201

    body = (
        api(cast.therapist)
        .get(url("api-episode-progress", pk=episode.pk) + f"?as_of={day(42).isoformat()}")
        .json()
    )

    metrics = body["metrics"]
    assert (metrics["faam_adl_baseline"], metrics["faam_adl_current"]) == (75.0, 75.0)
    assert (metrics["faam_sports_baseline"], metrics["faam_sports_current"]) == (50.0, 56.3)
    assert (metrics["psfs_baseline"], metrics["psfs_current"]) == (2.5, None)
    # The review window (days 39–49) is open: FAAM was answered on day 40, the PSFS was not.
    assert body["questionnaires_due"] == [
        {
            "instrument": "psfs",
            "window_start": day(39).isoformat(),
            "window_end": day(49).isoformat(),
        }
    ]
    findings = {f["code"]: f for f in body["findings"]}
    assert findings["REFERRAL_CONSIDER"]["severity"] == "high"
    assert findings["FUNCTION_NOT_IMPROVING"]["severity"] == "info"
    # The recommendation is the pain rules' alone.
    assert body["recommendation"] == "consider_referral"
    referral = findings["REFERRAL_CONSIDER"]["evidence"]
    assert referral["faam_sports_baseline"] == 50.0 and referral["faam_sports_current"] == 56.3
    assert referral["psfs_baseline"] == 2.5 and "psfs_current" not in referral
    function = findings["FUNCTION_NOT_IMPROVING"]
    assert function["evidence"]["subscale"] == "sports"
    assert function["evidence"]["faam_sports_change"] == 6.3
    assert function["evidence"]["faam_sports_mcid"] == 9.0
    assert "FAAM Sports went from 50 to 56.3" in function["message"]
    assert body["ruleset"] == rules.RULESET_VERSION


def test_progress_lists_both_questionnaires_in_week_one_until_answered(cast, api):
    episode = cast.episode_b  # started 10 days ago
    as_of = episode.start_date + dt.timedelta(days=3)
    progress_url = url("api-episode-progress", pk=episode.pk) + f"?as_of={as_of.isoformat()}"
    client = api(cast.patient_b.user)

    before = client.get(progress_url).json()["questionnaires_due"]
    client.post(responses_url(episode.pk), psfs(episode.start_date, ("Stairs", 4)), format="json")
    after = client.get(progress_url).json()["questionnaires_due"]

    window = {
        "window_start": episode.start_date.isoformat(),
        "window_end": (episode.start_date + dt.timedelta(days=6)).isoformat(),
    }
    assert before == [{"instrument": "faam", **window}, {"instrument": "psfs", **window}]
    assert after == [{"instrument": "faam", **window}]


def test_the_function_finding_follows_accept_language(cast, api):
    episode = referral_course(cast.patient_a)
    client = api(cast.patient_a.user)
    client.post(responses_url(episode.pk), faam(day(2), faam_answers()), format="json")
    client.post(
        responses_url(episode.pk),
        faam(day(40), faam_answers(sports_1=3, sports_2=3)),
        format="json",
    )
    address = url("api-episode-progress", pk=episode.pk) + f"?as_of={day(42).isoformat()}"

    body = api(cast.therapist).get(address, HTTP_ACCEPT_LANGUAGE="es").json()

    finding = next(f for f in body["findings"] if f["code"] == "FUNCTION_NOT_IMPROVING")
    assert finding["message"].startswith("El FAAM Deportes pasó de 50 a 56,3")


# --- The clinic's MCIDs -------------------------------------------------------------------------


def test_a_clinic_admin_sets_the_function_mcids_with_limits_and_published_ranges(cast, api):
    admin = api(cast.admin)
    address = url("api-clinic-thresholds")

    defaults = admin.get(address).json()
    saved = admin.put(
        address, {"faam_adl_mcid": 7, "faam_sports_mcid": 5, "psfs_mcid": 2.5}, format="json"
    )
    refused = admin.put(address, {"faam_sports_mcid": 50, "psfs_mcid": 0}, format="json")

    assert {
        k: defaults["values"][k] for k in ("faam_adl_mcid", "faam_sports_mcid", "psfs_mcid")
    } == {
        "faam_adl_mcid": 8.0,
        "faam_sports_mcid": 9.0,
        "psfs_mcid": 2.0,
    }
    assert saved.status_code == 200, saved.content
    # 5 Sports points is inside the hard limits but below the published 9–14: saved, and said.
    assert [w["field"] for w in saved.json()["warnings"]] == ["faam_sports_mcid"]
    assert "Important change, FAAM Sports points" in saved.json()["warnings"][0]["message"]
    body = errors(refused)
    assert set(body) == {"faam_sports_mcid", "psfs_mcid"}
    assert body["faam_sports_mcid"][0].startswith("Important change, FAAM Sports points: must be")


# --- The rules' reader --------------------------------------------------------------------------


def test_the_bulk_reader_reads_each_episodes_responses_in_one_more_query(cast, api):
    a, b = cast.episode_a, cast.episode_b
    api(cast.patient_a.user).post(
        responses_url(a.pk), faam(a.start_date, faam_answers(adl=3, sports=2)), format="json"
    )
    api(cast.patient_b.user).post(
        responses_url(b.pk), psfs(b.start_date, ("Stairs", 1), ("Hops", 2)), format="json"
    )
    api(cast.other_patient.user).post(
        responses_url(cast.other_episode.pk),
        psfs(cast.other_episode.start_date, ("Stairs", 9)),
        format="json",
    )

    with CaptureQueriesContext(connection) as queries:
        inputs = read_rule_inputs([a.pk, b.pk])
        data_a = inputs.episode_data(episode_row_of(a))
        data_b = inputs.episode_data(episode_row_of(b))

    assert len(queries) == 5
    assert [(q.instrument, q.faam_adl, q.faam_sports) for q in data_a.questionnaires] == [
        ("faam", 75, 50)
    ]
    # Scored exactly from the answers: 3/2 is a Fraction, not 1.5 read back from a column.
    assert [(q.instrument, q.psfs) for q in data_b.questionnaires] == [("psfs", Fraction(3, 2))]
    assert cast.other_episode.pk not in inputs.questionnaires
    # ``until`` leaves later responses unread, like the entries.
    assert read_rule_inputs([a.pk], until=a.start_date - dt.timedelta(days=1)).questionnaires == {}
