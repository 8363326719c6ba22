"""The reach matrix: every URL pattern of the project, as every persona, with every method.

The routes come from the URL resolver itself, recursively, so a new view cannot escape the walk;
the only routes skipped are in ``SKIPPED``, each with its reason. Every parameter of a route is
filled from ``PARAMETERS`` with an object of patient A (their episode, entry date, prescription,
alert, ...); a parameter the table does not know fails the walk, so a new route must be mapped
before it can ship.

Each route is requested as anonymous, patient A, patient B, A's therapist, a second therapist of
the clinic who does not treat A, the clinic admin and another clinic's therapist, with GET, POST,
PUT, PATCH and DELETE (DRF views: GET and the methods they define), with empty bodies, each
request inside a transaction that is rolled back so that no write changes what the next request
sees. A *leak* is any of:

- a persona out of reach of the route's object answered anything but 404 (a 403, a 200, a 400 or
  a redirect would each tell them that the object exists);
- anonymous answered anything but 401 (API) or a redirect to the login page (pages), or 405;
- any answer 5xx;
- any answer that shows a patient the persona does not reach: their name or email in the body,
  or the id of their patient, episode, alert, prescription or intervention in a JSON list (and
  for token and webhook lists, an id that is not the caller's own or their clinic's).

``test_reach_matrix`` prints the number of requests and leaks (``pytest -s``); docs/security.md,
"Reach", records them.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RoutePattern
from rest_framework.views import APIView

from accounts.models import ApiToken, Cover, Patient, User
from accounts.services import api_token_issue
from rehab.models import Episode, ReevaluationRun, WebhookEndpoint
from tests.alerts.factories import AlertFactory
from tests.clinic_exercises.helpers import make_exercise
from tests.factories import (
    DailyEntryFactory,
    InterventionFactory,
    PrescriptionFactory,
    TherapistFactory,
)
from tests.personas import CLINIC, REACH, STAFF, user_of
from tests.personas import PERSONAS as SIGNED_IN

pytestmark = pytest.mark.django_db

# Routes the matrix does not walk, by URL name (or, for a whole include, its prefix), and why.
SKIPPED_PREFIXES = {
    # The Django admin is the installation operators' tool (is_staff accounts, none of the
    # personas); it has its own permission checks and sends everybody else to the login page
    # (accounts/admin.py). Its hundred generated routes would only slow the walk down.
    "admin/": "Django admin (operators only)",
}
SKIPPED_NAMES = {
    # Public by design: they hold no patient data and must answer the signed-out.
    "api-schema": "the OpenAPI schema: describes the API, holds no data",
    "api-docs": "the Swagger UI page for the schema",
    "login": "the sign-in page",
    "logout": "signing out (POST only)",
    "invitation": "the one-time invitation page: the token in the address is the credential",
    "manifest": "the web app manifest every page links to",
    "service-worker": "the offline diary's service worker script (docs/diary.md)",
    "offline": "the page the service worker shows offline; it holds nobody's data",
    "api-auth-token": "exchanging a password for a token (tests/security/test_throttling.py)",
    "api-auth-invitation-accept": "accepting an invitation with its token",
    "invitation-set-password": "the invitation's form, for the browser that opened the link",
    "password-reset": "asking for a password-reset email: anyone may, the answer is always alike",
    "password-reset-done": "the page after asking for a reset email",
    "password-reset-confirm": "the password-reset link: the token in the address is the credential",
    "password-reset-complete": "the page after setting a password through a reset link",
    "reminders-unsubscribe": "the reminder email's one-click unsubscribe: the signed token in "
    "the address is the credential (tests/reminders/test_unsubscribe.py)",
    "javascript-catalog": "the scripts' words of a language (docs/i18n.md); nobody's data",
    "language-choose": "the language switch of the sign-in page (tests/i18n/test_language.py)",
}

PERSONAS = ["anonymous", *SIGNED_IN]
# The matrix names the cast's patients a, b (Riverside) and o (Northside).
SHORT = {"patient_a": "a", "patient_b": "b", "other_patient": "o"}
# The patients each persona reaches (tests/personas.py, restating accounts/scoping.py).
REACHES: dict[str, set[str]] = {
    "anonymous": set(),
    **{persona: {SHORT[p] for p in REACH[persona]} for persona in SIGNED_IN},
}
RIVERSIDE_STAFF = {persona for persona in STAFF if CLINIC[persona] == "riverside"}
METHODS = ("get", "post", "put", "patch", "delete")


@dataclass
class World:
    """The cast plus, for each of the patients a, b (Riverside) and o (Northside), an entry, a
    prescription, an intervention and an alert; a webhook endpoint per clinic; a token per
    persona."""

    cast: Any
    users: dict[str, User]
    patients: dict[str, Patient]
    ids: dict[str, dict[str, int]] = field(default_factory=dict)  # kind -> owner -> id
    entry_dates: dict[str, str] = field(default_factory=dict)
    foreign_text: dict[str, list[str]] = field(default_factory=dict)  # patient -> name, email


def _owners_reached(kind: str, persona: str) -> set[str]:
    """Which owners' objects of ``kind`` the persona reaches: patients ("a", "b", "o") for
    patient data, personas for tokens, clinics for webhooks."""
    if kind in {"token", "staff_token"}:
        return {persona}
    if kind in {"webhook", "staff_member", "cover", "run", "clinic_exercise"}:
        # Clinic settings: the clinic's staff reach them (only its admin may act on them).
        if persona in RIVERSIDE_STAFF:
            return {"riverside"}
        return {"northside"} if persona == "other_therapist" else set()
    if kind == "alert" and persona not in STAFF:
        # Alerts are the clinic's working list: no patient reaches one, their own included.
        return set()
    return REACHES[persona]


@dataclass(frozen=True)
class Parameter:
    """What fills one route parameter: ``kind`` names an object (with its owner, whose reach
    decides the expected answer); ``kind=None`` is a plain value (a diary day, an action)."""

    value: Callable[[World], str]
    kind: str | None = None


def _id(kind: str, owner: str) -> Callable[[World], str]:
    return lambda w: str(w.ids[kind][owner])


# (the path segment before the parameter, the parameter's name) -> what fills it.
PARAMETERS: dict[tuple[str, str], Parameter] = {
    ("episodes", "pk"): Parameter(_id("episode", "a"), "episode"),
    ("patients", "pk"): Parameter(_id("patient", "a"), "patient"),
    ("alerts", "pk"): Parameter(_id("alert", "a"), "alert"),
    ("prescriptions", "prescription_id"): Parameter(_id("prescription", "a"), "prescription"),
    ("interventions", "intervention_id"): Parameter(_id("intervention", "a"), "intervention"),
    # A clinic's re-evaluation after a threshold change: the page and the API.
    ("runs", "run_id"): Parameter(_id("run", "riverside"), "run"),
    ("reevaluations", "pk"): Parameter(_id("run", "riverside"), "run"),
    ("entries", "date"): Parameter(lambda w: w.entry_dates["a"], "entry"),
    ("tokens", "pk"): Parameter(_id("token", "patient_a"), "token"),
    ("webhooks", "pk"): Parameter(_id("webhook", "riverside"), "webhook"),
    # Staff administration (issue 14): a therapist of Riverside, a cover of Riverside.
    ("staff", "pk"): Parameter(_id("staff_member", "riverside"), "staff_member"),
    ("covers", "pk"): Parameter(_id("cover", "riverside"), "cover"),
    # Values, not objects: the route's reach is decided by the rest of the address.
    ("log", "day"): Parameter(lambda w: w.patients["a"].local_today().isoformat()),
    ("alerts", "action"): Parameter(lambda w: "acknowledge"),
    # FHIR definitions (issue 15): no patient data, any signed-in user reads them.
    ("questionnaires", "instrument"): Parameter(lambda w: "faam"),
    ("code-systems", "name"): Parameter(lambda w: "faam-answer"),
}
# Routes whose parameter needs another object than PARAMETERS gives. The Account page's token
# list is for staff only (patients never see API tokens, issue 12): its revoke address is walked
# with a therapist's token; the API's own token routes keep patient A's.
ROUTE_PARAMETERS: dict[str, dict[tuple[str, str], Parameter]] = {
    "account-token-revoke": {
        ("tokens", "pk"): Parameter(_id("token", "therapist"), "staff_token"),
    },
    # A clinic's own exercise with a picture (issue 16): Riverside's staff reach it; patient A
    # has it not prescribed, so their answer is a 404 like everybody else's out of reach.
    **{
        name: {
            ("exercises", "pk"): Parameter(_id("clinic_exercise", "riverside"), "clinic_exercise")
        }
        for name in (
            "clinic-exercise-edit",
            "clinic-exercise-archive",
            "clinic-exercise-restore",
            "exercise-image",
            "api-exercise-detail",
            "api-exercise-picture",
        )
    },
}
# The owner of patient A's object of each kind: reach of the owner decides the expected answer.
A_OWNER = {
    "token": "patient_a",
    "staff_token": "therapist",
    "webhook": "riverside",
    "staff_member": "riverside",
    "cover": "riverside",
    "run": "riverside",
    "clinic_exercise": "riverside",
}

# JSON lists: the kind of ``results[*].id`` per route, so that ids are compared with ids of the
# same kind. None: the items are not patient data (the exercise catalogue) or carry no id (daily
# entries, checked through their "episode").
LIST_KINDS: dict[str, str | None] = {
    "api-patient-list": "patient",
    "api-episode-list": "episode",
    "api-alert-list": "alert",
    "api-prescription-list": "prescription",
    "api-intervention-list": "intervention",
    # Corrections of one episode's records (checked through their "episode").
    "api-episode-corrections": None,
    "api-entry-list": None,
    "api-exercise-list": None,
    "api-auth-token-list": "token",
    "api-webhook-list": "webhook",
    "api-webhook-deliveries": None,
    # The caller's own devices only (tests/reminders/test_api.py).
    "api-me-push-subscriptions": None,
    # Referred episodes: each item's id is its episode's (tests/referrals/test_api.py).
    "api-referral-list": "episode",
    # The caller's clinic's staff (not patient data) and covers (tests/staff/).
    "api-staff-list": None,
    "api-cover-list": "cover",
    # Inbox notifications: their "alert" and "episode" keys are checked as every answer's are.
    "api-alert-notifications": None,
    # FAAM and PSFS responses of one episode (checked through their "episode").
    "api-questionnaire-response-list": None,
}
# Keys that, anywhere in a JSON answer, hold the id of an object of this kind.
ID_KEYS = {"patient": "patient", "episode": "episode", "alert": "alert"}


@dataclass(frozen=True)
class Route:
    route: str
    name: str
    callback: Any
    params: tuple[tuple[str, str], ...]  # (segment before, name)

    @property
    def is_api(self) -> bool:
        return self.route.startswith("api/")

    @property
    def view_class(self) -> type | None:
        return getattr(self.callback, "view_class", None) or getattr(self.callback, "cls", None)

    @property
    def methods(self) -> tuple[str, ...]:
        view = self.view_class
        if view is not None and issubclass(view, APIView):
            # GET always (the brief: "GET and each write method the view allows").
            return tuple(m for m in METHODS if m == "get" or hasattr(view, m))
        return METHODS


_PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


def _parameters(route: str) -> tuple[tuple[str, str], ...]:
    found = []
    for match in _PARAM.finditer(route):
        before = [s for s in route[: match.start()].split("/") if s and not s.startswith("<")]
        found.append((before[-1] if before else "", match.group("name")))
    return tuple(found)


def walk(patterns: list[Any], prefix: str = "") -> Iterator[Route]:
    """Every route under ``patterns``, minus the skipped ones. Regex routes fail loudly: the
    parameter table speaks the path() syntax."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            sub = prefix + str(pattern.pattern)
            if sub in SKIPPED_PREFIXES:
                continue
            yield from walk(pattern.url_patterns, sub)
        elif isinstance(pattern, URLPattern):
            if pattern.name in SKIPPED_NAMES:
                continue
            if not isinstance(pattern.pattern, RoutePattern):
                raise AssertionError(f"{prefix}{pattern.pattern}: use path(), or map it here")
            route = prefix + str(pattern.pattern)
            yield Route(route, str(pattern.name), pattern.callback, _parameters(route))


