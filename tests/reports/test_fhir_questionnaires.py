"""The FAAM and PSFS in FHIR R4 (docs/fhir.md): the Questionnaires and local CodeSystems the API
serves, and each recorded response in the episode bundle as a QuestionnaireResponse with an
Observation (category survey) per score; everything validates with the fhir.resources R4B
models, and the answers conform to the Questionnaire they name (which the models do not check).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.codesystem import CodeSystem
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from rehab.function_scores import FAAM_ANSWERS, FAAM_ITEMS
from tests.personas import out_of_reach_of, user_of

pytestmark = pytest.mark.django_db

BASE = "http://testserver/fhir"
SURVEY = {
    "system": "http://terminology.hl7.org/CodeSystem/observation-category",
    "code": "survey",
    "display": "Survey",
}
ADL_IDS = [f"adl-{n}" for n in range(1, 22)]
SPORTS_IDS = [f"sports-{n}" for n in range(1, 9)]


def _get(api, user, path: str, **extra: Any) -> dict[str, Any]:
    response = api(user).get(path, **extra)
    assert response.status_code == 200, response.content
    return response.json()


def _items(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every item of a Questionnaire or QuestionnaireResponse, depth first."""
    flat = []
    for item in items:
        flat.append(item)
        flat.extend(_items(item.get("item", [])))
        for answer in item.get("answer", []):
            flat.extend(_items(answer.get("item", [])))
    return flat


# --- The definitions ---------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["patient_a", "therapist", "admin", "other_therapist"])
def test_the_faam_questionnaire_validates_with_the_published_items_in_order(cast, api, persona):
    data = _get(api, user_of(cast, persona), "/api/v1/questionnaires/faam/")
    questionnaire = Questionnaire.model_validate(data)
    assert questionnaire.status == "active"
    assert data["url"] == f"{BASE}/Questionnaire/faam"
    assert data["version"] == "1.0.0"
    assert [group["linkId"] for group in data["item"]] == ["adl", "sports"]
    assert [group["type"] for group in data["item"]] == ["group", "group"]
    questions = [i for i in _items(data["item"]) if i["type"] != "group"]
    assert [q["linkId"] for q in questions] == ADL_IDS + SPORTS_IDS
    assert [q["text"] for q in questions] == [item.text for item in FAAM_ITEMS]
    assert questions[0]["text"] == "Standing"
    assert questions[-1]["text"] == (
        "Ability to participate in your desired sport as long as you would like"
    )
    assert [q["prefix"] for q in questions[:3]] == ["1", "2", "3"]
    assert all(q["type"] == "choice" and q["required"] is False for q in questions)
    assert "doi:10.1177/107110070502601113" in data["copyright"]


def test_every_faam_item_offers_the_six_answers_of_the_local_code_system(cast, api):
    questionnaire = _get(api, cast.patient_a.user, "/api/v1/questionnaires/faam/")
    code_system = _get(api, cast.patient_a.user, "/api/v1/code-systems/faam-answer/")
    CodeSystem.model_validate(code_system)
    assert code_system["url"] == f"{BASE}/CodeSystem/faam-answer"
    assert code_system["content"] == "complete"
    concepts = {c["code"]: c["display"] for c in code_system["concept"]}
    assert concepts == {
        "4": "No difficulty at all",
        "3": "Slight difficulty",
        "2": "Moderate difficulty",
        "1": "Extreme difficulty",
        "0": "Unable to do",
        "na": "N/A",
    }
    assert code_system["count"] == len(FAAM_ANSWERS) == 6
    for question in _items(questionnaire["item"]):
        if question["type"] == "group":
            continue
        codings = [option["valueCoding"] for option in question["answerOption"]]
        assert [c["code"] for c in codings] == ["4", "3", "2", "1", "0", "na"]
        for coding in codings:
            assert coding["system"] == code_system["url"]
            assert coding["display"] == concepts[coding["code"]]
        # Each 0-4 answer carries its score, so a receiver can score a response itself.
        ordinals = [c["extension"][0]["valueDecimal"] for c in codings if c["code"] != "na"]
        assert ordinals == [4, 3, 2, 1, 0]
        assert "extension" not in codings[-1]


