"""FAAM and PSFS where staff read them (issue 15, point 4): the episode page (Progress, the two
charts with their MCID band, due / done per window, the responses), the caseload row, the
referral report (page and PDF) and the clinic outcomes report; through the pages themselves.

The responses are written through the service the phone and the API use; the answers come from
``rehab.demo.faam_answers`` (ADL 61.9 and Sports 34.4 for 62 and 34; see the worked numbers in
each test).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from typing import Any

import pypdfium2 as pdfium
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from rehab.demo import faam_answers
from rehab.models import ClinicRuleSettings, Episode
from rehab.questionnaires import questionnaire_response_record
from tests.courses import log_days
from tests.days import WEEK_ONE
from tests.factories import EpisodeFactory, PatientFactory, PrescriptionFactory
from tests.personas import signed_in_client

pytestmark = pytest.mark.django_db


def answer(
    episode: Episode,
    day: int,
    *,
    adl: int | None = None,
    sports: int | None = None,
    psfs: tuple[int, ...] | None = None,
    actor: User | None = None,
    answers: dict[str, Any] | None = None,
) -> None:
    """The FAAM (ADL/Sports laid out to those scores) and/or PSFS of trial ``day``."""
    actor = actor or episode.patient.user
    date = episode.start_date + dt.timedelta(days=day - 1)
    if answers is not None or adl is not None:
        questionnaire_response_record(
            actor=actor,
            episode=episode,
            instrument="faam",
            date=date,
            answers=answers
            if answers is not None
            else faam_answers(adl=adl or 0, sports=sports or 0),
        )
    if psfs is not None:
        questionnaire_response_record(
            actor=actor,
            episode=episode,
            instrument="psfs",
            date=date,
            activities=[
                {"activity": name, "score": score}
                for name, score in zip(("Running", "Stairs", "Relevé"), psfs, strict=False)
            ],
        )


def episode_on_day(cast: Any, trial_day: int, *, patient: Any = None) -> Episode:
    patient = patient or cast.patient_a
    today = patient.local_today()
    episode = EpisodeFactory(patient=patient, start_date=today - dt.timedelta(days=trial_day - 1))
    log_days(
        episode,
        {n: WEEK_ONE[n - 1] if n <= 7 else 6 for n in range(1, trial_day + 1)},
        prescription=PrescriptionFactory(episode=episode, sets=3, start_date=episode.start_date),
    )
    return episode


def stalled_function(cast: Any, trial_day: int = 45, **kwargs: Any) -> Episode:
    """Sports 28.1 → 31.3 (+3.1 exactly 3.125, short of 9), ADL 57.1 → 60.7, PSFS 2.7 → 3.3
    (+0.7: 8/3 to 10/3)."""
    episode = episode_on_day(cast, trial_day, **kwargs)
    answer(episode, 1, adl=57, sports=28, psfs=(2, 3, 3), actor=cast.therapist)
    answer(episode, 42, adl=61, sports=31, psfs=(3, 3, 4))
    return episode


def figure(html: str, chart_id: str) -> dict[str, Any]:
    match = re.search(
        rf'<script id="{chart_id}-data" type="application/json">(.*?)</script>', html, re.S
    )
    assert match, f"no JSON block for {chart_id}"
    data: dict[str, Any] = json.loads(match.group(1))
    return data


def text_of(html: str) -> str:
    """The page's words, tags dropped and spaces collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def section(html: str, element_id: str) -> str:
    start = html.index(f'id="{element_id}"')
    end = html.index("</section>", start)
    return text_of(html[start:end])


# --- Episode page ---------------------------------------------------------------------------------


