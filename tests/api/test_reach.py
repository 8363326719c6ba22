"""Walks every API endpoint of accounts.api and rehab.api as every persona.

Anything outside a persona's reach answers 404 whatever the role; within reach, a role that may
not do something answers 403; anonymous callers get 401 everywhere but the two sign-in endpoints.
List endpoints never show a foreign id.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from accounts.models import ApiToken
from accounts.services import api_token_issue
from rehab.models import Alert, DailyEntry, Episode, Intervention, Prescription
from tests.alerts.factories import AlertFactory
from tests.api.helpers import url
from tests.factories import (
    DailyEntryFactory,
    InterventionFactory,
    PrescriptionFactory,
    TherapistFactory,
)
from tests.personas import EPISODE_OF, PERSONAS, REACH, STAFF, out_of_reach_of, user_of

pytestmark = pytest.mark.django_db

# Every patient of the cast is a target; who reaches which is tests/personas.py's REACH.
TARGETS = EPISODE_OF


@dataclass
class World:
    cast: Any
    prescriptions: dict[str, Prescription] = field(default_factory=dict)
    entries: dict[str, DailyEntry] = field(default_factory=dict)
    interventions: dict[str, Intervention] = field(default_factory=dict)
    alerts: dict[str, Alert] = field(default_factory=dict)

    def episode(self, patient_key: str) -> Episode:
        return getattr(self.cast, TARGETS[patient_key])

    def patient_id(self, patient_key: str) -> int:
        return getattr(self.cast, patient_key).pk


@pytest.fixture
def world(cast) -> World:
    w = World(cast=cast)
    for patient_key in TARGETS:
        episode = w.episode(patient_key)
        w.prescriptions[patient_key] = PrescriptionFactory(episode=episode)
        w.entries[patient_key] = DailyEntryFactory(episode=episode, date=episode.start_date)
        w.interventions[patient_key] = InterventionFactory(episode=episode)
        w.alerts[patient_key] = AlertFactory(episode=episode)
    return w


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    # Builds the URL for one target patient (None for endpoints that take no object).
    path: Callable[[World, str], str]
    body: Callable[[World, str], dict[str, Any]] | None = None
    ok: int = 200
    staff_only: bool = False
    # Clinic admins only: therapists and patients get 403.
    admin_only: bool = False
    # Alerts are the clinic's working list: a patient reaches none, their own included (404).
    hidden_from_patients: bool = False
    per_target: bool = True
    # For lists: which model the listed ids belong to, to check no foreign id leaks.
    listed: Callable[[World, str], set[int]] | None = None
    # Exports such as CSV answer something other than JSON.
    returns_json: bool = True


def _start(w: World, p: str) -> str:
    return w.episode(p).start_date.isoformat()


def _next_week(w: World, p: str) -> str:
    return (getattr(w.cast, p).local_today() + dt.timedelta(days=7)).isoformat()


def _foreign_token_id() -> int:
    """A live API token of a user who is none of the personas."""
    outsider = TherapistFactory()
    api_token_issue(user=outsider)
    return ApiToken.objects.filter(user=outsider).values_list("pk", flat=True).get()


ENDPOINTS = [
    Endpoint(
        "api-auth-token-revoke",
        "post",
        lambda w, p: url("api-auth-token-revoke"),
        ok=204,
        per_target=False,
    ),
    # Every caller lists their own tokens; nobody can revoke somebody else's (404).
    Endpoint(
        "api-auth-token-list", "get", lambda w, p: url("api-auth-token-list"), per_target=False
    ),
    Endpoint(
        "api-auth-token-detail",
        "delete",
        lambda w, p: url("api-auth-token-detail", pk=_foreign_token_id()),
        ok=404,
        per_target=False,
    ),
    Endpoint("api-exercise-list", "get", lambda w, p: url("api-exercise-list"), per_target=False),
    Endpoint(
        "api-patient-list",
        "get",
        lambda w, p: url("api-patient-list"),
        per_target=False,
        listed=lambda w, p: {w.patient_id(p)},
    ),
    Endpoint(
        "api-patient-list",
        "post",
        lambda w, p: url("api-patient-list"),
        body=lambda w, p: {"email": "walk@example.test", "first_name": "W", "last_name": "K"},
        ok=201,
        staff_only=True,
        per_target=False,
    ),
    Endpoint(
        "api-patient-detail", "get", lambda w, p: url("api-patient-detail", pk=w.patient_id(p))
    ),
    # Erasure on request: clinic admins only (therapists within reach get 403).
    Endpoint(
        "api-patient-detail",
        "delete",
        lambda w, p: url("api-patient-detail", pk=w.patient_id(p)),
        ok=204,
        staff_only=True,
        admin_only=True,
    ),
    # Reassigning (issue 14, staff administration): clinic admins only; here to the patient's
    # own therapist, so the walk changes nobody's reach (tests/staff/ moves patients).
    Endpoint(
        "api-patient-detail",
        "patch",
        lambda w, p: url("api-patient-detail", pk=w.patient_id(p)),
        body=lambda w, p: {"therapist": getattr(w.cast, p).therapist_id},
        staff_only=True,
        admin_only=True,
    ),
    # Every persona's patient has set a password, so within reach the answer is the refusal
    # (400 on "patient"); issuing one for an invited patient is in test_patients.
    Endpoint(
        "api-patient-invitation",
        "post",
        lambda w, p: url("api-patient-invitation", pk=w.patient_id(p)),
        ok=400,
        staff_only=True,
    ),
    Endpoint(
        "api-patient-password-reset",
        "post",
        lambda w, p: url("api-patient-password-reset", pk=w.patient_id(p)),
        ok=202,
        staff_only=True,
    ),
    Endpoint(
        "api-episode-list",
        "get",
        lambda w, p: url("api-episode-list"),
        per_target=False,
        listed=lambda w, p: {w.episode(p).pk},
    ),
    # Opening an episode for a patient out of reach is a 400 on "patient" (tested in
    # test_episodes); here the walk only checks the role gate and the in-reach success.
    Endpoint(
        "api-episode-list",
        "post",
        lambda w, p: url("api-episode-list"),
        body=lambda w, p: {
            "patient": w.patient_id(p),
            "affected_side": "left",
            "start_date": "2026-01-05",
        },
        ok=201,
        staff_only=True,
    ),
    Endpoint(
        "api-episode-detail", "get", lambda w, p: url("api-episode-detail", pk=w.episode(p).pk)
    ),
    Endpoint(
        "api-episode-referral",
        "post",
        lambda w, p: url("api-episode-referral", pk=w.episode(p).pk),
        body=lambda w, p: {"date": _start(w, p)},
        staff_only=True,
    ),
    # Correcting and withdrawing the referral (issue 14): the cast's episodes have none, so in
    # reach staff get the service's 400 about the input; the walk checks reach and role.
    Endpoint(
        "api-episode-referral",
        "patch",
        lambda w, p: url("api-episode-referral", pk=w.episode(p).pk),
        body=lambda w, p: {"reason": "typo", "referred_to": "City Orthopaedics"},
        staff_only=True,
        ok=400,
    ),
    Endpoint(
        "api-episode-referral",
        "delete",
        lambda w, p: url("api-episode-referral", pk=w.episode(p).pk),
        body=lambda w, p: {"reason": "recorded by mistake"},
        staff_only=True,
        ok=400,
    ),
    Endpoint(
        "api-referral-follow-up",
        "get",
        lambda w, p: url("api-referral-follow-up", pk=w.episode(p).pk),
        staff_only=True,
    ),
    Endpoint(
        "api-referral-follow-up",
        "patch",
        lambda w, p: url("api-referral-follow-up", pk=w.episode(p).pk),
        body=lambda w, p: {"appointment_date": _next_week(w, p)},
        staff_only=True,
        ok=400,
    ),
    Endpoint(
        "api-referral-list",
        "get",
        lambda w, p: url("api-referral-list"),
        staff_only=True,
        per_target=False,
        listed=lambda w, p: set(),  # nobody of the cast is referred
    ),
    Endpoint(
        "api-episode-close",
        "post",
        lambda w, p: url("api-episode-close", pk=w.episode(p).pk),
        body=lambda w, p: {"date": _start(w, p), "outcome": "discontinued"},
        staff_only=True,
    ),
    Endpoint(
        "api-prescription-list",
        "get",
        lambda w, p: url("api-prescription-list", pk=w.episode(p).pk),
        listed=lambda w, p: {w.prescriptions[p].pk},
    ),
    Endpoint(
        "api-prescription-list",
        "post",
        lambda w, p: url("api-prescription-list", pk=w.episode(p).pk),
        body=lambda w, p: {"exercise": "Single-leg balance", "sets": 3},
        ok=201,
        staff_only=True,
    ),
    Endpoint(
        "api-prescription-end",
        "post",
        lambda w, p: url(
            "api-prescription-end", pk=w.episode(p).pk, prescription_id=w.prescriptions[p].pk
        ),
        body=lambda w, p: {"end_date": _start(w, p)},
        staff_only=True,
    ),
    Endpoint(
        "api-entry-list",
        "get",
        lambda w, p: url("api-entry-list", pk=w.episode(p).pk),
        listed=None,
    ),
    Endpoint(
        "api-entry-detail",
        "get",
        lambda w, p: url("api-entry-detail", pk=w.episode(p).pk, date=_start(w, p)),
    ),
    Endpoint(
        "api-entry-detail",
        "put",
        lambda w, p: url("api-entry-detail", pk=w.episode(p).pk, date=_start(w, p)),
        body=lambda w, p: {"pain_activity": 2},
    ),
    Endpoint(
        "api-entry-detail",
        "delete",
        lambda w, p: url("api-entry-detail", pk=w.episode(p).pk, date=_start(w, p)),
        ok=204,
    ),
    Endpoint(
        "api-intervention-list",
        "get",
        lambda w, p: url("api-intervention-list", pk=w.episode(p).pk),
        listed=lambda w, p: {w.interventions[p].pk},
    ),
    Endpoint(
        "api-intervention-list",
        "post",
        lambda w, p: url("api-intervention-list", pk=w.episode(p).pk),
        body=lambda w, p: {"kind": "nsaid", "start_date": _start(w, p)},
        ok=201,
        staff_only=True,
    ),
    Endpoint(
        "api-questionnaire-response-list",
        "get",
        lambda w, p: url("api-questionnaire-response-list", pk=w.episode(p).pk),
        listed=None,
    ),
    Endpoint(
        "api-questionnaire-response-list",
        "post",
        lambda w, p: url("api-questionnaire-response-list", pk=w.episode(p).pk),
        body=lambda w, p: {
            "instrument": "psfs",
            "date": _start(w, p),
            "activities": [{"activity": "Relevé", "score": 4}],
        },
        ok=201,
    ),
    # The questionnaires' definitions and their code systems: the same for everybody signed in.
    Endpoint(
        "api-questionnaire",
        "get",
        lambda w, p: url("api-questionnaire", instrument="faam"),
        per_target=False,
    ),
    Endpoint(
        "api-code-system",
        "get",
        lambda w, p: "/api/v1/code-systems/faam-answer/",
        per_target=False,
    ),
    Endpoint(
        "api-episode-progress",
        "get",
        lambda w, p: url("api-episode-progress", pk=w.episode(p).pk),
    ),
    Endpoint(
        "api-alert-list",
        "get",
        lambda w, p: url("api-alert-list"),
        staff_only=True,
        per_target=False,
        listed=lambda w, p: {w.alerts[p].pk},
    ),
    Endpoint(
        "api-alert-detail",
        "get",
        lambda w, p: url("api-alert-detail", pk=w.alerts[p].pk),
        hidden_from_patients=True,
    ),
    Endpoint(
        "api-alert-acknowledge",
        "post",
        lambda w, p: url("api-alert-acknowledge", pk=w.alerts[p].pk),
        body=lambda w, p: {"note": "Seen"},
        hidden_from_patients=True,
    ),
    Endpoint(
        "api-alert-resolve",
        "post",
        lambda w, p: url("api-alert-resolve", pk=w.alerts[p].pk),
        body=lambda w, p: {},
        hidden_from_patients=True,
    ),
    Endpoint(
        "api-alert-snooze",
        "post",
        lambda w, p: url("api-alert-snooze", pk=w.alerts[p].pk),
        body=lambda w, p: {"until": _next_week(w, p)},
        hidden_from_patients=True,
    ),
    Endpoint(
        "api-episode-entries-csv",
        "get",
        lambda w, p: url("api-episode-entries-csv", pk=w.episode(p).pk),
        returns_json=False,
    ),
    # A patient exports their own record too (without the clinic's alert Flags).
    Endpoint("api-episode-fhir", "get", lambda w, p: url("api-episode-fhir", pk=w.episode(p).pk)),
    Endpoint(
        "api-clinic-thresholds",
        "get",
        lambda w, p: url("api-clinic-thresholds"),
        staff_only=True,
        per_target=False,
    ),
    Endpoint(
        "api-clinic-thresholds",
        "put",
        lambda w, p: url("api-clinic-thresholds"),
        body=lambda w, p: {"review_day": 40},
        admin_only=True,
        per_target=False,
    ),
    # Correcting records (docs/corrections.md): staff only, with a reason.
    Endpoint(
        "api-episode-detail",
        "patch",
        lambda w, p: url("api-episode-detail", pk=w.episode(p).pk),
        body=lambda w, p: {"bmi": 25, "reason": "Typo"},
        staff_only=True,
    ),
    Endpoint(
        "api-episode-corrections",
        "get",
        lambda w, p: url("api-episode-corrections", pk=w.episode(p).pk),
    ),
    Endpoint(
        "api-intervention-detail",
        "get",
        lambda w, p: _intervention_url(w, p),
    ),
    Endpoint(
        "api-intervention-detail",
        "patch",
        lambda w, p: _intervention_url(w, p),
        body=lambda w, p: {"note": "Ibuprofen", "reason": "Typo"},
        staff_only=True,
    ),
    Endpoint(
        "api-intervention-detail",
        "delete",
        lambda w, p: _intervention_url(w, p),
        body=lambda w, p: {"reason": "Wrong patient"},
        ok=204,
        staff_only=True,
    ),
    Endpoint(
        "api-prescription-detail",
        "get",
        lambda w, p: _prescription_url(w, p),
    ),
    Endpoint(
        "api-prescription-detail",
        "patch",
        lambda w, p: _prescription_url(w, p),
        body=lambda w, p: {"sets": 2, "reason": "Typo"},
        staff_only=True,
    ),
    Endpoint(
        "api-prescription-detail",
        "delete",
        lambda w, p: _prescription_url(w, p),
        body=lambda w, p: {"reason": "Wrong patient"},
        ok=204,
        staff_only=True,
    ),
]
PUBLIC = {"api-auth-token", "api-auth-invitation-accept"}
# A clinic's own objects, not a patient's: reached by the clinic's staff whoever they treat, so
# the per-patient walk does not fit them. Their reach (another clinic: 404; a patient: 403) is
# tested where they are: tests/alerts/test_threshold_reevaluation.py.
CLINIC_LEVEL = {
    ("api-clinic-reevaluation", "get"),
    # The clinic's escalation settings and each person's notifications: tests/tasks/
    # test_escalation_settings.py and tests/alerts/test_notifications.py.
    ("api-clinic-escalation", "get"),
    ("api-clinic-escalation", "put"),
    ("api-alert-notifications", "get"),
    ("api-alert-notifications-read", "post"),
    # Staff administration: tests/staff/ and tests/security/test_attack_staff.py.
    ("api-staff-list", "get"),
    ("api-staff-list", "post"),
    ("api-staff-detail", "get"),
    ("api-staff-invitation", "post"),
    ("api-staff-deactivate", "post"),
    ("api-staff-reactivate", "post"),
    ("api-cover-list", "get"),
    ("api-cover-list", "post"),
    ("api-cover-detail", "get"),
    ("api-cover-cancel", "post"),
    # A clinic's own exercises and their pictures (issue 16): tests/clinic_exercises/
    # test_api.py and tests/security/test_attack_exercise_pictures.py (another clinic: 404; a
    # patient: 403 on create, 404 on an exercise unless its picture is prescribed to them).
    ("api-exercise-list", "post"),
    ("api-exercise-detail", "get"),
    ("api-exercise-detail", "patch"),
    ("api-exercise-picture", "get"),
    ("api-exercise-picture", "put"),
    ("api-exercise-picture", "delete"),
}


def _intervention_url(w: World, p: str) -> str:
    return url("api-intervention-detail", pk=w.episode(p).pk, intervention_id=w.interventions[p].pk)


def _prescription_url(w: World, p: str) -> str:
    return url("api-prescription-detail", pk=w.episode(p).pk, prescription_id=w.prescriptions[p].pk)


def _api_routes() -> set[tuple[str, str]]:
    """(url name, method) of every route served by the API v1 view modules."""
    found: set[tuple[str, str]] = set()

    def walk(patterns: list[Any]) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns)
            elif isinstance(pattern, URLPattern):
                view = getattr(pattern.callback, "view_class", None)
                if view is None or view.__module__ not in {
                    "accounts.api.views",
                    "rehab.api.views",
                    "rehab.api.clinic_exercise_views",
                    "rehab.api.referral_views",
                    "rehab.api.correction_views",
                    "rehab.api.questionnaire_views",
                    "rehab.api.alert_extras",
                    "accounts.api.staff_views",
                    "reports.api",
                }:
                    continue
                for method in ("get", "post", "put", "patch", "delete"):
                    if hasattr(view, method):
                        found.add((str(pattern.name), method))

    walk(get_resolver().url_patterns)
    return found


def test_the_walk_covers_every_endpoint():
    walked = (
        {(e.name, e.method) for e in ENDPOINTS} | {(name, "post") for name in PUBLIC} | CLINIC_LEVEL
    )
    missing = _api_routes() - walked
    assert not missing, f"add these to ENDPOINTS in {__file__}: {sorted(missing)}"


def _call(client: Any, endpoint: Endpoint, w: World, p: str) -> Any:
    body = endpoint.body(w, p) if endpoint.body else None
    kwargs: dict[str, Any] = {"format": "json"} if body is not None else {}
    return getattr(client, endpoint.method)(endpoint.path(w, p), body, **kwargs)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: f"{e.method}-{e.name}")
def test_anonymous_gets_401(world, api, endpoint):
    assert _call(api(None), endpoint, world, "patient_a").status_code == 401


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_public_endpoints_answer_the_anonymous(world, api, name):
    # Empty bodies: the point is that the answer is about the input, not about authentication.
    assert api(None).post(url(name), {}, format="json").status_code == 400


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: f"{e.method}-{e.name}")
def test_reach(world, api, persona, endpoint):
    cast = world.cast
    client = api(user_of(cast, persona))
    is_staff = persona in STAFF

    if not endpoint.per_target:
        response = _call(client, endpoint, world, "patient_a")
        if endpoint.admin_only:
            expected = endpoint.ok if persona == "admin" else 403
        else:
            expected = endpoint.ok if is_staff or not endpoint.staff_only else 403
        assert response.status_code == expected, response.content
        if endpoint.listed is not None and expected == 200:
            shown = {item["id"] for item in response.json()["results"]}
            allowed: set[int] = set()
            for p in REACH[persona]:
                allowed |= endpoint.listed(world, p)
            assert shown == allowed
        return

    for p in TARGETS:
        response = _call(client, endpoint, world, p)
        if p not in REACH[persona]:
            if endpoint.name == "api-episode-list" and endpoint.method == "post":
                # No object in the URL: an unreachable patient id is a 400 on "patient" for
                # staff; a patient is refused by role before the body is read.
                expected = 400 if is_staff else 403
            else:
                expected = 404
        elif endpoint.hidden_from_patients and not is_staff:
            expected = 404
        elif (endpoint.staff_only and not is_staff) or (endpoint.admin_only and persona != "admin"):
            expected = 403
        else:
            expected = endpoint.ok
        assert response.status_code == expected, (p, response.content)
        if (
            expected == 200
            and endpoint.method == "get"
            and endpoint.returns_json
            and "results" in response.json()
        ):
            results = response.json()["results"]
            if endpoint.listed is not None:
                assert {item["id"] for item in results} == endpoint.listed(world, p)
            if results and "episode" in results[0]:
                assert {item["episode"] for item in results} == {world.episode(p).pk}


def test_entry_list_never_shows_another_episodes_entries(world, api):
    client = api(world.cast.therapist)
    for p in ("patient_a", "patient_b"):
        response = client.get(url("api-entry-list", pk=world.episode(p).pk))
        assert [item["date"] for item in response.json()["results"]] == [
            world.entries[p].date.isoformat()
        ]
        assert {item["episode"] for item in response.json()["results"]} == {world.episode(p).pk}


def test_nothing_out_of_reach_changed(world, api):
    """After every persona has tried every write on foreign objects, those objects are intact."""
    cast = world.cast
    before = {
        "episode": Episode.objects.filter(pk=cast.other_episode.pk).values().get(),
        "entry": DailyEntry.objects.filter(pk=world.entries["other_patient"].pk).values().get(),
        "alert": Alert.objects.filter(pk=world.alerts["other_patient"].pk).values().get(),
    }
    for persona in out_of_reach_of("other_patient"):
        client = api(user_of(cast, persona))
        for endpoint in ENDPOINTS:
            if endpoint.per_target and endpoint.method != "get":
                response = _call(client, endpoint, world, "other_patient")
                assert response.status_code in {400, 403, 404}
    assert Episode.objects.filter(pk=cast.other_episode.pk).values().get() == before["episode"]
    assert (
        DailyEntry.objects.filter(pk=world.entries["other_patient"].pk).values().get()
        == before["entry"]
    )
    assert (
        Alert.objects.filter(pk=world.alerts["other_patient"].pk).values().get() == before["alert"]
    )
    assert Prescription.objects.filter(episode=cast.other_episode).count() == 1
    assert Intervention.objects.filter(episode=cast.other_episode).count() == 1
    assert Episode.objects.filter(patient=cast.other_patient).count() == 1


def test_malformed_ids_are_404(world, api):
    client = api(world.cast.admin)
    assert client.get("/api/v1/episodes/99999999999999999999/").status_code == 404
    assert client.get("/api/v1/patients/0/").status_code == 404
    assert client.get("/api/v1/episodes/abc/").status_code == 404