def fill(route: Route, world: World) -> tuple[str, set[str]]:
    """The address of the route for patient A's objects, and the kinds of objects it names."""
    path = route.route
    kinds: set[str] = set()
    for key in route.params:
        parameter = ROUTE_PARAMETERS.get(route.name, {}).get(key) or PARAMETERS.get(key)
        if parameter is None:
            raise AssertionError(
                f"{route.route} ({route.name}): no object for parameter {key[1]!r} after "
                f"{key[0]!r}; map it in PARAMETERS ({__file__})"
            )
        value = parameter.value(world)
        path = _PARAM.sub(lambda _match, value=value: value, path, count=1)  # type: ignore[misc]
        if parameter.kind is not None:
            kinds.add(parameter.kind)
    return "/" + path, kinds


def in_reach(persona: str, kinds: set[str]) -> bool:
    """Whether the persona reaches every object of patient A's that the address names."""
    return all(A_OWNER.get(kind, "a") in _owners_reached(kind, persona) for kind in kinds)


# --- The world -------------------------------------------------------------------------------


@pytest.fixture
def world(cast, settings, tmp_path) -> World:
    users: dict[str, User] = {persona: user_of(cast, persona) for persona in SIGNED_IN}
    patients = {"a": cast.patient_a, "b": cast.patient_b, "o": cast.other_patient}
    episodes = {"a": cast.episode_a, "b": cast.episode_b, "o": cast.other_episode}
    w = World(cast=cast, users=users, patients=patients)
    # Names that appear nowhere else, so finding one in a page can only be a leak.
    names = {
        "a": ("Alma", "Aardvarkson"),
        "b": ("Bruno", "Bitternfield"),
        "o": ("Olga", "Ocelotti"),
    }
    for key, (first, last) in names.items():
        User.objects.filter(pk=patients[key].user_id).update(first_name=first, last_name=last)
        patients[key].user.refresh_from_db()
        w.foreign_text[key] = [last, patients[key].user.email]
    w.ids = {kind: {} for kind in ("patient", "episode", "prescription", "intervention", "alert")}
    for key, episode in episodes.items():
        w.ids["patient"][key] = patients[key].pk
        w.ids["episode"][key] = episode.pk
        w.ids["prescription"][key] = PrescriptionFactory(episode=episode).pk
        w.ids["intervention"][key] = InterventionFactory(episode=episode).pk
        w.ids["alert"][key] = AlertFactory(episode=episode).pk
        entry = DailyEntryFactory(episode=episode, date=episode.start_date, note="private note")
        w.entry_dates[key] = entry.date.isoformat()
    w.ids["webhook"] = {
        "riverside": WebhookEndpoint.objects.create(
            clinic=cast.clinic, url="https://hooks.riverside.example/pais", secret="whsec_r"
        ).pk,
        "northside": WebhookEndpoint.objects.create(
            clinic=cast.other_clinic, url="https://hooks.northside.example/pais", secret="whsec_n"
        ).pk,
    }
    # A cover still to come (it gives nobody reach during the walk), per clinic.
    starts = dt.date.today() + dt.timedelta(days=30)
    northside_2 = TherapistFactory(email="therapist2@northside.test", clinic=cast.other_clinic)
    w.ids["staff_member"] = {"riverside": cast.therapist_2.pk, "northside": northside_2.pk}
    w.ids["cover"] = {
        "riverside": Cover.objects.create(
            clinic=cast.clinic,
            absent=cast.therapist,
            covering=cast.therapist_2,
            start_date=starts,
            end_date=starts,
        ).pk,
        "northside": Cover.objects.create(
            clinic=cast.other_clinic,
            absent=cast.other_therapist,
            covering=northside_2,
            start_date=starts,
            end_date=starts,
        ).pk,
    }
    w.ids["run"] = {
        "riverside": ReevaluationRun.objects.create(clinic=cast.clinic).pk,
        "northside": ReevaluationRun.objects.create(clinic=cast.other_clinic).pk,
    }
    settings.MEDIA_ROOT = tmp_path / "media"
    w.ids["clinic_exercise"] = {
        clinic: make_exercise(staff, name=f"{clinic} own drill", picture=True).pk
        for clinic, staff in (("riverside", cast.therapist), ("northside", cast.other_therapist))
    }
    w.ids["token"] = {}
    return w


