"""The findings in rules.py are the table of docs/clinical-rules.md, one function per row.

``rules._FINDING_RULES`` maps each code, in the table's order, to the one function that decides
whether it fires and builds it. The first tests walk the documented table against it, so a row
cannot ship without its function (nor a function without its row). The others call each function
directly at the boundary its row states, the spec's defaults: it fires on the threshold and not
just past it. (test_findings.py checks the same findings through ``evaluate``, with their messages
and evidence, and with the thresholds overridden.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from rehab import rules
from rehab.rules import FINDING_SEVERITY, EpisodeData
from tests.rules.helpers import (
    DEFAULTS,
    RX,
    day,
    entries,
    episode,
    faam,
    flat,
    immobilization,
)

CLINICAL_RULES = Path(__file__).resolve().parents[2] / "docs" / "clinical-rules.md"
ROW = re.compile(r"^\| `(?P<code>[A-Z_]+)` \| (?P<severity>[a-z]+) \|", re.MULTILINE)


def documented_findings() -> list[tuple[str, str]]:
    """(code, severity) of each row of the table under "What it can tell you", in order."""
    text = CLINICAL_RULES.read_text(encoding="utf-8")
    section = text.split("## What it can tell you", 1)[1].split("\n## ", 1)[0]
    return [(row["code"], row["severity"]) for row in ROW.finditer(section)]


def test_the_documented_table_is_read():
    # Guards the parser: if the table's layout changed, the tests below would compare nothing.
    assert len(documented_findings()) >= 12


def test_every_documented_finding_has_one_function_in_the_documented_order():
    documented = documented_findings()

    assert [code for code, _ in documented] == list(rules._FINDING_RULES)
    assert documented == list(FINDING_SEVERITY.items())
    functions = list(rules._FINDING_RULES.values())
    assert len(set(functions)) == len(functions)
    # evaluate() walks exactly these functions, in this order.
    assert tuple(functions) == rules._FINDING_RULES_IN_ORDER


@pytest.mark.parametrize("code", list(rules._FINDING_RULES))
def test_a_finding_function_is_named_after_its_code(code):
    # So that searching the code for a row of the table finds its one place.
    assert rules._FINDING_RULES[code].__name__ == f"_{code.lower()}"


# --------------------------------------------------------------------------------------------
# Each function at its row's boundary (the defaults)


@dataclass(frozen=True)
class Case:
    """An episode on a trial day, and whether the row's finding fires then."""

    why: str
    episode: EpisodeData
    on_day: int
    fires: bool


def adherence_of(first_day: int, done_per_day: list[int]) -> EpisodeData:
    """One entry a day from ``first_day``, RX (3 sets a day) prescribed, these sets done."""
    return episode(
        *(entries(first_day + i, [5], done={RX.id: done}) for i, done in enumerate(done_per_day)),
        prescriptions=(RX,),
    )


