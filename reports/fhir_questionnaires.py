"""The FAAM and PSFS as FHIR R4: their ``Questionnaire``s, the local ``CodeSystem``s, and each
recorded response as a ``QuestionnaireResponse`` with an ``Observation`` per score.

Pure builders (no database reads): the API views in ``reports.api`` serve the definitions, and
``reports.exports.fhir_bundle`` adds the responses to the episode bundle. docs/fhir.md lists
every code and system used here, and says which are local and why.

Canonical URLs. The Questionnaires and code systems are named under a base this installation
owns: ``settings.FHIR_BASE_URL`` (``PAIS_FHIR_BASE_URL``), else ``SITE_URL`` + ``/fhir``, as the
identifier systems in ``reports.exports`` are named under ``SITE_URL``. No LOINC code exists
for the FAAM or its subscale scores, and none could be confirmed for the PSFS score, so their
codes are local: the FAAM answer codes (``faam-answer``) and the score codes
(``function-score``) are CodeSystems published at those canonical URLs (``code_system``).

The texts are the published English wording (``rehab.function_scores``): FHIR data is
interchange data, English like its codes, whatever language the person downloading reads.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, Final, Protocol

from django.conf import settings

from rehab import function_scores as fs

# The version of these definitions: bump it when an item, its wording, an answer or a code
# changes, so that a stored QuestionnaireResponse still names the form it answered.
DEFINITIONS_VERSION: Final = "1.0.0"
# The day DEFINITIONS_VERSION was published (Questionnaire.date, CodeSystem.date).
DEFINITIONS_DATE: Final = "2026-12-06"
PUBLISHER: Final = "PAIS rehab"

UCUM: Final = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY: Final = "http://terminology.hl7.org/CodeSystem/observation-category"
# Core FHIR extensions (hl7.org/fhir/R4/extensibility-registry.html).
ORDINAL_VALUE: Final = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
MIN_VALUE: Final = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE: Final = "http://hl7.org/fhir/StructureDefinition/maxValue"
MAX_OCCURS: Final = "http://hl7.org/fhir/StructureDefinition/questionnaire-maxOccurs"
ENTRY_FORMAT: Final = "http://hl7.org/fhir/StructureDefinition/entryFormat"

FAAM_CITATION: Final = (
    "Martin RL, Irrgang JJ, Burdett RG, Conti SF, Van Swearingen JM. Evidence of validity for "
    "the Foot and Ankle Ability Measure (FAAM). Foot Ankle Int. 2005;26(11):968-983. "
    "doi:10.1177/107110070502601113"
)
PSFS_CITATION: Final = (
    "Stratford P, Gill C, Westaway M, Binkley J. Assessing disability and change on individual "
    "patients: a report of a patient specific measure. Physiother Can. 1995;47(4):258-263. "
    "Horn KK, Jennings S, Richardson G, Vliet DV, Hefford C, Abbott JH. The patient-specific "
    "functional scale: psychometrics, clinimetrics, and application as a clinical outcome "
    "measure. J Orthop Sports Phys Ther. 2012;42(1):30-42."
)

# The local code systems (CodeSystem ids; the canonical URL is the base + /CodeSystem/<id>).
FAAM_ANSWER: Final = "faam-answer"
FUNCTION_SCORE: Final = "function-score"
CODE_SYSTEMS: Final = (FAAM_ANSWER, FUNCTION_SCORE)

# The score codes: (code, display, definition).
FAAM_ADL_SCORE: Final = "faam-adl"
FAAM_SPORTS_SCORE: Final = "faam-sports"
PSFS_SCORE: Final = "psfs"
SCORE_CODES: Final[tuple[tuple[str, str, str], ...]] = (
    (
        FAAM_ADL_SCORE,
        "FAAM Activities of Daily Living subscale score",
        "The FAAM ADL subscale score, 0-100 %: the sum of the 0-4 answers to the 21 ADL items "
        "divided by 4 times the number of items answered 0-4, times 100, rounded to 0.1. Only "
        "given when at least 19 of the 21 items have a 0-4 answer (N/A and blank count against "
        "it). Higher is better. Minimal clinically important difference 8 points.",
    ),
    (
        FAAM_SPORTS_SCORE,
        "FAAM Sports subscale score",
        "The FAAM Sports subscale score, 0-100 %: the sum of the 0-4 answers to the 8 Sports "
        "items divided by 4 times the number of items answered 0-4, times 100, rounded to 0.1. "
        "Only given when at least 7 of the 8 items have a 0-4 answer (N/A and blank count "
        "against it). Higher is better. Minimal clinically important difference 9 points.",
    ),
    (
        PSFS_SCORE,
        "Patient-Specific Functional Scale score",
        "The PSFS score, 0-10: the mean of the 0-10 ratings of the 1-5 activities the patient "
        "named (0 unable to perform, 10 able to perform at the level before the injury), rounded "
        "to 0.1. Higher is better. Minimal clinically important difference 2 points.",
    ),
)
_SCORE_DISPLAY: Final = {code: display for code, display, _ in SCORE_CODES}

# The FAAM answers as codes: "4" … "0" and "na" (the API's values, as text).
FAAM_NA_DEFINITION: Final = (
    "Not applicable: the activity is limited by something other than the foot or ankle. Left "
    "out of the subscale score, and counts against its minimum number of answered items."
)

PSFS_INSTRUCTIONS: Final = (
    "Identify up to five important activities that you are unable to do or are having "
    "difficulty with as a result of your ankle problem, and rate each one: 0 means unable to "
    "perform the activity, 10 means able to perform it at the same level as before the injury "
    "or problem. At a follow-up, rate the same activities again."
)
PSFS_ACTIVITIES: Final = "activities"
PSFS_ACTIVITY: Final = "activity"
PSFS_RATING: Final = "score"


def fhir_base() -> str:
    """The base of this installation's canonical URLs (no trailing slash)."""
    configured = str(getattr(settings, "FHIR_BASE_URL", "") or "").rstrip("/")
    return configured or f"{settings.SITE_URL}/fhir"