def test_the_episode_page_shows_progress_charts_windows_and_responses(cast):
    episode = stalled_function(cast)
    html = signed_in_client(cast.therapist).get(f"/episodes/{episode.pk}/").content.decode()
    words = text_of(html)

    # Progress: baseline → now with the change (a rise is an improvement).
    assert re.search(r"FAAM Sports\s+28\.1 → to 31\.3 \+3\.1 points", words)
    assert re.search(r"FAAM ADL\s+57\.1 → to 60\.7 \+3\.6 points", words)
    assert re.search(r"PSFS\s+2\.7 → to 3\.3 \+0\.7 points", words)
    assert "Function not improving (FAAM)" in words
    assert "FUNCTION_NOT_IMPROVING" not in words  # a rule's code is not a word a person reads

    # The FAAM chart: both subscales, the band of Sports (judged) from 28.1 + 9 up.
    faam = figure(html, "chart-faam")
    traces = {t["name"]: t for t in faam["data"]}
    # Drawn to 0.1 as the page states them (the rules keep 28.125 and 31.25 exact).
    assert traces["FAAM Sports"]["y"] == [28.1, 31.3]
    assert traces["FAAM ADL"]["y"] == [57.1, 60.7]
    shapes = {s["name"]: s for s in faam["layout"]["shapes"]}
    assert [shapes["mcid_band"]["y0"], shapes["mcid_band"]["y1"]] == [37.1, 100]
    assert shapes["other_target"]["y0"] == 65.1  # ADL 57.1 + 8
    labels = {a["name"]: a["text"] for a in faam["layout"]["annotations"]}
    assert labels["mcid_label"].startswith("Sports target<br>37.1 or above")
    psfs = figure(html, "chart-psfs")
    psfs_shapes = {s["name"]: s for s in psfs["layout"]["shapes"]}
    assert [psfs_shapes["mcid_band"]["y0"], psfs_shapes["mcid_band"]["y1"]] == [4.7, 10]
    assert "FAAM Sports went from 28.1 on day 1 to 31.3 on day 42 (+3.1 points)" in words, words
    assert "to 37.1 or above (band); the latest score is below it" in words
    # The PSFS's summary names it mid-sentence in lower case ("of the PSFS", not "of The PSFS").
    assert "A clinically important improvement of the PSFS is 2.0 points, to 4.7" in words

    # Due / done: baseline and review done, the overdue day's window still ahead.
    windows = section(html, "questionnaires-title")
    start = episode.start_date
    assert f"Done {start:%-d %b} (day 1)" in windows
    review = start + dt.timedelta(days=41)
    assert f"Done {review:%-d %b} (day 42)" in windows
    opens = start + dt.timedelta(days=52)
    assert f"Opens {opens:%-d %b %Y}" in windows
    assert "Due now" not in windows

    # Responses, newest first, with who recorded them and how many items were answered.
    assert "ADL 60.7 · Sports 31.3" in windows
    assert "ADL 21 of 21 items answered 0–4, Sports 8 of 8" in windows
    assert "Running 3/10 · Stairs 3/10 · Relevé 4/10" in windows
    assert windows.index("day 42, Review") < windows.index("day 1, Baseline")
    therapist_name = cast.therapist.get_full_name()
    assert therapist_name in windows and "the patient" in windows


def test_a_window_open_today_without_an_answer_is_due_and_a_passed_one_not_answered(cast):
    # Day 58: no baseline, no review answer; the overdue window (53–63) is open.
    episode = episode_on_day(cast, 58)
    answer(episode, 10, adl=70, sports=50)  # outside the windows: kept and shown
    html = signed_in_client(cast.therapist).get(f"/episodes/{episode.pk}/").content.decode()
    panel = section(html, "questionnaires-title")
    end = episode.start_date + dt.timedelta(days=62)
    assert "Due now: FAAM, PSFS." in panel
    assert panel.count(f"Due now, until {end:%-d %b %Y}") == 2
    assert panel.count("Not answered") == 4  # baseline and review, both questionnaires
    assert "day 10, outside the windows" in panel


def test_a_referred_episode_says_the_later_windows_were_not_asked(cast):
    episode = episode_on_day(cast, 50)
    answer(episode, 2, adl=60, sports=30, psfs=(3,))
    episode.status = "referred"
    episode.referral_date = episode.start_date + dt.timedelta(days=43)  # day 44
    episode.save()
    html = signed_in_client(cast.therapist).get(f"/episodes/{episode.pk}/").content.decode()
    panel = section(html, "questionnaires-title")
    # Review window (39–49) and overdue window: the trial ended on day 44, before they closed.
    assert panel.count("Not asked: the trial had ended") == 4
    assert "Due now" not in panel


def test_an_unscored_subscale_is_a_cross_not_a_zero(cast):
    episode = episode_on_day(cast, 20)
    answers = faam_answers(adl=60, sports=40)
    for n in (1, 2):
        answers[f"sports-{n}"] = "na"  # 6 of 8 answered: Sports unknown
    answer(episode, 2, answers=answers)
    html = signed_in_client(cast.therapist).get(f"/episodes/{episode.pk}/").content.decode()
    faam = figure(html, "chart-faam")
    traces = {t["name"]: t for t in faam["data"]}
    assert traces["FAAM Sports"]["y"] == []
    assert traces["Not scored (too few items answered)"]["y"] == [0]
    assert "not scored (too few items answered)" in section(html, "questionnaires-title")
    assert "Sports 6 of 8" in section(html, "questionnaires-title")
    words = text_of(html)
    assert "FAAM Sports could not be scored yet: too few items answered" in words
    assert "On day 2 too few items of a subscale were answered to score it (cross)" in words


