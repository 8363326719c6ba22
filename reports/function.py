"""The function questionnaires on the staff episode page: due / done per window, and every response.

The windows are the rules' (``rehab.function_scores.questionnaire_windows``: baseline days 1–7,
then around the review and overdue days), and "due" is exactly the rules' ``questionnaires_due``
of the page's evaluation, so the page, the progress API and the patient's phone agree. The
scores shown are the stored ones (``QuestionnaireResponse.score_*``, computed by the scoring
module when the response was recorded), in the one rounding of ``rehab.numbers``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext, pgettext

from rehab import numbers, rules
from rehab.function_scores import (
    ADL,
    BASELINE,
    FAAM,
    FAAM_ADL_ITEM_COUNT,
    FAAM_ITEMS_BY_LINK_ID,
    FAAM_SPORTS_ITEM_COUNT,
    PSFS,
    REVIEW,
    SPORTS,
    QuestionnaireWindow,
    faam_answer_value,
    questionnaire_windows,
)
from rehab.models import Episode, QuestionnaireResponse
from reports.l10n import day_month, day_month_year

DONE = "done"
DUE = "due"
MISSED = "missed"
UPCOMING = "upcoming"
NOT_REACHED = "not_reached"

INSTRUMENTS = (FAAM, PSFS)


def instrument_label(instrument: str) -> str:
    return "FAAM" if instrument == FAAM else "PSFS"


@dataclass(frozen=True)
class WindowCell:
    instrument: str
    state: str
    text: str


@dataclass(frozen=True)
class WindowRow:
    name: str
    label: str
    start: dt.date
    end: dt.date
    first_day: int
    last_day: int
    cells: tuple[WindowCell, ...]

    @property
    def days(self) -> str:
        return gettext("days %(first)s–%(last)s") % {"first": self.first_day, "last": self.last_day}

    @property
    def dates(self) -> str:
        return f"{day_month(self.start)} – {day_month_year(self.end)}"


@dataclass(frozen=True)
class ResponseRow:
    response: QuestionnaireResponse
    day: int
    instrument_label: str
    window_label: str
    scores: str
    answers: str
    recorded_by: str


@dataclass(frozen=True)
class FunctionPanel:
    windows: tuple[WindowRow, ...]
    responses: tuple[ResponseRow, ...]
    due: tuple[str, ...]  # the instruments due as of the page's date ("FAAM", "PSFS")

    @property
    def due_words(self) -> str:
        if not self.due:
            return ""
        return gettext("Due now: %(names)s.") % {"names": ", ".join(self.due)}


def _window_label(name: str) -> str:
    if name == BASELINE:
        return gettext("Baseline")
    if name == REVIEW:
        return gettext("Review")
    return pgettext("questionnaire window", "Overdue day")


def _trial_day(episode: Episode, date: dt.date) -> int:
    return (date - episode.start_date).days + 1


def _ended(episode: Episode) -> dt.date | None:
    """The day the trial ended (its referral, else its closure); None while it runs."""
    return episode.referral_date or episode.closed_date


def _cell(
    *,
    episode: Episode,
    window: QuestionnaireWindow,
    instrument: str,
    answered: Sequence[dt.date],
    due: set[tuple[str, dt.date]],
    as_of: dt.date,
) -> WindowCell:
    inside = [d for d in answered if window.holds(d) and d <= as_of]
    ended = _ended(episode)
    if inside:
        date = inside[-1]
        text = gettext("Done %(date)s (day %(day)s)") % {
            "date": day_month(date),
            "day": _trial_day(episode, date),
        }
        return WindowCell(instrument, DONE, text)
    if (instrument, window.start) in due:
        return WindowCell(
            instrument,
            DUE,
            gettext("Due now, until %(date)s") % {"date": day_month_year(window.end)},
        )
    if ended is not None and ended <= window.end:
        return WindowCell(instrument, NOT_REACHED, gettext("Not asked: the trial had ended"))
    if window.end < as_of:
        return WindowCell(instrument, MISSED, gettext("Not answered"))
    if window.start > as_of:
        return WindowCell(
            instrument,
            UPCOMING,
            gettext("Opens %(date)s") % {"date": day_month_year(window.start)},
        )
    # Open today without a response: due (the rules list it; this is the same reading).
    return WindowCell(
        instrument, DUE, gettext("Due now, until %(date)s") % {"date": day_month_year(window.end)}
    )


def _answered(answers: Mapping[str, Any], subscale: str) -> int:
    count = 0
    for link_id, value in answers.items():
        item = FAAM_ITEMS_BY_LINK_ID.get(link_id)
        if item is None or item.subscale != subscale:
            continue
        try:
            count += faam_answer_value(value) is not None
        except ValueError:
            continue
    return count


def _not_scored() -> str:
    return gettext("not scored (too few items answered)")


def _faam_scores(response: QuestionnaireResponse) -> str:
    adl = response.score_adl
    sports = response.score_sports
    return gettext("ADL %(adl)s · Sports %(sports)s") % {
        "adl": numbers.score(adl) if adl is not None else _not_scored(),
        "sports": numbers.score(sports) if sports is not None else _not_scored(),
    }


def _faam_answers(answers: Any) -> str:
    answers = answers if isinstance(answers, Mapping) else {}
    return gettext(
        "ADL %(adl)s of %(adl_total)s items answered 0–4, Sports %(sports)s of %(sports_total)s"
    ) % {
        "adl": _answered(answers, ADL),
        "adl_total": FAAM_ADL_ITEM_COUNT,
        "sports": _answered(answers, SPORTS),
        "sports_total": FAAM_SPORTS_ITEM_COUNT,
    }


def _psfs_answers(answers: Any) -> str:
    rated = answers if isinstance(answers, list) else []
    return " · ".join(
        gettext("%(activity)s %(score)s/10")
        % {"activity": str(a.get("activity", "")), "score": a.get("score", "–")}
        for a in rated
        if isinstance(a, Mapping)
    )


def _response_row(
    episode: Episode, response: QuestionnaireResponse, windows: Sequence[QuestionnaireWindow]
) -> ResponseRow:
    window = next((w for w in windows if w.holds(response.date)), None)
    if response.instrument == FAAM:
        scores, answers = _faam_scores(response), _faam_answers(response.answers)
    else:
        scores = numbers.score(response.score_psfs)
        answers = _psfs_answers(response.answers)
    recorder = response.recorded_by
    if recorder is None:
        recorded_by = "–"
    elif recorder.pk == episode.patient.user_id:
        recorded_by = gettext("the patient")
    else:
        recorded_by = recorder.get_full_name() or recorder.email
    return ResponseRow(
        response=response,
        day=_trial_day(episode, response.date),
        instrument_label=instrument_label(response.instrument),
        window_label=(
            _window_label(window.name) if window is not None else gettext("outside the windows")
        ),
        scores=scores,
        answers=answers,
        recorded_by=recorded_by,
    )


def function_panel(
    *,
    episode: Episode,
    evaluation: rules.Evaluation,
    thresholds: rules.Thresholds,
    responses: Iterable[QuestionnaireResponse],
    as_of: dt.date,
) -> FunctionPanel:
    """Due / done for each window and instrument, and the responses newest first."""
    listed = sorted(responses, key=lambda r: (r.date, r.instrument))
    windows = questionnaire_windows(episode.start_date, thresholds)
    due = {(d.instrument, d.window_start) for d in evaluation.questionnaires_due}
    answered = {
        instrument: [r.date for r in listed if r.instrument == instrument]
        for instrument in INSTRUMENTS
    }
    rows = tuple(
        WindowRow(
            name=window.name,
            label=_window_label(window.name),
            start=window.start,
            end=window.end,
            first_day=_trial_day(episode, window.start),
            last_day=_trial_day(episode, window.end),
            cells=tuple(
                _cell(
                    episode=episode,
                    window=window,
                    instrument=instrument,
                    answered=answered[instrument],
                    due=due,
                    as_of=as_of,
                )
                for instrument in INSTRUMENTS
            ),
        )
        for window in windows
    )
    return FunctionPanel(
        windows=rows,
        responses=tuple(_response_row(episode, r, windows) for r in reversed(listed)),
        due=tuple(
            dict.fromkeys(instrument_label(d.instrument) for d in evaluation.questionnaires_due)
        ),
    )
