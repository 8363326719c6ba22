"""Every read of a patient's data by staff writes one audit row; patients' own reads do not.

One row per request: a detail names its object, a list names its items' type (or the episode it
hangs under) and how many it showed. A refused or invalid request leaves no row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import AuditEvent
from tests.alerts.factories import AlertFactory
from tests.factories import DailyEntryFactory, InterventionFactory, PrescriptionFactory

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Read:
    """One read: its address for the cast, and the row it must write."""

    address: Callable[[Any], str]
    api: bool
    action: str
    object_type: str
    object_id: Callable[[Any], str]
    # How many items a list shows in the set-up below; None for a detail.
    count: int | None = None
    patient: bool = True


def _a(cast: Any) -> int:
    return cast.episode_a.pk


def _none(cast: Any) -> str:
    return ""


READS = {
    # API v1
    "api patient": Read(
        lambda c: f"/api/v1/patients/{c.patient_a.pk}/",
        True,
        "patient.viewed",
        "accounts.patient",
        lambda c: str(c.patient_a.pk),
    ),
    "api patients": Read(
        lambda c: "/api/v1/patients/",
        True,
        "patients.listed",
        "accounts.patient",
        _none,
        count=2,
        patient=False,
    ),
    "api episode": Read(
        lambda c: f"/api/v1/episodes/{_a(c)}/",
        True,
        "episode.viewed",
        "rehab.episode",
        lambda c: str(_a(c)),
    ),
    "api episodes": Read(
        lambda c: "/api/v1/episodes/",
        True,
        "episodes.listed",
        "rehab.episode",
        _none,
        count=2,
        patient=False,
    ),
    "api entries": Read(
        lambda c: f"/api/v1/episodes/{_a(c)}/entries/",
        True,
        "entries.listed",
        "rehab.episode",
        lambda c: str(_a(c)),
        count=3,
    ),
    "api entry": Read(
        lambda c: f"/api/v1/episodes/{_a(c)}/entries/{c.episode_a.start_date.isoformat()}/",
        True,
        "entry.viewed",
        "rehab.dailyentry",
        lambda c: str(c.episode_a.entries.get(date=c.episode_a.start_date).pk),
    ),
    "api prescriptions": Read(
        lambda c: f"/api/v1/episodes/{_a(c)}/prescriptions/",
        True,
        "prescriptions.listed",
        "rehab.episode",
        lambda c: str(_a(c)),
        count=1,
    ),
    "api interventions": Read(
        lambda c: f"/api/v1/episodes/{_a(c)}/interventions/",
        True,
        "interventions.listed",
        "rehab.episode",
        lambda c: str(_a(c)),
        count=1,
    ),
    "api progress": Read(
        lambda c: f"/api/v1/episodes/{_a(c)}/progress/",
        True,
        "progress.viewed",
        "rehab.episode",
        lambda c: str(_a(c)),
    ),
    "api alerts": Read(
        lambda c: "/api/v1/alerts/",
        True,
        "alerts.listed",
        "rehab.alert",
        _none,
        count=1,
        patient=False,
    ),
    "api alert": Read(
        lambda c: f"/api/v1/alerts/{c.episode_a.alerts.get().pk}/",
        True,
        "alert.viewed",
        "rehab.alert",
        lambda c: str(c.episode_a.alerts.get().pk),
    ),
    "api csv": Read(
        lambda c: f"/api/v1/episodes/{_a(c)}/entries.csv",
        True,
        "entries.exported",
        "rehab.episode",
        lambda c: str(_a(c)),
    ),
    "api fhir": Read(
        lambda c: f"/api/v1/episodes/{_a(c)}/fhir/",
        True,
        "fhir.exported",
        "rehab.episode",
        lambda c: str(_a(c)),
    ),
    # Pages
    "caseload": Read(
        lambda c: "/", False, "caseload.viewed", "rehab.episode", _none, count=2, patient=False
    ),
    "episode page": Read(
        lambda c: f"/episodes/{_a(c)}/",
        False,
        "episode.viewed",
        "rehab.episode",
        lambda c: str(_a(c)),
    ),
    "patient list": Read(
        lambda c: "/patients/",
        False,
        "patients.listed",
        "accounts.patient",
        _none,
        count=2,
        patient=False,
    ),
    "patient page": Read(
        lambda c: f"/patients/{c.patient_a.pk}/",
        False,
        "patient.viewed",
        "accounts.patient",
        lambda c: str(c.patient_a.pk),
    ),
    "alert inbox": Read(
        lambda c: "/alerts/", False, "alerts.listed", "rehab.alert", _none, count=1, patient=False
    ),
    "referral report": Read(
        lambda c: f"/episodes/{_a(c)}/report/",
        False,
        "report.viewed",
        "rehab.episode",
        lambda c: str(_a(c)),
    ),
    "referral pdf": Read(
        lambda c: f"/episodes/{_a(c)}/report.pdf",
        False,
        "report.exported",
        "rehab.episode",
        lambda c: str(_a(c)),
    ),
}


@pytest.fixture
def data(cast) -> Any:
    start = cast.episode_a.start_date
    prescription = PrescriptionFactory(episode=cast.episode_a)
    for offset in range(3):
        DailyEntryFactory(episode=cast.episode_a, date=start + dt.timedelta(days=offset))
    InterventionFactory(episode=cast.episode_a)
    AlertFactory(episode=cast.episode_a)
    assert prescription.pk
    return cast


def _client(user: Any, api: Any, is_api: bool) -> Any:
    if is_api:
        return api(user)
    client = Client()
    client.force_login(user)
    return client


def _new_rows(before: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(pk__gt=before).order_by("pk"))


def _last_pk() -> int:
    return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


@pytest.mark.parametrize("name", sorted(READS))
def test_a_staff_read_writes_one_row(data, api, name):
    read = READS[name]
    cast = data
    client = _client(cast.therapist, api, read.api)
    before = _last_pk()
    began = timezone.now()
    response = client.get(read.address(cast))
    assert response.status_code == 200, response.content[:300]
    rows = [r for r in _new_rows(before) if r.action != "api_token.issued"]
    assert len(rows) == 1, [r.action for r in rows]
    row = rows[0]
    assert row.action == read.action
    assert row.actor_id == cast.therapist.pk
    assert row.clinic_id == cast.clinic.pk
    assert row.object_type == read.object_type
    assert row.object_id == read.object_id(cast)
    assert row.patient_id == (cast.patient_a.pk if read.patient else None)
    assert row.ip_address == "127.0.0.1"
    assert row.created_at.utcoffset() == dt.timedelta(0)
    assert began <= row.created_at <= timezone.now()
    if read.count is not None and read.action.endswith(".listed"):
        assert row.item_count == read.count
    elif read.action.endswith(".viewed") and read.count is None:
        assert row.item_count is None


def test_the_outcomes_page_is_one_row_for_the_admin(data):
    client = Client()
    client.force_login(data.admin)
    before = _last_pk()
    assert client.get("/reports/outcomes/").status_code == 200
    rows = _new_rows(before)
    assert [(r.action, r.object_type, r.item_count, r.actor_id) for r in rows] == [
        ("outcomes.viewed", "rehab.episode", 2, data.admin.pk)
    ]


def test_a_list_is_one_row_whatever_its_length(data, api):
    client = api(data.admin)
    before = _last_pk()
    client.get(f"/api/v1/episodes/{data.episode_a.pk}/entries/")
    client.get(f"/api/v1/episodes/{data.episode_a.pk}/entries/?from=2000-01-01&to=2000-01-02")
    counts = [r.item_count for r in _new_rows(before) if r.action == "entries.listed"]
    assert counts == [3, 0]


# Alerts are the clinic's: patients reach none (404), so they have no own read to record.
@pytest.mark.parametrize(
    "name", sorted(n for n, r in READS.items() if r.api and not n.startswith("api alert"))
)
def test_patients_reading_their_own_data_are_not_recorded(data, api, name):
    read = READS[name]
    client = api(data.patient_a.user)
    before = _last_pk()
    assert client.get(read.address(data)).status_code == 200
    actions = {r.action for r in _new_rows(before)} - {"api_token.issued"}
    # Exports are recorded for everybody (they hand the data out of the product).
    assert actions == ({read.action} if read.action.endswith(".exported") else set())


def test_patient_pages_are_not_recorded(data):
    client = Client()
    client.force_login(data.patient_a.user)
    before = _last_pk()
    for address in ("/", "/progress/", f"/episodes/{data.episode_a.pk}/", "/my-data/"):
        assert client.get(address).status_code == 200, address
    assert _new_rows(before) == []


@pytest.mark.parametrize("persona", ["therapist_2", "other_therapist", "patient_b"])
def test_refused_reads_leave_no_row(data, api, persona):
    user = getattr(data, persona)
    client = api(getattr(user, "user", user))
    before = _last_pk()
    for name, read in READS.items():
        if read.api and read.object_id(data):
            assert client.get(read.address(data)).status_code == 404, name
    assert [r for r in _new_rows(before) if r.action != "api_token.issued"] == []


def test_invalid_reads_leave_no_row(data, api):
    client = api(data.therapist)
    before = _last_pk()
    assert client.get(f"/api/v1/episodes/{data.episode_a.pk}/entries/?from=soon").status_code == (
        400
    )
    assert client.get(f"/api/v1/episodes/{data.episode_a.pk}/entries/2000-13-01/").status_code in (
        400,
        404,
    )
    assert client.get("/api/v1/episodes/?patient=abc").status_code == 400
    assert [r for r in _new_rows(before) if r.action != "api_token.issued"] == []
