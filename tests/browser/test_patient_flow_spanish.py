"""A Spanish-speaking patient does the whole diary on a phone in Spanish (issue 13).

The phone asks for Spanish (Accept-Language es-ES); the patient signs in, fills today's entry with
a decimal comma, sees it saved and reads their progress, every step in Spanish.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from accounts.models import User
from rehab.models import DailyEntry
from tests.conftest import PASSWORD
from tests.factories import PrescriptionFactory

pytestmark = pytest.mark.browser


def test_a_patient_keeps_the_diary_in_spanish(
    transactional_db, spanish_phone, live_server, cast, artifacts
):
    phone = spanish_phone
    today = cast.patient_a.local_today()
    heel = PrescriptionFactory(
        episode=cast.episode_a, name="Double-leg heel raises", sets=3, reps="15"
    )

    phone.goto("/")
    expect(phone.locator("html")).to_have_attribute("lang", "es")
    phone.get_by_label("Dirección de correo electrónico").fill(cast.patient_a.user.email)
    phone.get_by_label("Contraseña").fill(PASSWORD)
    phone.get_by_role("button", name="Iniciar sesión").tap()

    expect(phone.get_by_role("heading", level=1)).to_have_text("Hoy")
    expect(
        phone.get_by_role("group", name=re.compile("^Dolor durante la actividad"))
    ).to_be_visible()
    phone.locator("input[name=pain_activity][value='4']").tap()
    # Spanish writes a decimal comma: 31,5 is 31.5 degrees.
    phone.get_by_label(re.compile(r"^Tobillo afectado")).fill("31,5")
    # The catalogue exercise is named in Spanish too.
    phone.get_by_role(
        "checkbox", name=re.compile("Elevaciones de talones con las dos piernas")
    ).tap()
    phone.screenshot(path=artifacts / "patient-today-es.png", full_page=False)
    phone.get_by_role("button", name="Guardar registro").tap()

    expect(phone.locator(".messages")).to_contain_text("Hemos guardado su registro")
    expect(phone.get_by_role("button", name="Actualizar registro")).to_be_visible()
    entry = DailyEntry.objects.get(episode=cast.episode_a, date=today)
    assert (entry.pain_activity, entry.pf_rom_affected) == (4, Decimal("31.5"))
    assert {log.prescription_id: log.sets_completed for log in entry.exercises.all()} == {
        heel.pk: 3
    }
    # The saved angle is shown back the Spanish way.
    expect(phone.get_by_label(re.compile(r"^Tobillo afectado"))).to_have_value("31,5")

    phone.locator(".site-nav").get_by_role("link", name="Progreso").tap()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Su progreso")
    phone.screenshot(path=artifacts / "patient-progress-es.png", full_page=True)
    # Signing in in Spanish kept Spanish as the patient's language (emails follow it).
    assert User.objects.get(pk=cast.patient_a.user.pk).language == "es"
