"""A whole course through the public API: every clinical write and every staff read leaves an
audit row, and neither the audit rows nor the logs hold a health value or a note.

The notes carry a marker that appears nowhere else; pain scores cannot be told apart from ids by
value, so the rows are checked for their shape: every field is an identifier (action name, model
label, numeric id, count, address, time).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any

import pytest

from accounts.models import AuditEvent
from rehab.evaluation import evaluate_episode
from rehab.models import Alert
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

MARKER = "zq-private-7731"
SHAPES = {
    "action": re.compile(r"[a-z_]+(\.[a-z_]+)+"),
    "object_type": re.compile(r"[a-z_]+\.[a-z_]+"),
    "object_id": re.compile(r"\d*"),
}


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, (response.status_code, response.content[:400])
    return response.json() if response.get("Content-Type", "").endswith("json") else response


def _course(cast: Any, api: Any) -> dict[str, Any]:
    """Invite, accept, open, prescribe, log six weeks of stalled pain with notes, intervene,
    evaluate, act on the alert, read everything, export, refer, download, erase."""
    therapist = api(cast.therapist)
    created = _ok(
        therapist.post(
            "/api/v1/patients/",
            {"email": "course@riverside.test", "first_name": "Cora", "last_name": "Marsh"},
            format="json",
        ),
        201,
    )
    token = created["invite_url"].rstrip("/").rsplit("/", 1)[-1]
    _ok(
        api(None).post(
            "/api/v1/auth/invitations/accept/",
            {"token": token, "password": PASSWORD},
            format="json",
        )
    )
    key = _ok(
        api(None).post(
            "/api/v1/auth/token/",
            {"email": "course@riverside.test", "password": PASSWORD},
            format="json",
        )
    )["token"]
    patient = api(None)
    patient.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    today = dt.date.today()
    start = today - dt.timedelta(days=44)
    episode = _ok(
        therapist.post(
            "/api/v1/episodes/",
            {
                "patient": created["id"],
                "affected_side": "right",
                "start_date": start.isoformat(),
                "intake_pain_activity": 7,
                "intake_pf_rom_affected": 31,
                "intake_pf_rom_unaffected": 47,
                "bmi": 27.3,
            },
            format="json",
        ),
        201,
    )["id"]
    base = f"/api/v1/episodes/{episode}"
    prescription = _ok(
        therapist.post(f"{base}/prescriptions/", {"exercise": "Heel raises", "sets": 3}, "json"),
        201,
    )["id"]
    for n in range(45):
        day = (start + dt.timedelta(days=n)).isoformat()
        _ok(
            patient.put(
                f"{base}/entries/{day}/",
                {
                    "pain_activity": 7 if n < 7 else 6,
                    "pain_rest": 3,
                    "pf_rom_affected": 29,
                    "pf_rom_unaffected": 46,
                    "exercises": [{"prescription": prescription, "sets_completed": 3}],
                    "note": f"{MARKER} day {n}",
                },
                format="json",
            ),
            201,
        )
    # The therapist corrects one day on the patient's behalf, and deletes another.
    _ok(therapist.put(f"{base}/entries/{start.isoformat()}/", {"pain_activity": 8}, "json"))
    _ok(therapist.delete(f"{base}/entries/{today.isoformat()}/"), 204)
    _ok(
        therapist.post(
            f"{base}/interventions/",
            {"kind": "heel_lift", "start_date": start.isoformat(), "note": f"{MARKER} lift"},
            format="json",
        ),
        201,
    )
    evaluate_episode(episode_id=episode, as_of=today)
    alert = Alert.objects.get(episode_id=episode)
    for address in (
        f"{base}/",
        f"{base}/entries/",
        f"{base}/entries/{start.isoformat()}/",
        f"{base}/prescriptions/",
        f"{base}/interventions/",
        f"{base}/progress/",
        f"/api/v1/patients/{created['id']}/",
        "/api/v1/patients/",
        "/api/v1/episodes/",
        "/api/v1/alerts/",
        f"/api/v1/alerts/{alert.pk}/",
        f"{base}/entries.csv",
        f"{base}/fhir/",
    ):
        _ok(therapist.get(address))
    _ok(therapist.post(f"/api/v1/alerts/{alert.pk}/acknowledge/", {"note": MARKER}, "json"))
    _ok(
        therapist.post(
            f"{base}/referral/",
            {"date": today.isoformat(), "referred_to": f"Dr {MARKER}", "note": MARKER},
            format="json",
        )
    )
    _ok(patient.get("/api/v1/me/export/"))
    _ok(patient.get("/api/v1/me/export/", {"format": "fhir"}))
    _ok(api(cast.admin).delete(f"/api/v1/patients/{created['id']}/"), 204)
    return {"patient": created["id"], "episode": episode, "alert": alert.pk}


def test_a_whole_course_leaves_rows_with_ids_only(cast, api, caplog):
    caplog.set_level(logging.DEBUG)
    ids = _course(cast, api)
    rows = list(AuditEvent.objects.order_by("pk"))
    actions = {row.action for row in rows}
    # Every clinical write and every read of the course is there.
    assert {
        "patient.created",
        "invitation.issued",
        "invitation.accepted",
        "episode.opened",
        "prescription.created",
        "entry.created",
        "entry.replaced",
        "entry.deleted",
        "intervention.recorded",
        "alert.acknowledged",
        "episode.referred",
        "episode.viewed",
        "entries.listed",
        "entry.viewed",
        "prescriptions.listed",
        "interventions.listed",
        "progress.viewed",
        "patient.viewed",
        "patients.listed",
        "episodes.listed",
        "alerts.listed",
        "alert.viewed",
        "entries.exported",
        "fhir.exported",
        "patient.exported",
        "patient.erased",
    } <= actions, actions
    assert sum(row.action == "entry.created" for row in rows) == 45
    for row in rows:
        for name, shape in SHAPES.items():
            value = getattr(row, name)
            assert shape.fullmatch(value), (row.pk, name, value)
        assert row.ip_address in (None, "127.0.0.1")
        assert row.created_at.utcoffset() == dt.timedelta(0)
        # Nothing in any field but identifiers: no note, no referral text, no name, no email.
        text = " ".join(str(value) for value in vars(row).values())
        for secret in (MARKER, "Marsh", "Cora", "course@riverside.test"):
            assert secret not in text, (row.pk, secret)
    # The rows about the erased patient keep their ids.
    assert AuditEvent.objects.filter(patient_id=ids["patient"]).count() > 45
    # And no log line carries a note or a score.
    for record in caplog.records:
        message = record.getMessage()
        assert MARKER not in message, message
        assert "pain_activity" not in message and "pain_rest" not in message, message
