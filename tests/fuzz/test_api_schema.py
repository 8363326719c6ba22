"""Schemathesis against our OpenAPI schema, through the WSGI app, as a patient, a therapist and a
clinic admin: no answer may be a server error, and no answer may break the schema.

Every operation of /api/schema/ is fuzzed twice per role: once with its path ids bound to
objects in the role's reach (so the request gets past the 404 and reaches validation and the
services), once with generated ids (so odd ids and dates are tried). Each bound request runs in
a savepoint that is rolled back, so every example starts from the same clinic: a fuzzed DELETE
or a revoked token cannot starve the examples after it.

The run is bounded (``PAIS_FUZZ_EXAMPLES`` examples per operation, mode and role, 20 unless set)
and derandomized, so CI sends the same requests every time; for a longer hunt with new examples:

    PAIS_FUZZ_RANDOM=1 PAIS_FUZZ_EXAMPLES=200 .venv/bin/pytest tests/fuzz/test_api_schema.py -s
"""

from __future__ import annotations

import os
import traceback
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from django.core.signals import got_request_exception, request_finished, request_started
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import response_schema_conformance

from accounts.models import ApiToken
from config.wsgi import application
from tests.fuzz.conftest import World, bind_path_ids, token_for

pytestmark = [pytest.mark.fuzz, pytest.mark.django_db]

EXAMPLES = int(os.environ.get("PAIS_FUZZ_EXAMPLES", "20"))
# Same examples on every run (CI), unless PAIS_FUZZ_RANDOM=1 asks for new ones.
DERANDOMIZE = os.environ.get("PAIS_FUZZ_RANDOM") != "1"
ROLES = ("patient", "therapist", "admin")
CHECKS = [not_a_server_error, response_schema_conformance]


class _Rollback(Exception):
    pass


@contextmanager
def rolled_back() -> Iterator[None]:
    try:
        with transaction.atomic():
            yield
            raise _Rollback
    except _Rollback:
        pass


@dataclass
class Tally:
    operations: set[str] = field(default_factory=set)
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    schema_violations: list[str] = field(default_factory=list)
    unsatisfiable: list[str] = field(default_factory=list)


def _takes_input(operation: Any) -> bool:
    """Whether anything but the path can be fuzzed: a body or a query parameter."""
    raw = operation.definition.raw
    return "requestBody" in raw or any(p.get("in") == "query" for p in raw.get("parameters", []))


def _fuzz(
    operation: Any,
    *,
    mode: GenerationMode,
    headers: dict[str, str],
    path_parameters: dict[str, Any] | None,
    tally: Tally,
    label: str,
) -> None:
    strategy = operation.as_strategy(generation_mode=mode, path_parameters=path_parameters)

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=DERANDOMIZE,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        with rolled_back():
            response = case.call(headers=headers)
        tally.requests += 1
        tally.statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=CHECKS)
        except FailureGroup as failures:
            where = f"{label} {case.method} {case.formatted_path}"
            for failure in failures.exceptions:
                bucket = (
                    tally.server_errors if response.status_code >= 500 else tally.schema_violations
                )
                summary = (failure.message.strip().splitlines() or [""])[0][:200]
                bucket.append(f"{where}: {failure.title}: {summary}")

    try:
        run()
    except Unsatisfiable:
        # Nothing of this kind can be generated (e.g. no invalid value for a body whose fields
        # are all optional free text): noted, not a finding.
        tally.unsatisfiable.append(f"{label} {operation.label}")


@pytest.fixture
def wsgi_in_test_transaction() -> Iterator[None]:
    """Keep the test's database connection open across requests to the real WSGI app.

    The app closes a connection at the end of a request when it sits in a transaction (it
    would in production); the test's transaction is such a one, so, as Django's own test client
    does, the close is switched off for the test.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def server_tracebacks() -> Iterator[list[str]]:
    seen: list[str] = []

    def record(sender: Any, request: Any = None, **kwargs: Any) -> None:
        seen.append(traceback.format_exc())

    got_request_exception.connect(record, dispatch_uid="fuzz-tracebacks")
    try:
        yield seen
    finally:
        got_request_exception.disconnect(dispatch_uid="fuzz-tracebacks")


@pytest.mark.parametrize("role", ROLES)
def test_no_server_error_and_no_schema_violation(
    role: str, world: World, server_tracebacks: list[str], wsgi_in_test_transaction: None
) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
    user = world.user(role)
    # identity: the WSGI test client does not undo GZipMiddleware's compression.
    headers = {"Authorization": f"Token {token_for(user)}", "Accept-Encoding": "identity"}
    spare_token = ApiToken.objects.filter(user=user).order_by("-pk").first()
    token_for(user)  # the spare one: DELETE /auth/tokens/{id}/ revokes it, not the caller's
    spare_token = ApiToken.objects.filter(user=user).order_by("-pk").first()
    assert spare_token is not None

    tally = Tally()
    for result in schema.get_all_operations():
        operation = result.ok()
        tally.operations.add(operation.label)
        bound = bind_path_ids(operation.path, world, spare_token)
        modes = [GenerationMode.POSITIVE]
        if _takes_input(operation) or not bound:
            # With every path id bound and no body or query, there is nothing to make invalid.
            modes.append(GenerationMode.NEGATIVE)
        for mode in modes:
            _fuzz(
                operation,
                mode=mode,
                headers=headers,
                path_parameters=bound or None,
                tally=tally,
                label=f"{role}/{mode.value}/bound",
            )
        if bound:
            _fuzz(
                operation,
                mode=GenerationMode.POSITIVE,
                headers=headers,
                path_parameters=None,
                tally=tally,
                label=f"{role}/positive/generated-ids",
            )

    print(
        f"\nschemathesis as {role}: {len(tally.operations)} operations, "
        f"{tally.requests} requests, {len(tally.server_errors)} server errors, "
        f"{len(tally.schema_violations)} schema violations; "
        f"nothing to generate for {tally.unsatisfiable}; "
        f"statuses {dict(sorted(tally.statuses.items()))}"
    )
    assert tally.server_errors == [], "\n".join(tally.server_errors + server_tracebacks[:3])
    assert tally.schema_violations == [], "\n".join(tally.schema_violations[:20])
    # The fuzzer got past authentication and into the views: most answers are not 401.
    assert tally.statuses[401] < tally.requests / 10
    assert len(tally.operations) >= 40
