"""Interventions, and the refusal of corticosteroid injections near the Achilles tendon."""

from __future__ import annotations

import datetime as dt

import pytest

from accounts.models import AuditEvent
from rehab.models import Intervention
from tests.api.helpers import errors, ids, url
from tests.factories import InterventionFactory

pytestmark = pytest.mark.django_db


def test_record_an_intervention(cast, api):
    episode = cast.episode_a
    end = episode.start_date + dt.timedelta(days=7)
    response = api(cast.therapist).post(
        url("api-intervention-list", pk=episode.pk),
        {
            "kind": "immobilization",
            "start_date": episode.start_date.isoformat(),
            "end_date": end.isoformat(),
            "site": "Walking boot, left",
            "note": "Pain flare after dance rehearsal.",
        },
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["kind"] == "immobilization"
    assert body["end_date"] == end.isoformat()
    assert body["episode"] == episode.pk
    intervention = Intervention.objects.get(pk=body["id"])
    assert intervention.created_by == cast.therapist
    assert AuditEvent.objects.filter(
        action="intervention.recorded",
        object_id=str(intervention.pk),
        patient_id=episode.patient_id,
    ).exists()


def test_injection_away_from_the_tendon_is_allowed(cast, api):
    response = api(cast.admin).post(
        url("api-intervention-list", pk=cast.episode_a.pk),
        {
            "kind": "corticosteroid_injection",
            "start_date": cast.episode_a.start_date.isoformat(),
            "site": "Posterolateral ankle, ultrasound-guided into the os trigonum region",
        },
        format="json",
    )
    assert response.status_code == 201


@pytest.mark.parametrize(
    "site",
    ["Achilles tendon", "near the achilles", "retrocalcaneal bursa", "Tendo calcaneus"],
)
def test_injection_at_or_near_the_achilles_is_refused(cast, api, site):
    client = api(cast.therapist)
    audits = AuditEvent.objects.count()
    body = errors(
        client.post(
            url("api-intervention-list", pk=cast.episode_a.pk),
            {
                "kind": "corticosteroid_injection",
                "start_date": cast.episode_a.start_date.isoformat(),
                "site": site,
            },
            format="json",
        )
    )
    assert list(body) == ["site"]
    assert "Achilles" in body["site"][0] and "rupture" in body["site"][0]
    assert not Intervention.objects.exists()
    assert AuditEvent.objects.count() == audits


def test_other_kinds_may_name_the_achilles(cast, api):
    response = api(cast.therapist).post(
        url("api-intervention-list", pk=cast.episode_a.pk),
        {"kind": "heel_lift", "start_date": "2026-01-05", "site": "Under the Achilles side heel"},
        format="json",
    )
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("field", "change"),
    [
        ("kind", {"kind": "surgery"}),
        ("kind", {"kind": None}),
        ("start_date", {"start_date": None}),
        ("end_date", {"end_date": "2026-01-01"}),
        ("site", {"site": "x" * 201}),
    ],
)
def test_invalid_interventions_are_400(cast, api, field, change):
    payload = {"kind": "nsaid", "start_date": "2026-01-05", **change}
    body = errors(
        api(cast.therapist).post(
            url("api-intervention-list", pk=cast.episode_a.pk), payload, format="json"
        )
    )
    assert field in body
    assert not Intervention.objects.exists()


def test_patient_reads_but_does_not_record(cast, api):
    mine = InterventionFactory(episode=cast.episode_a)
    InterventionFactory(episode=cast.episode_b)
    client = api(cast.patient_a.user)
    assert ids(client.get(url("api-intervention-list", pk=cast.episode_a.pk))) == {mine.pk}
    response = client.post(
        url("api-intervention-list", pk=cast.episode_a.pk),
        {"kind": "nsaid", "start_date": "2026-01-05"},
        format="json",
    )
    assert response.status_code == 403
    assert Intervention.objects.count() == 2
