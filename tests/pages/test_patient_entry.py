"""The patient's daily entry on the phone page: render, save, update, refuse, correct, history."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest

from accounts.models import AuditEvent
from rehab.models import DailyEntry, EpisodeStatus, ExerciseLog
from tests.factories import DailyEntryFactory, EpisodeFactory, PrescriptionFactory
from tests.pages.helpers import control, controls, described_by_ids, unlabelled


@pytest.fixture
def today(cast) -> dt.date:
    return cast.patient_a.local_today()


@pytest.fixture
def exercises(cast, today):
    """Two exercises due today, one that ended last week and one that starts tomorrow."""
    episode = cast.episode_a
    return {
        "heel": PrescriptionFactory(episode=episode, name="Double-leg heel raises", sets=3),
        "calf": PrescriptionFactory(
            episode=episode, name="Calf stretch (soleus)", sets=2, reps="30 s hold"
        ),
        "ended": PrescriptionFactory(
            episode=episode,
            name="Ankle alphabet (mobility)",
            end_date=today - dt.timedelta(days=7),
        ),
        "later": PrescriptionFactory(
            episode=episode, name="Single-leg balance", start_date=today + dt.timedelta(days=1)
        ),
    }


@pytest.fixture
def patient(cast, client_for):
    return client_for(cast.patient_a.user)


VALID = {"pain_activity": "6", "pain_rest": "2", "pf_rom_affected": "28", "pf_rom_unaffected": "44"}


def test_today_form_has_the_contract_inputs(patient, exercises):
    response = patient.get("/")
    assert response.status_code == 200
    for value in range(11):
        assert control(response, "pain_activity", str(value)).attrs["type"] == "radio"
        assert control(response, "pain_rest", str(value)).attrs["type"] == "radio"
    html = response.content.decode()
    for name in ("pf_rom_affected", "pf_rom_unaffected"):
        rom = control(response, name)
        # A text box with the decimal keypad: a number input turns "31,5" into 315 in Chromium.
        assert (rom.attrs["type"], rom.attrs["inputmode"]) == ("text", "decimal")
        # The range is in the label the patient reads (the service checks it).
        label = re.search(rf'<label for="id_{name}">([^<]*)</label>', html)
        assert label is not None and "degrees 0–90" in label.group(1)
    names = {c.name for c in controls(response)}
    assert f"exercise_{exercises['heel'].pk}" in names
    assert f"exercise_{exercises['calf'].pk}" in names
    assert f"exercise_{exercises['ended'].pk}" not in names
    assert f"exercise_{exercises['later'].pk}" not in names
    assert control(response, "note").tag == "textarea"
    html = response.content.decode()
    assert '<button type="submit"' in html
    assert "2 sets × 30 s hold" in html
    assert "How to measure" in html
    assert unlabelled(response) == []


def test_valid_entry_is_saved_with_its_exercise_logs(cast, patient, exercises, today):
    heel, calf = exercises["heel"], exercises["calf"]
    response = patient.post("/", {**VALID, "note": "Stairs hurt", f"exercise_{heel.pk}": "3"})
    assert response.status_code == 302
    assert response["Location"] == "/"

    entry = DailyEntry.objects.get(episode=cast.episode_a, date=today)
    assert (entry.pain_activity, entry.pain_rest, entry.pf_rom_affected) == (6, 2, 28)
    assert (entry.pf_rom_unaffected, entry.note, entry.recorded_by) == (
        44,
        "Stairs hurt",
        cast.patient_a.user,
    )
    logs = {log.prescription_id: log.sets_completed for log in entry.exercises.all()}
    # The unticked exercise is logged as 0 sets, so the therapist sees "0 of 2", not a gap.
    assert logs == {heel.pk: 3, calf.pk: 0}
    assert AuditEvent.objects.filter(action="entry.created", object_id=str(entry.pk)).count() == 1

    page = patient.get("/")
    html = page.content.decode()
    assert "Saved your entry for today" in html
    assert "Update entry" in html
    assert "checked" in control(page, "pain_activity", "6").attrs
    assert "checked" not in control(page, "pain_activity", "5").attrs
    assert control(page, "pf_rom_affected").attrs["value"] == "28"
    assert "checked" in control(page, f"exercise_{heel.pk}_all").attrs
    assert "checked" not in control(page, f"exercise_{calf.pk}_all").attrs


def test_sending_the_day_again_updates_the_one_entry(cast, patient, exercises, today):
    heel, calf = exercises["heel"], exercises["calf"]
    patient.post("/", {**VALID, f"exercise_{heel.pk}": "3"})
    response = patient.post("/", {"pain_activity": "4", f"exercise_{calf.pk}": "on"}, follow=True)
    assert "Updated your entry for today" in response.content.decode()
    entry = DailyEntry.objects.get(episode=cast.episode_a, date=today)
    assert (entry.pain_activity, entry.pain_rest, entry.pf_rom_affected) == (4, None, None)
    logs = {log.prescription_id: log.sets_completed for log in entry.exercises.all()}
    assert logs == {heel.pk: 0, calf.pk: 2}
    assert AuditEvent.objects.filter(action="entry.replaced").count() == 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("pain_activity", "11", "Must be between 0 and 10 (got 11)."),
        ("pain_rest", "-1", "Must be between 0 and 10 (got -1)."),
        ("pf_rom_affected", "95", "Must be between 0 and 90 (got 95)."),
        ("pf_rom_unaffected", "ninety", "Enter a number of degrees, for example 31.5."),
        ("pain_activity", "", "This field is required."),
    ],
)
def test_invalid_values_show_errors_and_change_nothing(
    cast, patient, exercises, today, field, value, message
):
    saved = DailyEntryFactory(episode=cast.episode_a, date=today, pain_activity=5, note="kept")
    ExerciseLog.objects.create(entry=saved, prescription=exercises["heel"], sets_completed=2)

    response = patient.post("/", {**VALID, field: value, "note": "changed?"})
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert "Not saved yet" in html
    # The error is tied to its input for screen readers.
    target = (
        control(response, field, "0") if field.startswith("pain_") else control(response, field)
    )
    assert f"id_{field}_error" in described_by_ids(response, target)
    assert target.attrs.get("aria-invalid") == "true"
    # What the patient typed is kept, so they only fix the one answer.
    assert "changed?" in html

    saved.refresh_from_db()
    assert (saved.pain_activity, saved.note) == (5, "kept")
    assert [(log.prescription_id, log.sets_completed) for log in saved.exercises.all()] == [
        (exercises["heel"].pk, 2)
    ]
    assert not AuditEvent.objects.filter(action__startswith="entry.").exists()


def test_a_future_date_is_refused_and_nothing_saved(cast, patient, today):
    tomorrow = today + dt.timedelta(days=1)
    response = patient.post(f"/log/{tomorrow:%Y-%m-%d}/", VALID)
    assert response.status_code == 400
    assert "has not happened yet" in response.content.decode()
    assert patient.get(f"/log/{tomorrow:%Y-%m-%d}/").status_code == 400
    assert not DailyEntry.objects.filter(episode=cast.episode_a).exists()


def test_one_of_the_last_seven_days_can_be_corrected(cast, patient, exercises, today):
    day = today - dt.timedelta(days=6)
    DailyEntryFactory(episode=cast.episode_a, date=day, pain_activity=8)
    page = patient.get(f"/log/{day:%Y-%m-%d}/")
    assert page.status_code == 200
    assert "Update entry" in page.content.decode()
    assert "checked" in control(page, "pain_activity", "8").attrs

    response = patient.post(f"/log/{day:%Y-%m-%d}/", {**VALID, "pain_activity": "7"})
    assert response.status_code == 302
    assert response["Location"] == f"/log/{day:%Y-%m-%d}/"
    assert DailyEntry.objects.get(episode=cast.episode_a, date=day).pain_activity == 7
    assert not DailyEntry.objects.filter(episode=cast.episode_a, date=today).exists()


def test_today_page_links_the_last_seven_days(cast, patient, today):
    DailyEntryFactory(episode=cast.episode_a, date=today - dt.timedelta(days=2))
    html = patient.get("/").content.decode()
    for n in range(1, 7):
        assert f'href="/log/{today - dt.timedelta(days=n):%Y-%m-%d}/"' in html
    assert f'href="/log/{today - dt.timedelta(days=7):%Y-%m-%d}/"' not in html
    assert html.count("✓</span> logged") == 1


@pytest.mark.parametrize("days_ago", [7, 15])
def test_older_days_are_refused(cast, patient, today, days_ago):
    day = today - dt.timedelta(days=days_ago)
    DailyEntryFactory(episode=cast.episode_a, date=day, pain_activity=8)
    assert patient.get(f"/log/{day:%Y-%m-%d}/").status_code == 400
    response = patient.post(f"/log/{day:%Y-%m-%d}/", {**VALID, "pain_activity": "1"})
    assert response.status_code == 400
    assert "Only the last 7 days can be changed here" in response.content.decode()
    assert DailyEntry.objects.get(episode=cast.episode_a, date=day).pain_activity == 8


def test_a_day_before_the_episode_start_is_refused(cast, client_for):
    # An episode that started two days ago: the 7-day window is clipped at its start.
    cast.episode_b.start_date = cast.patient_b.local_today() - dt.timedelta(days=2)
    cast.episode_b.save()
    client = client_for(cast.patient_b.user)
    assert "day 3" in client.get("/").content.decode()
    before = cast.episode_b.start_date - dt.timedelta(days=1)
    response = client.post(f"/log/{before:%Y-%m-%d}/", VALID)
    assert response.status_code == 400
    assert "started on" in response.content.decode()
    assert not DailyEntry.objects.filter(episode=cast.episode_b).exists()


def test_an_impossible_date_is_not_found(patient):
    assert patient.get("/log/2026-02-30/").status_code == 404


def test_history_lists_entries_and_offers_corrections_only_for_recent_days(
    cast, patient, exercises, today
):
    recent = DailyEntryFactory(episode=cast.episode_a, date=today - dt.timedelta(days=1))
    ExerciseLog.objects.create(entry=recent, prescription=exercises["heel"], sets_completed=3)
    old = DailyEntryFactory(
        episode=cast.episode_a, date=today - dt.timedelta(days=12), pain_activity=9
    )
    response = patient.get("/history/", follow=True)
    assert response.redirect_chain == [(f"/episodes/{cast.episode_a.pk}/", 302)]
    assert response.templates[0].name == "patient/history.html"
    html = response.content.decode()
    assert f"{old.date:%a %-d %b %Y}" in html
    assert "9/10" in html
    assert "3 of 5" in html  # heel raises 3/3 + calf stretch 0/2 prescribed that day
    assert f'href="/log/{recent.date:%Y-%m-%d}/"' in html
    assert f'href="/log/{old.date:%Y-%m-%d}/"' not in html


def test_a_patient_without_an_active_episode_gets_a_friendly_message(cast, client_for):
    cast.episode_b.status = EpisodeStatus.CLOSED
    cast.episode_b.save()
    client = client_for(cast.patient_b.user)
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    # Their latest episode is closed: its diary is shown closed, and a POST is refused (409).
    assert "Your diary is closed" in html
    assert f'href="/episodes/{cast.episode_b.pk}/"' in html
    assert 'name="pain_activity"' not in html
    assert client.post("/log/2020-01-01/", VALID).status_code == 409
    assert not DailyEntry.objects.exists()


def test_several_active_episodes_default_to_the_latest_and_can_be_switched(cast, client_for, today):
    left = EpisodeFactory(
        patient=cast.patient_a, affected_side="left", start_date=today - dt.timedelta(days=3)
    )
    client = client_for(cast.patient_a.user)
    page = client.get("/")
    html = page.content.decode()
    assert "Left ankle · day 4" in html
    assert f'href="/?episode={cast.episode_a.pk}"' in html

    switched = client.get(f"/?episode={cast.episode_a.pk}")
    assert "Right ankle · day 21" in switched.content.decode()
    response = client.post(f"/?episode={cast.episode_a.pk}", VALID)
    assert response["Location"] == f"/?episode={cast.episode_a.pk}"
    assert DailyEntry.objects.filter(episode=cast.episode_a, date=today).exists()
    assert not DailyEntry.objects.filter(episode=left).exists()

    client.post("/", {**VALID, "pain_activity": "1"})
    assert DailyEntry.objects.get(episode=left, date=today).pain_activity == 1


def test_a_patient_cannot_log_against_someone_elses_episode(cast, patient, today):
    assert patient.get(f"/?episode={cast.episode_b.pk}").status_code == 404
    assert patient.post(f"/?episode={cast.episode_b.pk}", VALID).status_code == 404
    assert not DailyEntry.objects.filter(episode=cast.episode_b).exists()


def test_the_diary_pages_are_for_patients_only(cast, client_for, today):
    staff = client_for(cast.therapist)
    assert staff.get(f"/log/{today:%Y-%m-%d}/").status_code == 404
    assert staff.get("/history/").status_code == 404


@pytest.mark.parametrize(
    ("typed", "stored", "shown"),
    [
        ("31.5", Decimal("31.5"), "31.5"),
        # A decimal comma, as a locale may write it.
        ("31,5", Decimal("31.5"), "31.5"),
        (" 30,0 ", Decimal("30.0"), "30"),
        ("31.25", Decimal("31.3"), "31.3"),
        ("31,24", Decimal("31.2"), "31.2"),
    ],
)
def test_plantar_flexion_to_a_tenth_with_a_point_or_a_comma(
    cast, patient, exercises, today, typed, stored, shown
):
    response = patient.post("/", {**VALID, "pf_rom_affected": typed, "pf_rom_unaffected": typed})
    assert response.status_code == 302, response.content.decode()
    entry = DailyEntry.objects.get(episode=cast.episode_a, date=today)
    assert (entry.pf_rom_affected, entry.pf_rom_unaffected) == (stored, stored)
    page = patient.get("/")
    assert control(page, "pf_rom_affected").attrs["value"] == shown
    # A text box with the decimal keypad (a number input would turn "31,5" into 315 in Chromium).
    field = control(page, "pf_rom_affected").attrs
    assert (field["type"], field["inputmode"]) == ("text", "decimal")


@pytest.mark.parametrize("typed", ["31,5,0", "31.5.0", "NaN", "Infinity", "31 5", "ninety"])
def test_plantar_flexion_that_is_not_a_number_is_refused_on_the_page(
    cast, patient, exercises, today, typed
):
    response = patient.post("/", {**VALID, "pf_rom_affected": typed})
    assert response.status_code == 200
    assert "Enter a number of degrees, for example 31.5." in response.content.decode()
    assert not DailyEntry.objects.filter(episode=cast.episode_a).exists()
