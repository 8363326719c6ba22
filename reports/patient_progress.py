"""The patient's own progress page: their pain trend, exercise streak and what was prescribed.

Written for the patient, in plain words: the page never shows rule codes, severities or the
clinic's recommendation (a patient reading "refer now" on their phone, alone, before the
therapist has called them, would be alarmed and none the wiser). It says how the pain has moved
since the start, and encourages the habits the trial depends on: logging and the exercises.

``exercise_streak`` and the ``*_message`` functions are pure, so their edge cases are tested
without a database; ``patient_progress`` loads one episode within the patient's reach.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from django.http import Http404
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import User
from accounts.scoping import AnyUser, scope_to_patients
from rehab import numbers, rules
from rehab.dates import WINDOW_YEARS, shift_years
from rehab.evaluation import thresholds_for_clinic
from rehab.models import Episode, EpisodeStatus, Prescription
from rehab.rule_inputs import load_episode_data
from reports.series import CourseSeries, course_series
from reports.sparkline import Svg, pain_trend_chart


@dataclass(frozen=True, slots=True)
class Streak:
    days: int  # consecutive days, up to today, with every prescribed set done
    today_done: bool  # today already counts (otherwise the streak runs to yesterday)


def _sets_complete(entry: rules.EntryData | None, due: list[rules.PrescriptionData]) -> bool:
    return entry is not None and all(entry.sets_done.get(p.id, 0) >= p.sets for p in due)


def exercise_streak(data: rules.EpisodeData, as_of: dt.date) -> Streak | None:
    """Consecutive days up to ``as_of`` on which every prescribed set was done.

    None when nothing has been prescribed (there is no streak to keep). Today does not break the
    streak while it is not complete: the day is not over, so the count runs to yesterday. A day
    on which no prescription is active neither counts nor breaks it. A day with no entry, or
    with a set missing, ends it.
    """
    prescribed = [p for p in data.prescriptions if p.start_date <= as_of]
    if not prescribed:
        return None
    by_date = {e.date: e for e in data.entries}
    today_done = False
    days = 0
    # Back to the start, but never more than the clinical window (rehab.dates): by ordinal, so
    # a start stored at the calendar's first day cannot overflow or walk for centuries.
    first = max(data.start_date, shift_years(as_of, -WINDOW_YEARS))
    for ordinal in range(as_of.toordinal(), first.toordinal() - 1, -1):
        day = dt.date.fromordinal(ordinal)
        due = [
            p
            for p in prescribed
            if p.start_date <= day and (p.end_date is None or day <= p.end_date)
        ]
        if due:
            if _sets_complete(by_date.get(day), due):
                days += 1
                if day == as_of:
                    today_done = True
            elif day != as_of:
                break
    return Streak(days=days, today_done=today_done)


def about(score: float) -> int:
    """A pain score as a patient would say it: the nearest whole number, halves rounded up."""
    return math.floor(score + 0.5)


def pain_message(
    *,
    baseline: float | None,
    current: float | None,
    trial_day: int,
    status: str,
    thresholds: rules.Thresholds,
) -> str:
    """How the patient's activity pain has moved since the start, in encouraging words."""
    if status != EpisodeStatus.ACTIVE:
        return _(
            "This programme has ended. Your therapist will talk with you about what comes next."
        )
    needed = thresholds.min_entries_per_week
    if baseline is None:
        if trial_day <= 7:
            return _(
                "You are in your first week. Log your pain every day: after the first week we "
                "can show you how it is changing."
            )
        return ngettext(
            "Log your pain on at least %(needed)s day each week, so we can show you how it is "
            "changing.",
            "Log your pain on at least %(needed)s days each week, so we can show you how it is "
            "changing.",
            needed,
        ) % {"needed": needed}
    start = about(baseline)
    if current is None:
        return ngettext(
            "When you started, your pain during activity was about %(start)s out of 10. Log it "
            "on at least %(needed)s day each week, so we can show you how it is changing.",
            "When you started, your pain during activity was about %(start)s out of 10. Log it "
            "on at least %(needed)s days each week, so we can show you how it is changing.",
            needed,
        ) % {"start": start, "needed": needed}
    now = about(current)
    params = {"start": start, "now": now}
    if current <= thresholds.resolved_max_pain:
        return (
            _(
                "Your pain during activity is now very low (about %(now)s out of 10, from "
                "about %(start)s when you started). Great work — keep up your exercises as your "
                "therapist advised."
            )
            % params
        )
    if now < start:
        return (
            _(
                "Your pain during activity has come down from about %(start)s to about %(now)s out "
                "of 10 since you started — keep going."
            )
            % params
        )
    if now > start:
        return (
            _(
                "Your pain during activity has been about %(now)s out of 10 this week, higher than "
                "when you started (about %(start)s). Keep logging each day; if it keeps getting "
                "worse, tell your therapist."
            )
            % params
        )
    return (
        _(
            "Your pain during activity is about %(now)s out of 10, much the same as when you "
            "started. Ankles often take several weeks to settle — keep doing your exercises and "
            "logging each day."
        )
        % params
    )