def test_the_psfs_questionnaire_is_a_repeating_group_of_an_activity_and_its_rating(cast, api):
    data = _get(api, cast.therapist, "/api/v1/questionnaires/psfs/")
    Questionnaire.model_validate(data)
    assert data["url"] == f"{BASE}/Questionnaire/psfs"
    (group,) = data["item"]
    assert (group["linkId"], group["type"], group["repeats"], group["required"]) == (
        "activities",
        "group",
        True,
        True,
    )
    assert group["extension"] == [
        {
            "url": "http://hl7.org/fhir/StructureDefinition/questionnaire-maxOccurs",
            "valueInteger": 5,
        }
    ]
    activity, score = group["item"]
    assert (activity["linkId"], activity["type"], activity["required"]) == (
        "activity",
        "string",
        True,
    )
    assert (score["linkId"], score["type"], score["required"]) == ("score", "integer", True)
    limits = {e["url"].rsplit("/", 1)[1]: e["valueInteger"] for e in score["extension"]}
    assert limits == {"minValue": 0, "maxValue": 10}


def test_the_score_codes_are_a_local_code_system_that_validates(cast, api):
    data = _get(api, cast.admin, "/api/v1/code-systems/function-score/")
    CodeSystem.model_validate(data)
    assert data["url"] == f"{BASE}/CodeSystem/function-score"
    assert [c["code"] for c in data["concept"]] == ["faam-adl", "faam-sports", "psfs"]
    assert all(c["definition"] for c in data["concept"])
    assert "no LOINC code exists for the FAAM" in data["description"]


def test_the_canonical_urls_follow_the_configured_base(cast, api, settings):
    settings.FHIR_BASE_URL = "https://rehab.example.org/fhir"
    faam = _get(api, cast.patient_a.user, "/api/v1/questionnaires/faam/")
    assert faam["url"] == "https://rehab.example.org/fhir/Questionnaire/faam"
    option = faam["item"][0]["item"][0]["answerOption"][0]["valueCoding"]
    assert option["system"] == "https://rehab.example.org/fhir/CodeSystem/faam-answer"
    scores = _get(api, cast.patient_a.user, "/api/v1/code-systems/function-score/")
    assert scores["url"] == "https://rehab.example.org/fhir/CodeSystem/function-score"


def test_unknown_names_are_404_anonymous_401_and_the_fhir_media_type_is_the_default(cast, api):
    user = cast.patient_a.user
    assert api(user).get("/api/v1/questionnaires/koos/").status_code == 404
    assert api(user).get("/api/v1/code-systems/allergy/").status_code == 404
    assert api(None).get("/api/v1/questionnaires/faam/").status_code == 401
    assert api(None).get("/api/v1/code-systems/faam-answer/").status_code == 401
    response = api(user).get("/api/v1/questionnaires/psfs/", HTTP_ACCEPT="application/fhir+json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/fhir+json")
    # Without asking: FHIR's media type too; plain JSON only when asked for.
    assert (
        api(user)
        .get("/api/v1/code-systems/faam-answer/")["Content-Type"]
        .startswith("application/fhir+json")
    )
    plain = api(user).get("/api/v1/questionnaires/psfs/", HTTP_ACCEPT="application/json")
    assert plain["Content-Type"].startswith("application/json")


# --- Responses in the episode bundle -----------------------------------------------------------


def _faam_answers(adl: int | str, sports: int | str, *, adl_blank: int = 0) -> dict[str, Any]:
    answers: dict[str, Any] = {link_id: adl for link_id in ADL_IDS[adl_blank:]}
    answers.update({link_id: sports for link_id in SPORTS_IDS})
    return answers


