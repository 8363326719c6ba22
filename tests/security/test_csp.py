"""The Content-Security-Policy: what it allows, that every HTML page sends it (in development
too), and that every API answer says ``Cache-Control: no-store``.

Whether the pages actually run under the policy is tested in Chromium:
tests/browser/test_csp.py.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from accounts.models import ApiToken, User
from config.security import (
    HEADER,
    ContentSecurityPolicyMiddleware,
    content_security_policy,
    plotly_style_hashes,
    render_policy,
)
from reports.plotly_js import plotly_js_path
from tests.conftest import PASSWORD, Cast
from tests.fuzz.conftest import World, bind_path_ids, token_for
from tests.fuzz.conftest import world as world  # the fixture, for the Cache-Control walk

pytestmark = pytest.mark.django_db


def directives(header: str) -> dict[str, list[str]]:
    parsed: dict[str, list[str]] = {}
    for part in header.split(";"):
        name, *sources = part.split()
        assert name not in parsed, f"{name} twice"
        parsed[name] = sources
    return parsed


def test_the_policy_allows_our_origin_and_nothing_inline() -> None:
    policy = directives(render_policy(content_security_policy()))
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["connect-src"] == ["'self'"]
    assert policy["img-src"] == ["'self'", "data:", "blob:"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["form-action"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    header = render_policy(content_security_policy())
    for loophole in ("'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "*", "http:", "https:"):
        assert loophole not in header.split(), loophole
    # Styles: our files, plus exact <style> texts by hash; no keyword that opens more.
    style = policy["style-src"]
    assert style[0] == "'self'"
    for source in style[1:]:
        assert source.startswith("'sha256-") and source.endswith("'")
        assert len(base64.b64decode(source[8:-1])) == 32


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def test_the_style_hashes_are_those_of_what_plotly_js_writes() -> None:
    # The empty <style> plotly.js fills through insertRule(), and nothing else: the partial
    # bundle we serve carries no stylesheet of its own to inject (the full one injected
    # MapLibre's for its map traces).
    assert plotly_style_hashes() == (_sha256(""),)
    bundle = plotly_js_path().read_text(encoding="utf-8")
    assert "maplibregl" not in bundle
    assert re.findall(r'createElement\("style"\)[^;]{0,80}textContent=', bundle) == []


def _logged_in(user: User) -> Client:
    client = Client()
    assert client.login(username=user.email, password=PASSWORD)
    return client


@pytest.fixture
def pages(cast: Cast) -> list[tuple[str, Client, str]]:
    anonymous = Client()
    patient = _logged_in(cast.patient_a.user)
    therapist = _logged_in(cast.therapist)
    admin = _logged_in(cast.admin)
    return [
        ("login page", anonymous, "/accounts/login/"),
        ("a page that does not exist", anonymous, "/no/such/page/"),
        ("API docs", anonymous, "/api/docs/"),
        ("patient today", patient, "/"),
        ("patient progress", patient, "/progress/"),
        ("caseload", therapist, "/"),
        ("episode page", therapist, f"/episodes/{cast.episode_a.pk}/"),
        ("referral report", therapist, f"/episodes/{cast.episode_a.pk}/report/"),
        ("alert inbox", therapist, "/alerts/"),
        ("account", therapist, "/accounts/security/"),
        ("webhooks", admin, "/settings/webhooks/"),
        ("outcomes", admin, "/reports/outcomes/"),
        ("another clinic's episode (404)", therapist, f"/episodes/{cast.other_episode.pk}/"),
        ("browsable API", therapist, "/api/v1/episodes/"),
    ]


@pytest.mark.parametrize("debug", [False, True], ids=["production", "development"])
def test_every_html_page_sends_the_policy(
    debug: bool, pages: list[tuple[str, Client, str]], settings: Any
) -> None:
    settings.DEBUG = debug
    expected = render_policy(content_security_policy())
    seen: dict[int, int] = {}
    for name, client, path in pages:
        response = client.get(path, HTTP_ACCEPT="text/html")
        seen[response.status_code] = seen.get(response.status_code, 0) + 1
        assert response["Content-Type"].startswith("text/html"), (name, response.status_code)
        assert response.get(HEADER) == expected, (name, path, response.status_code)
    # The walk reached real pages, not only redirects to the login page.
    assert seen.get(200, 0) >= 11 and seen.get(404, 0) == 2, seen


def test_json_is_left_alone_and_a_view_may_set_its_own_policy() -> None:
    def respond_with(response: HttpResponse) -> Callable[[HttpRequest], HttpResponse]:
        return lambda request: response

    request = HttpRequest()
    json_response = ContentSecurityPolicyMiddleware(respond_with(JsonResponse({})))(request)
    assert HEADER not in json_response
    own = HttpResponse("<p>", content_type="text/html; charset=utf-8")
    own[HEADER] = "default-src 'none'"
    assert ContentSecurityPolicyMiddleware(respond_with(own))(request)[HEADER] == (
        "default-src 'none'"
    )


class _Rollback(Exception):
    pass


@pytest.mark.parametrize("role", ["patient", "therapist", "admin"])
def test_every_api_answer_says_no_store(role: str, world: World) -> None:
    """Every operation of the schema, with ids in the caller's reach, by GET or with an empty
    body: whatever the status (200, 400, 403, 404, 405), the answer may not be cached."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    user = world.user(role)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user)}")
    token_for(user)
    spare = ApiToken.objects.filter(user=user).order_by("-pk").first()
    assert spare is not None
    statuses: dict[int, int] = {}
    operations = 0
    for path, methods in schema["paths"].items():
        if not path.startswith("/api/v1/"):
            continue
        url = path.format(**bind_path_ids(path, world, spare))
        for method in methods:
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            operations += 1
            try:
                with transaction.atomic():
                    response = getattr(client, method)(url, data={}, format="json")
                    raise _Rollback
            except _Rollback:
                pass
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            assert "no-store" in response.get("Cache-Control", ""), (method, url)
    print(f"\nno-store as {role}: {operations} API operations, all no-store; statuses {statuses}")
    assert operations >= 40
    assert statuses.get(200, 0) >= 10, statuses
