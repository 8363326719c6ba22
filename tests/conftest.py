"""Personas and clients shared by every test.

The cast: Demo-like clinic "Riverside" with a therapist who treats patient A and patient B, a
second therapist of the same clinic who treats neither, and a clinic admin; and "Northside", a
different clinic whose therapist treats one patient of their own.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import Clinic, Patient, User
from accounts.services import api_token_issue
from rehab.models import Episode
from tests.factories import (
    ClinicAdminFactory,
    ClinicFactory,
    EpisodeFactory,
    PatientFactory,
    TherapistFactory,
)
from tests.personas import signed_in_client

PASSWORD = "correct-horse-battery"


@pytest.fixture(autouse=True)
def _fast_and_quiet(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.SITE_URL = "http://testserver"


@pytest.fixture(autouse=True)
def _own_throttle_cache(settings):
    # Sign-in throttles count in the "throttle" cache (Redis in CI, shared by every test run);
    # a cache of each test's own keeps one test's sign-ins from throttling or locking the next.
    settings.CACHES = {
        **settings.CACHES,
        "throttle": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"throttle-{uuid.uuid4()}",
        },
    }


@dataclass
class Cast:
    clinic: Clinic
    therapist: User
    therapist_2: User
    admin: User
    patient_a: Patient
    patient_b: Patient
    episode_a: Episode
    episode_b: Episode
    other_clinic: Clinic
    other_therapist: User
    other_patient: Patient
    other_episode: Episode


@pytest.fixture
def cast(db) -> Cast:
    clinic = ClinicFactory(name="Riverside Physio", slug="riverside")
    therapist = TherapistFactory(email="therapist@riverside.test", clinic=clinic)
    therapist_2 = TherapistFactory(email="therapist2@riverside.test", clinic=clinic)
    admin = ClinicAdminFactory(email="admin@riverside.test", clinic=clinic)
    patient_a = PatientFactory(therapist=therapist, user__email="a@riverside.test")
    patient_b = PatientFactory(therapist=therapist, user__email="b@riverside.test")
    other_clinic = ClinicFactory(name="Northside", slug="northside")
    other_therapist = TherapistFactory(email="therapist@northside.test", clinic=other_clinic)
    other_patient = PatientFactory(therapist=other_therapist, user__email="p@northside.test")
    today = dt.date.today()
    return Cast(
        clinic=clinic,
        therapist=therapist,
        therapist_2=therapist_2,
        admin=admin,
        patient_a=patient_a,
        patient_b=patient_b,
        episode_a=EpisodeFactory(patient=patient_a, start_date=today - dt.timedelta(days=20)),
        episode_b=EpisodeFactory(patient=patient_b, start_date=today - dt.timedelta(days=10)),
        other_clinic=other_clinic,
        other_therapist=other_therapist,
        other_patient=other_patient,
        other_episode=EpisodeFactory(patient=other_patient),
    )


@pytest.fixture
def api() -> Callable[[User | None], APIClient]:
    """``api(user)``: a client that authenticates with a real token; ``api(None)``: anonymous."""

    def make(user: User | None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(user=user)}")
        return client

    return make


@pytest.fixture
def client_for() -> Callable[[User], Client]:
    """``client_for(user)``: a browser-like client with that user's session."""
    return signed_in_client
