"""Every page as every persona: out of reach is 404, a patient on a staff page is 403/404."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import Patient
from rehab.models import Episode, Intervention, Prescription
from tests.personas import PERSONAS, REACH, STAFF, out_of_reach_of, user_of


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


PAGES = ("episode", "prescribe", "intervene", "refer", "close", "patient", "open_episode")


def _expected(persona: str, page: str) -> int:
    """The GET status of one of patient A's pages for a persona (tests/personas.py's REACH)."""
    if "patient_a" not in REACH[persona]:
        # Out of reach, whoever asks: 404, never a 403 that would confirm the page exists.
        return 404
    if persona in STAFF:
        return 200
    # Within reach but not their role: 403. Their own episode page is their history.
    return 200 if page == "episode" else 403


def test_the_expected_statuses_read_as_the_rule():
    """The table the walk checks, spelt out for the personas a reader knows best."""
    assert {page: _expected("patient_a", page) for page in PAGES} == {
        "episode": 200,
        **dict.fromkeys(PAGES[1:], 403),
    }
    assert {_expected("therapist", page) for page in PAGES} == {200}
    assert {_expected("admin", page) for page in PAGES} == {200}
    for persona in ("patient_b", "therapist_2", "other_therapist"):
        assert {_expected(persona, page) for page in PAGES} == {404}


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_page_of_patient_a_as_every_persona(cast, client_for, persona):
    client = client_for(user_of(cast, persona))
    got = {key: client.get(url).status_code for key, url in _urls(cast).items()}
    assert got == {page: _expected(persona, page) for page in PAGES}


def test_the_patient_sees_their_own_history_not_the_staff_page(cast, client_for):
    response = client_for(cast.patient_a.user).get(f"/episodes/{cast.episode_a.pk}/")
    assert response.templates[0].name == "patient/history.html"
    assert "prescriptions/new" not in response.content.decode()


@pytest.mark.parametrize(
    "persona", sorted(set(PERSONAS) - STAFF | set(out_of_reach_of("patient_a")))
)
def test_writes_out_of_role_or_reach_change_nothing(cast, client_for, persona):
    client = client_for(user_of(cast, persona))
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