def _record(api, user, episode, body: dict[str, Any]) -> dict[str, Any]:
    """Record a response through the API (201, or 200 when it replaces the day's)."""
    response = api(user).post(
        f"/api/v1/episodes/{episode.pk}/questionnaire-responses/", body, format="json"
    )
    assert response.status_code in (200, 201), response.content
    return response.json()


def _bundle(api, user, episode) -> dict[str, Any]:
    data = _get(api, user, f"/api/v1/episodes/{episode.pk}/fhir/")
    Bundle.model_validate(data)
    return data


def _resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def _score_observations(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        r
        for r in _resources(bundle, "Observation")
        if r["code"].get("coding", [{}])[0].get("system") == f"{BASE}/CodeSystem/function-score"
    ]


def _conform(response: dict[str, Any], questionnaire: dict[str, Any]) -> None:
    """Every answer of ``response`` fits the item of ``questionnaire`` with its linkId, at the
    same place in the tree: the item's type, one of its options, within its limits."""

    def check(answered: list[dict[str, Any]], defined: list[dict[str, Any]]) -> None:
        by_id = {item["linkId"]: item for item in defined}
        for item in answered:
            definition = by_id[item["linkId"]]
            if definition["type"] == "group":
                assert "answer" not in item
                check(item["item"], definition["item"])
                continue
            assert len(item["answer"]) == 1
            (answer,) = item["answer"]
            if definition["type"] == "choice":
                options = [o["valueCoding"] for o in definition["answerOption"]]
                assert answer["valueCoding"] in options
            elif definition["type"] == "string":
                assert 0 < len(answer["valueString"]) <= definition["maxLength"]
            elif definition["type"] == "integer":
                limits = {
                    e["url"].rsplit("/", 1)[1]: e["valueInteger"] for e in definition["extension"]
                }
                assert limits["minValue"] <= answer["valueInteger"] <= limits["maxValue"]
            else:  # pragma: no cover - the Questionnaires use no other type
                raise AssertionError(definition["type"])
        repeated = Counter(item["linkId"] for item in answered)
        for link_id, count in repeated.items():
            if count > 1:
                assert by_id[link_id].get("repeats") is True

    check(response["item"], questionnaire["item"])


@pytest.fixture
def answered(cast, api):
    """Patient A's baseline FAAM (day 1) and PSFS (day 2), and a follow-up FAAM (day 15) with
    two ADL items blank and Sports not applicable."""
    episode = cast.episode_a
    user = cast.patient_a.user
    start = episode.start_date
    baseline = _faam_answers(2, 1)
    baseline["adl-3"] = "na"
    faam = _record(
        api, user, episode, {"instrument": "faam", "date": start.isoformat(), "answers": baseline}
    )
    psfs = _record(
        api,
        user,
        episode,
        {
            "instrument": "psfs",
            "date": (start + dt.timedelta(days=1)).isoformat(),
            "activities": [
                {"activity": "Relevé on the right foot", "score": 3},
                {"activity": "Jumps", "score": 2},
                {"activity": "Going down stairs", "score": 6},
            ],
        },
    )
    follow_up = _record(
        api,
        user,
        episode,
        {
            "instrument": "faam",
            "date": (start + dt.timedelta(days=14)).isoformat(),
            "answers": _faam_answers(3, "na", adl_blank=2),
        },
    )
    return episode, faam, psfs, follow_up


