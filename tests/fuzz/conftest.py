"""A small clinic with something behind every kind of id the API takes, for the fuzzers."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import pytest

from accounts.models import ApiToken, Cover, User
from accounts.services import api_token_issue
from rehab.models import (
    Alert,
    DailyEntry,
    Exercise,
    Intervention,
    Prescription,
    ReevaluationRun,
    WebhookEndpoint,
)
from tests.alerts.factories import AlertFactory
from tests.conftest import Cast
from tests.factories import DailyEntryFactory, InterventionFactory, PrescriptionFactory


@dataclass
class World:
    cast: Cast
    prescription: Prescription
    entry: DailyEntry
    intervention: Intervention
    alert: Alert
    webhook: WebhookEndpoint
    cover: Cover

    run: ReevaluationRun
    # One of the clinic's own exercises (issue 16, docs/clinic-exercises.md).
    exercise: Exercise

    def user(self, role: str) -> User:
        return {
            "patient": self.cast.patient_a.user,
            "therapist": self.cast.therapist,
            "admin": self.cast.admin,
        }[role]


@pytest.fixture
def world(cast: Cast) -> World:
    episode = cast.episode_a
    prescription = PrescriptionFactory(episode=episode)
    entry = DailyEntryFactory(episode=episode, date=episode.start_date + dt.timedelta(days=3))
    DailyEntryFactory(episode=episode, date=episode.start_date + dt.timedelta(days=4))
    intervention = InterventionFactory(episode=episode)
    alert = AlertFactory(episode=episode)
    webhook = WebhookEndpoint.objects.create(
        clinic=cast.clinic,
        url="https://hooks.example.org/pais",
        secret="whsec_" + "A" * 43 + "=",
        created_by=cast.admin,
    )
    # A cover still to come: staff administration's ids (it gives nobody reach meanwhile).
    starts = dt.date.today() + dt.timedelta(days=30)
    cover = Cover.objects.create(
        clinic=cast.clinic,
        absent=cast.therapist,
        covering=cast.therapist_2,
        start_date=starts,
        end_date=starts,
    )
    return World(
        cast=cast,
        prescription=prescription,
        entry=entry,
        alert=alert,
        webhook=webhook,
        cover=cover,
        intervention=intervention,
        run=ReevaluationRun.objects.create(clinic=cast.clinic),
        exercise=Exercise.objects.create(
            clinic=cast.clinic, name="Riverside towel stretch", category="stretch"
        ),
    )


def token_for(user: User) -> str:
    return api_token_issue(user=user)


def bind_path_ids(path: str, world: World, spare_token: ApiToken) -> dict[str, Any]:
    """Ids of objects within reach for each ``{name}`` in ``path`` (by the resource they name)."""
    cast = world.cast
    resource = path.removeprefix("/api/v1/").split("/", 1)[0]
    by_resource = {
        "episodes": cast.episode_a.pk,
        "alerts": world.alert.pk,
        "patients": cast.patient_a.pk,
        "webhooks": world.webhook.pk,
        "auth": spare_token.pk,
        # /staff/{id}/ names a staff member, /staff/covers/{id}/ a cover.
        "staff": world.cover.pk
        if path.startswith("/api/v1/staff/covers/")
        else cast.therapist_2.pk,
        # /clinic/reevaluations/{id}/: the only /clinic/ route with an id.
        "clinic": world.run.pk,
        # /exercises/{id}/: the clinic's own exercise (the catalogue's are read-only).
        "exercises": world.exercise.pk,
    }
    bound: dict[str, Any] = {}
    for name in re.findall(r"{(\w+)}", path):
        if name == "id" and resource in by_resource:
            bound[name] = by_resource[resource]
        elif name == "prescription_id":
            bound[name] = world.prescription.pk
        elif name == "intervention_id":
            bound[name] = world.intervention.pk
        elif name == "date":
            bound[name] = world.entry.date.isoformat()
        elif name == "instrument":  # /questionnaires/{instrument}/
            bound[name] = "faam"
        elif name == "name":  # /code-systems/{name}/
            bound[name] = "faam-answer"
    return bound
