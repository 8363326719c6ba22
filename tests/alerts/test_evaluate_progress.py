"""``manage.py evaluate_progress`` and the loop it shares with the nightly job (rehab.nightly)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from rehab import nightly, rules
from rehab.models import Alert, AlertStatus, Delivery, Episode, EpisodeStatus
from tests.alerts.conftest import day
from tests.factories import EpisodeFactory, PatientFactory

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("evaluate_progress", *args, stdout=out)
    return out.getvalue()


def test_as_of_a_date_it_evaluates_every_active_episode_and_prints_one_line(cast, example_1):
    closed = EpisodeFactory(patient=cast.patient_b, status=EpisodeStatus.CLOSED)
    output = run("--as-of", "2026-02-15")
    # Day 42 of worked example 1: one high alert, mailed to the therapist and put in the
    # clinic's inbox. The cast's episodes are too young (or not started) on that date.
    assert output == (
        "Evaluated 4 episodes as of 2026-02-15: 1 alert raised, 0 updated, 0 reopened, "
        "0 resolved, 2 notifications queued.\n"
    )
    alert = Alert.objects.get()
    assert (alert.episode_id, alert.code) == (example_1.pk, "REFERRAL_CONSIDER")
    assert not Alert.objects.filter(episode=closed).exists()


def test_a_second_run_raises_nothing_new(cast, example_1):
    first = run("--as-of", "2026-02-15")
    assert "1 alert raised" in first
    alerts = list(Alert.objects.values_list("pk", "status"))
    deliveries = Delivery.objects.count()
    assert run("--as-of", "2026-02-15") == (
        "Evaluated 4 episodes as of 2026-02-15: 0 alerts raised, 1 updated, 0 reopened, "
        "0 resolved, 0 notifications queued.\n"
    )
    assert list(Alert.objects.values_list("pk", "status")) == alerts
    assert Delivery.objects.count() == deliveries


def test_later_runs_resolve_and_raise_as_the_course_moves_on(cast, example_1):
    run("--as-of", day(42).isoformat())
    output = run("--as-of", day(56).isoformat(), "--episode", str(example_1.pk))
    assert output == (
        "Evaluated 1 episode as of 2026-03-01: 1 alert raised, 0 updated, 0 reopened, "
        "1 resolved, 2 notifications queued.\n"
    )
    live = Alert.objects.exclude(status=AlertStatus.RESOLVED).get(episode_id=example_1.pk)
    assert (live.code, live.severity) == ("REFERRAL_OVERDUE", "critical")


def test_without_a_date_each_patient_is_evaluated_on_their_own_today(cast, example_1):
    # Noon UTC on 2 March: already 3 March on Kiritimati.
    far_east = PatientFactory(therapist=cast.therapist, timezone="Pacific/Kiritimati")
    episode = EpisodeFactory(patient=far_east, start_date=day(50))
    output = run("--episode", str(episode.pk))
    assert output.startswith("Evaluated 1 episode as of 2026-03-03: ")
    output = run()
    assert output.startswith(
        "Evaluated 5 episodes as of each patient's local today (2026-03-02 to 2026-03-03): "
    )
    # Day 57 for worked example 1 (entries through day 56): the referral is overdue.
    overdue = Alert.objects.get(episode_id=example_1.pk, code="REFERRAL_OVERDUE")
    assert overdue.first_found_on == day(57)


def test_one_episode_only(cast, example_1):
    output = run("--episode", str(example_1.pk), "--as-of", "2026-02-15")
    assert output.startswith("Evaluated 1 episode as of 2026-02-15: 1 alert raised")
    assert set(Alert.objects.values_list("episode_id", flat=True)) == {example_1.pk}


@pytest.mark.parametrize("status", [EpisodeStatus.CLOSED, EpisodeStatus.REFERRED])
def test_an_episode_that_is_not_active_is_refused(cast, status):
    episode = EpisodeFactory(patient=cast.patient_a, status=status)
    with pytest.raises(CommandError, match=f"Episode {episode.pk} is {status}, not active"):
        run("--episode", str(episode.pk))
    assert not Alert.objects.exists()


def test_an_unknown_episode_is_refused(cast):
    with pytest.raises(CommandError, match="Episode 987654 does not exist"):
        run("--episode", "987654")


@pytest.mark.parametrize("bad", ["2026-02-30", "15/02/2026", "20260215"])
def test_a_bad_date_is_refused(cast, bad):
    with pytest.raises(CommandError, match="--as-of"):
        run("--as-of", bad)
    assert not Alert.objects.exists()


def test_small_chunks_give_the_same_result(cast, example_1):
    output = run("--as-of", "2026-02-15", "--chunk-size", "1")
    assert output.startswith("Evaluated 4 episodes as of 2026-02-15: 1 alert raised")


def test_active_episode_id_chunks_walks_every_active_episode_once(cast):
    for _ in range(4):
        EpisodeFactory(patient=cast.patient_b)
    EpisodeFactory(patient=cast.patient_b, status=EpisodeStatus.CLOSED)
    chunks = list(nightly.active_episode_id_chunks(2))
    flat = [pk for chunk in chunks for pk in chunk]
    assert all(len(chunk) <= 2 for chunk in chunks)
    assert flat == sorted(flat)
    assert set(flat) == set(
        Episode.objects.filter(status=EpisodeStatus.ACTIVE).values_list("pk", flat=True)
    )
    assert len(flat) == 7
    with pytest.raises(ValueError):
        list(nightly.active_episode_id_chunks(0))


def test_evaluate_episodes_skips_episodes_gone_or_closed_since(cast, example_1):
    closed = EpisodeFactory(patient=cast.patient_b, status=EpisodeStatus.CLOSED)
    summary = nightly.evaluate_episodes([example_1.pk, closed.pk, 987654], day(42))
    assert (summary.evaluated, summary.skipped, summary.raised) == (1, 2, 1)
    assert summary.as_dict()["dates"] == ["2026-02-15"]


def test_one_failing_episode_does_not_stop_the_others(cast, example_1, monkeypatch):
    # The chunk's bulk evaluation fails with episode A; evaluated again one by one, the
    # failure stays with episode A.
    real = rules.evaluate

    def flaky(episode, thresholds, as_of):
        if episode.start_date == cast.episode_a.start_date:
            raise RuntimeError("bad data")
        return real(episode, thresholds, as_of)

    monkeypatch.setattr(rules, "evaluate", flaky)
    summary = nightly.evaluate_episodes([cast.episode_a.pk, example_1.pk], day(42))
    assert summary.failed == [cast.episode_a.pk]
    assert (summary.evaluated, summary.raised) == (1, 1)
    assert "1 failed (episodes" in summary.line(day(42))
    with pytest.raises(CommandError, match="could not be evaluated"):
        run("--as-of", day(42).isoformat())
