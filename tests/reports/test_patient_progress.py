"""The patient's own progress page (/progress/): content, plain words, streak, reach, weight."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from rehab import rules
from rehab.models import DailyEntry, Episode, EpisodeStatus, Exercise
from rehab.vocabulary import CODE_LABELS, RECOMMENDATION_LABELS, SEVERITY_LABELS
from reports.patient_progress import (
    Streak,
    about,
    adherence_message,
    exercise_streak,
    pain_message,
    streak_message,
)
from tests.alerts.factories import AlertFactory
from tests.courses import START, day, log_days
from tests.factories import EpisodeFactory, PrescriptionFactory
from tests.personas import signed_in_client

URL = "/progress/"
T = rules.Thresholds()


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# --- The streak (pure) ---------------------------------------------------------------------------


def _data(
    done: dict[int, dict[int, int]],
    prescriptions: tuple[rules.PrescriptionData, ...] = (rules.PrescriptionData(1, 3, START),),
) -> rules.EpisodeData:
    """Entries by trial day with their sets done: {day: {prescription id: sets}}."""
    return rules.EpisodeData(
        start_date=START,
        entries=[
            rules.EntryData(date=day(d), pain_activity=5, sets_done=sets)
            for d, sets in done.items()
        ],
        prescriptions=prescriptions,
    )


def test_no_streak_without_a_prescription():
    assert exercise_streak(_data({1: {}}, prescriptions=()), day(3)) is None
    later = (rules.PrescriptionData(1, 3, day(5)),)
    assert exercise_streak(_data({1: {}}, prescriptions=later), day(3)) is None


def test_today_counts_once_complete():
    data = _data({d: {1: 3} for d in (3, 4, 5)})
    assert exercise_streak(data, day(5)) == Streak(days=3, today_done=True)


def test_an_unfinished_today_does_not_break_the_streak():
    assert exercise_streak(_data({d: {1: 3} for d in (3, 4)}), day(5)) == Streak(2, False)
    partial_today = _data({3: {1: 3}, 4: {1: 3}, 5: {1: 1}})
    assert exercise_streak(partial_today, day(5)) == Streak(2, False)


def test_a_missed_or_partial_day_ends_it():
    assert exercise_streak(_data({1: {1: 3}, 2: {1: 3}, 4: {1: 3}}), day(5)) == Streak(1, False)
    assert exercise_streak(_data({2: {1: 3}, 3: {1: 2}, 4: {1: 3}}), day(4)) == Streak(1, True)
    # Nothing yesterday and nothing today: no streak.
    assert exercise_streak(_data({1: {1: 3}}), day(3)) == Streak(0, False)


def test_every_prescription_of_the_day_must_be_done_and_extra_sets_are_fine():
    two = (rules.PrescriptionData(1, 3, START), rules.PrescriptionData(2, 2, START))
    data = _data({1: {1: 3, 2: 2}, 2: {1: 5, 2: 2}, 3: {1: 3}}, prescriptions=two)
    assert exercise_streak(data, day(3)) == Streak(2, False)
    assert exercise_streak(data, day(2)) == Streak(2, True)


def test_days_with_nothing_prescribed_neither_count_nor_break():
    gap = (
        rules.PrescriptionData(1, 3, START, end_date=day(2)),
        rules.PrescriptionData(2, 3, day(5)),
    )
    # Days 3-4 have no prescription active and no entry; days 1, 2, 5, 6 are complete.
    data = _data({1: {1: 3}, 2: {1: 3}, 5: {2: 3}, 6: {2: 3}}, prescriptions=gap)
    assert exercise_streak(data, day(6)) == Streak(4, True)


def test_the_streak_stops_at_the_start_and_ignores_later_entries():
    data = _data({d: {1: 3} for d in range(1, 11)})
    assert exercise_streak(data, day(10)) == Streak(10, True)
    assert exercise_streak(data, day(4)) == Streak(4, True)
    assert exercise_streak(data, day(0)) is None  # before the start nothing is prescribed yet


def test_streak_words():
    assert streak_message(None) is None
    assert streak_message(Streak(0, False)) == "Do all of today's exercises to start a streak."
    assert (
        streak_message(Streak(1, True))
        == "1 day in a row with all your exercises done. Keep it up!"
    )
    assert streak_message(Streak(4, False)) == (
        "4 days in a row with all your exercises done. Do today's to make it 5."
    )


# --- The words (pure) ----------------------------------------------------------------------------


def _pain(baseline, current, trial_day=30, status="active"):
    return pain_message(
        baseline=baseline, current=current, trial_day=trial_day, status=status, thresholds=T
    )


def test_pain_coming_down_is_said_in_round_numbers():
    assert _pain(7.0, 4.29) == (
        "Your pain during activity has come down from about 7 to about 4 out of 10 since you "
        "started — keep going."
    )
    assert about(4.5) == 5 and about(4.49) == 4 and about(0.0) == 0


def test_no_change_or_worse_is_neutral_not_alarming():
    same = _pain(6.57, 6.71)
    assert "about 7 out of 10, much the same as when you started" in same
    worse = _pain(4.0, 7.0)
    assert "higher than when you started (about 4)" in worse and "tell your therapist" in worse
    for text in (same, worse):
        assert "refer" not in text.lower() and "surg" not in text.lower()


def test_very_low_pain_and_missing_numbers():
    assert "now very low (about 1 out of 10, from about 6" in _pain(6.0, 1.0)
    assert "first week" in _pain(None, None, trial_day=3)
    assert "at least 4 days each week" in _pain(None, None, trial_day=12)
    assert _pain(7.0, None).startswith("When you started, your pain during activity was about 7")
    assert "has ended" in _pain(7.0, 6.0, status="referred")


def test_adherence_words():
    assert adherence_message(None, thresholds=T) is None
    assert adherence_message(92.4, thresholds=T) == (
        "You have done 92% of your exercise sets on the days you logged. Well done!"
    )
    assert "helps your ankle most" in adherence_message(79.6, thresholds=T)


# --- The page ------------------------------------------------------------------------------------


def _course(episode: Episode, scores: dict[int, int], *, sets_done: int = 3) -> None:
    """Entries by trial day, each logging ``sets_done`` sets of the first prescription, if any."""
    log_days(episode, scores, prescription=episode.prescriptions.first(), sets_done=sets_done)


@pytest.fixture
def improving(cast) -> Episode:
    """cast.episode_a (day 21): pain 7 in week 1, 4 over the last week, every set done."""
    calf = Exercise.objects.get(name="Calf stretch (gastrocnemius)")
    PrescriptionFactory(
        episode=cast.episode_a, exercise=calf, name=calf.name, sets=3, reps="30 s hold"
    )
    _course(cast.episode_a, {**{d: 7 for d in range(1, 8)}, **{d: 4 for d in range(15, 22)}})
    return cast.episode_a


def test_the_progress_page_shows_trend_streak_adherence_and_prescription(cast, improving):
    response = signed_in_client(cast.patient_a.user).get(URL)
    assert response.status_code == 200
    assert response.templates[0].name == "patient/progress.html"
    html = response.content.decode()
    text = _text(html)
    assert (
        "Your pain during activity has come down from about 7 to about 4 out of 10 since you "
        "started — keep going." in text
    )
    assert "week 3, day 21 of your programme" in text
    # The chart: inline SVG with a text alternative, drawn on the server.
    svg = re.search(r"<svg [^>]*>", html)
    assert svg is not None and 'role="img"' in svg.group(0)
    assert '<title id="pain-chart-title">Your pain during activity</title>' in html
    assert "Your starting level was about 7 out of 10." in html
    assert "Your latest 7-day average is about 4 out of 10." in html
    assert html.count('fill="#7fb8a4"') == 14  # one dot per day logged
    # Exercises: the streak runs over days 15-21 (days 8-14 were not logged), adherence 100%.
    progress = response.context["progress"]
    assert progress.streak == Streak(days=7, today_done=True)
    assert "<dd>7</dd>" in html and "<dd>100%</dd>" in html
    assert "7 days in a row with all your exercises done. Keep it up!" in text
    assert "You have done 100% of your exercise sets" in text
    assert "Calf stretch (gastrocnemius)" in text and "3 sets × 30 s hold" in text
    assert "Lean forward until you feel a stretch in the calf." in text  # catalogue instructions
    assert 'href="/?' not in html and 'href="/"' in html  # "Log today", one active episode


def test_the_page_is_light_for_a_phone(cast, improving):
    html = signed_in_client(cast.patient_a.user).get(URL).content.decode()
    # No chart library: only our own small scripts (the offline diary's), and none inline.
    assert "plotly" not in html.lower()
    scripts = re.findall(r"<script\b[^>]*>", html)
    ours = r'src="(/static/js/[\w-]+\.js|/jsi18n/[\w-]+/)"'  # the scripts' catalogue too
    assert scripts and all(re.search(ours, tag) for tag in scripts)
    assert "style=" not in html
    assert len(html.encode()) < 30_000


def test_the_patient_never_reads_clinical_codes_or_referral_words(cast):
    # Worked example 4: day 57, no important improvement -> the rules say "refer now".
    episode = cast.episode_a
    Episode.objects.filter(pk=episode.pk).update(
        start_date=cast.patient_a.local_today() - dt.timedelta(days=56)
    )
    episode.refresh_from_db()
    _course(episode, {**{d: 7 for d in range(1, 8)}, **{d: 6 for d in range(50, 58)}})
    AlertFactory(episode=episode, code=rules.REFERRAL_OVERDUE, severity=rules.CRITICAL)

    html = signed_in_client(cast.patient_a.user).get(URL).content.decode()
    text = _text(html)
    # A one-point fall is too small for the clinic, but it is still the patient's progress.
    assert "has come down from about 7 to about 6 out of 10 since you started" in text
    lowered = text.lower()
    for word in ("refer", "surg", "overdue", "mcid", "baseline", "alert"):
        assert word not in lowered, word
    for code in rules.FINDING_SEVERITY:
        assert code not in html
    for label in (*CODE_LABELS.values(), *RECOMMENDATION_LABELS.values()):
        assert str(label) not in text, label
    for label in SEVERITY_LABELS.values():
        assert f">{label}<" not in html


def test_nothing_logged_yet(cast):
    html = signed_in_client(cast.patient_b.user).get(URL).content.decode()
    assert "Your chart appears here once you log your first day." in html
    assert "<svg" not in html
    assert "No exercises are prescribed right now." in html


def test_reach_own_episodes_only(cast, improving):
    # Patient B asks for patient A's episode: as absent as one that does not exist.
    assert (
        signed_in_client(cast.patient_b.user).get(URL, {"episode": improving.pk}).status_code == 404
    )
    assert signed_in_client(cast.patient_b.user).get(URL, {"episode": "abc"}).status_code == 404
    assert (
        signed_in_client(cast.patient_a.user).get(URL, {"episode": improving.pk}).status_code == 200
    )
    # Staff have the episode page; this page is the patient's.
    for staff in (cast.therapist, cast.admin):
        assert signed_in_client(staff).get(URL, {"episode": improving.pk}).status_code == 404
    response = Client().get(URL)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_a_patient_with_several_episodes_picks_one(cast, improving):
    old = EpisodeFactory(
        patient=cast.patient_a,
        status=EpisodeStatus.CLOSED,
        start_date=improving.start_date - dt.timedelta(days=120),
    )
    client = signed_in_client(cast.patient_a.user)
    default = client.get(URL)
    assert default.context["progress"].episode == improving  # the active one first
    assert f'href="/progress/?episode={old.pk}"' in default.content.decode()
    chosen = client.get(URL, {"episode": old.pk})
    assert chosen.context["progress"].episode == old
    assert "This programme has ended." in chosen.content.decode()


def test_a_patient_without_an_episode(cast):
    Episode.objects.filter(patient=cast.patient_b).delete()
    response = signed_in_client(cast.patient_b.user).get(URL)
    assert response.status_code == 200
    assert response.templates[0].name == "patient/no_episode.html"


def test_reached_from_the_today_page_and_the_nav(cast):
    html = signed_in_client(cast.patient_a.user).get("/").content.decode()
    assert html.count('href="/progress/"') == 2
    nav = signed_in_client(cast.patient_a.user).get(URL).content.decode()
    assert 'href="/progress/" aria-current="page">Progress</a>' in nav


def test_the_page_costs_the_same_queries_whatever_the_trial_length(cast, improving):
    client = signed_in_client(cast.patient_a.user)
    client.get(URL)
    with CaptureQueriesContext(connection) as short:
        client.get(URL)
    DailyEntry.objects.filter(episode=improving).delete()
    _course(improving, {d: 5 for d in range(1, 22)})
    with CaptureQueriesContext(connection) as full:
        response = client.get(URL)
    assert len(response.context["progress"].series.pain) == 21
    assert len(full) == len(short)
