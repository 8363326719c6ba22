"""What the patient's questionnaire pages read (docs/patient-pages.md, "Questionnaires").

Reads only. What is due comes from the rules (``Evaluation.questionnaires_due`` as of the
patient's today, clinical-rules.md "Function"), never from a second copy of the windows here; the
windows themselves (``function_scores.questionnaire_windows``) only say when the next one opens.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.urls import reverse

from rehab import selectors
from rehab.evaluation import episode_progress, thresholds_for_clinic
from rehab.function_scores import questionnaire_windows
from rehab.models import Episode, EpisodeStatus, QuestionnaireResponse

INSTRUMENTS = ("faam", "psfs")

# About how long each takes on a phone (29 taps; up to five names and five ratings).
MINUTES = {"faam": 3, "psfs": 2}


@dataclass(frozen=True)
class Due:
    instrument: str
    window_start: dt.date
    window_end: dt.date


@dataclass(frozen=True)
class InstrumentStatus:
    instrument: str
    due: Due | None
    latest: QuestionnaireResponse | None  # the latest response, any day
    done_today: bool


@dataclass(frozen=True)
class Overview:
    episode: Episode
    today: dt.date
    statuses: list[InstrumentStatus]
    next_window_start: dt.date | None  # the next window opening after today, when none is open

    @property
    def due(self) -> list[Due]:
        return [s.due for s in self.statuses if s.due is not None]


def questionnaires_due(*, episode: Episode, today: dt.date) -> list[Due]:
    """The instruments due today, FAAM first (the rules' ``questionnaires_due``)."""
    if episode.status != EpisodeStatus.ACTIVE or today < episode.start_date:
        return []
    evaluation = episode_progress(episode=episode, as_of=today)
    found = [
        Due(instrument=d.instrument, window_start=d.window_start, window_end=d.window_end)
        for d in evaluation.questionnaires_due
    ]
    return sorted(found, key=lambda d: INSTRUMENTS.index(d.instrument))


def _next_window_start(episode: Episode, today: dt.date) -> dt.date | None:
    thresholds = thresholds_for_clinic(episode.patient.user.clinic_id)
    starts = [w.start for w in questionnaire_windows(episode.start_date, thresholds)]
    later = [start for start in starts if start > today]
    return min(later) if later else None


def overview(*, episode: Episode, today: dt.date) -> Overview:
    """Each instrument: due or not, and its latest response; when the next window opens."""
    due = {d.instrument: d for d in questionnaires_due(episode=episode, today=today)}
    latest: dict[str, QuestionnaireResponse] = {}
    for response in selectors.questionnaire_responses(episode=episode):
        kept = latest.get(response.instrument)
        if kept is None or (response.date, response.pk) > (kept.date, kept.pk):
            latest[response.instrument] = response
    statuses = [
        InstrumentStatus(
            instrument=name,
            due=due.get(name),
            latest=latest.get(name),
            done_today=name in latest and latest[name].date == today,
        )
        for name in INSTRUMENTS
    ]
    return Overview(
        episode=episode,
        today=today,
        statuses=statuses,
        next_window_start=None if due else _next_window_start(episode, today),
    )


def response_on(*, episode: Episode, instrument: str, day: dt.date) -> QuestionnaireResponse | None:
    """The response of that day, which a new answer of the same day replaces."""
    for response in selectors.questionnaire_responses(episode=episode):
        if response.instrument == instrument and response.date == day:
            return response
    return None


@dataclass(frozen=True)
class PsfsStart:
    """What the PSFS form opens with."""

    fixed: list[str]  # activities named before today: re-rated, not renamed
    fixed_since: dt.date | None  # the day they were named (the latest earlier response)
    initial: dict[str, Any]  # today's answer when there is one, to change it


def _activities(response: QuestionnaireResponse) -> Sequence[dict[str, Any]]:
    answers = response.answers
    return [a for a in answers if isinstance(a, dict)] if isinstance(answers, list) else []


def psfs_start(*, episode: Episode, day: dt.date) -> PsfsStart:
    """At a follow-up the activities of the latest earlier response come back to be re-rated
    (clinical-rules.md: "the same activities are re-rated at each follow-up")."""
    earlier: QuestionnaireResponse | None = None
    same_day: QuestionnaireResponse | None = None
    for response in selectors.questionnaire_responses(episode=episode):
        if response.instrument != "psfs":
            continue
        if response.date == day:
            same_day = response
        elif response.date < day and (earlier is None or response.date > earlier.date):
            earlier = response
    fixed = [str(a.get("activity", "")) for a in _activities(earlier)] if earlier else []
    initial: dict[str, Any] = {}
    if same_day is not None:
        for row, activity in enumerate(_activities(same_day), start=1):
            initial[f"activity_{row}"] = activity.get("activity", "")
            initial[f"score_{row}"] = activity.get("score")
    return PsfsStart(fixed=fixed, fixed_since=earlier.date if earlier else None, initial=initial)


def faam_initial(*, episode: Episode, day: dt.date) -> dict[str, str]:
    """Today's FAAM answers when there are some, to change them."""
    response = response_on(episode=episode, instrument="faam", day=day)
    if response is None or not isinstance(response.answers, dict):
        return {}
    return {key: str(value) for key, value in response.answers.items()}


@dataclass(frozen=True)
class Task:
    """The day's task card: the instruments due, and where to start."""

    due: list[Due]
    url: str

    @property
    def count(self) -> int:
        return len(self.due)

    @property
    def first(self) -> Due:
        return self.due[0]

    @property
    def window_end(self) -> dt.date:
        # The earliest deadline of those due: "please answer by" never promises too much.
        return min(d.window_end for d in self.due)


def questionnaire_task(*, episode: Episode, today: dt.date, several: bool) -> Task | None:
    """The task card on the day's page when a questionnaire is due, else None. ``several``: the
    patient has more than one active episode, so the address names this one."""
    due = questionnaires_due(episode=episode, today=today)
    if not due:
        return None
    url = reverse("patient-questionnaire", args=[due[0].instrument])
    return Task(due=due, url=f"{url}?episode={episode.pk}" if several else url)