STALLED = episode(flat(1, 7, 7), flat(36, 70, 6))  # baseline 7, current 6: 14%, no MCID
ROM_LOSS = episode(flat(1, 42, 5, rom=35, rom_other=45))  # 10° short of the healthy side
BOUNDARIES: dict[str, list[Case]] = {
    "BASELINE_MISSING": [
        Case("day 8, 3 entries in week 1, no intake", episode(flat(1, 3, 5)), 8, True),
        Case("day 7 is too early", episode(flat(1, 3, 5)), 7, False),
        Case("4 entries make week 1 usable", episode(flat(1, 4, 5)), 8, False),
        Case("an intake score stands in", episode(flat(1, 3, 5), intake_pain_activity=6), 8, False),
    ],
    "LOGGING_GAP": [
        Case("day 7, 3 entries in the last 7 days", episode(flat(1, 3, 5)), 7, True),
        Case("4 entries are enough", episode(flat(1, 4, 5)), 7, False),
        Case("day 6 is too early", episode(flat(1, 3, 5)), 6, False),
    ],
    "PAIN_WORSENING": [
        Case(
            "last 3 days average baseline + 2", episode(flat(1, 7, 4), entries(9, [6, 6])), 10, True
        ),
        Case("baseline + 1.5", episode(flat(1, 7, 4), entries(9, [6, 5])), 10, False),
        Case("1 entry in the last 3 days", episode(flat(1, 7, 4), entries(10, [9])), 10, False),
        Case(
            "day 8, intake baseline", episode(entries(6, [9, 9]), intake_pain_activity=4), 8, True
        ),
        Case("day 7 is too early", episode(entries(6, [9, 9]), intake_pain_activity=4), 7, False),
    ],
    "IMPROVING": [
        Case("5 -> 3: 2 points, 40%", episode(flat(1, 7, 5), flat(36, 42, 3)), 42, True),
        Case(
            "5 -> 22/7: 1.86 points", episode(flat(1, 7, 5), entries(36, [3] * 6 + [4])), 42, False
        ),
        Case("10 -> 7: 3 points, 30%", episode(flat(1, 7, 10), flat(36, 42, 7)), 42, True),
        Case("10 -> 50/7: 28.6%", episode(flat(1, 7, 10), entries(36, [7] * 6 + [8])), 42, False),
        Case("5 -> 1 is RESOLVED instead", episode(flat(1, 7, 5), flat(36, 42, 1)), 42, False),
    ],
    "RESOLVED": [
        Case("day 8, current exactly 1", episode(flat(1, 8, 1)), 8, True),
        Case("current 8/7", episode(flat(1, 7, 5), entries(36, [1] * 6 + [2])), 42, False),
        Case("day 7 is too early", episode(flat(1, 7, 1)), 7, False),
    ],
    "ADHERENCE_LOW": [
        Case("day 14, 23 of 30 sets (76.7%)", adherence_of(5, [3] * 7 + [2] + [0] * 2), 14, True),
        Case("exactly 80% (24 of 30)", adherence_of(5, [3] * 8 + [0] * 2), 14, False),
        Case("day 13 is too early", adherence_of(1, [0] * 13), 13, False),
        Case("nothing prescribed", episode(flat(1, 14, 5)), 14, False),
    ],
    "REFERRAL_CONSIDER": [
        Case("day 42, no MCID", STALLED, 42, True),
        Case("day 41 is too early", STALLED, 41, False),
        Case("day 55, the last", STALLED, 55, True),
        Case("day 56 is overdue instead", STALLED, 56, False),
        Case(
            "a referral recorded",
            episode(flat(1, 7, 7), flat(36, 42, 6), has_referral=True),
            42,
            False,
        ),
    ],
    "REFERRAL_OVERDUE": [
        Case("day 56, no MCID", STALLED, 56, True),
        Case("day 55 is still 'consider'", STALLED, 55, False),
        Case(
            "a closed episode", episode(flat(1, 7, 7), flat(36, 56, 6), status="closed"), 56, False
        ),
    ],
    "ROM_DECLINE": [
        Case("30° -> 20°", episode(flat(1, 7, 5, rom=30), flat(20, 26, 5, rom=20)), 26, True),
        Case("30° -> 20.1°", episode(flat(1, 7, 5, rom=30), flat(20, 26, 5, rom=20.1)), 26, False),
    ],
    "ROM_DEFICIT": [
        Case("day 42, 45° vs 35°", ROM_LOSS, 42, True),
        Case("day 41 is too early", ROM_LOSS, 41, False),
        Case("45° vs 35.1°", episode(flat(1, 42, 5, rom=35.1, rom_other=45)), 42, False),
    ],
    "IMMOBILIZATION_PROLONGED": [
        Case(
            "11 days, both ends counted", episode(interventions=(immobilization(1, 11),)), 20, True
        ),
        Case("10 days", episode(interventions=(immobilization(1, 10),)), 20, False),
        Case("ongoing, its 11th day", episode(interventions=(immobilization(1, None),)), 11, True),
        Case(
            "before the trial starts", episode(interventions=(immobilization(-20, None),)), 0, False
        ),
    ],
    "BMI_ELEVATED": [
        Case("BMI 30", episode(bmi=30.0), 1, True),
        Case("BMI 29.9", episode(bmi=29.9), 1, False),
        Case("even before the trial starts", episode(bmi=30.0), 0, True),
    ],
    "FUNCTION_NOT_IMPROVING": [
        Case(
            "day 42, Sports 50 -> 58.9 (MCID 9)",
            episode(questionnaires=(faam(2, adl=60, sports=50), faam(40, adl=80, sports=58.9))),
            42,
            True,
        ),
        Case(
            "Sports up exactly 9",
            episode(questionnaires=(faam(2, adl=60, sports=50), faam(40, adl=60, sports=59))),
            42,
            False,
        ),
        Case(
            "day 41 is too early",
            episode(questionnaires=(faam(2, sports=50), faam(40, sports=50))),
            41,
            False,
        ),
        Case(
            "Sports unknown: ADL 60 -> 67.9 (MCID 8)",
            episode(questionnaires=(faam(2, adl=60), faam(40, adl=67.9))),
            42,
            True,
        ),
        Case(
            "Sports unknown: ADL up exactly 8",
            episode(questionnaires=(faam(2, adl=60), faam(40, adl=68))),
            42,
            False,
        ),
        Case("no current score", episode(questionnaires=(faam(2, adl=60, sports=50),)), 42, False),
    ],
}
CASES = [
    pytest.param(code, case, id=f"{code}: {case.why}")
    for code, cases in BOUNDARIES.items()
    for case in cases
]


def test_every_finding_function_has_cases_either_side_of_its_boundary():
    assert list(BOUNDARIES) == list(rules._FINDING_RULES)
    for cases in BOUNDARIES.values():
        assert {case.fires for case in cases} == {True, False}


@pytest.mark.parametrize(("code", "case"), CASES)
def test_the_finding_function_at_its_boundary(code, case):
    as_of = day(case.on_day)

    finding = rules._FINDING_RULES[code](rules._measure(case.episode, DEFAULTS, as_of))

    if case.fires:
        assert finding is not None
        assert (finding.code, finding.severity) == (code, FINDING_SEVERITY[code])
    else:
        assert finding is None
    # evaluate() reports exactly what the row's function built, and nothing else under its code.
    assert rules.evaluate(case.episode, DEFAULTS, as_of).finding(code) == finding


@pytest.mark.parametrize(("code", "case"), CASES)
def test_a_finding_function_builds_only_its_own_code(code, case):
    facts = rules._measure(case.episode, DEFAULTS, day(case.on_day))

    for own_code, rule in rules._FINDING_RULES.items():
        built = rule(facts)
        assert built is None or built.code == own_code
