"""The caseload's read model: one stored evaluation per episode, kept fresh (rehab.read_model).

Through the public ways in: the entry PUT, the caseload page, the services staff use, the
thresholds API and the local-midnight Celery job.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine

from rehab import services
from rehab.models import Alert, EpisodeEvaluation, Prescription
from rehab.read_model import episodes_past_local_midnight, local_day_span
from rehab.tasks import evaluate_new_local_days
from tests.conftest import Cast
from tests.courses import stalled_course
from tests.factories import EpisodeFactory, PatientFactory
from tests.personas import signed_in_client

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)
TODAY = NOW.date()


def _tipping(cast: Cast, *, zone: str = "UTC", name: str = "Tia") -> Any:
    """Day 42 today with 3 entries in the last week: today's entry makes REFERRAL_CONSIDER."""
    patient = PatientFactory(therapist=cast.therapist, timezone=zone, user__first_name=name)
    episode = EpisodeFactory(patient=patient, start_date=TODAY - dt.timedelta(days=41))
    stalled_course(episode, days=[*range(1, 8), 39, 40, 41])
    return episode


def _put_today(api: Any, cast: Cast, episode: Any, pain: int = 6) -> Any:
    prescription = Prescription.objects.get(episode=episode)
    return api(cast.therapist).put(
        f"/api/v1/episodes/{episode.pk}/entries/{TODAY.isoformat()}/",
        {
            "pain_activity": pain,
            "exercises": [{"prescription": prescription.pk, "sets_completed": 3}],
        },
        format="json",
    )


def _due(*episodes: Any) -> set[int]:
    """Which of ``episodes`` the local-midnight job would pick now (the cast has others)."""
    return set(episodes_past_local_midnight().values_list("pk", flat=True)) & {
        e.pk for e in episodes
    }


def _row(client: Any, episode_id: int) -> Any:
    response = client.get("/")
    assert response.status_code == 200
    (row,) = [r for r in response.context["rows"] if r.episode_id == episode_id]
    return row