# A goniometer or phone reading differs by up to about 5° from one measurement to the next, so a
# smaller change is "much the same", not a trend.
ROM_CHANGE_DEGREES = 5
# The fewest measurements of the sore ankle, in the first week and again in the last 7 days,
# before the page says how the angle has moved (one reading alone may be a bad day).
ROM_MIN_MEASUREMENTS = 2


def _week_values(
    data: rules.EpisodeData, as_of: dt.date, value: str
) -> tuple[list[float], list[float], list[float]]:
    """The values of one entry field: in week 1 (trial days 1–7), in the 7 days up to
    ``as_of``, and all of them (the same windows the rules read for activity pain)."""
    # By ordinal: a start or an entry stored at the calendar's edge cannot overflow.
    start, end = data.start_date.toordinal(), as_of.toordinal()
    first: list[float] = []
    latest: list[float] = []
    every: list[float] = []
    for entry in sorted(data.entries, key=lambda e: e.date):
        number = getattr(entry, value)
        day = entry.date.toordinal()
        if number is None or not start <= day <= end:
            continue
        every.append(float(number))
        if day <= start + 6:
            first.append(float(number))
        if day >= end - 6:
            latest.append(float(number))
    return first, latest, every


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def rest_pain_message(
    *, data: rules.EpisodeData, as_of: dt.date, trial_day: int, thresholds: rules.Thresholds
) -> str | None:
    """How pain at rest has moved, in the words of ``pain_message``; None while the patient has
    never scored it (it is optional) or once the programme has ended."""
    if data.status != EpisodeStatus.ACTIVE:
        return None
    first, latest, every = _week_values(data, as_of, "pain_rest")
    if not every:
        return None
    needed = thresholds.min_entries_per_week
    if trial_day <= 7:
        return _("Your pain at rest: after your first week we can show you how it is changing.")
    if len(first) < needed:
        # Translators: the plural follows the number of days scored (%(scored)s).
        return ngettext(
            "Your pain at rest was scored on %(scored)s day of your first week, fewer than the "
            "%(needed)s needed to show how it is changing.",
            "Your pain at rest was scored on %(scored)s days of your first week, fewer than the "
            "%(needed)s needed to show how it is changing.",
            len(first),
        ) % {"scored": len(first), "needed": needed}
    start = about(_mean(first))
    if len(latest) < needed:
        return ngettext(
            "When you started, your pain at rest was about %(start)s out of 10. Score it on at "
            "least %(needed)s day each week, so we can show you how it is changing.",
            "When you started, your pain at rest was about %(start)s out of 10. Score it on at "
            "least %(needed)s days each week, so we can show you how it is changing.",
            needed,
        ) % {"start": start, "needed": needed}
    now = about(_mean(latest))
    params = {"start": start, "now": now}
    if now < start:
        return (
            _(
                "Your pain at rest has come down from about %(start)s to about %(now)s out of 10 "
                "since you started."
            )
            % params
        )
    if now > start:
        return (
            _(
                "Your pain at rest has been about %(now)s out of 10 this week, higher than when "
                "you started (about %(start)s). If it keeps getting worse, tell your therapist."
            )
            % params
        )
    if now == 0:
        return _("You have had no pain at rest, this week or when you started.")
    return _("Your pain at rest is about %(now)s out of 10, much the same as when you started.") % (
        params
    )