@dataclass
class Clients:
    pages: Client
    api: Client


def _clients(world: World) -> dict[str, Clients]:
    clients = {
        "anonymous": Clients(
            Client(raise_request_exception=False), Client(raise_request_exception=False)
        )
    }
    for persona, user in world.users.items():
        key = api_token_issue(user=user)
        world.ids["token"][persona] = ApiToken.objects.filter(user=user).latest("pk").pk
        pages = Client(raise_request_exception=False)
        pages.force_login(user)
        api = Client(raise_request_exception=False, HTTP_AUTHORIZATION=f"Token {key}")
        clients[persona] = Clients(pages, api)
    return clients


# --- Checking one answer ---------------------------------------------------------------------


@dataclass
class Tally:
    requests: int = 0
    # Requests by a persona out of reach of the object the address names: each must be a 404,
    # or a 405 when nobody may use that method on the route.
    out_of_reach: int = 0
    out_of_reach_405: int = 0
    # Requests that got through (2xx), each scanned for patients the persona does not reach.
    answered: int = 0
    problems: list[str] = field(default_factory=list)


def _request(client: Client, method: str, path: str, api: bool) -> HttpResponse:
    """One request with an empty body (JSON for the API, a form for pages), rolled back."""
    with transaction.atomic():
        if method == "get":
            response = client.get(path)
        elif api:
            response = getattr(client, method)(path, "{}", content_type="application/json")
        elif method == "post":
            response = client.post(path, {})
        else:
            response = getattr(client, method)(path, "")
        transaction.set_rollback(True)
    return response