def questionnaire_url(instrument: str) -> str:
    return f"{fhir_base()}/Questionnaire/{instrument}"


def code_system_url(name: str) -> str:
    return f"{fhir_base()}/CodeSystem/{name}"


def _coding(system_name: str, code: str, display: str) -> dict[str, Any]:
    return {"system": code_system_url(system_name), "code": code, "display": display}


def faam_answer_code(value: int | str) -> str:
    """The code of a stored FAAM answer (4 → "4", "na" → "na")."""
    return str(value)


def _faam_answer_coding(value: int | str) -> dict[str, Any]:
    coding = _coding(FAAM_ANSWER, faam_answer_code(value), fs.FAAM_ANSWERS[value])
    if isinstance(value, int):
        # The item's score on the form, so that a receiver can score the response itself.
        coding["extension"] = [{"url": ORDINAL_VALUE, "valueDecimal": value}]
    return coding


# --- Definitions -------------------------------------------------------------------------------


def _definition(instrument: str, name: str, title: str) -> dict[str, Any]:
    return {
        "resourceType": "Questionnaire",
        "id": instrument,
        "url": questionnaire_url(instrument),
        "version": DEFINITIONS_VERSION,
        "name": name,
        "title": title,
        "status": "active",
        "experimental": False,
        "subjectType": ["Patient"],
        "date": DEFINITIONS_DATE,
        "publisher": PUBLISHER,
        "language": "en",
    }


