"""The compiled episode lookup (``ScopedLookup``) reaches exactly what ``get_in_reach_or_404`` does.

Every episode view starts with it, so it is held to the uncompiled lookup for every persona
(patients, therapists in and out of the caller's care, clinic admins, another clinic, inactive
users, anonymous, staff without a clinic) and every kind of id, on each database it runs on.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet
from django.http import Http404

from accounts.models import Role, User
from accounts.scoping import ScopedLookup, get_in_reach_or_404
from rehab.models import Episode
from tests.factories import EpisodeFactory, UserFactory

pytestmark = pytest.mark.django_db


def _episodes() -> QuerySet[Episode]:
    return Episode.objects.select_related("patient__user")


def _outcome(fetch: Any) -> Any:
    try:
        episode = fetch()
    except Http404:
        return "404"
    # The related objects came with it, as select_related loads them.
    return (episode.pk, episode.patient.pk, episode.patient.user.pk, episode.patient.timezone)


def test_every_persona_reaches_the_same_episodes(cast, django_assert_num_queries):
    inactive = UserFactory(role=Role.THERAPIST, clinic=cast.clinic, is_active=False)
    cast.patient_a.therapist = inactive
    cast.patient_a.save()
    users: list[Any] = [
        cast.patient_a.user,
        cast.patient_b.user,
        cast.therapist,
        cast.therapist_2,
        cast.admin,
        cast.other_therapist,
        cast.other_patient.user,
        inactive,
        # Staff without a clinic cannot be saved (a constraint); as an object it reaches nothing.
        User(pk=10**6, role=Role.THERAPIST, is_active=True),
        AnonymousUser(),
    ]
    extra = EpisodeFactory(patient=cast.patient_b)
    episodes = [cast.episode_a, cast.episode_b, cast.other_episode, extra]
    ids: list[Any] = [e.pk for e in episodes] + [0, -1, 10**6, 2**63 - 1, 2**63, -(2**63), 10**30]
    ids += [str(cast.episode_a.pk), None, True, "x"]
    lookup = ScopedLookup(_episodes, via="patient")
    reached = 0
    for user in users:
        for pk in ids:
            expected = _outcome(
                lambda user=user, pk=pk: get_in_reach_or_404(
                    user, _episodes(), via="patient", pk=pk
                )
            )
            assert _outcome(lambda user=user, pk=pk: lookup.get_or_404(user, pk)) == expected, (
                user,
                pk,
            )
            reached += expected != "404"
    assert reached >= 6  # the walk did find episodes in reach, not only 404s
    # Compiled once per kind of caller, then one statement per lookup.
    with django_assert_num_queries(1):
        assert lookup.get_or_404(cast.therapist, cast.episode_b.pk) == cast.episode_b


def test_a_deactivated_user_reaches_nothing_any_more(cast):
    lookup = ScopedLookup(_episodes, via="patient")
    assert lookup.get_or_404(cast.therapist, cast.episode_a.pk) == cast.episode_a
    cast.therapist.is_active = False
    with pytest.raises(Http404):
        lookup.get_or_404(cast.therapist, cast.episode_a.pk)