def rom_message(*, data: rules.EpisodeData, as_of: dt.date, trial_day: int) -> str | None:
    """How far the sore foot points down now against the first week, and the other ankle for
    comparison. Honest with little data: no trend from fewer than ``ROM_MIN_MEASUREMENTS``
    readings in either week; a change under ``ROM_CHANGE_DEGREES`` is "much the same"."""
    if data.status != EpisodeStatus.ACTIVE:
        return None
    first, latest, every = _week_values(data, as_of, "pf_rom_affected")
    _first_other, other_latest, other_every = _week_values(data, as_of, "pf_rom_unaffected")
    # The other ankle: this week's readings if any, else every reading (it changes little).
    # A sentence of its own, after the one about the sore ankle.
    other_values = other_latest or other_every
    other = (
        " "
        + _("Your other ankle, for comparison, points down about %(degrees)s°.")
        % {"degrees": about(_mean(other_values))}
        if other_values
        else ""
    )
    if not every:
        return _(
            "You have not measured how far your feet point down yet. It is optional: if you "
            "can, measure both ankles twice a week (see “How to measure” on the Today page)."
        )
    if trial_day <= 7 or len(first) < ROM_MIN_MEASUREMENTS or len(latest) < ROM_MIN_MEASUREMENTS:
        # Translators: the plural follows the number of measurements so far (%(count)s).
        return (
            ngettext(
                "You have measured your sore ankle %(count)s time so far, latest about "
                "%(latest)s°. With %(needed)s measurements in your first week and %(needed)s in "
                "the last 7 days we can show you how it is changing.",
                "You have measured your sore ankle %(count)s times so far, latest about "
                "%(latest)s°. With %(needed)s measurements in your first week and %(needed)s in "
                "the last 7 days we can show you how it is changing.",
                len(every),
            )
            % {"count": len(every), "latest": about(every[-1]), "needed": ROM_MIN_MEASUREMENTS}
            + other
        )
    start, now = about(_mean(first)), about(_mean(latest))
    params = {"start": start, "now": now, "change": ROM_CHANGE_DEGREES}
    if now - start >= ROM_CHANGE_DEGREES:
        message = _(
            "Your sore ankle now points down about %(now)s°, further than when you started "
            "(about %(start)s°) — keep going."
        )
    elif start - now >= ROM_CHANGE_DEGREES:
        message = _(
            "Your sore ankle now points down about %(now)s°, less far than when you started "
            "(about %(start)s°). If it keeps getting stiffer, tell your therapist."
        )
    else:
        message = _(
            "Your sore ankle points down about %(now)s°, much the same as when you started "
            "(about %(start)s°; a change under %(change)s° is within what one measurement can "
            "differ from the next)."
        )
    return message % params + other


def adherence_message(adherence: float | None, *, thresholds: rules.Thresholds) -> str | None:
    if adherence is None:
        return None
    percent = math.floor(adherence + 0.5)
    if adherence >= thresholds.adherence_min_percent:
        return _(
            "You have done %(percent)s%% of your exercise sets on the days you logged. Well done!"
        ) % {"percent": percent}
    return _(
        "You have done %(percent)s%% of your exercise sets on the days you logged. Doing all of "
        "them is what helps your ankle most."
    ) % {"percent": percent}


