"""Reads of accounts data for pages and the API."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import ApiToken, User


def active_api_tokens(*, user: User) -> QuerySet[ApiToken]:
    """The user's tokens that still work: neither revoked nor expired, newest first."""
    return ApiToken.objects.filter(
        user=user, revoked_at__isnull=True, expires_at__gt=timezone.now()
    ).order_by("-created_at", "-pk")
