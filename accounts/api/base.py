"""What every API v1 view shares: no caching of responses, pagination, strict input fields.

It lives in ``accounts`` because both ``accounts.api`` and ``rehab.api`` build on it and imports
run ``rehab -> accounts`` only.
"""

from __future__ import annotations

from typing import Any, cast

from django.db.models import QuerySet
from django.utils.cache import add_never_cache_headers
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from accounts.api.parsers import DepthLimitedJSONParser
from accounts.models import User
from accounts.scoping import can_manage_patients


class ApiView(APIView):
    # (No docstring: drf-spectacular would copy it into every operation's description.)

    # The contract is JSON in: form-encoded numbers would arrive as text and fail the strict
    # integer checks with a confusing message, so other media types get a plain 415. The parser
    # refuses bodies nested too deeply with a 400 (accounts/api/parsers.py).
    parser_classes = (DepthLimitedJSONParser,)
    # APIView has no pagination_class of its own; drf-spectacular reads this attribute to wrap
    # list responses in the {count, next, previous, results} envelope in the schema.
    pagination_class = cast("type[BasePagination]", api_settings.DEFAULT_PAGINATION_CLASS)

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        # Responses carry patient data, so no shared cache (a proxy, the browser's back-forward
        # cache) may keep them: every response, errors included, says no-store.
        response = super().finalize_response(request, response, *args, **kwargs)
        add_never_cache_headers(response)
        return response

    def paginated_response(
        self,
        queryset: QuerySet[Any],
        serializer_class: type[serializers.BaseSerializer[Any]],
    ) -> Response:
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(queryset, self.request, view=self)
        data = serializer_class(page, many=True, context={"request": self.request}).data
        return paginator.get_paginated_response(data)

    def require_clinic_staff(self) -> User:
        """Refuse (403) a caller whose role may not manage patients.

        Views call this after fetching the object in reach, so that an object out of reach is a
        404 for everybody, and before validating input, so that a patient learns "not allowed"
        rather than which fields they got wrong. The services check again.
        """
        user = self.request.user
        if not can_manage_patients(user):
            raise PermissionDenied("Only therapists and clinic admins may do this.")
        assert isinstance(user, User)
        return user

    @property
    def caller(self) -> User:
        user = self.request.user
        assert isinstance(user, User)
        return user


# The largest id a BigAutoField holds (a signed 64-bit integer in PostgreSQL and SQLite). Ids
# in query strings are bounded by it: a larger one, filtered on a foreign key, makes the
# database driver raise (a 500, found by schemathesis) where it should be a 400.
ID_MAX = 2**63 - 1


class StrictIntegerField(serializers.IntegerField):
    """An integer that must arrive as a JSON integer: no "7", no 5.5, no 5.0, no true.

    DRF's IntegerField quietly turns "7" and 5.0 into 7 and 5; the clinical rules want anything
    that is not a whole number refused with a 400 naming the field.
    """

    default_error_messages = {
        "invalid": "Must be a whole number (a JSON integer, not text or a decimal).",
    }

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)