def streak_message(streak: Streak | None) -> str | None:
    if streak is None:
        return None
    if streak.days == 0:
        return _("Do all of today's exercises to start a streak.")
    if streak.today_done:
        return ngettext(
            "%(days)s day in a row with all your exercises done. Keep it up!",
            "%(days)s days in a row with all your exercises done. Keep it up!",
            streak.days,
        ) % {"days": streak.days}
    return ngettext(
        "%(days)s day in a row with all your exercises done. Do today's to make it %(next)s.",
        "%(days)s days in a row with all your exercises done. Do today's to make it %(next)s.",
        streak.days,
    ) % {"days": streak.days, "next": streak.days + 1}


def chart_summary(series: CourseSeries) -> str:
    """The pain chart in words, for a screen reader: the start, the latest week, the days."""
    days = len(series.pain)
    if not days:
        return _("No pain scores logged yet.")
    parts = [
        ngettext(
            "Pain during activity from day 1 to day %(last_day)s, %(days)s day logged.",
            "Pain during activity from day 1 to day %(last_day)s, %(days)s days logged.",
            days,
        )
        % {"last_day": series.trial_day(series.as_of), "days": days}
    ]
    if series.baseline is not None:
        parts.append(
            _("Your starting level was about %(score)s out of 10.")
            % {"score": about(series.baseline)}
        )
    latest_mean = next((p.mean_7d for p in reversed(series.pain) if p.mean_7d is not None), None)
    if latest_mean is not None:
        parts.append(
            _("Your latest 7-day average is about %(score)s out of 10.")
            % {"score": about(latest_mean)}
        )
    last = series.pain[-1]
    parts.append(
        _("Your latest score, on %(day)s, was %(score)s.")
        % {"day": date_format(last.date, "j F"), "score": last.activity}
    )
    return " ".join(parts)


def _score_line(
    baseline: float | None, current: float | None, *, started: str, now: str
) -> str | None:
    """One function score in plain words: the start, and now when there is a later score."""
    if baseline is None:
        return None
    if current is None:
        return started % {"baseline": numbers.number(baseline, 1)}
    return now % {
        "baseline": numbers.number(baseline, 1),
        "current": numbers.number(current, 1),
    }


def function_lines(metrics: rules.Metrics) -> list[str]:
    """The patient's FAAM and PSFS scores in plain words (clinical-rules.md, "Function").

    Each says where it started and where it is now, with what the top of the scale means; no
    verdict (the clinician reads the change against its MCID), as the pain words give none but
    "much the same", "better", "worse".
    """
    lines = [
        _score_line(
            metrics.faam_adl_baseline,
            metrics.faam_adl_current,
            started=_(
                "Daily activities: %(baseline)s out of 100 when you started "
                "(100 means no difficulty)."
            ),
            now=_(
                "Daily activities: %(current)s out of 100 now, from %(baseline)s when you "
                "started (100 means no difficulty)."
            ),
        ),
        _score_line(
            metrics.faam_sports_baseline,
            metrics.faam_sports_current,
            started=_("Sport: %(baseline)s out of 100 when you started (100 means no difficulty)."),
            now=_(
                "Sport: %(current)s out of 100 now, from %(baseline)s when you started "
                "(100 means no difficulty)."
            ),
        ),
        _score_line(
            metrics.psfs_baseline,
            metrics.psfs_current,
            started=_(
                "The activities you named: %(baseline)s out of 10 on average when you started "
                "(10 means as well as before the injury)."
            ),
            now=_(
                "The activities you named: %(current)s out of 10 on average now, from "
                "%(baseline)s when you started (10 means as well as before the injury)."
            ),
        ),
    ]
    return [line for line in lines if line is not None]


@dataclass(frozen=True)
class PrescribedExercise:
    name: str
    sets: int
    reps: str
    instructions: str
    until: dt.date | None


