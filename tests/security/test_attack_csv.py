"""Issue 10, item 10: formulas planted in values that reach a CSV download.

A spreadsheet runs a cell starting with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage
return before one) as a formula: ``=HYPERLINK(...)`` leaks data, ``=cmd|...`` runs a program
(OWASP "CSV injection"). The attacker plants one where it reaches a download: an account's email
address (the audit trail's actor column), a diary note and a prescription's name (the entries
CSV), a therapist's name (the outcomes CSV). Each download, through its public address, must
hand every such cell over as text (a leading apostrophe).

And every CSV the code writes goes through the one safe writer (config/csv_export.py): a walk
over the source finds no other ``csv.writer`` or ``csv.DictWriter``.
"""

from __future__ import annotations

import ast
import csv
import datetime as dt
import io
import re
from pathlib import Path

import pytest
from django.test import Client

from accounts.models import User
from tests.conftest import PASSWORD
from tests.security.helpers import admin_user_form, sign_in

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
SAFE_WRITER = ROOT / "config" / "csv_export.py"

# Valid email local parts (RFC 5322 atext allows = + - | ' ! /) that a spreadsheet would run.
# (In lower case: addresses are stored case-folded, accounts/emails.py.)
FORMULA_EMAIL = "=2+5+cmd|'/ccalc'!a0@evil.test"
PLUS_EMAIL = "+1-1+cmd|'/ccalc'!a0@evil.test"
NOTE = "=cmd|' /C calc'!A0"
EXERCISE = "@SUM(1+1)*cmd|' /C calc'!A0"
THERAPIST_NAME = "-2+3+cmd|' /C calc'!A0"
TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
NUMBER = re.compile(r"-?\d+(\.\d+)?")


def _cells(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8"))))


def _runnable(cell: str) -> bool:
    """Would a spreadsheet run this cell as a formula? (A plain negative number is a number.)"""
    if NUMBER.fullmatch(cell):
        return False
    return cell.startswith(TRIGGERS) or cell.lstrip().startswith(TRIGGERS[:4])


def _assert_all_neutralised(body: bytes, planted: list[str]) -> None:
    rows = _cells(body)
    runnable = [(n, cell) for n, row in enumerate(rows) for cell in row if _runnable(cell)]
    assert runnable == [], runnable
    cells = {cell for row in rows for cell in row}
    for value in planted:
        # The planted value arrived, as text.
        assert any(cell.startswith("'" + value) for cell in cells), (value, rows[:3])


@pytest.fixture
def operator() -> Client:
    User.objects.create_superuser("ops@example.test", PASSWORD)
    client = Client()
    assert sign_in(client, "ops@example.test").status_code == 302
    return client


def test_the_audit_trail_csv_neutralises_a_formula_in_an_actors_email(cast, operator):
    # An operator adds two therapists whose addresses are formulas (valid addresses both)...
    for email in (FORMULA_EMAIL, PLUS_EMAIL):
        response = operator.post(
            "/admin/accounts/user/add/",
            {
                "email": email,
                "password1": PASSWORD,
                "password2": PASSWORD,
                "usable_password": "true",
                "role": "therapist",
                "clinic": str(cast.clinic.pk),
            },
        )
        assert response.status_code == 302, response.content.decode()[:1500]
        # ... who sign in and read the caseload: audit rows with them as the actor.
        therapist = Client()
        assert sign_in(therapist, email).status_code == 302
        assert therapist.get("/patients/").status_code == 200
    admin = Client()
    admin.force_login(cast.admin)
    response = admin.get("/settings/audit/", {"format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    body = b"".join(response.streaming_content)
    _assert_all_neutralised(body, [FORMULA_EMAIL, PLUS_EMAIL])


def test_the_entries_csv_neutralises_formulas_in_notes_and_exercise_names(cast, api):
    episode = cast.episode_a
    base = f"/api/v1/episodes/{episode.pk}"
    prescribed = api(cast.therapist).post(
        f"{base}/prescriptions/", {"exercise": EXERCISE, "sets": 3}, format="json"
    )
    assert prescribed.status_code == 201, prescribed.content
    day = episode.start_date + dt.timedelta(days=1)
    written = api(cast.patient_a.user).put(
        f"{base}/entries/{day.isoformat()}/",
        {
            "pain_activity": 4,
            "pain_rest": 1,
            "note": NOTE,
            "exercises": [{"prescription": prescribed.json()["id"], "sets_completed": 1}],
        },
        format="json",
    )
    assert written.status_code == 201, written.content
    for reader in (cast.therapist, cast.admin):
        response = api(reader).get(f"{base}/entries.csv")
        assert response.status_code == 200
        _assert_all_neutralised(response.content, [NOTE, EXERCISE])


def test_the_outcomes_csv_neutralises_a_formula_in_a_therapists_name(cast, operator):
    therapist = cast.therapist
    response = operator.post(
        f"/admin/accounts/user/{therapist.pk}/change/",
        admin_user_form(therapist, first_name=THERAPIST_NAME),
    )
    assert response.status_code == 302, response.content.decode()[:1500]
    admin = Client()
    admin.force_login(cast.admin)
    for address, query in (
        ("/reports/outcomes.csv", {}),
        ("/reports/outcomes/", {"format": "csv"}),
    ):
        response = admin.get(address, query)
        assert response.status_code == 200
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        _assert_all_neutralised(response.content, [THERAPIST_NAME])


# --- No CSV bypasses the safe writer ---------------------------------------------------------


def _project_sources() -> list[Path]:
    skipped = {".venv", "var", "node_modules", "tests", ".git", "static"}
    return [
        path
        for path in ROOT.rglob("*.py")
        if not skipped.intersection(path.relative_to(ROOT).parts)
    ]


def _raw_csv_writers(source: str) -> list[int]:
    """Lines that build a csv writer directly: csv.writer(...), csv.DictWriter(...), or a
    ``from csv import writer`` (which would hide the call)."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Attribute)
            and node.attr in ("writer", "DictWriter")
            and isinstance(node.value, ast.Name)
            and node.value.id == "csv"
        ):
            lines.append(node.lineno)
        if (
            isinstance(node, ast.ImportFrom)
            and node.module == "csv"
            and {alias.name for alias in node.names} & {"writer", "DictWriter", "*"}
        ):
            lines.append(node.lineno)
        if isinstance(node, ast.Import) and any(
            alias.name == "csv" and alias.asname for alias in node.names
        ):
            lines.append(node.lineno)  # import csv as something_else
    return lines


def test_no_code_writes_csv_except_through_the_safe_writer():
    sources = _project_sources()
    assert SAFE_WRITER in sources
    assert any(path.parts[-2:] == ("reports", "exports.py") for path in sources)
    offenders = {
        str(path.relative_to(ROOT)): found
        for path in sources
        if path != SAFE_WRITER and (found := _raw_csv_writers(path.read_text()))
    }
    assert offenders == {}
    # The walk would see one: the safe writer itself builds its writer with csv.writer.
    assert _raw_csv_writers(SAFE_WRITER.read_text())
