"""Cover while a therapist is away (accounts/scoping.py): reach in every direction.

Riverside's therapist (who treats A and B) is away; their colleague therapist_2 covers them. During
the cover therapist_2 reaches A and B (read and write), on the API and the pages, and gets their
alert emails; before it starts, after its last day, once cancelled, nobody extra reaches anything.
The absent therapist does not reach the covering one's patients; covers do not chain; a cover row
naming another clinic's therapist gives them nothing (404).
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from accounts.models import Cover
from rehab.evaluation import evaluate_episode
from rehab.models import Delivery
from tests.api.helpers import url
from tests.courses import referral_course
from tests.factories import ClinicAdminFactory, PatientFactory, TherapistFactory
from tests.notify.helpers import DAY_42
from tests.personas import signed_in_client

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def _cover(api, cast, *, start: dt.date, end: dt.date, absent=None, covering=None) -> int:
    response = api(cast.admin).post(
        url("api-cover-list"),
        {
            "absent": (absent or cast.therapist).pk,
            "covering": (covering or cast.therapist_2).pk,
            "start_date": start.isoformat(),
            "end_date": end.isoformat(),
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    return int(response.json()["id"])


def _reaches(client, cast, patient) -> bool:
    status = client.get(url("api-patient-detail", pk=patient.pk)).status_code
    assert status in (200, 404)
    return status == 200


def test_the_cover_reaches_the_absent_therapists_patients_during_the_cover(cast, api):
    _cover(api, cast, start=TODAY, end=TODAY + dt.timedelta(days=2))
    covering = api(cast.therapist_2)
    assert _reaches(covering, cast, cast.patient_a) and _reaches(covering, cast, cast.patient_b)
    listed = covering.get(url("api-patient-list")).json()
    assert {p["id"] for p in listed["results"]} == {cast.patient_a.pk, cast.patient_b.pk}
    # Everything under the patients, and writing too.
    assert covering.get(url("api-episode-detail", pk=cast.episode_a.pk)).status_code == 200
    prescribed = covering.post(
        url("api-prescription-list", pk=cast.episode_a.pk),
        {"exercise": "Calf raises", "sets": 3},
        format="json",
    )
    assert prescribed.status_code == 201, prescribed.content
    # The pages agree: the episode page and the caseload.
    pages = signed_in_client(cast.therapist_2)
    assert pages.get(f"/episodes/{cast.episode_a.pk}/").status_code == 200
    assert cast.patient_a.user.last_name in pages.get("/").content.decode()
    # The absent therapist keeps their own patients; nothing moved.
    assert _reaches(api(cast.therapist), cast, cast.patient_a)
    cast.patient_a.refresh_from_db()
    assert cast.patient_a.therapist_id == cast.therapist.pk


def test_no_reach_before_the_start_after_the_end_or_once_cancelled(cast, api):
    start, end = TODAY + dt.timedelta(days=1), TODAY + dt.timedelta(days=3)
    cover_id = _cover(api, cast, start=start, end=end)
    covering = api(cast.therapist_2)
    assert not _reaches(covering, cast, cast.patient_a)  # not yet
    with time_machine.travel(dt.datetime.combine(start, dt.time(0, 1), tzinfo=dt.UTC), tick=False):
        assert _reaches(covering, cast, cast.patient_a)  # the first minute of the first day
    with time_machine.travel(dt.datetime.combine(end, dt.time(23, 59), tzinfo=dt.UTC), tick=False):
        assert _reaches(covering, cast, cast.patient_a)  # the last minute of the last day
    after = end + dt.timedelta(days=1)
    with time_machine.travel(dt.datetime.combine(after, dt.time(0, 1), tzinfo=dt.UTC), tick=False):
        assert not _reaches(covering, cast, cast.patient_a)
        assert (
            signed_in_client(cast.therapist_2).get(f"/episodes/{cast.episode_a.pk}/").status_code
            == 404
        )
    with time_machine.travel(dt.datetime.combine(start, dt.time(12), tzinfo=dt.UTC), tick=False):
        assert api(cast.admin).post(url("api-cover-cancel", pk=cover_id)).status_code == 200
        assert not _reaches(covering, cast, cast.patient_a)


def test_reach_is_one_way_and_does_not_chain(cast, api):
    own = PatientFactory(therapist=cast.therapist_2, user__email="own2@riverside.test")
    third = TherapistFactory(email="third@riverside.test", clinic=cast.clinic)
    _cover(api, cast, start=TODAY, end=TODAY)
    _cover(api, cast, start=TODAY, end=TODAY, absent=cast.therapist_2, covering=third)
    # The absent therapist does not reach their cover's own patients.
    assert not _reaches(api(cast.therapist), cast, own)
    # third covers therapist_2: they reach therapist_2's own patient, not those therapist_2 covers.
    assert _reaches(api(third), cast, own)
    assert not _reaches(api(third), cast, cast.patient_a)


def test_another_clinic_gets_nothing_from_a_cover(cast, api):
    _cover(api, cast, start=TODAY, end=TODAY)
    northside = api(cast.other_therapist)
    for patient in (cast.patient_a, cast.patient_b):
        assert not _reaches(northside, cast, patient)
    assert northside.get(url("api-episode-detail", pk=cast.episode_a.pk)).status_code == 404
    # A row that names another clinic's therapist (no service writes one) gives them nothing.
    Cover.objects.create(
        clinic=cast.clinic,
        absent=cast.therapist,
        covering=cast.other_therapist,
        start_date=TODAY,
        end_date=TODAY,
    )
    Cover.objects.create(
        clinic=cast.other_clinic,
        absent=cast.therapist,
        covering=cast.other_therapist,
        start_date=TODAY,
        end_date=TODAY,
    )
    assert not _reaches(northside, cast, cast.patient_a)
    assert api(cast.other_therapist).get(url("api-patient-list")).json()["count"] == 1
    # And the other clinic's admin reaches none of Riverside, cover or not.
    other_admin = ClinicAdminFactory(clinic=cast.other_clinic)
    assert not _reaches(api(other_admin), cast, cast.patient_a)


def test_an_inactive_cover_reaches_nothing(cast, api):
    _cover(api, cast, start=TODAY, end=TODAY)
    assert (
        api(cast.admin).post(url("api-staff-deactivate", pk=cast.therapist_2.pk), {}, format="json")
    ).status_code == 200
    assert Cover.objects.get().cancelled_at is not None


def test_alert_emails_reach_the_cover_during_the_cover_only(cast, api):
    patient = PatientFactory(therapist=cast.therapist, user__email="ada@riverside.test")
    episode = referral_course(patient)
    _cover(api, cast, start=TODAY, end=TODAY + dt.timedelta(days=1))
    evaluate_episode(episode_id=episode.pk, as_of=DAY_42)
    emailed = set(Delivery.objects.filter(channel="email").values_list("recipient_id", flat=True))
    assert emailed == {cast.therapist.pk, cast.therapist_2.pk}

    # After the cover, a new alert goes to the treating therapist alone.
    Delivery.objects.all().delete()
    other = PatientFactory(therapist=cast.therapist, user__email="bo@riverside.test")
    later_episode = referral_course(other)
    later = dt.datetime.combine(TODAY + dt.timedelta(days=2), dt.time(9), tzinfo=dt.UTC)
    with time_machine.travel(later, tick=False):
        evaluate_episode(episode_id=later_episode.pk, as_of=DAY_42)
    emailed = set(Delivery.objects.filter(channel="email").values_list("recipient_id", flat=True))
    assert emailed == {cast.therapist.pk}


def test_a_cover_of_another_clinics_therapist_is_not_emailed(cast, api):
    patient = PatientFactory(therapist=cast.therapist, user__email="cy@riverside.test")
    episode = referral_course(patient)
    Cover.objects.create(
        clinic=cast.clinic,
        absent=cast.therapist,
        covering=cast.other_therapist,
        start_date=TODAY,
        end_date=TODAY,
    )
    evaluate_episode(episode_id=episode.pk, as_of=DAY_42)
    emailed = set(Delivery.objects.filter(channel="email").values_list("recipient_id", flat=True))
    assert emailed == {cast.therapist.pk}
