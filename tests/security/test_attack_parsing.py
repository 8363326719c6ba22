"""Issue 10, finding 5: a deeply nested JSON body was a 500.

``"[" * 5000 + "]" * 5000`` made Python's JSON decoder raise ``RecursionError``, which escaped
DRF's parser (it only turns ``ValueError`` into a 400) as a server error with a traceback in the
log. Every JSON body of API v1 now goes through the project's parser, which answers 400 naming the
problem for a body nested deeper than it allows.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.db import transaction
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from accounts.api.parsers import MAX_JSON_DEPTH
from accounts.models import ApiToken
from tests.fuzz.conftest import World, bind_path_ids, token_for
from tests.fuzz.conftest import world as world  # the fixture
from tests.security.helpers import TOKEN

pytestmark = pytest.mark.django_db

DEEP = "[" * 5000 + "]" * 5000
WRITE_METHODS = ("post", "put", "patch")


def _no_error_logged(caplog: pytest.LogCaptureFixture) -> None:
    bad = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not bad, [(r.name, r.getMessage()) for r in bad]


def _says_too_deep(response: Any) -> None:
    assert response.status_code == 400, (response.status_code, response.content[:300])
    detail = str(response.json()["detail"])
    assert "nested" in detail and str(MAX_JSON_DEPTH) in detail, detail


def test_a_deep_body_to_the_token_endpoint_is_a_400_without_a_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    response = APIClient().post(TOKEN, data=DEEP, content_type="application/json")
    _says_too_deep(response)
    _no_error_logged(caplog)


@pytest.mark.parametrize(
    "body",
    [
        # Deep, but not deep enough to exhaust Python's stack: refused by the depth limit.
        "[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1),
        '{"email": ' + '{"a": ' * 3000 + "1" + "}" * 3000 + ', "password": "x"}',
        # Deep and unterminated: still a clean 400.
        "[" * 100_000,
    ],
    ids=["just-past-the-limit", "deep-object-in-a-field", "unterminated"],
)
def test_other_deep_shapes_are_400s_too(body: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    response = APIClient().post(TOKEN, data=body, content_type="application/json")
    assert response.status_code == 400, response.content[:300]
    assert "detail" in response.json()
    _no_error_logged(caplog)


def test_nesting_up_to_the_limit_is_still_parsed() -> None:
    """The limit refuses only what is deeper than it: a body at the limit reaches validation."""
    body = '{"email": ' + "[" * (MAX_JSON_DEPTH - 1) + "]" * (MAX_JSON_DEPTH - 1) + "}"
    response = APIClient().post(TOKEN, data=body, content_type="application/json")
    assert response.status_code == 400
    # The serializer, not the parser, answered: it names the fields.
    assert set(response.json()) == {"email", "password"}, response.json()


class _Rollback(Exception):
    pass


@pytest.mark.parametrize("role", ["therapist", "patient"])
def test_a_deep_body_to_every_json_write_is_a_400_without_a_traceback(
    role: str, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """Every write operation of the OpenAPI schema with a JSON body, ids bound to objects in the
    caller's reach. Every answer is 400 saying the body is nested too deeply, except where the
    operation refuses this caller before reading any body (403, 404, 405 to an empty ``{}``):
    then it answers the deep body the same way."""
    caplog.set_level(logging.INFO)
    schema = SchemaGenerator().get_schema(request=None, public=True)
    user = world.user(role)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user)}")
    token_for(user)
    spare = ApiToken.objects.filter(user=user).order_by("-pk").first()
    assert spare is not None

    def send(method: str, url: str, body: str) -> Any:
        try:
            with transaction.atomic():
                response = getattr(client, method)(url, data=body, content_type="application/json")
                raise _Rollback
        except _Rollback:
            pass
        return response

    parsed_and_refused = 0
    refused_before_reading = 0
    for path, operations in schema["paths"].items():
        if not path.startswith("/api/v1/"):
            continue
        url = path.format(**bind_path_ids(path, world, spare))
        for method, operation in operations.items():
            if method not in WRITE_METHODS:
                continue
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" not in content:
                continue
            empty = send(method, url, "{}")
            deep = send(method, url, DEEP)
            assert deep.status_code < 500, (method, url, deep.status_code)
            if empty.status_code in (403, 404, 405) and deep.status_code != 400:
                # Refused before the body was read. (Some views read the body before checking
                # reach, e.g. a patient acknowledging an alert: those answer the parse error.)
                assert deep.status_code == empty.status_code, (method, url, deep.status_code)
                refused_before_reading += 1
            else:
                _says_too_deep(deep)
                parsed_and_refused += 1
    _no_error_logged(caplog)
    print(
        f"\ndeep JSON as {role}: {parsed_and_refused} operations answered 400, "
        f"{refused_before_reading} refused the caller before reading the body"
    )
    # The walk really reached the parser of most writes (a wrong id would make them all 404).
    assert parsed_and_refused >= (10 if role == "therapist" else 3), parsed_and_refused
