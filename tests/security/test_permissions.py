"""No DRF view is open to the signed-out unless it is on the allow-list below.

The views come from the URL resolver, so a new endpoint is checked the day it is routed. A view
is open when its permission classes do not include ``IsAuthenticated`` (``AllowAny``, an empty
list, ``IsAuthenticatedOrReadOnly``...) or when it has no authentication classes at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.permissions import AllowAny, IsAuthenticated, IsAuthenticatedOrReadOnly
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.views import InvitationAcceptView, TokenObtainView

# The views that answer the signed-out on purpose (and their subclasses, such as drf-spectacular's
# Swagger "split" view), and why.
OPEN_ON_PURPOSE: dict[type[APIView], str] = {
    TokenObtainView: "signing in: exchanges an email and password for a token",
    InvitationAcceptView: "an invited patient sets a password; the one-time token is the proof",
    SpectacularAPIView: "the OpenAPI schema (api-contract.md): describes the API, holds no data",
    SpectacularSwaggerView: "the schema's browsable docs page",
}


def drf_views(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, type[APIView]]]:
    """(route, view class) of every DRF view routed under ``patterns``."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from drf_views(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            view = getattr(pattern.callback, "cls", None)
            if isinstance(view, type) and issubclass(view, APIView):
                yield prefix + str(pattern.pattern), view


def why_open(view: type[APIView]) -> str | None:
    """Why ``view`` would answer a signed-out caller, or None if it requires sign-in."""
    permissions = list(view.permission_classes)
    if any(isinstance(p, type) and issubclass(p, AllowAny) for p in permissions):
        return "AllowAny"
    if not any(isinstance(p, type) and issubclass(p, IsAuthenticated) for p in permissions):
        return f"no IsAuthenticated among {[getattr(p, '__name__', p) for p in permissions]}"
    if not list(view.authentication_classes):
        return "no authentication classes"
    return None


def allow_listed(view: type[APIView]) -> bool:
    return any(issubclass(view, allowed) for allowed in OPEN_ON_PURPOSE)


def open_views(patterns: list[Any]) -> list[str]:
    return [
        f"{route}: {view.__module__}.{view.__name__} ({reason})"
        for route, view in drf_views(patterns)
        if not allow_listed(view) and (reason := why_open(view)) is not None
    ]


def test_every_drf_view_requires_sign_in_unless_allow_listed():
    routed = list(drf_views(get_resolver().url_patterns))
    # The walk sees the API: without this a broken walk would pass with nothing checked.
    assert len(routed) >= 30
    assert open_views(get_resolver().url_patterns) == []


def test_the_allow_list_holds_only_views_that_are_open_and_routed():
    routed = {view for _, view in drf_views(get_resolver().url_patterns)}
    for allowed, reason in OPEN_ON_PURPOSE.items():
        used = [view for view in routed if issubclass(view, allowed)]
        assert used, f"{allowed.__name__} is no longer routed: drop it ({reason})"
        for view in used:
            assert why_open(view) is not None, f"{view.__name__} needs sign-in now: drop it"


class _Open(APIView):
    permission_classes = (AllowAny,)

    def get(self, request: Request) -> Response:
        return Response({})


class _ReadOnlyOpen(APIView):
    permission_classes = (IsAuthenticatedOrReadOnly,)


class _NoAuthentication(APIView):
    authentication_classes = ()
    permission_classes = (IsAuthenticated,)


class _Closed(APIView):
    pass


@pytest.mark.parametrize(
    ("view", "reason"),
    [
        (_Open, "AllowAny"),
        (_ReadOnlyOpen, "no IsAuthenticated"),
        (_NoAuthentication, "no authentication classes"),
    ],
)
def test_an_open_view_fails_the_check(view, reason):
    patterns = [
        path("api/v1/", _Closed.as_view()),
        path("api/v1/open/", view.as_view()),
    ]
    found = open_views(patterns)
    assert len(found) == 1
    assert found[0].startswith("api/v1/open/:") and reason in found[0]


def test_the_project_default_requires_sign_in(settings):
    # Views that say nothing inherit these: the default must stay closed.
    assert settings.REST_FRAMEWORK["DEFAULT_PERMISSION_CLASSES"] == [
        "rest_framework.permissions.IsAuthenticated"
    ]
    assert why_open(_Closed) is None
