"""Issue 15, the patient's side: FAAM and PSFS on the phone pages without JavaScript (the plain
form), the task on the day's page, the done state, the day fixed when the form opens, and the
scores in plain words on the progress page (docs/patient-pages.md, "Questionnaires")."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal

import pytest
import time_machine
from django.utils import translation

from accounts.models import AuditEvent
from rehab.function_scores import FAAM_ITEMS
from rehab.models import EpisodeStatus, QuestionnaireResponse
from tests.factories import EpisodeFactory
from tests.pages.helpers import control, controls, parse

FAAM_URL = "/questionnaires/faam/"
PSFS_URL = "/questionnaires/psfs/"
ADL = [item.link_id for item in FAAM_ITEMS if item.subscale == "adl"]
SPORTS = [item.link_id for item in FAAM_ITEMS if item.subscale == "sports"]


@pytest.fixture
def today(cast) -> dt.date:
    return cast.patient_a.local_today()


@pytest.fixture
def patient(cast, client_for):
    return client_for(cast.patient_a.user)


@pytest.fixture
def baseline_week(cast, today):
    """Episode A moved to trial day 3: the baseline window (days 1–7) is open."""
    cast.episode_a.start_date = today - dt.timedelta(days=2)
    cast.episode_a.save(update_fields=["start_date"])
    return cast.episode_a


def _all_answered(value: str = "3") -> dict[str, str]:
    return {link_id: value for link_id in ADL + SPORTS}


def _date(response) -> str:
    return control(response, "questionnaire_date").attrs["value"]


def _responses(episode, instrument: str):
    return QuestionnaireResponse.objects.filter(episode=episode, instrument=instrument)


def _record(episode, instrument: str, day: dt.date, **values) -> QuestionnaireResponse:
    from rehab.questionnaires import questionnaire_response_record

    if "answers" in values:  # as the API takes them: numbers, or "na"
        values["answers"] = {k: v if v == "na" else int(v) for k, v in values["answers"].items()}
    response, _created = questionnaire_response_record(
        actor=episode.patient.user, episode=episode, instrument=instrument, date=day, **values
    )
    return response


# --- The task on the day's page -----------------------------------------------------------------


def test_the_days_page_shows_the_task_when_both_are_due(patient, baseline_week):
    page = patient.get("/")
    text = page.content.decode()
    assert "Two short questionnaires: about 5 minutes" in text
    assert 'href="/questionnaires/faam/" data-keep-offline' in text


def test_the_task_names_one_questionnaire_when_only_psfs_is_left(patient, baseline_week, today):
    _record(baseline_week, "faam", today, answers=_all_answered())
    text = patient.get("/").content.decode()
    assert "One short questionnaire: about 2 minutes" in text
    assert 'href="/questionnaires/psfs/"' in text


def test_no_task_once_both_are_answered_or_outside_a_window(patient, cast, baseline_week, today):
    _record(baseline_week, "faam", today, answers=_all_answered())
    _record(baseline_week, "psfs", today, activities=[{"activity": "Running", "score": 4}])
    assert "short questionnaire" not in patient.get("/").content.decode()
    # Day 21 of the default thresholds: between the baseline and the review window.
    cast.episode_a.start_date = today - dt.timedelta(days=20)
    cast.episode_a.save(update_fields=["start_date"])
    QuestionnaireResponse.objects.all().delete()
    assert "short questionnaire" not in patient.get("/").content.decode()


def test_a_past_days_page_has_no_task(patient, baseline_week, today):
    past = patient.get(f"/log/{today - dt.timedelta(days=1)}/")
    assert "short questionnaire" not in past.content.decode()


# --- FAAM without JavaScript --------------------------------------------------------------------


def test_faam_page_has_every_item_labelled_with_six_answers(patient, baseline_week, today):
    page = patient.get(FAAM_URL)
    assert page.status_code == 200
    assert page["PAIS-Offline-Copy"] == "1"
    assert _date(page) == today.isoformat()
    radios = [c for c in controls(page) if c.attrs.get("type") == "radio"]
    assert len(radios) == 29 * 6
    assert all(c.in_label for c in radios)
    assert [c.attrs["value"] for c in radios[:6]] == ["4", "3", "2", "1", "0", "na"]
    assert {c.name for c in radios} == set(ADL + SPORTS)
    text = page.content.decode()
    assert "Question 1 of 29" in text and "Question 29 of 29" in text
    assert "No difficulty at all" in text and "Unable to do" in text
    form = parse(page)
    assert "questionnaire-form" in form.ids
    for attribute in ("data-api", "data-date", "data-done-url", "data-one-per-screen"):
        assert attribute in text
    assert f'data-api="/api/v1/episodes/{baseline_week.pk}/questionnaire-responses/"' in text


def test_faam_posted_as_a_plain_form_is_saved_scored_and_thanked(
    patient, cast, baseline_week, today
):
    answers = {**_all_answered("4"), "adl-2": "na", "sports-1": "2"}
    page = patient.get(FAAM_URL)
    response = patient.post(FAAM_URL, {**answers, "questionnaire_date": _date(page)})
    assert response.status_code == 302
    assert response["Location"] == "/questionnaires/"
    saved = _responses(baseline_week, "faam").get()
    assert saved.date == today
    assert saved.answers["adl-2"] == "na" and saved.answers["sports-1"] == 2
    assert saved.score_adl == Decimal("100.0")
    # Sports: 7 × 4 + 2 = 30 of 32.
    assert saved.score_sports == Decimal("93.8")
    assert saved.recorded_by == cast.patient_a.user
    done = patient.get(response["Location"])
    text = done.content.decode()
    assert "Thank you! Your answers about daily activities and sport are saved." in text
    assert "Done today. Thank you!" in text
    # PSFS is still to do: its Start button is there.
    assert 'href="/questionnaires/psfs/" data-keep-offline' in text


def test_faam_sent_again_the_same_day_replaces_it(patient, baseline_week, today):
    patient.post(FAAM_URL, {**_all_answered("2"), "questionnaire_date": today.isoformat()})
    page = patient.get(FAAM_URL)
    assert "You already answered today" in page.content.decode()
    assert control(page, "adl-1", "2").attrs.get("checked") is not None
    second = patient.post(FAAM_URL, {**_all_answered("4"), "questionnaire_date": today.isoformat()})
    assert second.status_code == 302
    assert _responses(baseline_week, "faam").get().score_adl == Decimal("100.0")
    text = patient.get("/questionnaires/").content.decode()
    assert "are updated" in text


def test_faam_with_nothing_answered_is_refused_and_nothing_saved(patient, baseline_week, today):
    response = patient.post(FAAM_URL, {"questionnaire_date": today.isoformat()})
    assert response.status_code == 400
    text = response.content.decode()
    assert 'id="error-summary"' in text
    assert "Answer at least one question" in text
    assert not _responses(baseline_week, "faam").exists()


def test_faam_with_an_impossible_answer_names_the_item_and_keeps_the_others(
    patient, baseline_week, today
):
    answers = {**_all_answered("3"), "adl-3": "7"}
    response = patient.post(FAAM_URL, {**answers, "questionnaire_date": today.isoformat()})
    assert response.status_code == 400
    text = response.content.decode()
    assert 'href="#id_adl-3_0"' in text
    assert 'aria-invalid="true"' in text
    # Nothing typed is lost: the other answers come back ticked.
    assert control(response, "adl-4", "3").attrs.get("checked") is not None
    assert not _responses(baseline_week, "faam").exists()


# --- The day is fixed when the form opens --------------------------------------------------------


def _at(day: dt.date, hour: int, minute: int, zone: str) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=zoneinfo.ZoneInfo(zone))


@pytest.mark.parametrize("url", [FAAM_URL, PSFS_URL])
def test_a_form_opened_at_2358_and_sent_at_0001_is_filed_under_the_first_day(
    cast, patient, baseline_week, today, url
):
    zone = cast.patient_a.timezone
    values = _all_answered() if url == FAAM_URL else {"activity_1": "Running", "score_1": "5"}
    with time_machine.travel(_at(today, 23, 58, zone), tick=False) as clock:
        page = patient.get(url)
        assert _date(page) == today.isoformat()
        clock.move_to(_at(today + dt.timedelta(days=1), 0, 1, zone))
        response = patient.post(url, {**values, "questionnaire_date": _date(page)})
    assert response.status_code == 302
    saved = QuestionnaireResponse.objects.get(episode=baseline_week)
    assert saved.date == today


@pytest.mark.parametrize("shift", ["future", "too-old", "unreadable"])
def test_a_day_that_cannot_be_filed_is_refused_with_the_answers_kept(patient, cast, today, shift):
    posted = {
        "future": (today + dt.timedelta(days=1)).isoformat(),
        "too-old": (today - dt.timedelta(days=7)).isoformat(),
        "unreadable": "yesterday",
    }[shift]
    response = patient.post(FAAM_URL, {**_all_answered("1"), "questionnaire_date": posted})
    assert response.status_code == 400
    text = response.content.decode()
    assert "press Send to file them under today" in text
    assert _date(response) == today.isoformat()
    assert control(response, "sports-8", "1").attrs.get("checked") is not None
    assert not QuestionnaireResponse.objects.exists()


# --- PSFS ------------------------------------------------------------------------------------


def test_psfs_baseline_asks_for_five_named_activities(patient, baseline_week):
    page = patient.get(PSFS_URL)
    assert page.status_code == 200
    names = [c for c in controls(page) if c.name.startswith("activity_")]
    assert [c.attrs.get("type") for c in names] == ["text"] * 5
    assert all(c.attrs["id"] in parse(page).label_for for c in names)
    radios = [c for c in controls(page) if c.name == "score_1"]
    assert [c.attrs["value"] for c in radios] == [str(n) for n in range(11)]


def test_psfs_posted_as_a_plain_form_is_saved_in_order(patient, baseline_week, today):
    response = patient.post(
        PSFS_URL,
        {
            "questionnaire_date": today.isoformat(),
            "activity_1": "Relevé",
            "score_1": "3",
            "activity_2": "",
            "activity_3": "Jumps",
            "score_3": "6",
        },
    )
    assert response.status_code == 302
    saved = _responses(baseline_week, "psfs").get()
    assert saved.answers == [
        {"activity": "Relevé", "score": 3},
        {"activity": "Jumps", "score": 6},
    ]
    assert saved.score_psfs == Decimal("4.5")
    assert (
        "Your activities and their ratings are saved"
        in patient.get(response["Location"]).content.decode()
    )


@pytest.mark.parametrize(
    ("posted", "field", "words"),
    [
        ({"activity_2": "Running"}, "score_2", "Rate this activity from 0 to 10."),
        ({"score_1": "4"}, "activity_1", "Name the activity you are rating."),
        ({}, None, "Name at least one activity and rate it"),
    ],
)
def test_psfs_incomplete_rows_are_named(patient, baseline_week, today, posted, field, words):
    response = patient.post(PSFS_URL, {"questionnaire_date": today.isoformat(), **posted})
    assert response.status_code == 400
    text = response.content.decode()
    assert words in text
    if field:
        anchor = f"id_{field}_0" if field.startswith("score") else f"id_{field}"
        assert f'href="#{anchor}"' in text
    assert not _responses(baseline_week, "psfs").exists()


def test_psfs_at_follow_up_re_rates_the_activities_named_before(patient, cast, today):
    episode = cast.episode_a
    earlier = today - dt.timedelta(days=19)
    _record(
        episode,
        "psfs",
        earlier,
        activities=[{"activity": "Relevé", "score": 2}, {"activity": "Jumps", "score": 3}],
    )
    page = patient.get(PSFS_URL)
    text = page.content.decode()
    assert "These are the activities you named on" in text
    hidden = [c for c in controls(page) if c.name.startswith("activity_")]
    assert [(c.attrs["type"], c.attrs["value"]) for c in hidden] == [
        ("hidden", "Relevé"),
        ("hidden", "Jumps"),
    ]
    assert not [c for c in controls(page) if c.name == "score_3"]
    response = patient.post(
        PSFS_URL,
        {
            "questionnaire_date": today.isoformat(),
            "activity_1": "Relevé",
            "score_1": "6",
            "activity_2": "Jumps",
            "score_2": "7",
        },
    )
    assert response.status_code == 302
    latest = _responses(episode, "psfs").get(date=today)
    assert latest.answers == [
        {"activity": "Relevé", "score": 6},
        {"activity": "Jumps", "score": 7},
    ]


# --- Reach ------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/questionnaires/", FAAM_URL, PSFS_URL])
def test_staff_get_404(cast, client_for, url):
    assert client_for(cast.therapist).get(url).status_code == 404


def test_an_unknown_questionnaire_and_another_patients_episode_are_404(patient, cast):
    assert patient.get("/questionnaires/koos/").status_code == 404
    assert patient.get(f"{FAAM_URL}?episode={cast.episode_b.pk}").status_code == 404


def test_a_closed_episode_shows_the_closed_page_and_takes_no_answers(patient, cast, today):
    cast.episode_a.status = EpisodeStatus.CLOSED
    cast.episode_a.save(update_fields=["status"])
    page = patient.get(FAAM_URL)
    assert 'id="questionnaire-form"' not in page.content.decode()
    posted = patient.post(FAAM_URL, {**_all_answered(), "questionnaire_date": today.isoformat()})
    assert posted.status_code == 409
    assert not QuestionnaireResponse.objects.exists()


def test_saved_says_thank_you_only_when_the_answers_are_there(patient, baseline_week, today):
    assert "Thank you" not in patient.get("/questionnaires/?saved=faam").content.decode()
    _record(baseline_week, "faam", today, answers=_all_answered())
    assert "Thank you" in patient.get("/questionnaires/?saved=faam").content.decode()


def test_the_list_says_when_the_next_questionnaires_open(patient, cast, today):
    # Day 21: the review window (review_day 42, from 3 days before) opens on day 39.
    text = patient.get("/questionnaires/").content.decode()
    opens = cast.episode_a.start_date + dt.timedelta(days=38)
    assert "Nothing to answer now. The next questionnaires open on" in text
    assert opens.strftime("%-d %B") in text


# --- Progress ---------------------------------------------------------------------------------


def test_progress_shows_the_scores_in_plain_words(patient, cast, today):
    episode = cast.episode_a
    _record(
        episode,
        "faam",
        episode.start_date + dt.timedelta(days=1),
        answers={**_all_answered("2")},
    )
    _record(
        episode,
        "psfs",
        episode.start_date + dt.timedelta(days=1),
        activities=[{"activity": "Running", "score": 3}],
    )
    first = patient.get("/progress/").content.decode()
    assert "Daily activities: 50.0 out of 100 when you started (100 means no difficulty)." in first
    assert "Sport: 50.0 out of 100 when you started" in first
    assert "The activities you named: 3.0 out of 10 on average when you started" in first
    _record(episode, "faam", today, answers={**_all_answered("3")})
    later = patient.get("/progress/").content.decode()
    assert "Daily activities: 75.0 out of 100 now, from 50.0 when you started" in later


def test_progress_without_answers_says_where_scores_will_appear(patient):
    text = patient.get("/progress/").content.decode()
    assert "Your scores appear here after your first questionnaire." in text


def test_spanish_pages(cast, client_for, baseline_week):
    cast.patient_a.user.language = "es"
    cast.patient_a.user.save(update_fields=["language"])
    patient = client_for(cast.patient_a.user)
    faam = patient.get(FAAM_URL).content.decode()
    with translation.override("es"):
        assert "Enviar respuestas" in faam
        assert "Pregunta 1 de 29" in faam
    assert "Dos cuestionarios breves" in patient.get("/").content.decode()


def test_each_answer_is_audited_once(patient, baseline_week, today):
    patient.post(FAAM_URL, {**_all_answered(), "questionnaire_date": today.isoformat()})
    saved = _responses(baseline_week, "faam").get()
    actions = AuditEvent.objects.filter(object_id=str(saved.pk)).values_list("action", flat=True)
    assert len([a for a in actions if "questionnaire" in a]) == 1


def test_several_active_episodes_name_theirs(patient, cast, today):
    other = EpisodeFactory(patient=cast.patient_a, start_date=today - dt.timedelta(days=1))
    page = patient.get(f"{FAAM_URL}?episode={other.pk}")
    assert page.status_code == 200
    assert f'action="{FAAM_URL}?episode={other.pk}"' in page.content.decode()
