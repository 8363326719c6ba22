"""Every page as every persona: out of reach is 404, a patient on a staff page is 403/404."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import Patient
from rehab.models import Episode, Intervention, Prescription


def _urls(cast) -> dict[str, str]:
    a, pa = cast.episode_a.pk, cast.patient_a.pk
    return {
        "episode": f"/episodes/{a}/",
        "prescribe": f"/episodes/{a}/prescriptions/new/",
        "intervene": f"/episodes/{a}/interventions/new/",
        "refer": f"/episodes/{a}/referral/",
        "close": f"/episodes/{a}/close/",
        "patient": f"/patients/{pa}/",
        "open_episode": f"/patients/{pa}/episodes/new/",
    }


# Expected GET status of each of patient A's pages, per persona.
REACH = {
    "therapist": dict.fromkeys(
        ("episode", "prescribe", "intervene", "refer", "close", "patient", "open_episode"), 200
    ),
    "admin": dict.fromkeys(
        ("episode", "prescribe", "intervene", "refer", "close", "patient", "open_episode"), 200
    ),
    # Within reach but not their role: 403. Their own episode page is their history.
    "patient_a": {
        "episode": 200,
        "prescribe": 403,
        "intervene": 403,
        "refer": 403,
        "close": 403,
        "patient": 403,
        "open_episode": 403,
    },
    # Out of reach, whoever asks: 404, never a 403 that would confirm the page exists.
    "patient_b": dict.fromkeys(
        ("episode", "prescribe", "intervene", "refer", "close", "patient", "open_episode"), 404
    ),
    "therapist_2": dict.fromkeys(
        ("episode", "prescribe", "intervene", "refer", "close", "patient", "open_episode"), 404
    ),
    "other_therapist": dict.fromkeys(
        ("episode", "prescribe", "intervene", "refer", "close", "patient", "open_episode"), 404
    ),
}


def _persona(cast, name: str):
    value = getattr(cast, name)
    return value.user if isinstance(value, Patient) else value


@pytest.mark.parametrize("persona", sorted(REACH))
def test_every_page_of_patient_a_as_every_persona(cast, client_for, persona):
    client = client_for(_persona(cast, persona))
    got = {key: client.get(url).status_code for key, url in _urls(cast).items()}
    assert got == REACH[persona]


def test_the_patient_sees_their_own_history_not_the_staff_page(cast, client_for):
    response = client_for(cast.patient_a.user).get(f"/episodes/{cast.episode_a.pk}/")
    assert response.templates[0].name == "patient/history.html"
    assert "prescriptions/new" not in response.content.decode()


@pytest.mark.parametrize("persona", ["patient_a", "patient_b", "other_therapist", "therapist_2"])
def test_writes_out_of_role_or_reach_change_nothing(cast, client_for, persona):
    client = client_for(_persona(cast, persona))
    urls = _urls(cast)
    start = cast.episode_a.start_date
    client.post(urls["prescribe"], {"other": "Hopping", "sets": "3"})
    client.post(urls["intervene"], {"kind": "nsaid", "start_date": start})
    client.post(urls["refer"], {"date": start})
    client.post(urls["close"], {"date": start, "outcome": "resolved"})
    client.post(urls["open_episode"], {"affected_side": "left", "start_date": start})
    client.post(f"/patients/{cast.patient_a.pk}/invite/")
    assert not Prescription.objects.exists()
    assert not Intervention.objects.exists()
    assert Episode.objects.filter(patient=cast.patient_a).count() == 1
    cast.episode_a.refresh_from_db()
    assert cast.episode_a.status == "active"


def test_patients_cannot_open_the_staff_lists_and_forms(cast, client_for):
    client = client_for(cast.patient_a.user)
    assert client.get("/patients/").status_code == 403
    assert client.get("/patients/new/").status_code == 403
    response = client.post(
        "/patients/new/",
        {"email": "x@example.test", "first_name": "X", "last_name": "Y", "timezone": "UTC"},
    )
    assert response.status_code == 403
    assert not Patient.objects.filter(user__email="x@example.test").exists()


def test_staff_lists_show_only_patients_in_reach(cast, client_for):
    html = client_for(cast.therapist).get("/patients/").content.decode()
    assert str(cast.patient_a) in html and str(cast.other_patient) not in html
    html = client_for(cast.other_therapist).get("/patients/").content.decode()
    assert str(cast.other_patient) in html and str(cast.patient_a) not in html


def test_anonymous_visitors_are_sent_to_sign_in_everywhere(cast):
    client = Client()
    for url in [*_urls(cast).values(), "/patients/", "/patients/new/", "/history/"]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/"), url


def test_a_missing_episode_is_a_404_page(cast, client_for):
    response = client_for(cast.therapist).get("/episodes/999999/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()
