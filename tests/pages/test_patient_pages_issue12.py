"""Issue 12, the patient's pages: the day fixed when the form opens, sets per exercise, the error
summary, history gaps, the progress words, and an Account page without API tokens."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

import pytest
import time_machine

from accounts.models import ApiToken
from accounts.services import api_token_issue
from rehab.models import DailyEntry, ExerciseLog
from rehab.selectors import entry_etag
from tests.factories import DailyEntryFactory, PrescriptionFactory
from tests.pages.helpers import control

VALID = {"pain_activity": "6", "pain_rest": "2"}


@pytest.fixture
def today(cast) -> dt.date:
    return cast.patient_a.local_today()


@pytest.fixture
def patient(cast, client_for):
    return client_for(cast.patient_a.user)


def _at(day: dt.date, hour: int, minute: int, zone: str) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=zoneinfo.ZoneInfo(zone))


def _hidden_date(response) -> str:
    return control(response, "entry_date").attrs["value"]


# --- 2. The day is fixed when the form opens -------------------------------------------------


@pytest.mark.parametrize("page", ["today", "per-day"])
def test_a_form_opened_at_2358_and_sent_at_0001_is_filed_under_the_first_day(
    cast, patient, today, page
):
    cast.patient_a.timezone = "Europe/Madrid"
    cast.patient_a.save(update_fields=["timezone"])
    zone = cast.patient_a.timezone
    url = "/" if page == "today" else f"/log/{today}/"
    with time_machine.travel(_at(today, 23, 58, zone), tick=False) as clock:
        form = patient.get(url)
        assert form.status_code == 200
        assert _hidden_date(form) == today.isoformat()
        clock.move_to(_at(today + dt.timedelta(days=1), 0, 1, zone))
        assert cast.patient_a.local_today() == today + dt.timedelta(days=1)
        response = patient.post(url, {**VALID, "entry_date": _hidden_date(form)})
    assert response.status_code == 302
    # Back to the day it was filed under, which is no longer "/".
    assert response["Location"] == f"/log/{today}/"
    assert DailyEntry.objects.filter(episode=cast.episode_a, date=today).count() == 1
    assert not DailyEntry.objects.filter(date=today + dt.timedelta(days=1)).exists()


def test_a_form_from_outside_the_window_is_refused_and_nothing_saved(cast, patient, today):
    too_old = today - dt.timedelta(days=7)
    response = patient.post("/", {**VALID, "entry_date": too_old.isoformat()})
    assert response.status_code == 400
    assert "Only the last 7 days can be changed here" in response.content.decode()
    future = patient.post("/", {**VALID, "entry_date": (today + dt.timedelta(days=1)).isoformat()})
    assert future.status_code == 400
    before_start = cast.episode_a.start_date - dt.timedelta(days=1)
    # Out of the window too, but the words of the "before the start" case come first.
    assert patient.post("/", {**VALID, "entry_date": before_start.isoformat()}).status_code == 400
    assert not DailyEntry.objects.filter(episode=cast.episode_a).exists()


@pytest.mark.parametrize("value", ["yesterday", "2026-13-01", "2026-1-1"])
def test_an_unreadable_form_date_is_refused(cast, patient, value):
    response = patient.post("/", {**VALID, "entry_date": value})
    assert response.status_code == 400
    assert "did not say which day" in response.content.decode()
    assert not DailyEntry.objects.exists()


def test_a_day_page_never_files_under_another_day(cast, patient, today):
    yesterday = today - dt.timedelta(days=1)
    response = patient.post(f"/log/{yesterday}/", {**VALID, "entry_date": today.isoformat()})
    assert response.status_code == 400
    assert "the form was opened for" in response.content.decode()
    assert not DailyEntry.objects.exists()


def test_a_post_without_the_date_is_filed_as_before(cast, patient, today):
    # An older page (or a client without the field): the day of the address, as until now.
    assert patient.post("/", VALID).status_code == 302
    assert DailyEntry.objects.filter(episode=cast.episode_a, date=today).exists()


def test_the_form_carries_the_contract_a_attributes(cast, patient, today):
    html = patient.get("/").content.decode()
    form = re.search(r"<form [^>]*id=\"entry-form\"[^>]*>", html, re.S)
    assert form is not None
    tag = form.group(0)
    api = f'data-entry-api="/api/v1/episodes/{cast.episode_a.pk}/entries/{today}/"'
    assert api in tag
    assert f'data-entry-date="{today}"' in tag
    assert 'data-entry-version=""' in tag
    assert f'data-day-url="/log/{today}/"' in tag
    status = '<div id="entry-sync-status" role="status" aria-live="polite"></div>'
    assert status in html
    # Right above the Save button.
    assert html.index(status) < html.index('<button type="submit"')

    patient.post("/", {**VALID, "entry_date": today.isoformat()})
    entry = DailyEntry.objects.get(episode=cast.episode_a, date=today)
    html = patient.get("/").content.decode()
    escaped = entry_etag(entry).replace('"', "&quot;")
    assert f'data-entry-version="{escaped}"' in html


def test_entry_etag_is_strong_and_changes_with_each_save(cast, patient, today):
    patient.post("/", {**VALID, "entry_date": today.isoformat()})
    entry = DailyEntry.objects.get(episode=cast.episode_a, date=today)
    first = entry_etag(entry)
    # A strong ETag: quoted, no W/ prefix (rehab/versions.py).
    assert first.startswith('"') and first.endswith('"') and not first.startswith("W/")
    with time_machine.travel(entry.updated_at + dt.timedelta(seconds=1)):
        patient.post("/", {**VALID, "pain_rest": "3", "entry_date": today.isoformat()})
    entry.refresh_from_db()
    assert entry_etag(entry) != first


# --- 3. Sets per exercise --------------------------------------------------------------------


@pytest.fixture
def heel(cast):
    return PrescriptionFactory(episode=cast.episode_a, name="Double-leg heel raises", sets=3)


def _sets(cast, day, prescription) -> int:
    return ExerciseLog.objects.get(
        entry__episode=cast.episode_a, entry__date=day, prescription=prescription
    ).sets_completed


def test_each_exercise_has_an_all_done_tick_and_a_number_of_sets(patient, heel):
    page = patient.get("/")
    number = control(page, f"exercise_{heel.pk}")
    assert (number.attrs["type"], number.attrs["min"], number.attrs["max"]) == ("number", "0", "3")
    assert number.attrs["data-prescription"] == str(heel.pk)
    tick = control(page, f"exercise_{heel.pk}_all")
    assert tick.attrs["type"] == "checkbox"
    assert tick.attrs["data-all-for"] == f"exercise_{heel.pk}"
    assert "js/entry-form.js" in page.content.decode()


@pytest.mark.parametrize(
    ("sent", "saved"),
    [
        ({"n": "2"}, 2),
        ({"n": "2", "all": "on"}, 3),  # the tick wins: all prescribed sets
        ({"n": "", "all": "on"}, 3),
        ({"n": ""}, 0),
        ({}, 0),
        ({"n": "0"}, 0),
    ],
)
def test_the_server_reads_the_tick_as_all_sets_and_otherwise_the_number(
    cast, patient, heel, today, sent, saved
):
    data = {**VALID, "entry_date": today.isoformat()}
    if "n" in sent:
        data[f"exercise_{heel.pk}"] = sent["n"]
    if "all" in sent:
        data[f"exercise_{heel.pk}_all"] = sent["all"]
    assert patient.post("/", data).status_code == 302
    assert _sets(cast, today, heel) == saved


def test_a_saved_partial_count_shows_as_partial(cast, patient, heel, today):
    patient.post("/", {**VALID, f"exercise_{heel.pk}": "2", "entry_date": today.isoformat()})
    page = patient.get("/")
    assert control(page, f"exercise_{heel.pk}").attrs["value"] == "2"
    assert "checked" not in control(page, f"exercise_{heel.pk}_all").attrs
    assert "You logged 2 of 3 sets." in page.content.decode()
    # Sent again unchanged, it stays 2 (a partial count is not turned into "all").
    patient.post("/", {**VALID, f"exercise_{heel.pk}": "2", "entry_date": today.isoformat()})
    assert _sets(cast, today, heel) == 2


def test_too_many_sets_are_refused_next_to_the_exercise(cast, patient, heel, today):
    response = patient.post(
        "/", {**VALID, f"exercise_{heel.pk}": "x", "entry_date": today.isoformat()}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert f'href="#id_exercise_{heel.pk}"' in html
    assert not DailyEntry.objects.exists()


# --- 7. The error summary ----------------------------------------------------------------------


def _summary_links(html: str) -> tuple[str, list[str]]:
    summary = re.search(r'<div class="error-summary"[^>]*>(.*?)\n</div>', html, re.S)
    assert summary is not None
    return summary.group(0), re.findall(r'<a href="#([^"]+)">', summary.group(1))


@pytest.mark.parametrize(
    ("sent", "anchors"),
    [
        # The service's rules: activity pain missing, rest pain out of range.
        ({"pain_rest": "12"}, ["id_pain_activity_0", "id_pain_rest_0"]),
        # The form's parsing: an angle that is no number.
        ({**VALID, "pf_rom_affected": "abc"}, ["id_pf_rom_affected"]),
    ],
)
def test_errors_are_summarised_at_the_top_with_a_link_to_each_field(patient, today, sent, anchors):
    response = patient.post("/", {**sent, "entry_date": today.isoformat()})
    assert response.status_code == 200
    html = response.content.decode()
    opening, links = _summary_links(html)
    assert 'tabindex="-1"' in opening and "autofocus" in opening
    assert links == anchors
    # Every link lands on a control of the page, and the summary comes before the form.
    for anchor in links:
        assert f'id="{anchor}"' in html
    assert html.index('class="error-summary"') < html.index('id="entry-form"')
    assert not DailyEntry.objects.exists()


# --- 5. History with gaps ------------------------------------------------------------------------


def test_missed_days_are_gaps_and_the_last_seven_can_be_filled(cast, patient, today):
    episode = cast.episode_a  # started 20 days ago
    for back in (1, 4, 12):
        DailyEntryFactory(episode=episode, date=today - dt.timedelta(days=back))
    html = patient.get(f"/episodes/{episode.pk}/").content.decode()
    # Days 2–3 back: one gap with a link to fill each; 5–11 back: one gap, 2 days fillable
    # (5 and 6 back); 13–20 back: a gap with nothing left to fill. Today is not over: no gap.
    assert "Not logged (2 days)" in html
    assert "Not logged (7 days)" in html
    assert "Not logged (8 days)" in html
    for back in (2, 3, 5, 6):
        day = today - dt.timedelta(days=back)
        assert f'href="/log/{day}/"' in html
    for back in (7, 8, 13):
        assert f'href="/log/{today - dt.timedelta(days=back)}/"' not in html
    # Newest first: the gap 2–3 days back comes between the entries 1 and 4 days back.
    positions = [
        html.index(f"{(today - dt.timedelta(days=b)):%a} {(today - dt.timedelta(days=b)).day} ")
        for b in (1, 3, 4)
    ]
    assert positions == sorted(positions)


def test_a_filled_gap_link_opens_that_days_form(cast, patient, today):
    day = today - dt.timedelta(days=2)
    page = patient.get(f"/log/{day}/")
    assert page.status_code == 200
    assert _hidden_date(page) == day.isoformat()


# --- 5. Progress: rest pain and plantar flexion --------------------------------------------------


def test_progress_says_how_rest_pain_and_the_foot_angle_moved(cast, patient, today):
    episode = cast.episode_a
    start = episode.start_date
    for offset in range(7):  # week 1
        DailyEntryFactory(
            episode=episode,
            date=start + dt.timedelta(days=offset),
            pain_activity=6,
            pain_rest=4,
            pf_rom_affected=25 if offset % 3 == 0 else None,
            pf_rom_unaffected=44 if offset % 3 == 0 else None,
        )
    for back in range(6):  # the last 7 days
        DailyEntryFactory(
            episode=episode,
            date=today - dt.timedelta(days=back),
            pain_activity=3,
            pain_rest=1,
            pf_rom_affected=36 if back % 2 == 0 else None,
            pf_rom_unaffected=45 if back % 2 == 0 else None,
        )
    html = patient.get("/progress/").content.decode()
    assert "Your pain at rest has come down from about 4 to about 1 out of 10" in html
    assert "Your sore ankle now points down about 36°, further than when you started" in html
    assert "about 25°" in html
    assert "Your other ankle, for comparison, points down about 45°." in html


def test_progress_shows_no_angle_trend_from_too_few_measurements(cast, patient, today):
    DailyEntryFactory(
        episode=cast.episode_a, date=today, pain_activity=5, pain_rest=None, pf_rom_affected=30
    )
    html = patient.get("/progress/").content.decode()
    assert "You have measured your sore ankle 1 time so far, latest about 30°" in html
    assert "further than" not in html and "less far" not in html
    # No rest pain scored at all: the page says nothing about it.
    assert "Pain at rest" not in html


# --- 6. Account: no API tokens for patients --------------------------------------------------


def test_patients_never_see_api_tokens_and_cannot_revoke_through_the_page(cast, patient):
    key = api_token_issue(user=cast.patient_a.user)
    token = ApiToken.objects.get(user=cast.patient_a.user)
    page = patient.get("/accounts/security/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "API tokens" not in html and "/tokens/" not in html
    assert "Sign out" in html
    url = f"/accounts/security/tokens/{token.pk}/revoke/"
    assert patient.post(url).status_code == 404
    assert patient.get(url).status_code == 405
    token.refresh_from_db()
    assert token.revoked_at is None
    assert key


def test_staff_still_see_their_api_tokens(cast, client_for):
    api_token_issue(user=cast.therapist)
    html = client_for(cast.therapist).get("/accounts/security/").content.decode()
    assert "API tokens" in html and "/revoke/" in html


def test_sign_in_page_offers_forgot_password(client):
    html = client.get("/accounts/login/").content.decode()
    assert "Forgot your password?" in html


def test_the_patient_header_has_no_sign_out_but_staff_keep_it(cast, patient, client_for):
    assert "nav-button" not in patient.get("/").content.decode()
    assert "nav-button" in client_for(cast.therapist).get("/").content.decode()


def test_how_to_measure_has_our_figure_and_asks_for_help(patient):
    html = patient.get("/").content.decode()
    assert "img/measure-plantar-flexion" in html
    assert "Ask someone to hold the phone or protractor for you" in html


def test_every_forms_error_summary_links_to_its_fields(cast, patient):
    # The summary is shared: Django's own field ids for any other form (here: password change).
    response = patient.post(
        "/accounts/password/",
        {"old_password": "wrong", "new_password1": "", "new_password2": ""},
    )
    assert response.status_code == 200
    _, links = _summary_links(response.content.decode())
    assert "id_old_password" in links
    for anchor in links:
        assert f'id="{anchor}"' in response.content.decode()