def faam_questionnaire() -> dict[str, Any]:
    """The FAAM as an R4 Questionnaire: a group per subscale holding its items in the order of
    the published form (linkIds ``adl-1`` … ``adl-21``, ``sports-1`` … ``sports-8``), each a
    choice among the six answers of the ``faam-answer`` code system."""
    options = [{"valueCoding": _faam_answer_coding(value)} for value in fs.FAAM_ANSWERS]

    def group(
        link_id: str, title: str, question: str, items: Sequence[fs.FaamItem]
    ) -> dict[str, Any]:
        return {
            "linkId": link_id,
            "text": f"{title}. {question}",
            "type": "group",
            "item": [
                {
                    "linkId": item.link_id,
                    "prefix": str(item.number),
                    "text": item.text,
                    "type": "choice",
                    # Unanswered items may be left out (the 90% rule decides the score).
                    "required": False,
                    "answerOption": options,
                }
                for item in items
            ],
        }

    questionnaire = _definition("faam", "FAAM", "Foot and Ankle Ability Measure (FAAM)")
    questionnaire.update(
        {
            "description": (
                "The Foot and Ankle Ability Measure: an Activities of Daily Living subscale of "
                f"{fs.FAAM_ADL_ITEM_COUNT} items and a Sports subscale of "
                f"{fs.FAAM_SPORTS_ITEM_COUNT} items. Answer every question with the one "
                "response that most closely describes your condition within the past week; if "
                "the activity is limited by something other than your foot or ankle, answer "
                "N/A. Each subscale is scored on its own, 0-100 %: the sum of its 0-4 answers "
                "divided by 4 times the number of items answered 0-4, times 100, and only when "
                f"at least {fs.FAAM_ADL_MIN_ANSWERED} ADL (or {fs.FAAM_SPORTS_MIN_ANSWERED} "
                "Sports) items have a 0-4 answer. The subscales are never added. " + FAAM_CITATION
            ),
            "purpose": (
                "Function of the foot and ankle in daily life and in sport during a "
                "conservative trial for posterior ankle impingement: a baseline in trial days "
                "1-7, then around the review day and the referral-overdue day."
            ),
            "copyright": "The FAAM is free to use. Source: " + FAAM_CITATION,
            "item": [
                group(
                    fs.ADL,
                    "Activities of Daily Living",
                    fs.FAAM_ADL_QUESTION,
                    fs.FAAM_ADL_ITEMS,
                ),
                group(
                    fs.SPORTS,
                    "Sports",
                    fs.FAAM_SPORTS_QUESTION,
                    fs.FAAM_SPORTS_ITEMS,
                ),
            ],
        }
    )
    return questionnaire


def psfs_questionnaire() -> dict[str, Any]:
    """The PSFS as an R4 Questionnaire: a group ``activities`` that repeats once per activity
    (1–5), holding the activity's name (``activity``, text) and its rating (``score``, 0–10)."""
    questionnaire = _definition("psfs", "PSFS", "Patient-Specific Functional Scale (PSFS)")
    questionnaire.update(
        {
            "description": (
                "The Patient-Specific Functional Scale: the patient names "
                f"{fs.PSFS_MIN_ACTIVITIES}-{fs.PSFS_MAX_ACTIVITIES} activities they cannot do "
                "as before, and rates each 0 (unable to perform) to 10 (able to perform at the "
                "same level as before the injury). The score is the mean of the ratings. The "
                "same activities are rated again at each follow-up. " + PSFS_CITATION
            ),
            "purpose": (
                "The activities that matter to this patient (for a dancer: releve, jumps) "
                "during a conservative trial for posterior ankle impingement: a baseline in "
                "trial days 1-7, then around the review day and the referral-overdue day."
            ),
            "copyright": "The PSFS is free to use. Source: " + PSFS_CITATION,
            "item": [
                {
                    "linkId": PSFS_ACTIVITIES,
                    "text": PSFS_INSTRUCTIONS,
                    "type": "group",
                    "required": True,
                    "repeats": True,
                    "extension": [{"url": MAX_OCCURS, "valueInteger": fs.PSFS_MAX_ACTIVITIES}],
                    "item": [
                        {
                            "linkId": PSFS_ACTIVITY,
                            "text": "Activity",
                            "type": "string",
                            "required": True,
                            "maxLength": fs.PSFS_ACTIVITY_MAX_LENGTH,
                            "extension": [
                                {"url": ENTRY_FORMAT, "valueString": "e.g. going down stairs"}
                            ],
                        },
                        {
                            "linkId": PSFS_RATING,
                            "text": (
                                "How well can you do it today? 0 = unable to perform, "
                                "10 = able to perform at the same level as before the injury"
                            ),
                            "type": "integer",
                            "required": True,
                            "extension": [
                                {"url": MIN_VALUE, "valueInteger": fs.PSFS_SCORE_MIN},
                                {"url": MAX_VALUE, "valueInteger": fs.PSFS_SCORE_MAX},
                            ],
                        },
                    ],
                }
            ],
        }
    )
    return questionnaire


