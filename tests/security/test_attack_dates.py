"""Issue 10, finding 6: dates that broke pages.

The attack: an intervention from 0001-01-01 to 9999-12-31 was accepted, and the episode page and
the referral report then answered 500. Now every date the product stores is bounded to a sane
clinical window by the services (a 400 naming the field, nothing stored), and no page answers a
5xx on extreme dates that are already stored (written before the rule, or by hand in the
database): the rows below are inserted through the ORM, bypassing the services.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from accounts.models import User
from rehab.models import (
    DailyEntry,
    Episode,
    EpisodeStatus,
    Intervention,
    InterventionKind,
    Outcome,
    Prescription,
)
from tests.factories import DailyEntryFactory, EpisodeFactory, ExerciseLogFactory

pytestmark = pytest.mark.django_db

FIRST_DAY = dt.date(1, 1, 1)
LAST_DAY = dt.date(9999, 12, 31)


def _browser(user: User) -> Client:
    # Errors come back as the 500 a visitor would see, not as an exception in the test.
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def _store_extreme_rows(cast) -> dict[str, Episode]:
    """Extreme dates on every kind of row that holds one, as if written straight to the tables."""
    active = cast.episode_a
    for kind in (InterventionKind.IMMOBILIZATION, InterventionKind.NSAID):
        Intervention.objects.create(
            episode=active, kind=kind, start_date=FIRST_DAY, end_date=LAST_DAY
        )
    Intervention.objects.create(
        episode=active, kind=InterventionKind.HEEL_LIFT, start_date=LAST_DAY
    )
    endless = Prescription.objects.create(
        episode=active, name="Heel raises", sets=3, start_date=active.start_date, end_date=LAST_DAY
    )
    Prescription.objects.create(
        episode=active, name="Ancient", sets=2, start_date=FIRST_DAY, end_date=LAST_DAY
    )
    Prescription.objects.create(episode=active, name="Future", sets=2, start_date=LAST_DAY)
    for days_ago in range(12):
        ExerciseLogFactory(
            entry=DailyEntryFactory(
                episode=active, date=active.patient.local_today() - dt.timedelta(days=days_ago)
            ),
            prescription=endless,
            sets_completed=3,
        )
    # Entries at the ends of the calendar, too.
    DailyEntry.objects.create(episode=active, date=FIRST_DAY, pain_activity=5)
    DailyEntry.objects.create(episode=active, date=LAST_DAY, pain_activity=4)

    referred = cast.episode_b
    Episode.objects.filter(pk=referred.pk).update(
        status=EpisodeStatus.REFERRED, referral_date=LAST_DAY, referred_to="Surgeon"
    )
    DailyEntryFactory(episode=referred, date=referred.start_date)
    Intervention.objects.create(
        episode=referred, kind=InterventionKind.IMMOBILIZATION, start_date=FIRST_DAY
    )

    closed = EpisodeFactory(
        patient=cast.patient_b,
        start_date=FIRST_DAY,
        status=EpisodeStatus.CLOSED,
        closed_date=LAST_DAY,
        outcome=Outcome.RESOLVED,
    )
    DailyEntryFactory(episode=closed, date=FIRST_DAY)
    DailyEntryFactory(episode=closed, date=dt.date(1, 1, 9), pain_activity=2)
    far_future = EpisodeFactory(patient=cast.patient_a, start_date=LAST_DAY)
    DailyEntryFactory(episode=far_future, date=LAST_DAY)
    # An active episode begun on the calendar's first day, with a prescription from then on.
    ancient = EpisodeFactory(patient=cast.patient_a, start_date=FIRST_DAY)
    Prescription.objects.create(episode=ancient, name="Calf stretch", sets=1, start_date=FIRST_DAY)
    DailyEntryFactory(episode=ancient, date=FIRST_DAY)
    return {
        "active": active,
        "referred": referred,
        "closed": closed,
        "future": far_future,
        "ancient": ancient,
    }


def _staff_paths(episodes: dict[str, Episode], cast) -> list[str]:
    paths = ["/", "/patients/", "/alerts/", "/alerts/?tab=resolved", "/reports/outcomes/"]
    paths.append("/reports/outcomes.csv")
    for patient in (cast.patient_a, cast.patient_b):
        paths.append(f"/patients/{patient.pk}/")
    for episode in episodes.values():
        paths += [
            f"/episodes/{episode.pk}/",
            f"/episodes/{episode.pk}/report/",
            f"/episodes/{episode.pk}/report.pdf",
            f"/api/v1/episodes/{episode.pk}/fhir/",
            f"/api/v1/episodes/{episode.pk}/entries.csv",
            f"/api/v1/episodes/{episode.pk}/progress/",
            f"/api/v1/episodes/{episode.pk}/progress/?as_of=1900-01-01",
            f"/api/v1/episodes/{episode.pk}/progress/?as_of=2199-12-31",
            f"/api/v1/episodes/{episode.pk}/",
            f"/api/v1/episodes/{episode.pk}/interventions/",
            f"/api/v1/episodes/{episode.pk}/prescriptions/",
            f"/api/v1/episodes/{episode.pk}/entries/",
        ]
    return paths


def _patient_paths(episodes: list[Episode]) -> list[str]:
    paths = [
        "/",
        "/history/",
        "/progress/",
        "/my-data/",
        "/api/v1/me/export/",
        "/api/v1/me/export/?format=fhir",
    ]
    for episode in episodes:
        paths += [
            f"/episodes/{episode.pk}/",
            f"/progress/?episode={episode.pk}",
            f"/?episode={episode.pk}",
            f"/api/v1/episodes/{episode.pk}/progress/",
        ]
    return paths


def _server_errors(client: Client, paths: list[str]) -> list[tuple[str, int]]:
    return [
        (path, response.status_code)
        for path in paths
        if (response := client.get(path)).status_code >= 500
    ]


def test_stored_extreme_dates_break_no_staff_page(cast):
    episodes = _store_extreme_rows(cast)
    paths = _staff_paths(episodes, cast)
    for staff in (cast.therapist, cast.admin):
        assert _server_errors(_browser(staff), paths) == []


def test_stored_extreme_dates_break_no_page_of_the_patient(cast):
    episodes = _store_extreme_rows(cast)
    patient_a = _patient_paths([episodes["active"], episodes["future"], episodes["ancient"]])
    patient_b = _patient_paths([episodes["referred"], episodes["closed"]])
    assert _server_errors(_browser(cast.patient_a.user), patient_a) == []
    assert _server_errors(_browser(cast.patient_b.user), patient_b) == []


# --- Writes: every stored date is checked by the service, for the API and the pages alike -------


def _intervention_count(episode: Episode) -> int:
    return Intervention.objects.filter(episode=episode).count()


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        # The attack itself.
        ({"start_date": "0001-01-01", "end_date": "9999-12-31"}, {"start_date", "end_date"}),
        ({"start_date": "9999-12-31"}, {"start_date"}),
        ({"start_date": "1900-01-01"}, {"start_date"}),
        ({"start_date": "+3 years"}, {"start_date"}),
        ({"start_date": "-1 day", "end_date": "+13 months"}, {"end_date"}),
        ({"start_date": "-1 day", "end_date": "-2 days"}, {"end_date"}),
    ],
)
def test_an_intervention_outside_the_clinical_window_is_a_400_naming_the_field(
    cast, api, body, fields
):
    episode = cast.episode_a
    today = episode.patient.local_today()
    before = _intervention_count(episode)
    response = api(cast.therapist).post(
        f"/api/v1/episodes/{episode.pk}/interventions/",
        {"kind": "immobilization", **_dates(body, today)},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert set(response.json()) == fields
    assert _intervention_count(episode) == before


def _dates(body: dict[str, str], today: dt.date) -> dict[str, str]:
    """Relative dates ("+3 years", "-1 day", "+13 months") as ISO dates from today."""

    def resolve(value: str) -> str:
        if not value.startswith(("+", "-")):
            return value
        amount, unit = value.split()
        n = int(amount)
        days = {"day": 1, "days": 1, "months": 31, "years": 366}[unit] * n
        return (today + dt.timedelta(days=days)).isoformat()

    return {key: resolve(value) for key, value in body.items()}


def test_the_400_says_why_with_the_episodes_start(cast, api):
    episode = cast.episode_a
    response = api(cast.therapist).post(
        f"/api/v1/episodes/{episode.pk}/interventions/",
        {"kind": "nsaid", "start_date": "0001-01-01"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["start_date"] == [
        f"Must be within 2 years of the episode's start ({episode.start_date:%Y-%m-%d})."
    ]


def test_an_intervention_begun_shortly_before_the_episode_or_planned_is_accepted(cast, api):
    # A boot from the emergency department a week before the trial started counts (the
    # immobilization rule counts its days from its own start), as does a planned injection.
    episode = cast.episode_a
    client = api(cast.therapist)
    for start in (episode.start_date - dt.timedelta(days=7), episode.patient.local_today()):
        response = client.post(
            f"/api/v1/episodes/{episode.pk}/interventions/",
            {"kind": "immobilization", "start_date": start.isoformat()},
            format="json",
        )
        assert response.status_code == 201, response.content


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"start_date": "0001-01-01", "end_date": "9999-12-31"}, {"start_date", "end_date"}),
        ({"end_date": "9999-12-31"}, {"end_date"}),
        ({"start_date": "-30 days"}, {"start_date"}),  # 10 days before the episode's start
        ({"start_date": "+13 months"}, {"start_date"}),
    ],
)
def test_a_prescription_outside_the_clinical_window_is_a_400(cast, api, body, fields):
    episode = cast.episode_a
    today = episode.patient.local_today()
    before = Prescription.objects.filter(episode=episode).count()
    response = api(cast.therapist).post(
        f"/api/v1/episodes/{episode.pk}/prescriptions/",
        {"exercise": "Heel raises", "sets": 3, **_dates(body, today)},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert set(response.json()) == fields
    assert Prescription.objects.filter(episode=episode).count() == before


def test_a_planned_prescription_end_is_accepted_but_not_one_in_9999(cast, api):
    episode = cast.episode_a
    client = api(cast.therapist)
    planned = episode.patient.local_today() + dt.timedelta(days=90)
    created = client.post(
        f"/api/v1/episodes/{episode.pk}/prescriptions/",
        {"exercise": "Heel raises", "sets": 3, "end_date": planned.isoformat()},
        format="json",
    )
    assert created.status_code == 201, created.content
    end_url = f"/api/v1/episodes/{episode.pk}/prescriptions/{created.json()['id']}/end/"
    refused = client.post(end_url, {"end_date": "9999-12-31"}, format="json")
    assert refused.status_code == 400
    assert "end_date" in refused.json()
    assert Prescription.objects.get(pk=created.json()["id"]).end_date == planned


@pytest.mark.parametrize("when", ["9999-12-31", "0001-01-01", "+1 day"])
def test_a_referral_or_closure_date_outside_the_window_is_a_400_and_changes_nothing(
    cast, api, when
):
    episode = cast.episode_a
    date = _dates({"date": when}, episode.patient.local_today())["date"]
    client = api(cast.therapist)
    referral = client.post(
        f"/api/v1/episodes/{episode.pk}/referral/", {"date": date}, format="json"
    )
    closure = client.post(
        f"/api/v1/episodes/{episode.pk}/close/",
        {"date": date, "outcome": "resolved"},
        format="json",
    )
    assert (referral.status_code, closure.status_code) == (400, 400)
    assert "date" in referral.json() and "date" in closure.json()
    episode.refresh_from_db()
    assert (episode.status, episode.referral_date, episode.closed_date) == (
        EpisodeStatus.ACTIVE,
        None,
        None,
    )


def test_the_intervention_page_refuses_the_same_dates(cast):
    # The page's form only parses; the service is the one validator, so the page agrees.
    episode = cast.episode_a
    response = _browser(cast.therapist).post(
        f"/episodes/{episode.pk}/interventions/new/",
        {"kind": "immobilization", "start_date": "0001-01-01", "end_date": "9999-12-31"},
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert "within 2 years of the episode's start" in " ".join(form.errors["start_date"])
    assert _intervention_count(episode) == 0
