"""The codes of the episode bundle beyond the questionnaires: the diary's Observations, the
Condition, the alert Flags, and the two local CodeSystems that publish our own codes
(``observation`` and ``finding``).

Pure data and builders (no database reads). docs/fhir.md lists every code with its source and
says which are exact and which are only the closest a standard terminology offers. The rule is:
never invent a code in somebody else's system. Where no standard code could be confirmed, the
code is ours, under this installation's canonical base (``reports.fhir_questionnaires.fhir_base``),
and served as a ``CodeSystem`` at ``/api/v1/code-systems/<name>/``.
"""

from __future__ import annotations

from typing import Any, Final

from django.utils import translation

from rehab import rules
from rehab.models import Side
from rehab.vocabulary import code_label
from reports import fhir_questionnaires as fq

LOINC: Final = "http://loinc.org"
SNOMED: Final = "http://snomed.info/sct"
ICD10CM: Final = "http://hl7.org/fhir/sid/icd-10-cm"
V2_IDENTIFIER_TYPE: Final = "http://terminology.hl7.org/CodeSystem/v2-0203"

# --- Pain: LOINC for the scale, our own code for when -----------------------------------------

# The scale: a 0-10 numeric rating of pain severity, reported by the patient (exact).
PAIN_LOINC: Final = "72514-3"
PAIN_LOINC_DISPLAY: Final = "Pain severity - 0-10 verbal numeric rating [Score] - Reported"

# Our own codes (local CodeSystem "observation"): no LOINC code for "pain during activity" or
# "pain at rest" on a 0-10 scale could be confirmed, so the circumstance is a local code beside
# the LOINC scale code; the two pain Observations of a day never share a coding set.
OBSERVATION: Final = "observation"
PAIN_ACTIVITY: Final = "pain-activity"
PAIN_REST: Final = "pain-rest"
PLANTAR_FLEXION: Final = "ankle-plantar-flexion-rom"
OBSERVATION_CODES: Final[tuple[tuple[str, str, str], ...]] = (
    (
        PAIN_ACTIVITY,
        "Pain during activity (0-10 numeric rating)",
        "The worst pain at the back of the ankle during activity, or on rising onto the toes, "
        "that day, as the patient rates it on a 0-10 numeric rating scale (0 no pain, 10 worst "
        "pain imaginable). The scale is LOINC 72514-3, which Observations carry beside this code.",
    ),
    (
        PAIN_REST,
        "Pain at rest (0-10 numeric rating)",
        "The pain at the back of the ankle at rest that day, as the patient rates it on a 0-10 "
        "numeric rating scale (0 no pain, 10 worst pain imaginable). The scale is LOINC "
        "72514-3, which Observations carry beside this code.",
    ),
    (
        PLANTAR_FLEXION,
        "Ankle plantar flexion range of motion (goniometry)",
        "The range of active plantar flexion of the ankle, in degrees from neutral (foot at 90 "
        "degrees to the leg), measured with a goniometer, 0-90 to a tenth of a degree. The "
        "ankle measured is the Observation's bodySite (left or right, with its laterality).",
    ),
)
_OBSERVATION_DISPLAY: Final = {code: display for code, display, _ in OBSERVATION_CODES}


def observation_coding(code: str) -> dict[str, Any]:
    return {
        "system": fq.code_system_url(OBSERVATION),
        "code": code,
        "display": _OBSERVATION_DISPLAY[code],
    }


def pain_code(code: str) -> dict[str, Any]:
    """The code of a pain Observation: the LOINC scale and our circumstance code."""
    return {
        "coding": [
            {"system": LOINC, "code": PAIN_LOINC, "display": PAIN_LOINC_DISPLAY},
            observation_coding(code),
        ],
        "text": _OBSERVATION_DISPLAY[code],
    }


# --- Body site and laterality -----------------------------------------------------------------

# SNOMED CT body structures, lateralised (each is-a "Ankle region structure" 344001).
ANKLE: Final = {
    Side.LEFT: ("51636004", "Structure of left ankle"),
    Side.RIGHT: ("6685009", "Structure of right ankle"),
}
# SNOMED CT laterality qualifier values.
LATERALITY: Final = {
    Side.LEFT: ("7771000", "Left"),
    Side.RIGHT: ("24028007", "Right"),
}


def laterality_extension_url() -> str:
    """R4 has no laterality element on bodySite: an extension of ours carries it (the
    lateralised SNOMED CT body structure says the same, for receivers that ignore it)."""
    return f"{fq.fhir_base()}/StructureDefinition/laterality"


def ankle(side: str, note: str) -> dict[str, Any]:
    code, display = ANKLE[Side(side)]
    lat_code, lat_display = LATERALITY[Side(side)]
    with translation.override("en"):
        side_text = str(Side(side).label)
    return {
        "extension": [
            {
                "url": laterality_extension_url(),
                "valueCoding": {"system": SNOMED, "code": lat_code, "display": lat_display},
            }
        ],
        "coding": [{"system": SNOMED, "code": code, "display": display}],
        "text": f"{side_text} ankle ({note})",
    }


# --- The condition -----------------------------------------------------------------------------