def test_an_entry_evaluation_stores_the_row_the_caseload_shows(
    cast: Cast, api: Any, django_capture_on_commit_callbacks: Any
) -> None:
    episode = _tipping(cast)
    with time_machine.travel(NOW, tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            assert _put_today(api, cast, episode).status_code == 201
        stored = EpisodeEvaluation.objects.get(episode=episode)
        assert (stored.as_of, stored.trial_day, stored.recommendation) == (
            TODAY,
            42,
            "consider_referral",
        )
        assert stored.alerts_synced
        assert stored.alert_findings == [["high", "REFERRAL_CONSIDER"]]
        assert stored.last_entry == TODAY and stored.recent_pain[-1] == 6
        assert len(stored.recent_pain) == 28 and stored.recent_pain[-2] == 6  # day 41
        # The page reads the stored row: it computes nothing more for this episode.
        evaluated_at = stored.evaluated_at
        row = _row(signed_in_client(cast.therapist), episode.pk)
        assert row.recommendation == "consider_referral" and row.worst_severity == "high"
        assert EpisodeEvaluation.objects.get(episode=episode).evaluated_at == evaluated_at


def test_the_page_never_shows_a_row_older_than_the_patients_today(cast: Cast) -> None:
    episode = _tipping(cast)
    client = signed_in_client(cast.therapist)
    with time_machine.travel(NOW, tick=False):
        assert _row(client, episode.pk).trial_day == 42
    # The next day: the stored row is as of yesterday, so the page computes today's first.
    with time_machine.travel(NOW + dt.timedelta(days=1), tick=False):
        row = _row(client, episode.pk)
        assert (row.trial_day, row.as_of) == (43, TODAY + dt.timedelta(days=1))
        stored = EpisodeEvaluation.objects.get(episode=episode)
        assert stored.as_of == TODAY + dt.timedelta(days=1)
        # Rules only: the alerts are the job's, which picks the episode up.
        assert not stored.alerts_synced
        assert _due(episode) == {episode.pk}


def test_the_job_evaluates_each_patient_soon_after_their_own_midnight(
    cast: Cast, django_capture_on_commit_callbacks: Any
) -> None:
    auckland = _tipping(cast, zone="Pacific/Auckland", name="Aroha")
    los_angeles = _tipping(cast, zone="America/Los_Angeles", name="Lupe")
    for episode in (auckland, los_angeles):
        stalled_course(episode, days=[42])  # today's entry is in: the finding is due
    # Tuesday 10 March 12:00 UTC is Wednesday 01:00 in Auckland, Tuesday 05:00 in Los Angeles.
    with time_machine.travel(NOW, tick=False):
        assert _due(auckland, los_angeles) == {auckland.pk, los_angeles.pk}  # never evaluated
        assert evaluate_new_local_days.delay().get() == 1  # one chunk of ids
        rows = {r.episode_id: r for r in EpisodeEvaluation.objects.all()}
        assert rows[auckland.pk].as_of == dt.date(2026, 3, 11)
        assert rows[los_angeles.pk].as_of == dt.date(2026, 3, 10)
        assert all(r.alerts_synced for r in rows.values())
        assert Alert.objects.filter(episode=los_angeles, code="REFERRAL_CONSIDER").exists()
        # Run again within the same local days: nothing to do.
        assert evaluate_new_local_days.delay().get() == 0
    # 07:59 UTC on the 11th is 23:59 in Los Angeles: still the 10th there.
    with time_machine.travel(dt.datetime(2026, 3, 11, 6, 59, tzinfo=dt.UTC), tick=False):
        assert _due(auckland, los_angeles) == set()
    # Los Angeles passes midnight at 07:00 UTC (PDT from 8 March): only that patient is due.
    with time_machine.travel(dt.datetime(2026, 3, 11, 7, 0, tzinfo=dt.UTC), tick=False):
        assert _due(auckland, los_angeles) == {los_angeles.pk}
        assert evaluate_new_local_days.delay().get() == 1
        assert EpisodeEvaluation.objects.get(episode=los_angeles).as_of == dt.date(2026, 3, 11)
        assert _due(auckland, los_angeles) == set()


def test_the_local_day_span_follows_daylight_saving() -> None:
    # Europe/London springs forward on 29 March 2026: that day lasts 23 hours.
    start, end = local_day_span(dt.date(2026, 3, 29), "Europe/London")
    assert (start, end) == (
        dt.datetime(2026, 3, 29, 0, 0, tzinfo=dt.UTC),
        dt.datetime(2026, 3, 29, 23, 0, tzinfo=dt.UTC),
    )


def test_a_new_prescription_is_on_the_page_at_once(cast: Cast) -> None:
    patient = PatientFactory(therapist=cast.therapist)
    episode = EpisodeFactory(patient=patient, start_date=TODAY - dt.timedelta(days=3))
    client = signed_in_client(cast.therapist)
    with time_machine.travel(NOW, tick=False):
        assert not _row(client, episode.pk).has_prescriptions
        services.prescription_create(
            actor=cast.therapist, episode=episode, exercise="Calf raises", sets=3
        )
        assert not EpisodeEvaluation.objects.filter(episode=episode).exists()
        assert _row(client, episode.pk).has_prescriptions
        # ... and the job evaluates it with its alerts at its next run.
        assert _due(episode) == {episode.pk}


def test_a_threshold_change_reorders_the_caseload_at_once(cast: Cast, api: Any) -> None:
    episode = _tipping(cast)
    stalled_course(episode, days=[42])
    client = signed_in_client(cast.therapist)
    with time_machine.travel(NOW, tick=False):
        assert _row(client, episode.pk).recommendation == "consider_referral"
    # The clinic counts a fall of 1 point and 10% as important: 7 -> 6 (14%) now is one.
    with time_machine.travel(NOW + dt.timedelta(minutes=5), tick=False):
        response = api(cast.admin).put(
            "/api/v1/clinic/thresholds/",
            {"mcid_points": 1, "mcid_percent": 10},
            format="json",
        )
        assert response.status_code == 200, response.content
    with time_machine.travel(NOW + dt.timedelta(minutes=6), tick=False):
        assert _row(client, episode.pk).recommendation != "consider_referral"


def test_an_episode_that_leaves_the_trial_loses_its_row(
    cast: Cast, api: Any, django_capture_on_commit_callbacks: Any
) -> None:
    episode = _tipping(cast)
    with time_machine.travel(NOW, tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            _put_today(api, cast, episode)
            services.episode_record_referral(
                actor=cast.therapist, episode=episode, date=TODAY, referred_to="Ms Surgeon"
            )
        assert not EpisodeEvaluation.objects.filter(episode=episode).exists()
        assert all(
            r.episode_id != episode.pk
            for r in signed_in_client(cast.therapist).get("/").context["rows"]
        )


def test_resolving_by_hand_keeps_the_urgency_while_the_finding_fires(
    cast: Cast, api: Any, django_capture_on_commit_callbacks: Any
) -> None:
    urgent = _tipping(cast, name="Una")
    calm = EpisodeFactory(
        patient=PatientFactory(therapist=cast.therapist, user__first_name="Abe"),
        start_date=TODAY - dt.timedelta(days=50),
    )
    client = signed_in_client(cast.therapist)
    with time_machine.travel(NOW, tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            _put_today(api, cast, urgent)
        order = [r.episode_id for r in client.get("/").context["rows"]]
        assert order.index(urgent.pk) < order.index(calm.pk)
        alert = Alert.objects.get(episode=urgent, code="REFERRAL_CONSIDER")
        # Resolving by hand while the finding still fires keeps the urgency (docs/alerts.md).
        response = api(cast.therapist).post(
            f"/api/v1/alerts/{alert.pk}/resolve/", {}, format="json"
        )
        assert response.status_code == 200
        row = _row(client, urgent.pk)
        assert row.open_alerts == 0 and row.worst_severity == "high"
        assert "no unresolved alert" in row.top_alert


def test_resolving_an_alert_moves_the_patient_at_once(cast: Cast, api: Any) -> None:
    """An alert whose finding no longer fires: resolving it lowers the stored urgency, and the
    patient drops below one whose finding is still high, without a new evaluation."""
    quiet = EpisodeFactory(
        patient=PatientFactory(therapist=cast.therapist, user__first_name="Quinn"),
        start_date=TODAY - dt.timedelta(days=10),
    )
    tipping = _tipping(cast, name="Tess")
    stalled_course(tipping, days=[42])
    alert = Alert.objects.create(
        episode=quiet,
        code="PAIN_WORSENING",
        severity="critical",
        message="Activity pain rose.",
        ruleset="pais-2026.2",
        first_found_on=TODAY,
        last_found_on=TODAY,
    )
    client = signed_in_client(cast.therapist)
    with time_machine.travel(NOW, tick=False):
        order = [r.episode_id for r in client.get("/").context["rows"]]
        assert order.index(quiet.pk) < order.index(tipping.pk)
        assert EpisodeEvaluation.objects.get(episode=quiet).urgency == 0
        response = api(cast.therapist).post(
            f"/api/v1/alerts/{alert.pk}/resolve/", {}, format="json"
        )
        assert response.status_code == 200, response.content
        stored = EpisodeEvaluation.objects.get(episode=quiet)
        # Only its own findings count now (a warning at most: no diary yet).
        assert stored.alert_rank == 3 and stored.urgency == stored.finding_rank >= 2
        order = [r.episode_id for r in client.get("/").context["rows"]]
        assert order.index(tipping.pk) < order.index(quiet.pk)