QUESTIONNAIRES: Final = {fs.FAAM: faam_questionnaire, fs.PSFS: psfs_questionnaire}


def questionnaire(instrument: str) -> dict[str, Any] | None:
    """The Questionnaire of ``instrument`` ("faam", "psfs"), None for anything else."""
    build = QUESTIONNAIRES.get(instrument)
    return None if build is None else build()


def _code_system(name: str, title: str, description: str) -> dict[str, Any]:
    return {
        "resourceType": "CodeSystem",
        "id": name,
        "url": code_system_url(name),
        "version": DEFINITIONS_VERSION,
        "name": "".join(part.capitalize() for part in name.split("-")),
        "title": title,
        "status": "active",
        "experimental": False,
        "date": DEFINITIONS_DATE,
        "publisher": PUBLISHER,
        "description": description,
        "caseSensitive": True,
        "content": "complete",
    }


def faam_answer_code_system() -> dict[str, Any]:
    """The six FAAM answers: "4" No difficulty at all … "0" Unable to do, and "na" N/A."""
    resource = _code_system(
        FAAM_ANSWER,
        "FAAM answers",
        "The answers to each item of the Foot and Ankle Ability Measure, coded by the item "
        "score they give (4 no difficulty at all ... 0 unable to do) and na (not applicable). "
        "Local: no standard terminology codes these answers. " + FAAM_CITATION,
    )
    concepts = []
    for value, display in fs.FAAM_ANSWERS.items():
        concept: dict[str, Any] = {"code": faam_answer_code(value), "display": display}
        if isinstance(value, int):
            concept["definition"] = f"{display}: scores {value} of 4."
        else:
            concept["definition"] = FAAM_NA_DEFINITION
        concepts.append(concept)
    resource["count"] = len(concepts)
    resource["concept"] = concepts
    return resource


def function_score_code_system() -> dict[str, Any]:
    """The codes of the function score Observations: faam-adl, faam-sports, psfs."""
    resource = _code_system(
        FUNCTION_SCORE,
        "Function scores",
        "The scores of the function questionnaires this product records, each an Observation "
        "of category survey. Local: no LOINC code exists for the FAAM or its subscales, and "
        "none could be confirmed for the PSFS score.",
    )
    resource["count"] = len(SCORE_CODES)
    resource["concept"] = [
        {"code": code, "display": display, "definition": definition}
        for code, display, definition in SCORE_CODES
    ]
    return resource


CODE_SYSTEM_BUILDERS: Final = {
    FAAM_ANSWER: faam_answer_code_system,
    FUNCTION_SCORE: function_score_code_system,
}


def code_system(name: str) -> dict[str, Any] | None:
    """The local CodeSystem ``name`` ("faam-answer", "function-score"), None for anything else."""
    build = CODE_SYSTEM_BUILDERS.get(name)
    return None if build is None else build()


# --- Responses ---------------------------------------------------------------------------------


class RecordedResponse(Protocol):
    """What the builders read of a ``rehab.models.QuestionnaireResponse``."""

    pk: Any
    instrument: str
    date: dt.date
    answers: Any
    score_adl: Decimal | None
    score_sports: Decimal | None
    score_psfs: Decimal | None