def test_each_response_becomes_a_questionnaire_response_and_an_observation_per_score(
    cast, api, answered
):
    episode, faam, psfs, follow_up = answered
    bundle = _bundle(api, cast.therapist, episode)
    responses = _resources(bundle, "QuestionnaireResponse")
    assert len(responses) == 3
    for resource in responses:
        QuestionnaireResponse.model_validate(resource)
        assert resource["status"] == "completed"
    assert [r["questionnaire"] for r in responses] == [
        f"{BASE}/Questionnaire/faam|1.0.0",
        f"{BASE}/Questionnaire/psfs|1.0.0",
        f"{BASE}/Questionnaire/faam|1.0.0",
    ]
    assert [r["identifier"]["value"] for r in responses] == [
        str(faam["id"]),
        str(psfs["id"]),
        str(follow_up["id"]),
    ]
    assert (
        responses[0]["identifier"]["system"] == "http://testserver/fhir/sid/questionnaire-response"
    )
    assert [r["authored"] for r in responses] == [faam["date"], psfs["date"], follow_up["date"]]

    # Baseline FAAM: ADL and Sports scores; PSFS: one; follow-up: ADL only (Sports all N/A).
    observations = _score_observations(bundle)
    for resource in observations:
        Observation.model_validate(resource)
        assert resource["category"] == [{"coding": [SURVEY]}]
        assert resource["status"] == "final"
    got = [
        (r["effectiveDateTime"], r["code"]["coding"][0]["code"], r["valueQuantity"]["value"])
        for r in observations
    ]
    assert got == [
        (faam["date"], "faam-adl", faam["scores"]["adl"]),
        (faam["date"], "faam-sports", faam["scores"]["sports"]),
        (psfs["date"], "psfs", psfs["scores"]["psfs"]),
        (follow_up["date"], "faam-adl", follow_up["scores"]["adl"]),
    ]
    # By hand: 20 ADL items answered 2 (adl-3 N/A) → 40 / 80 = 50.0; Sports 8 × 1 → 25.0;
    # PSFS (3 + 2 + 6) / 3 = 3.666… → 3.7; follow-up 19 ADL items answered 3 → 75.0.
    assert [value for *_, value in got] == [50.0, 25.0, 3.7, 75.0]
    assert follow_up["scores"]["sports"] is None
    units = {r["code"]["coding"][0]["code"]: r["valueQuantity"] for r in observations}
    assert units["faam-adl"] | {"value": 0} == {
        "value": 0,
        "unit": "%",
        "system": "http://unitsofmeasure.org",
        "code": "%",
    }
    assert units["psfs"]["code"] == "{score}"


def test_the_answers_conform_to_the_questionnaire_they_name(cast, api, answered):
    episode, *_ = answered
    bundle = _bundle(api, cast.therapist, episode)
    definitions = {
        q["url"]: q
        for q in (
            _get(api, cast.therapist, "/api/v1/questionnaires/faam/"),
            _get(api, cast.therapist, "/api/v1/questionnaires/psfs/"),
        )
    }
    baseline, psfs, follow_up = _resources(bundle, "QuestionnaireResponse")
    for response in (baseline, psfs, follow_up):
        url, version = response["questionnaire"].split("|")
        assert version == definitions[url]["version"]
        _conform(response, definitions[url])

    answers = {i["linkId"]: i["answer"][0] for i in _items(baseline["item"]) if "answer" in i}
    assert list(answers) == ADL_IDS + SPORTS_IDS
    assert answers["adl-3"]["valueCoding"]["code"] == "na"
    assert answers["adl-1"]["valueCoding"]["code"] == "2"
    assert answers["sports-8"]["valueCoding"]["display"] == "Extreme difficulty"
    # Blank items are left out; N/A is kept (it is an answer).
    later = [i["linkId"] for i in _items(follow_up["item"]) if "answer" in i]
    assert later == ADL_IDS[2:] + SPORTS_IDS
    assert {
        i["answer"][0]["valueCoding"]["code"]
        for i in _items(follow_up["item"])
        if i["linkId"].startswith("sports-")
    } == {"na"}

    rows = [
        {child["linkId"]: child["answer"][0] for child in group["item"]} for group in psfs["item"]
    ]
    assert [(r["activity"]["valueString"], r["score"]["valueInteger"]) for r in rows] == [
        ("Relevé on the right foot", 3),
        ("Jumps", 2),
        ("Going down stairs", 6),
    ]


