"""Who the personas of ``tests/conftest.py``'s cast are, and whom each reaches.

The one table of reach the reach tests share (the API walk, the page walk and the matrix of every
route): it restates ``accounts/scoping.py`` from docs/architecture.md, "Reads go through
scoping", by hand, so the tests check the code against the rule and not against itself.
"""

from __future__ import annotations

from typing import Any

from django.test import Client

from accounts.models import Patient, User

# The signed-in personas, each an attribute of the cast (patients are Patient rows).
PERSONAS = ("patient_a", "patient_b", "therapist", "therapist_2", "admin", "other_therapist")
STAFF = frozenset({"therapist", "therapist_2", "admin", "other_therapist"})
# Every persona's clinic: Riverside's therapist treats A and B; Northside is another clinic.
CLINIC = {
    "patient_a": "riverside",
    "patient_b": "riverside",
    "therapist": "riverside",
    "therapist_2": "riverside",
    "admin": "riverside",
    "other_therapist": "northside",
}
# The patients of the cast (by attribute), and each one's episode.
EPISODE_OF = {"patient_a": "episode_a", "patient_b": "episode_b", "other_patient": "other_episode"}
# The patients each persona reaches: a patient themself, a therapist the patients assigned to
# them, a clinic admin every patient of the clinic; a therapist who treats nobody, nobody.
REACH: dict[str, frozenset[str]] = {
    "patient_a": frozenset({"patient_a"}),
    "patient_b": frozenset({"patient_b"}),
    "therapist": frozenset({"patient_a", "patient_b"}),
    "therapist_2": frozenset(),
    "admin": frozenset({"patient_a", "patient_b"}),
    "other_therapist": frozenset({"other_patient"}),
}


def out_of_reach_of(patient: str) -> list[str]:
    """The personas who do not reach ``patient`` (by cast attribute), in PERSONAS order."""
    return [persona for persona in PERSONAS if patient not in REACH[persona]]


def user_of(cast: Any, persona: str) -> User:
    """The account a persona signs in with."""
    value = getattr(cast, persona)
    return value.user if isinstance(value, Patient) else value


def signed_in_client(user: User | Patient) -> Client:
    """A browser-like client with ``user``'s session (a Patient row signs in as its user)."""
    client = Client()
    client.force_login(user.user if isinstance(user, Patient) else user)
    return client