def _foreign_strings(world: World, persona: str) -> list[str]:
    return [
        text
        for patient in ("a", "b", "o")
        if patient not in REACHES[persona]
        for text in world.foreign_text[patient]
    ]


def _json_ids(data: Any, key_kinds: dict[str, str]) -> Iterator[tuple[str, Any]]:
    if isinstance(data, dict):
        for key, value in data.items():
            if key in key_kinds and isinstance(value, int):
                yield key_kinds[key], value
            yield from _json_ids(value, key_kinds)
    elif isinstance(data, list):
        for item in data:
            yield from _json_ids(item, key_kinds)


def _reachable_ids(world: World, kind: str, persona: str) -> set[int]:
    owners = _owners_reached(kind, persona)
    return {pk for owner, pk in world.ids[kind].items() if owner in owners}


def _shows_foreign(world: World, route: Route, persona: str, response: HttpResponse) -> str | None:
    if getattr(response, "streaming", False):
        body = b"".join(response.streaming_content).decode(errors="replace")  # type: ignore[attr-defined]
    else:
        body = response.content.decode(errors="replace")
    for text in _foreign_strings(world, persona):
        if text in body:
            return f"shows {text!r}"
    if "json" not in response.get("Content-Type", ""):
        return None
    data = json.loads(body)
    for kind, value in _json_ids(data, ID_KEYS):
        if value in set(world.ids[kind].values()) - _reachable_ids(world, kind, persona):
            return f"shows {kind} {value}"
    if isinstance(data, dict) and "results" in data:
        if route.name not in LIST_KINDS:
            raise AssertionError(f"{route.name} lists items: say their kind in LIST_KINDS")
        kind = LIST_KINDS[route.name]
        if kind is not None:
            shown = {item["id"] for item in data["results"]}
            foreign = shown - _reachable_ids(world, kind, persona)
            if foreign:
                return f"lists {kind} ids {sorted(foreign)}"
    return None