def test_without_any_questionnaire_the_page_says_so(cast):
    episode = episode_on_day(cast, 3)
    html = signed_in_client(cast.therapist).get(f"/episodes/{episode.pk}/").content.decode()
    notes = {a["name"]: a["text"] for a in figure(html, "chart-faam")["layout"]["annotations"]}
    assert notes["empty"] == "No FAAM answered yet"
    panel = section(html, "questionnaires-title")
    assert "No questionnaire answered yet." in panel
    assert "Due now: FAAM, PSFS." in panel  # day 3: the baseline window is open
    assert "FAAM ADL" not in section(html, "progress-title")


def test_the_clinics_mcid_moves_the_band(cast):
    ClinicRuleSettings.objects.update_or_create(
        clinic=cast.therapist.clinic, defaults={"overrides": {"faam_sports_mcid": 12}}
    )
    episode = stalled_function(cast)
    html = signed_in_client(cast.therapist).get(f"/episodes/{episode.pk}/").content.decode()
    shapes = {s["name"]: s for s in figure(html, "chart-faam")["layout"]["shapes"]}
    assert shapes["mcid_band"]["y0"] == 40.1


def test_episode_page_queries_do_not_grow_with_the_number_of_responses(cast):
    client = signed_in_client(cast.therapist)
    few, many = episode_on_day(cast, 50), episode_on_day(cast, 50)
    answer(few, 1, adl=60, sports=30, psfs=(3,))
    for n in (1, 5, 12, 20, 30, 41, 45):
        answer(many, n, adl=60 + n // 2, sports=30 + n // 3, psfs=(3, 4))
    client.get(f"/episodes/{few.pk}/")
    with CaptureQueriesContext(connection) as one:
        assert client.get(f"/episodes/{few.pk}/").status_code == 200
    with CaptureQueriesContext(connection) as seven:
        assert client.get(f"/episodes/{many.pk}/").status_code == 200
    assert len(seven) == len(one), [q["sql"] for q in seven.captured_queries]


# --- Caseload ---------------------------------------------------------------------------------


def caseload_row(html: str, episode: Episode) -> str:
    start = html.index(f'href="/episodes/{episode.pk}/"')
    end = html.index("</tr>", start)
    return text_of(html[start:end])


def test_the_caseload_row_shows_faam_sports_else_adl_and_what_is_due(cast):
    stalled = stalled_function(cast)
    adl_only = episode_on_day(cast, 30, patient=cast.patient_b)
    answers = faam_answers(adl=60, sports=40)
    answers.update({f"sports-{n}": "na" for n in (1, 2)})
    answer(adl_only, 2, answers=answers)
    answers = faam_answers(adl=75, sports=60)
    answers.update({f"sports-{n}": "na" for n in (1, 2)})
    answer(adl_only, 20, answers=answers)
    html = signed_in_client(cast.therapist).get("/").content.decode()
    assert "Function (FAAM)" in html
    assert re.search(r"28\.1 → to 31\.3 Sports", caseload_row(html, stalled))
    # Sports never scored: ADL, 59.5 → 75.0.
    assert re.search(r"59\.5 → to 75\.0 ADL", caseload_row(html, adl_only))
    # cast.episode_a has no questionnaire at all.
    cell = re.search(
        rf'href="/episodes/{cast.episode_a.pk}/".*?<td class="faam"[^>]*>(.*?)</td>',
        html,
        re.S,
    )
    assert cell and "none yet" in cell.group(1)


def test_a_caseload_row_says_when_questionnaires_are_due(cast):
    episode = episode_on_day(cast, 58)
    answer(episode, 2, adl=60, sports=31, psfs=(3,))
    answer(episode, 42, adl=63, sports=34, psfs=(3,))
    row = caseload_row(signed_in_client(cast.therapist).get("/").content.decode(), episode)
    assert "31.3 → to 34.4 Sports" in row
    assert "FAAM and PSFS due" in row


def test_the_caseload_costs_the_same_queries_with_questionnaires(cast):
    client = signed_in_client(cast.therapist)
    client.get("/")
    with CaptureQueriesContext(connection) as before:
        client.get("/")
    for _ in range(3):
        stalled_function(cast, patient=PatientFactory(therapist=cast.therapist))
    # The first view stores the new episodes' evaluations (rehab.read_model); then the same
    # queries as before, whatever the questionnaires.
    client.get("/")
    with CaptureQueriesContext(connection) as after:
        client.get("/")
    assert len(after) == len(before)


# --- Referral report: page and PDF ------------------------------------------------------------


def test_the_referral_report_shows_function_beside_pain(cast):
    episode = stalled_function(cast)
    html = signed_in_client(cast.therapist).get(f"/episodes/{episode.pk}/report/").content.decode()
    measures = section(html, "metrics-title")
    pain_at = measures.index("Change (current − baseline)")
    sports_at = measures.index("Function: FAAM Sports (0–100)")
    assert pain_at < sports_at < measures.index("Exercise adherence")
    assert "28.1 to 31.3 (+3.1 points)" in measures
    assert "baseline day 1, latest day 42; important from +9.0 points; the subscale" in measures
    assert "57.1 to 60.7 (+3.6 points)" in measures
    assert "2.7 to 3.3 (+0.7 points)" in measures
    assert 'id="report-faam-data"' in html and 'id="report-psfs-data"' in html
    findings = section(html, "report-findings-title")
    assert "Function not improving (FAAM)" in findings and "FUNCTION_NOT_IMPROVING" not in findings
    # The referral finding's evidence carries the function figures, rounded like the metrics.
    assert "FAAM Sports, first score: 28.1 · FAAM Sports, latest score: 31.3" in findings
    # …and the reason for referral, first, says it in words.
    reason = section(html, "reason-title")
    assert (
        "Function: FAAM Sports 28.1 → 31.3 (+3.1 points), short of the +9.0 points that count "
        "as an important improvement." in reason
    )


def test_a_report_without_questionnaires_says_none_was_answered(cast):
    episode = episode_on_day(cast, 20)
    html = signed_in_client(cast.therapist).get(f"/episodes/{episode.pk}/report/").content.decode()
    assert re.search(
        r"Function \(FAAM, PSFS\)\s+not answered\s+no questionnaire answered", text_of(html)
    )


def pdf_text(pdf: bytes) -> str:
    document = pdfium.PdfDocument(pdf)
    text = " ".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    return re.sub(r"\s+", " ", text)


def test_the_pdf_shows_the_function_rows_and_chart(cast):
    episode = stalled_function(cast)
    response = signed_in_client(cast.therapist).get(f"/episodes/{episode.pk}/report.pdf")
    assert response.status_code == 200
    text = pdf_text(response.content)
    assert "Function: FAAM Sports (0–100) 28.1 to 31.3 (+3.1 points)" in text
    assert "Function: PSFS (0–10) 2.7 to 3.3 (+0.7 points)" in text
    assert "Function: FAAM and PSFS" in text
    assert "important improvement of FAAM Sports: 37.1 or more" in text
    assert "PSFS target 4.7" in text


# --- Clinic outcomes ---------------------------------------------------------------------------


def test_the_outcomes_report_shows_the_change_in_faam_by_outcome(cast):
    referred = stalled_function(cast, 50)
    referred.status = "referred"
    referred.referral_date = referred.start_date + dt.timedelta(days=44)
    referred.save()
    resolved = episode_on_day(cast, 45, patient=PatientFactory(therapist=cast.therapist))
    answer(resolved, 2, adl=64, sports=38)
    answer(resolved, 40, adl=95, sports=88)
    resolved.status = "closed"
    resolved.outcome = "resolved"
    resolved.closed_date = resolved.start_date + dt.timedelta(days=41)
    resolved.save()
    html = signed_in_client(cast.admin).get("/reports/outcomes/").content.decode()
    table = section(html, "faam-title")
    rows = {
        label: table[table.index(label) : table.index(label) + 90]
        for label in ("Resolved conservatively", "Referred")
    }
    # Resolved: ADL 64.3 → 95.2 (+31.0, exactly 54/84 to 80/84), Sports 37.5 → 87.5 (+50.0),
    # both important.
    assert (
        "+31.0 points 1 episode 1 of 1 +50.0 points 1 episode 1 of 1"
        in rows["Resolved conservatively"]
    )
    # Referred: ADL +3.6 (short of 8), Sports +3.1 (short of 9).
    assert "+3.6 points 1 episode 0 of 1 +3.1 points 1 episode 0 of 1" in rows["Referred"]
    assert "at least 8.0 points (ADL) or 9.0 points (Sports)" in table

    csv_rows = list(
        csv.DictReader(
            io.StringIO(signed_in_client(cast.admin).get("/reports/outcomes.csv").content.decode())
        )
    )
    row = next(r for r in csv_rows if r["episode"] == str(referred.pk))
    assert (row["faam_sports_baseline"], row["faam_sports_end"]) == ("28.1", "31.3")
    assert (row["faam_adl_baseline"], row["faam_adl_end"]) == ("57.1", "60.7")
    untouched = next(r for r in csv_rows if r["episode"] == str(cast.episode_a.pk))
    assert untouched["faam_adl_baseline"] == ""


def test_the_outcomes_report_without_follow_ups_says_so(cast):
    html = signed_in_client(cast.admin).get("/reports/outcomes/").content.decode()
    assert "No episode has a FAAM baseline and a later FAAM score yet." in html