CONDITION_TEXT: Final = "Posterior ankle impingement syndrome"
# Closest, not exact: "Impingement syndrome of ankle (disorder)". No SNOMED CT concept for the
# posterior form could be confirmed; this one is published in the Belgian eHealth eReferral
# value set be-vs-diagnostic-imaging-indication (docs/fhir.md).
CONDITION_SNOMED: Final = ("240021001", "Impingement syndrome of ankle")
# Closest, not exact: ICD-10-CM has no code for ankle impingement; posterior ankle impingement
# is classified under "Other specified joint disorders, ankle and foot", by side.
CONDITION_ICD10CM: Final = {
    Side.RIGHT: ("M25.871", "Other specified joint disorders, right ankle and foot"),
    Side.LEFT: ("M25.872", "Other specified joint disorders, left ankle and foot"),
}


def condition_code(side: str) -> dict[str, Any]:
    snomed_code, snomed_display = CONDITION_SNOMED
    icd_code, icd_display = CONDITION_ICD10CM[Side(side)]
    return {
        "coding": [
            {"system": SNOMED, "code": snomed_code, "display": snomed_display},
            {"system": ICD10CM, "code": icd_code, "display": icd_display},
        ],
        "text": CONDITION_TEXT,
    }


# --- Flags: the finding codes --------------------------------------------------------------

FINDING: Final = "finding"
FINDING_DEFINITIONS: Final[dict[str, str]] = {
    rules.BASELINE_MISSING: "From trial day 8, no baseline activity pain (the mean of the "
    "first week's entries) is known.",
    rules.LOGGING_GAP: "From trial day 7, fewer than 4 diary entries in the last 7 days.",
    rules.PAIN_WORSENING: "From trial day 8, the mean activity pain of the last 3 days (at least "
    "2 entries) is 2 points or more above the baseline.",
    rules.IMPROVING: "Activity pain has improved by the minimal clinically important difference "
    "from the baseline (2 points and 30%; 30% alone when the baseline is 4 or less), and the "
    "complaint is not resolved.",
    rules.RESOLVED: "From trial day 8, the current activity pain is 1 or less.",
    rules.ADHERENCE_LOW: "From trial day 14, fewer than 80% of the prescribed exercise sets were "
    "done.",
    rules.REFERRAL_CONSIDER: "Trial days 42-55 of an active episode: activity pain has not "
    "improved by the minimal clinically important difference despite adherent conservative "
    "care; consider referral for a surgical opinion.",
    rules.REFERRAL_OVERDUE: "As REFERRAL_CONSIDER, from trial day 56: the referral for a "
    "surgical opinion is overdue.",
    rules.ROM_DECLINE: "Plantar flexion of the affected ankle is 10 degrees or more below its "
    "first week's value.",
    rules.ROM_DEFICIT: "From trial day 42, plantar flexion of the affected ankle is 10 degrees "
    "or more below the other side (supporting evidence only).",
    rules.IMMOBILIZATION_PROLONGED: "An immobilization has lasted more than 10 days.",
    rules.BMI_ELEVATED: "The episode's body mass index is 30 or more.",
    rules.FUNCTION_NOT_IMPROVING: "From the review day, the FAAM Sports score (or ADL when "
    "Sports is unknown) has not improved by its minimal clinically important difference.",
}


def finding_display(code: str) -> str:
    with translation.override("en"):
        return code_label(code)


def finding_coding(code: str) -> dict[str, Any]:
    return {"system": fq.code_system_url(FINDING), "code": code, "display": finding_display(code)}


# --- The CodeSystems ---------------------------------------------------------------------------


def observation_code_system() -> dict[str, Any]:
    resource = fq._code_system(
        OBSERVATION,
        "Rehab diary observations",
        "The codes of the diary's Observations that no standard terminology could be confirmed "
        "to code: pain during activity and at rest (each beside LOINC 72514-3, the 0-10 "
        "numeric rating scale) and ankle plantar flexion range of motion.",
    )
    resource["count"] = len(OBSERVATION_CODES)
    resource["concept"] = [
        {"code": code, "display": display, "definition": definition}
        for code, display, definition in OBSERVATION_CODES
    ]
    return resource


def finding_code_system() -> dict[str, Any]:
    resource = fq._code_system(
        FINDING,
        "Rehab findings",
        "The findings of the product's clinical rules for a conservative trial in posterior "
        "ankle impingement, which unresolved alerts carry as Flag codes. The same codes on every "
        "installation; the thresholds are the product's defaults (a clinic may tune some).",
    )
    resource["count"] = len(rules.FINDING_SEVERITY)
    resource["concept"] = [
        {
            "code": code,
            "display": finding_display(code),
            "definition": f"{FINDING_DEFINITIONS[code]} Severity: {severity}.",
        }
        for code, severity in rules.FINDING_SEVERITY.items()
    ]
    return resource


BUILDERS: Final = {OBSERVATION: observation_code_system, FINDING: finding_code_system}


def code_system(name: str) -> dict[str, Any] | None:
    """Any local CodeSystem this installation publishes, by its id; None for anything else."""
    build = BUILDERS.get(name)
    return build() if build is not None else fq.code_system(name)
