"""Every finding the rule tests build is also checked to survive being stored with an alert.

An alert keeps its finding's phrase as JSON (``rules.phrase_to_json``) and words it later for
each reader; read back (``rules.phrase_from_json``), the phrase must be the same template and
values, and its English must be ``Finding.message`` exactly. The check wraps ``rules._finding``
(which builds every finding) for the tests of this package: the worked examples, each rule at
its boundaries and the hypothesis properties' generated episodes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from rehab import rules

# The codes checked so far, so a test can see that the check is in place.
CHECKED_CODES: set[str] = set()


def assert_phrase_round_trips(finding: rules.Finding) -> None:
    stored = json.loads(json.dumps(rules.finding_phrase_json(finding)))
    template, params = rules.phrase_from_json(stored)
    assert template == finding.message_template
    assert params == dict(finding.message_params)
    assert rules.Phrase(template, params).english() == finding.message


@pytest.fixture(scope="package", autouse=True)
def _every_finding_s_phrase_round_trips() -> Iterator[None]:
    built = rules._finding

    def checked(
        code: str, template: rules.Template, params: Mapping[str, Any], evidence: dict[str, Any]
    ) -> rules.Finding:
        finding = built(code, template, params, evidence)
        assert_phrase_round_trips(finding)
        CHECKED_CODES.add(code)
        return finding

    rules._finding = checked  # type: ignore[assignment]  # a package-wide fixture: no monkeypatch
    try:
        yield
    finally:
        rules._finding = built  # type: ignore[assignment]
