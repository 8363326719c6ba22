"""Session sign-in lands each role on its home; sign-out is POST only."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.conftest import PASSWORD
from tests.pages.helpers import control, unlabelled


def _sign_in(client: Client, **fields: str):
    return client.post("/accounts/login/", {**fields, "password": PASSWORD}, follow=True)


def test_patient_lands_on_todays_entry_form(cast):
    client = Client()
    response = _sign_in(client, username=cast.patient_a.user.email)
    assert response.redirect_chain == [("/", 302)]
    assert response.templates[0].name == "patient/today.html"
    control(response, "pain_activity", "0")
    control(response, "pf_rom_affected")
    assert b"Save entry" in response.content


def test_login_also_takes_the_address_as_email(cast):
    response = _sign_in(Client(), email=cast.patient_a.user.email.upper())
    assert response.redirect_chain == [("/", 302)]
    assert response.context["user"] == cast.patient_a.user


@pytest.mark.parametrize(
    ("who", "heading", "sees", "not_sees"),
    [
        ("therapist", "Your caseload", ["patient_a", "patient_b"], ["other_patient"]),
        ("admin", "Clinic caseload", ["patient_a", "patient_b"], ["other_patient"]),
        ("therapist_2", "Your caseload", [], ["patient_a", "patient_b"]),
    ],
)
def test_staff_land_on_their_caseload(cast, who, heading, sees, not_sees):
    response = _sign_in(Client(), username=getattr(cast, who).email)
    assert response.redirect_chain == [("/", 302)]
    assert response.templates[0].name == "therapist/caseload.html"
    html = response.content.decode()
    assert heading in html
    for name in sees:
        assert str(getattr(cast, name)) in html
    for name in not_sees:
        assert str(getattr(cast, name)) not in html


def test_wrong_password_shows_an_error_and_signs_nobody_in(cast):
    client = Client()
    response = client.post(
        "/accounts/login/", {"username": cast.patient_a.user.email, "password": "nope-nope-nope"}
    )
    assert response.status_code == 200
    assert "Could not sign you in" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_login_page_labels_every_input(db):
    response = Client().get("/accounts/login/")
    assert response.status_code == 200
    assert unlabelled(response) == []
    assert control(response, "username").attrs["type"] == "email"


def test_anonymous_visitor_is_sent_to_sign_in(db):
    response = Client().get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/")


def test_sign_out_is_post_only(cast, client_for):
    client = client_for(cast.patient_a.user)
    assert client.get("/accounts/logout/").status_code == 405
    assert "_auth_user_id" in client.session
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert client.get("/").status_code == 302