def test_score_observations_point_at_their_response_and_everything_at_the_patient(
    cast, api, answered
):
    episode, *_ = answered
    bundle = _bundle(api, cast.therapist, episode)
    by_url = {e["fullUrl"]: e["resource"] for e in bundle["entry"]}
    (patient_url,) = [u for u, r in by_url.items() if r["resourceType"] == "Patient"]
    for resource in _resources(bundle, "QuestionnaireResponse"):
        assert resource["subject"] == resource["source"] == {"reference": patient_url}
    for observation in _score_observations(bundle):
        assert observation["subject"] == {"reference": patient_url}
        (derived,) = observation["derivedFrom"]
        source = by_url[derived["reference"]]
        assert source["resourceType"] == "QuestionnaireResponse"
        assert source["authored"] == observation["effectiveDateTime"]
        expected = "psfs" if observation["code"]["coding"][0]["code"] == "psfs" else "faam"
        assert f"/Questionnaire/{expected}|" in source["questionnaire"]
    again = _bundle(api, cast.therapist, episode)
    assert [e["fullUrl"] for e in again["entry"]] == [e["fullUrl"] for e in bundle["entry"]]


def test_a_response_replaced_the_same_day_is_exported_once_with_its_new_answers(
    cast, api, answered
):
    episode, faam, *_ = answered
    _record(
        api,
        cast.therapist,
        episode,
        {"instrument": "faam", "date": faam["date"], "answers": _faam_answers(4, 4)},
    )
    bundle = _bundle(api, cast.therapist, episode)
    assert len(_resources(bundle, "QuestionnaireResponse")) == 3
    first_day = [
        r["valueQuantity"]["value"]
        for r in _score_observations(bundle)
        if r["effectiveDateTime"] == faam["date"]
    ]
    assert first_day == [100.0, 100.0]


def test_a_faam_without_any_score_has_a_response_but_no_observation(cast, api):
    episode = cast.episode_b
    # 18 ADL items answered (one short of the 19 needed), Sports all N/A: neither has a score.
    _record(
        api,
        cast.patient_b.user,
        episode,
        {
            "instrument": "faam",
            "date": episode.start_date.isoformat(),
            "answers": _faam_answers(4, "na", adl_blank=3),
        },
    )
    bundle = _bundle(api, cast.therapist, episode)
    (response,) = _resources(bundle, "QuestionnaireResponse")
    assert len([i for i in _items(response["item"]) if "answer" in i]) == 18 + 8
    assert _score_observations(bundle) == []


def test_the_patients_own_export_carries_their_responses(cast, api, answered):
    data = _get(api, cast.patient_a.user, "/api/v1/me/export/?format=fhir")
    Bundle.model_validate(data)
    assert len(_resources(data, "QuestionnaireResponse")) == 3
    assert len(_score_observations(data)) == 4


def test_the_patients_json_download_carries_their_responses_as_the_api_lists_them(
    cast, api, answered
):
    episode, faam, psfs, follow_up = answered
    data = _get(api, cast.patient_a.user, "/api/v1/me/export/?format=json")
    (exported,) = [e for e in data["episodes"] if e["id"] == episode.pk]
    listed = _get(
        api, cast.patient_a.user, f"/api/v1/episodes/{episode.pk}/questionnaire-responses/"
    )
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert exported["questionnaire_responses"] == rows
    assert [r["id"] for r in rows] == [faam["id"], psfs["id"], follow_up["id"]]
    assert exported["questionnaire_responses"][1]["activities"][0] == {
        "activity": "Relevé on the right foot",
        "score": 3,
    }


@pytest.mark.parametrize("persona", out_of_reach_of("patient_a"))
def test_out_of_reach_is_404(cast, api, answered, persona):
    episode, *_ = answered
    response = api(user_of(cast, persona)).get(f"/api/v1/episodes/{episode.pk}/fhir/")
    assert response.status_code == 404
