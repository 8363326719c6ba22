"""Set-up shared by the referral follow-up tests: a referral recorded through the API."""

from __future__ import annotations

import datetime as dt
from typing import Any

from accounts.models import User
from rehab.models import Episode
from tests.api.helpers import url


def refer(api: Any, user: User, episode: Episode, *, days_ago: int, **extra: Any) -> Episode:
    """Record, as ``user``, the referral of ``episode`` ``days_ago`` days before the patient's
    today (the contract's POST)."""
    day = episode.patient.local_today() - dt.timedelta(days=days_ago)
    if episode.start_date > day - dt.timedelta(days=42):
        # Set-up only: a trial of six weeks before the referral.
        Episode.objects.filter(pk=episode.pk).update(start_date=day - dt.timedelta(days=42))
    response = api(user).post(
        url("api-episode-referral", pk=episode.pk),
        {"date": day.isoformat(), "referred_to": "Mr Okafor, foot and ankle surgeon", **extra},
        format="json",
    )
    assert response.status_code == 200, response.content
    episode.refresh_from_db()
    return episode


def follow_up_url(episode: Episode) -> str:
    return url("api-referral-follow-up", pk=episode.pk)
