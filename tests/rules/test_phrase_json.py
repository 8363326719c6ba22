"""A finding's phrase as JSON and back (``rules.phrase_to_json`` / ``phrase_from_json``): what an
alert stores so that it can be worded in the reader's language later."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rehab import rules
from rehab.rules import Phrase, PluralText, phrase_from_json, phrase_to_json
from tests.rules.conftest import CHECKED_CODES, assert_phrase_round_trips
from tests.rules.helpers import example_one, on_day

names = st.from_regex(r"[a-z_]{1,12}", fullmatch=True)
texts = st.text(max_size=30)
decimals = st.decimals(allow_nan=False, allow_infinity=False, places=2)
plurals = st.builds(PluralText, texts, texts, st.integers(0, 10**6))
templates: st.SearchStrategy[rules.Template] = st.one_of(texts, plurals)
values = st.recursive(
    st.one_of(st.integers(-(10**9), 10**9), texts, decimals),
    lambda inner: st.builds(Phrase, templates, st.dictionaries(names, inner, max_size=3)),
    max_leaves=8,
)


@given(templates, st.dictionaries(names, values, max_size=4))
def test_any_phrase_survives_json_unchanged(template: rules.Template, params: dict[str, Any]):
    stored = json.loads(json.dumps(phrase_to_json(template, params)))
    assert phrase_from_json(stored) == (template, params)


def test_decimals_keep_their_digits_and_stay_decimals():
    stored = phrase_to_json("BMI is %(bmi)s.", {"bmi": Decimal("31.50")})
    assert stored == {"template": "BMI is %(bmi)s.", "params": {"bmi": {"decimal": "31.50"}}}
    _, params = phrase_from_json(json.loads(json.dumps(stored)))
    assert isinstance(params["bmi"], Decimal)
    assert str(params["bmi"]) == "31.50"


def test_a_nested_plural_phrase_keeps_its_forms_and_number():
    entries = Phrase(rules.ngettext_lazy("%(count)s entry", "%(count)s entries", 1), {"count": 1})
    stored = phrase_to_json("Only %(entries)s.", {"entries": entries})
    assert stored["params"]["entries"] == {
        "phrase": {
            "template": {"singular": "%(count)s entry", "plural": "%(count)s entries", "number": 1},
            "params": {"count": 1},
        }
    }
    template, params = phrase_from_json(stored)
    assert Phrase(template, params).english() == "Only 1 entry."


@pytest.mark.parametrize("value", [1.5, True, None, object()])
def test_values_json_cannot_carry_faithfully_are_refused(value: object):
    with pytest.raises(TypeError):
        phrase_to_json("%(x)s", {"x": value})


def test_the_worked_example_s_finding_round_trips_and_the_package_check_is_in_place():
    finding = on_day(example_one(), 42).findings[0]
    assert finding.code == "REFERRAL_CONSIDER"
    assert_phrase_round_trips(finding)
    # Every finding built in tests/rules is checked the same way (conftest.py).
    assert "REFERRAL_CONSIDER" in CHECKED_CODES


def test_a_finding_without_a_template_has_no_phrase():
    finding = rules.Finding(code="X", severity="info", message="Plain.", evidence={})
    assert rules.finding_phrase_json(finding) is None