@dataclass(frozen=True)
class PatientProgress:
    episode: Episode
    as_of: dt.date
    trial_day: int
    trial_week: int
    series: CourseSeries
    chart: Svg
    chart_title: str
    chart_summary: str
    pain_message: str
    rest_pain_message: str | None
    rom_message: str | None
    adherence_pct: float | None
    adherence_message: str | None
    streak: Streak | None
    streak_message: str | None
    exercises: list[PrescribedExercise]
    other_episodes: list[Episode]
    # FAAM and PSFS in plain words, and whether a questionnaire is due today.
    function_lines: list[str]
    questionnaires_due: bool


def _episodes_in_reach(user: AnyUser) -> list[Episode]:
    """The signed-in patient's episodes, the latest started first (one query)."""
    return list(
        scope_to_patients(
            user, Episode.objects.select_related("patient__user"), via="patient"
        ).order_by("-start_date", "-id")
    )


def _chosen(episodes: list[Episode], episode_id: str | None) -> Episode | None:
    if episode_id:
        # Another patient's episode is not in the list: 404, as if it did not exist.
        for episode in episodes:
            if str(episode.pk) == episode_id:
                return episode
        raise Http404("No such episode.")
    active = [e for e in episodes if e.status == EpisodeStatus.ACTIVE]
    if active:
        return active[0]
    return episodes[0] if episodes else None


def patient_progress(*, user: AnyUser, episode_id: str | None = None) -> PatientProgress | None:
    """The progress page of one of the caller's own episodes (a patient's), or 404.

    None when the patient has no episode at all yet.
    Staff are not patients: they have the episode page, and get a 404 here. Five queries for the
    episode's data and thresholds, one for the episodes, one for the prescriptions with their
    catalogue instructions, whatever the length of the trial.
    """
    if not (isinstance(user, User) and user.is_patient):
        raise Http404("This page is for patients.")
    episodes = _episodes_in_reach(user)
    episode = _chosen(episodes, episode_id)
    if episode is None:
        return None
    as_of = episode.patient.local_today()
    thresholds = thresholds_for_clinic(episode.patient.user.clinic_id)
    data = load_episode_data(episode, as_of=as_of)
    evaluation = rules.evaluate(data, thresholds, as_of)
    metrics = evaluation.metrics
    series = course_series(
        data,
        thresholds,
        as_of,
        baseline=metrics.pain_baseline,
        rom_reference=metrics.rom_reference,
    )
    streak = exercise_streak(data, as_of) if episode.status == EpisodeStatus.ACTIVE else None
    title = _("Your pain during activity")
    summary = chart_summary(series)
    exercises = [
        PrescribedExercise(
            name=p.name,
            sets=p.sets,
            reps=p.reps,
            instructions=p.exercise.instructions if p.exercise else "",
            until=p.end_date,
        )
        for p in Prescription.objects.filter(episode=episode)
        .select_related("exercise")
        .order_by("start_date", "id")
        if p.is_active_on(as_of)
    ]
    return PatientProgress(
        episode=episode,
        as_of=as_of,
        trial_day=evaluation.trial_day,
        trial_week=evaluation.trial_week,
        series=series,
        chart=pain_trend_chart(series, title=title, summary=summary),
        chart_title=title,
        chart_summary=summary,
        pain_message=pain_message(
            baseline=metrics.pain_baseline,
            current=metrics.pain_current,
            trial_day=evaluation.trial_day,
            status=episode.status,
            thresholds=thresholds,
        ),
        rest_pain_message=rest_pain_message(
            data=data, as_of=as_of, trial_day=evaluation.trial_day, thresholds=thresholds
        ),
        rom_message=rom_message(data=data, as_of=as_of, trial_day=evaluation.trial_day),
        adherence_pct=metrics.adherence_pct,
        adherence_message=adherence_message(metrics.adherence_pct, thresholds=thresholds),
        streak=streak,
        streak_message=streak_message(streak),
        exercises=exercises,
        other_episodes=[e for e in episodes if e.pk != episode.pk],
        function_lines=function_lines(metrics),
        questionnaires_due=bool(evaluation.questionnaires_due)
        and episode.status == EpisodeStatus.ACTIVE,
    )
