"""Helpers for the API tests: URLs by name and a reader for DRF's error shape."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import reverse
from rest_framework.response import Response


def url(name: str, **kwargs: Any) -> str:
    return reverse(name, kwargs=kwargs or None)


def entry_url(episode_id: int, day: dt.date | str) -> str:
    value = day if isinstance(day, str) else day.isoformat()
    return url("api-entry-detail", pk=episode_id, date=value)


def errors(response: Response) -> dict[str, Any]:
    """The 400 body, asserting it is DRF's {field: [messages]} shape."""
    assert response.status_code == 400, (response.status_code, response.content)
    body = response.json()
    assert isinstance(body, dict) and body, body
    return body


def ids(response: Response) -> set[int]:
    assert response.status_code == 200, (response.status_code, response.content)
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}, body
    return {item["id"] for item in body["results"]}