def _check(
    world: World,
    route: Route,
    persona: str,
    method: str,
    kinds: set[str],
    reached: bool,
    response: HttpResponse,
) -> str | None:
    status = response.status_code
    if status >= 500:
        return f"server error {status}"
    if persona == "anonymous":
        if route.is_api:
            return None if status == 401 else f"anonymous got {status}, not 401"
        if status == 405:
            return None
        location = response.get("Location", "")
        if status == 302 and location.startswith("/accounts/login/"):
            return None
        return f"anonymous got {status} {location}"
    if kinds and not reached and status not in (404, 405):
        return f"out of reach got {status}, not 404"
    if status == 403 and not reached:
        return "403 outside reach"
    if 200 <= status < 300:
        return _shows_foreign(world, route, persona, response)
    return None


def run_matrix(world: World, routes: list[Route]) -> Tally:
    clients = _clients(world)
    tally = Tally()
    for route in routes:
        path, kinds = fill(route, world)
        answers: dict[tuple[str, str], int] = {}
        for method in route.methods:
            for persona in PERSONAS:
                client = clients[persona].api if route.is_api else clients[persona].pages
                reached = in_reach(persona, kinds)
                response = _request(client, method, path, route.is_api)
                tally.requests += 1
                if kinds and not reached and persona != "anonymous":
                    tally.out_of_reach += 1
                    tally.out_of_reach_405 += response.status_code == 405
                if 200 <= response.status_code < 300:
                    tally.answered += 1
                answers[(persona, method)] = response.status_code
                problem = _check(world, route, persona, method, kinds, reached, response)
                if problem:
                    tally.problems.append(f"{method.upper()} {path} as {persona}: {problem}")
        for method in route.methods if kinds else ():
            # On an object's address a 405 says nothing about the object only if the method is
            # refused to everybody. (Elsewhere a role may decide it: "/" takes a patient's POST.)
            statuses = {answers[(p, method)] for p in PERSONAS if p != "anonymous"}
            if 405 in statuses and statuses != {405}:
                tally.problems.append(f"{method.upper()} {path}: 405 for some, {statuses}")
        if kinds:
            # The walk means something only if somebody within reach gets through: otherwise
            # every 404 above could come from a wrong parameter, not from scoping.
            within = [
                status
                for (persona, method), status in answers.items()
                if persona != "anonymous" and in_reach(persona, kinds) and status not in (404, 405)
            ]
            if not within:
                tally.problems.append(f"{path}: nobody within reach got past 404/405")
    return tally