def _faam_items(answers: Any) -> list[dict[str, Any]]:
    """The answered FAAM items, grouped by subscale in the form's order; blanks left out."""
    stored = answers if isinstance(answers, dict) else {}
    groups: list[dict[str, Any]] = []
    for subscale, items in ((fs.ADL, fs.FAAM_ADL_ITEMS), (fs.SPORTS, fs.FAAM_SPORTS_ITEMS)):
        answered = []
        for item in items:
            value = stored.get(item.link_id)
            if value is None:
                continue
            answer: int | str = fs.NA if value == fs.NA else int(value)
            answered.append(
                {
                    "linkId": item.link_id,
                    "text": item.text,
                    "answer": [{"valueCoding": _faam_answer_coding(answer)}],
                }
            )
        if answered:
            groups.append({"linkId": subscale, "item": answered})
    return groups


def _psfs_items(answers: Any) -> list[dict[str, Any]]:
    """One ``activities`` group per activity, in the order the patient named them."""
    stored = answers if isinstance(answers, list) else []
    return [
        {
            "linkId": PSFS_ACTIVITIES,
            "item": [
                {"linkId": PSFS_ACTIVITY, "answer": [{"valueString": str(row["activity"])}]},
                {"linkId": PSFS_RATING, "answer": [{"valueInteger": int(row["score"])}]},
            ],
        }
        for row in stored
    ]


def questionnaire_response(
    response: RecordedResponse, *, patient_ref: str, identifier_system: str
) -> dict[str, Any]:
    """A recorded FAAM or PSFS as a ``completed`` QuestionnaireResponse of its Questionnaire
    (canonical URL and version), answered by the patient on the response's date."""
    items = (
        _faam_items(response.answers)
        if response.instrument == fs.FAAM
        else _psfs_items(response.answers)
    )
    resource: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "identifier": {"system": identifier_system, "value": str(response.pk)},
        "questionnaire": f"{questionnaire_url(response.instrument)}|{DEFINITIONS_VERSION}",
        "status": "completed",
        "subject": {"reference": patient_ref},
        "authored": response.date.isoformat(),
        # The answers are the patient's own, also when staff typed them in on their behalf.
        "source": {"reference": patient_ref},
    }
    if items:
        resource["item"] = items
    return resource


def _score_value(code: str, score: Decimal) -> dict[str, Any]:
    if code == PSFS_SCORE:
        return {"value": float(score), "unit": "score", "system": UCUM, "code": "{score}"}
    return {"value": float(score), "unit": "%", "system": UCUM, "code": "%"}


def score_observations(
    response: RecordedResponse, *, patient_ref: str, response_ref: str
) -> list[tuple[str, dict[str, Any]]]:
    """An Observation (category ``survey``) per known score of ``response``, as
    ``(code, resource)``; each is derived from the QuestionnaireResponse at ``response_ref``.
    A subscale without a score (too few items answered 0-4) has no Observation."""
    if response.instrument == fs.FAAM:
        scores = [(FAAM_ADL_SCORE, response.score_adl), (FAAM_SPORTS_SCORE, response.score_sports)]
    else:
        scores = [(PSFS_SCORE, response.score_psfs)]
    observations = []
    for code, score in scores:
        if score is None:
            continue
        display = _SCORE_DISPLAY[code]
        observations.append(
            (
                code,
                {
                    "resourceType": "Observation",
                    "status": "final",
                    "category": [
                        {
                            "coding": [
                                {
                                    "system": OBSERVATION_CATEGORY,
                                    "code": "survey",
                                    "display": "Survey",
                                }
                            ]
                        }
                    ],
                    "code": {"coding": [_coding(FUNCTION_SCORE, code, display)], "text": display},
                    "subject": {"reference": patient_ref},
                    "effectiveDateTime": response.date.isoformat(),
                    "valueQuantity": _score_value(code, score),
                    "derivedFrom": [{"reference": response_ref}],
                },
            )
        )
    return observations
