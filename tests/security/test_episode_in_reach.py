"""The episode lookup every view under /episodes/{pk}/ starts with (``get_in_reach_or_404``):
an id that is not an episode in the caller's reach is a 404, whatever its form, never a 500.

(Formerly held against a compiled copy of the lookup, ``ScopedLookup``, now removed: the views
call ``get_in_reach_or_404`` itself.)
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet
from django.http import Http404

from accounts.models import Role, User
from accounts.scoping import get_in_reach_or_404
from rehab.models import Episode
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _episodes() -> QuerySet[Episode]:
    return Episode.objects.select_related("patient__user")


URL_IDS = [0, 10**6, 2**63 - 1, 2**63, 10**30]
ODD_IDS: list[Any] = [*URL_IDS, -1, -(2**63), None, "x", "1.5", [1]]


@pytest.mark.parametrize("pk", ODD_IDS)
def test_an_odd_id_is_absent_for_everybody(cast, pk):
    users: list[Any] = [
        cast.patient_a.user,
        cast.therapist,
        cast.admin,
        cast.other_therapist,
        User(pk=10**6, role=Role.THERAPIST, is_active=True),  # staff without a clinic
        AnonymousUser(),
    ]
    for user in users:
        with pytest.raises(Http404):
            get_in_reach_or_404(user, _episodes(), via="patient", pk=pk)


@pytest.mark.parametrize("pk", URL_IDS)
def test_an_odd_id_in_the_url_is_a_404(cast, api, pk):
    assert api(cast.admin).get(f"/api/v1/episodes/{pk}/").status_code == 404


def test_an_id_written_as_text_finds_the_same_episode(cast):
    found = get_in_reach_or_404(
        cast.patient_a.user, _episodes(), via="patient", pk=str(cast.episode_a.pk)
    )
    assert found == cast.episode_a
    # The related objects came with it.
    assert found.patient.user == cast.patient_a.user


def test_a_deactivated_user_reaches_nothing_any_more(cast):
    assert (
        get_in_reach_or_404(cast.therapist, _episodes(), via="patient", pk=cast.episode_a.pk)
        == cast.episode_a
    )
    cast.therapist.is_active = False
    with pytest.raises(Http404):
        get_in_reach_or_404(cast.therapist, _episodes(), via="patient", pk=cast.episode_a.pk)
    inactive = UserFactory(role=Role.THERAPIST, clinic=cast.clinic, is_active=False)
    cast.patient_a.therapist = inactive
    cast.patient_a.save()
    with pytest.raises(Http404):
        get_in_reach_or_404(inactive, _episodes(), via="patient", pk=cast.episode_a.pk)
