"""factory_boy factories. They write rows directly, for test set-up only; behaviour under test
always goes through services or the HTTP interfaces."""

from __future__ import annotations

import datetime as dt

import factory
from django.utils import timezone

from accounts.models import Clinic, Patient, Role, User
from rehab.models import DailyEntry, Episode, ExerciseLog, Intervention, Prescription


class ClinicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Clinic
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Clinic {n}")
    slug = factory.Sequence(lambda n: f"clinic-{n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    # Realistic but drawn from fixed lists: random names made name searches flaky (a random
    # "Smith" matched a test's search for another patient).
    first_name = factory.Iterator(["Ava", "Ben", "Chloe", "Dara", "Eli", "Farah", "Gus", "Hana"])
    last_name = factory.Sequence(lambda n: f"Quinlan-{n}")
    clinic = factory.SubFactory(ClinicFactory)
    role = Role.THERAPIST
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class TherapistFactory(UserFactory):
    role = Role.THERAPIST


class ClinicAdminFactory(UserFactory):
    role = Role.CLINIC_ADMIN


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    user = factory.SubFactory(
        UserFactory,
        role=Role.PATIENT,
        clinic=factory.SelfAttribute("..therapist.clinic"),
    )
    therapist = factory.SubFactory(TherapistFactory)
    timezone = "UTC"


class EpisodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Episode

    patient = factory.SubFactory(PatientFactory)
    affected_side = "right"
    diagnosis = "os_trigonum"
    start_date = factory.LazyFunction(lambda: timezone.now().date() - dt.timedelta(days=20))


class PrescriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Prescription

    episode = factory.SubFactory(EpisodeFactory)
    name = "Double-leg heel raises"
    sets = 3
    reps = "15"
    start_date = factory.SelfAttribute("episode.start_date")


class DailyEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DailyEntry

    episode = factory.SubFactory(EpisodeFactory)
    date = factory.SelfAttribute("episode.start_date")
    pain_activity = 6
    pain_rest = 2
    pf_rom_affected = 30
    pf_rom_unaffected = 45


class ExerciseLogFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ExerciseLog

    entry = factory.SubFactory(DailyEntryFactory)
    prescription = factory.SubFactory(
        PrescriptionFactory, episode=factory.SelfAttribute("..entry.episode")
    )
    sets_completed = 3


class InterventionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Intervention

    episode = factory.SubFactory(EpisodeFactory)
    kind = "nsaid"
    start_date = factory.SelfAttribute("episode.start_date")
