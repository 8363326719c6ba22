"""The migration that coded the injection sites (rehab 0012, 0013): free text to codes.

Runs the real migrations on the test database: back to 0012 (the schema with the review flag,
the sites still free text), rows written as they were before, then forward through 0013.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = ("rehab", "0012_injection_sites")
AFTER = ("rehab", "0013_injection_sites_data")


def _apps_at(node):
    # rehab at ``node``, every other app at its latest migration.
    executor = MigrationExecutor(connection)
    others = [leaf for leaf in executor.loader.graph.leaf_nodes() if leaf[0] != "rehab"]
    target = [node, *others]
    executor.migrate(target)
    executor.loader.build_graph()
    return executor.loader.project_state(target).apps


@pytest.fixture
def old_world(transactional_db):
    apps = _apps_at(BEFORE)
    yield apps
    call_command("migrate", verbosity=0)


def _episode(apps):
    Clinic = apps.get_model("accounts", "Clinic")
    User = apps.get_model("accounts", "User")
    Patient = apps.get_model("accounts", "Patient")
    Episode = apps.get_model("rehab", "Episode")
    clinic = Clinic.objects.create(name="Old clinic", slug="old-clinic")
    user = User.objects.create(
        email="old@clinic.test", clinic=clinic, role="patient", password="!"
    )
    patient = Patient.objects.create(user=user)
    return Episode.objects.create(
        patient=patient, affected_side="left", start_date=dt.date(2026, 1, 5)
    )


CASES = [
    # (site as typed, note, kind) → (code, needs_review, note starts with)
    ("posterolateral ankle, image-guided", "", "corticosteroid_injection"),
    ("Subtalar joint", "Good relief", "corticosteroid_injection"),
    ("FHL sheath under ultrasound", "", "corticosteroid_injection"),
    ("os trigonum", "", "corticosteroid_injection"),
    ("posterior_ankle_posteromedial", "", "corticosteroid_injection"),
    ("Achiles tendon", "", "corticosteroid_injection"),
    ("paratenon, posterior heel", "", "corticosteroid_injection"),
    ("", "", "corticosteroid_injection"),
    ("posterior ankle", "injected next to the Achilles tendon", "corticosteroid_injection"),
    ("Posterolateral ankle (os trigonum region)", "", "corticosteroid_injection"),
    ("somewhere else", "", "corticosteroid_injection"),
    ("Walking boot, left", "", "immobilization"),
]


def test_free_text_sites_become_codes_or_other_flagged_for_review(old_world):
    apps = old_world
    episode = _episode(apps)
    Intervention = apps.get_model("rehab", "Intervention")
    rows = [
        Intervention.objects.create(
            episode=episode, kind=kind, start_date=episode.start_date, site=site, note=note
        ).pk
        for site, note, kind in CASES
    ]

    apps = _apps_at(AFTER)
    Intervention = apps.get_model("rehab", "Intervention")
    got = [Intervention.objects.get(pk=pk) for pk in rows]
    by_case = {case[0]: row for case, row in zip(CASES, got, strict=True)}

    mapped = {
        "posterolateral ankle, image-guided": "posterior_ankle_posterolateral",
        "Subtalar joint": "subtalar_joint",
        "FHL sheath under ultrasound": "fhl_tendon_sheath",
        "os trigonum": "os_trigonum_region",
        "posterior_ankle_posteromedial": "posterior_ankle_posteromedial",
    }
    for text, code in mapped.items():
        row = by_case[text]
        assert (row.site, row.needs_review) == (code, False), text
    # The words typed are kept at the head of the note (a code typed as such needs none).
    assert by_case["Subtalar joint"].note == "Site as recorded: Subtalar joint\nGood relief"
    assert by_case["posterior_ankle_posteromedial"].note == ""

    for text in (
        "Achiles tendon",
        "paratenon, posterior heel",
        "Posterolateral ankle (os trigonum region)",  # two sites named: a person decides
        "somewhere else",
    ):
        row = by_case[text]
        assert (row.site, row.needs_review) == ("other", True), text
        assert row.note == f"Site as recorded: {text}"
    empty = by_case[""]
    assert (empty.site, empty.needs_review, empty.note) == ("other", True, "Site not recorded.")
    # A coded site whose note names the Achilles is flagged as well.
    beside = by_case["posterior ankle"]
    assert beside.needs_review is True
    assert beside.note.endswith("injected next to the Achilles tendon")

    boot = by_case["Walking boot, left"]
    assert (boot.site, boot.note, boot.needs_review) == ("Walking boot, left", "", False)