def project_routes() -> list[Route]:
    return list(walk(get_resolver().url_patterns))


# --- The tests -------------------------------------------------------------------------------


@pytest.fixture
def quiet_request_log() -> Iterator[None]:
    # Django logs every 403/404 as a warning: a thousand of them would bury the figures. Server
    # errors (ERROR) still show.
    logger = logging.getLogger("django.request")
    level = logger.level
    logger.setLevel(logging.ERROR)
    yield
    logger.setLevel(level)


def test_reach_matrix(world, quiet_request_log):
    routes = project_routes()
    began = time.perf_counter()
    tally = run_matrix(world, routes)
    print(
        f"\nreach matrix: {len(routes)} routes, {tally.requests} requests, "
        f"{len(tally.problems)} leaks; {tally.out_of_reach} requests out of reach answered "
        f"404 ({tally.out_of_reach - tally.out_of_reach_405}) or 405 for a method nobody may "
        f"use there ({tally.out_of_reach_405}); {tally.answered} answers 2xx scanned for "
        f"foreign patients; {time.perf_counter() - began:.1f} s"
    )
    assert not tally.problems, "\n".join(tally.problems)


def test_the_walk_finds_every_kind_of_route():
    names = {route.name for route in project_routes()}
    # API, pages, stable links, clinic settings, the patient's own pages: all walked.
    assert {
        "api-entry-detail",
        "api-webhook-detail",
        "api-me-export",
        "episode",
        "episode-report-pdf",
        "alert-action",
        "webhook-delete",
        "patient-erase",
        "audit-trail",
        "patient-log",
        "account-token-revoke",
        "staff-deactivate",
        "api-staff-deactivate",
        "api-cover-cancel",
    } <= names
    assert not names & set(SKIPPED_NAMES)
    assert not any(route.route.startswith("admin/") for route in project_routes())


def test_an_unmapped_parameter_fails_the_walk(world):
    path = "api/v1/episodes/<int:pk>/notes/<int:note_id>/"
    route = Route(path, "api-episode-note", None, _parameters(path))
    assert route.params == (("episodes", "pk"), ("notes", "note_id"))
    with pytest.raises(AssertionError, match="no object for parameter 'note_id' after 'notes'"):
        fill(route, world)


def _pattern_named(patterns: list[Any], name: str) -> URLPattern | None:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            found = _pattern_named(pattern.url_patterns, name)
            if found is not None:
                return found
        elif pattern.name == name:
            return pattern
    return None


def test_a_leaking_view_is_caught(world, monkeypatch, quiet_request_log):
    """The matrix is not blind: a view that skips the scoping is reported for every persona
    out of reach, and for the foreign patient it shows."""

    def leaky(request: Any, pk: int) -> JsonResponse:
        episode = Episode.objects.select_related("patient__user").get(pk=pk)
        other = Episode.objects.exclude(patient__user__clinic=episode.patient.user.clinic).first()
        assert other is not None
        return JsonResponse({"id": episode.pk, "also": other.patient.user.last_name})

    target = _pattern_named(get_resolver().url_patterns, "episode")
    assert target is not None
    # resolve() hands out the pattern's callback: swapping it swaps the view for this route.
    monkeypatch.setattr(target, "callback", leaky)
    route = next(r for r in project_routes() if r.name == "episode")
    tally = run_matrix(world, [route])
    problems = "\n".join(tally.problems)
    for persona in ("patient_b", "therapist_2", "other_therapist"):
        assert f"GET /episodes/{world.ids['episode']['a']}/ as {persona}: out of reach got 200" in (
            problems
        )
    assert "as therapist: shows 'Ocelotti'" in problems
    assert "as anonymous: anonymous got 200" in problems
