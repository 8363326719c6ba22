"""The spec's worked example 1, built through the API, on a fixed clock.

Start 2026-01-05. Days 1–7 pain 7,7,8,7,7,6,7 (baseline 7.0); days 36–56 all 6; every
prescribed set done. The clock stands at noon UTC on day 57 (2026-03-02), so every entry is in
the patient's past and ``as_of`` picks the day the rules look at.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from accounts.models import User
from rehab.evaluation import EvaluationOutcome, evaluate_episode
from rehab.models import Episode
from tests.api.helpers import entry_url, url
from tests.days import START, day

NOW = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
WEEK_1 = {1: 7, 2: 7, 3: 8, 4: 7, 5: 7, 6: 6, 7: 7}
EXAMPLE_1 = {**WEEK_1, **{n: 6 for n in range(36, 57)}}
SETS = 3


@pytest.fixture(autouse=True)
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


@dataclass
class Course:
    episode: Episode
    prescription_id: int

    @property
    def pk(self) -> int:
        return self.episode.pk


@pytest.fixture
def course_builder(cast, api) -> Callable[..., Course]:
    """Build a course through the API: the therapist opens it and prescribes, the patient logs."""

    def build(
        pains: dict[int, int] | None = None,
        *,
        sets_done: int = SETS,
        patient=None,
        therapist: User | None = None,
    ) -> Course:
        patient = patient or cast.patient_a
        staff = api(therapist or cast.therapist)
        response = staff.post(
            url("api-episode-list"),
            {"patient": patient.pk, "affected_side": "right", "start_date": START.isoformat()},
            format="json",
        )
        assert response.status_code == 201, response.content
        episode_id = response.json()["id"]
        response = staff.post(
            url("api-prescription-list", pk=episode_id),
            {"exercise": "Double-leg heel raises", "sets": SETS},
            format="json",
        )
        assert response.status_code == 201, response.content
        prescription_id = response.json()["id"]
        client = api(patient.user)
        for n, pain in sorted((pains if pains is not None else EXAMPLE_1).items()):
            response = client.put(
                entry_url(episode_id, day(n)),
                {
                    "pain_activity": pain,
                    "exercises": [{"prescription": prescription_id, "sets_completed": sets_done}],
                },
                format="json",
            )
            assert response.status_code == 201, response.content
        return Course(episode=Episode.objects.get(pk=episode_id), prescription_id=prescription_id)

    return build


@pytest.fixture
def example_1(course_builder) -> Course:
    return course_builder()


def evaluate(course: Course | Episode, n: int) -> EvaluationOutcome:
    """Run the evaluation service (what the nightly job and the command run) as of day n."""
    return evaluate_episode(episode_id=course.pk, as_of=day(n))
