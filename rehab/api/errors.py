"""Turns domain errors into the API's error shapes.

Services raise Django's ``ValidationError`` keyed by field (400), ``PermissionError`` when the
caller's role may not do something to an object within reach (403), and ``DiaryClosedError``
when the patient writes to the diary of a referred or closed episode (409: the request is
valid, the state of the episode forbids it). Objects out of reach never
get this far: scoping makes them 404.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from rehab.services import DiaryClosedError


class Conflict(exceptions.APIException):
    status_code = 409
    default_detail = "The request conflicts with the current state of the resource."
    default_code = "conflict"


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            detail: Any = exc.message_dict
        else:
            detail = {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(detail=detail)
    elif isinstance(exc, DiaryClosedError):
        exc = Conflict(detail=str(exc))
    elif isinstance(exc, PermissionError):
        exc = exceptions.PermissionDenied(detail=str(exc) or None)
    return drf_exception_handler(exc, context)
