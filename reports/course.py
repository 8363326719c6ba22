"""Loading an episode's course for pictures and reports (the Django side of reports.series)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from rehab import rules
from rehab.evaluation import thresholds_for_clinic
from rehab.models import Episode
from rehab.rule_inputs import load_episode_data
from reports.series import CourseSeries, course_series


@dataclass(frozen=True)
class Course:
    episode: Episode
    evaluation: rules.Evaluation
    series: CourseSeries
    thresholds: rules.Thresholds


def episode_course(*, episode: Episode, as_of: dt.date) -> Course:
    """The rules' evaluation and the drawable series of one episode, from one read of its data."""
    thresholds = thresholds_for_clinic(episode.patient.user.clinic_id)
    data = load_episode_data(episode, as_of=as_of)
    evaluation = rules.evaluate(data, thresholds, as_of)
    series = course_series(
        data,
        thresholds,
        as_of,
        baseline=evaluation.metrics.pain_baseline,
        rom_reference=evaluation.metrics.rom_reference,
        metrics=evaluation.metrics,
    )
    return Course(episode=episode, evaluation=evaluation, series=series, thresholds=thresholds)
