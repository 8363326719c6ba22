"""Interventions, and the coded injection sites that refuse corticosteroid injections near the
Achilles tendon (docs/clinical-rules.md, "Injection sites")."""

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


def injection(client, episode, **values):
    return client.post(
        url("api-intervention-list", pk=episode.pk),
        {
            "kind": "corticosteroid_injection",
            "start_date": episode.start_date.isoformat(),
            **values,
        },
        format="json",
    )


@pytest.mark.parametrize(
    "site",
    [
        "posterior_ankle_posterolateral",
        "posterior_ankle_posteromedial",
        "subtalar_joint",
        "os_trigonum_region",
        "fhl_tendon_sheath",
    ],
)
def test_an_injection_at_an_allowed_coded_site_is_recorded(cast, api, site):
    response = injection(api(cast.admin), cast.episode_a, site=site, note="Ultrasound-guided.")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["site"] == site
    assert body["site_label"] and body["site_label"] != site
    assert body["needs_review"] is False


def test_other_with_a_note_describing_the_site_is_recorded(cast, api):
    response = injection(
        api(cast.therapist), cast.episode_a, site="other", note="Sinus tarsi, image-guided."
    )
    assert response.status_code == 201, response.content


@pytest.mark.parametrize("site", ["achilles_tendon", "achilles_paratenon", "retrocalcaneal_bursa"])
def test_a_refused_site_is_400_naming_the_reason_and_the_source(cast, api, site):
    client = api(cast.therapist)
    audits = AuditEvent.objects.count()
    body = errors(injection(client, cast.episode_a, site=site))
    assert list(body) == ["site"]
    message = body["site"][0]
    assert "Achilles" in message and "rupture" in message
    assert "002_cddceb049a0c87f7.txt" in message
    assert not Intervention.objects.exists()
    assert AuditEvent.objects.count() == audits


@pytest.mark.parametrize(
    "site",
    [
        "Achiles tendon",
        "Tendón de Aquiles",
        "AT insertion",
        "paratenon, posterior heel",
        "Posterolateral ankle, ultrasound-guided",  # free text, even of an allowed site
        "",
        "POSTERIOR_ANKLE_POSTEROLATERAL",
    ],
)
def test_free_text_or_an_empty_site_is_never_enough(cast, api, site):
    body = errors(injection(api(cast.therapist), cast.episode_a, site=site))
    assert "site" in body
    assert not Intervention.objects.exists()


@pytest.mark.parametrize(
    "note",
    [
        "injected next to the Achilles tendon",
        "Achiles",
        "cerca del tendón de Aquiles",
        "près du tendon d'Achille",
        "an der Achillessehne",
        "calcaneal tendon",
        "heel cord",
        "AT insertion",
        "paratenon",
        "retrocalcaneal bursa",
    ],
)
def test_a_note_that_names_the_achilles_is_refused_whatever_the_site(cast, api, note):
    for site in ("posterior_ankle_posterolateral", "other"):
        body = errors(injection(api(cast.therapist), cast.episode_a, site=site, note=note))
        assert "note" in body
        assert "002_cddceb049a0c87f7.txt" in body["note"][0]
    assert not Intervention.objects.exists()


def test_other_without_a_note_is_refused(cast, api):
    body = errors(injection(api(cast.therapist), cast.episode_a, site="other", note="  "))
    assert list(body) == ["note"]


def test_the_refusal_is_in_the_readers_language(cast, api):
    client = api(cast.therapist)
    response = client.post(
        url("api-intervention-list", pk=cast.episode_a.pk),
        {
            "kind": "corticosteroid_injection",
            "start_date": cast.episode_a.start_date.isoformat(),
            "site": "achilles_tendon",
        },
        format="json",
        HTTP_ACCEPT_LANGUAGE="es",
    )
    message = errors(response)["site"][0]
    assert "Aquiles" in message and "002_cddceb049a0c87f7.txt" in message


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
