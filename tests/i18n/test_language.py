"""Who reads which language (docs/i18n.md): pages in the signed-in user's language, before
sign-in the browser's (or the switch's); the API in Accept-Language, its codes in English; emails
and push texts in the recipient's language."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import mail
from django.test import Client

from accounts.models import User
from rehab import jobs
from rehab.models import Delivery, PushSubscription

pytestmark = pytest.mark.django_db

BMI_TEMPLATE = "BMI is %(bmi)s, at or above %(flag)s, which can slow recovery."
BMI_SPANISH = "El IMC es %(bmi)s, igual o superior a %(flag)s."


def _set_language(user: User, language: str) -> None:
    user.language = language
    user.save(update_fields=["language"])


# --- Pages ---------------------------------------------------------------------------------------


def test_a_patient_who_chose_spanish_gets_spanish_pages(cast, client_for):
    _set_language(cast.patient_a.user, "es")
    # The phone asks for English: the patient's own choice wins.
    response = client_for(cast.patient_a.user).get("/", HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="es">' in html
    assert response["Content-Language"] == "es"
    # The scripts' words in the page's language, loaded before the scripts that use them.
    assert html.index('src="/jsi18n/es/"') < html.index("offline-queue.js")


def test_a_patient_who_never_chose_gets_their_phone_s_language(cast, client_for):
    response = client_for(cast.patient_a.user).get("/", HTTP_ACCEPT_LANGUAGE="es-MX,es;q=0.9")
    assert '<html lang="es">' in response.content.decode()


def test_before_sign_in_pages_follow_accept_language():
    spanish = Client().get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="es")
    assert '<html lang="es">' in spanish.content.decode()
    assert spanish["Content-Language"] == "es"
    unknown = Client().get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="fr")
    assert '<html lang="en">' in unknown.content.decode()


def test_the_sign_in_page_switch_sets_the_language_and_sign_in_keeps_it(cast):
    browser = Client()
    page = browser.get("/accounts/login/").content.decode()
    assert 'action="/accounts/language/"' in page
    assert '<option value="es" lang="es">Español</option>' in page
    response = browser.post("/accounts/language/", {"language": "es", "next": "/accounts/login/"})
    assert (response.status_code, response["Location"]) == (302, "/accounts/login/")
    assert '<html lang="es">' in browser.get("/accounts/login/").content.decode()

    user = cast.patient_b.user
    user.set_password("a-long-password-1")
    user.save()
    signed_in = browser.post(
        "/accounts/login/", {"username": user.email, "password": "a-long-password-1"}
    )
    assert signed_in.status_code == 302
    user.refresh_from_db()
    assert user.language == "es"


def test_the_account_page_changes_the_signed_in_user_s_language(cast, client_for):
    for user in (cast.patient_a.user, cast.therapist):
        client = client_for(user)
        page = client.get("/accounts/security/").content.decode()
        assert 'action="/accounts/language/"' in page
        response = client.post(
            "/accounts/language/", {"language": "es", "next": "/accounts/security/"}
        )
        assert response["Location"] == "/accounts/security/"
        user.refresh_from_db()
        assert user.language == "es"
        # Their choice now, whatever the browser says.
        after = client.get("/accounts/security/", HTTP_ACCEPT_LANGUAGE="en")
        assert '<html lang="es">' in after.content.decode()


def test_an_unknown_language_is_refused(cast, client_for):
    client = client_for(cast.patient_a.user)
    response = client.post("/accounts/language/", {"language": "xx", "next": "/"})
    assert response.status_code == 400
    assert "en, es" in response.content.decode()
    cast.patient_a.user.refresh_from_db()
    assert cast.patient_a.user.language == ""
    assert Client().post("/accounts/language/", {"language": ""}).status_code == 400


def test_the_switch_never_sends_anybody_off_site():
    response = Client().post(
        "/accounts/language/", {"language": "es", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_the_javascript_catalogue_has_an_address_per_language():
    response = Client().get("/jsi18n/es/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert "max-age=3600" in response["Cache-Control"]
    assert Client().get("/jsi18n/xx/").status_code == 404


def test_spanish_pages_show_decimals_with_a_comma_and_take_either(cast, client_for, fake_spanish):
    fake_spanish({BMI_TEMPLATE: BMI_SPANISH})
    _set_language(cast.therapist, "es")
    episode = cast.episode_a
    episode.bmi = Decimal("31.5")
    episode.save(update_fields=["bmi"])
    page = client_for(cast.therapist).get(f"/episodes/{episode.pk}/").content.decode()
    assert "El IMC es 31,5, igual o superior a 30." in page

    _set_language(cast.patient_a.user, "es")
    patient = client_for(cast.patient_a.user)
    today = cast.patient_a.local_today()
    for typed, stored in (("31,5", Decimal("31.5")), ("32.5", Decimal("32.5"))):
        patient.post("/", {"pain_activity": "3", "pain_rest": "1", "pf_rom_affected": typed})
        entry = episode.entries.get(date=today)
        assert Decimal(str(entry.pf_rom_affected)) == stored


# --- API -----------------------------------------------------------------------------------------


def test_api_finding_messages_follow_accept_language_and_codes_stay_english(
    cast, api, fake_spanish
):
    fake_spanish({BMI_TEMPLATE: BMI_SPANISH})
    # The therapist chose English for their pages: the API still follows the header.
    _set_language(cast.therapist, "en")
    episode = cast.episode_a
    episode.bmi = Decimal("31.5")
    episode.save(update_fields=["bmi"])
    url = f"/api/v1/episodes/{episode.pk}/progress/"
    client = api(cast.therapist)

    spanish = client.get(url, HTTP_ACCEPT_LANGUAGE="es").json()
    finding = next(f for f in spanish["findings"] if f["code"] == "BMI_ELEVATED")
    assert finding["message"] == "El IMC es 31,5, igual o superior a 30."
    assert (finding["severity"], finding["evidence"]["bmi"]) == ("info", 31.5)
    assert spanish["recommendation"] in {"continue", "insufficient_data"}

    english = client.get(url).json()
    finding = next(f for f in english["findings"] if f["code"] == "BMI_ELEVATED")
    assert finding["message"] == "BMI is 31.5, at or above 30, which can slow recovery."


def test_a_spanish_speaking_user_s_api_answers_follow_the_header_not_the_account(cast, api):
    _set_language(cast.therapist, "es")
    response = api(cast.therapist).get("/api/v1/patients/", HTTP_ACCEPT_LANGUAGE="en")
    assert response["Content-Language"] == "en"


def test_staff_set_a_new_patient_s_language_and_the_invitation_is_in_it(
    cast, api, fake_spanish, django_capture_on_commit_callbacks
):
    fake_spanish(
        {"Your ankle rehab diary: set your password": "Su diario de rehabilitación: contraseña"}
    )
    body = {"email": "lucia@example.test", "first_name": "Lucía", "last_name": "Ruiz"}
    client = api(cast.therapist)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/patients/",
            {**body, "language": "es"},
            format="json",
            HTTP_ACCEPT_LANGUAGE="en",
        )
    assert response.status_code == 201, response.content
    assert User.objects.get(email="lucia@example.test").language == "es"
    (sent,) = mail.outbox
    assert sent.subject == "Su diario de rehabilitación: contraseña"
    assert sent.extra_headers["Content-Language"] == "es"

    refused = client.post(
        "/api/v1/patients/", {**body, "email": "x@example.test", "language": "xx"}, format="json"
    )
    assert refused.status_code == 400
    assert "language" in refused.json()


def test_a_patient_without_a_language_is_invited_in_the_site_s_default(
    cast, api, django_capture_on_commit_callbacks
):
    body = {"email": "ann@example.test", "first_name": "Ann", "last_name": "Lee"}
    with django_capture_on_commit_callbacks(execute=True):
        response = api(cast.therapist).post(
            "/api/v1/patients/", body, format="json", HTTP_ACCEPT_LANGUAGE="es"
        )
    assert response.status_code == 201
    (sent,) = mail.outbox
    assert sent.extra_headers["Content-Language"] == "en"
    assert sent.subject == "Your ankle rehab diary: set your password"


# --- Reminders -----------------------------------------------------------------------------------


def test_reminder_push_text_is_written_in_the_patient_s_language(cast, fake_spanish):
    fake_spanish({"Rehab diary": "Diario de rehabilitación"})
    _set_language(cast.patient_a.user, "es")
    PushSubscription.objects.create(
        patient=cast.patient_a, endpoint="https://push.example/1", p256dh="k", auth="a"
    )
    jobs._push_reminders_write(patient=cast.patient_a)
    payload = Delivery.objects.get(recipient=cast.patient_a.user).payload
    assert payload["title"] == "Diario de rehabilitación"
    assert payload["url"] == "/"
