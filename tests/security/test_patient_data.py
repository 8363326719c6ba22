"""Patient data rights: a patient downloads all their data (JSON, FHIR); a clinic admin erases a
patient on request. Both are audited; erasure keeps the audit trail, with ids only."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from fhir.resources.R4B.bundle import Bundle

from accounts.audit import audit_record
from accounts.models import ApiToken, AuditEvent, Invitation, Patient, User
from accounts.services import api_token_issue
from accounts.tokens import digest, new_secret
from rehab.models import (
    Alert,
    DailyEntry,
    Delivery,
    DeliveryAttempt,
    EntryCorrection,
    Episode,
    ExerciseLog,
    InboxMessage,
    Intervention,
    Prescription,
    PushSubscription,
    ReminderLog,
)
from rehab.notify.outbox import alert_notifications_write
from rehab.notify.sender import send_delivery
from tests.alerts.factories import AlertFactory
from tests.factories import (
    DailyEntryFactory,
    EpisodeFactory,
    ExerciseLogFactory,
    InterventionFactory,
    PrescriptionFactory,
)

pytestmark = pytest.mark.django_db

EXPORT = "/api/v1/me/export/"


def _course(episode: Episode, days: int, note: str) -> None:
    prescription = PrescriptionFactory(episode=episode)
    for offset in range(days):
        entry = DailyEntryFactory(
            episode=episode,
            date=episode.start_date + dt.timedelta(days=offset),
            pain_activity=6 - offset % 3,
            note=note if offset == 0 else "",
        )
        ExerciseLogFactory(entry=entry, prescription=prescription, sets_completed=2)
    InterventionFactory(episode=episode, note="heel lift both shoes")


@pytest.fixture
def records(cast) -> Any:
    """Patient A: two episodes (one closed) with entries, a prescription, an intervention and an
    alert; patient B: one episode with entries."""
    earlier = EpisodeFactory(
        patient=cast.patient_a,
        affected_side="left",
        start_date=cast.episode_a.start_date - dt.timedelta(days=200),
        status="closed",
        outcome="resolved",
        closed_date=cast.episode_a.start_date - dt.timedelta(days=120),
    )
    _course(earlier, 4, "first week was hard")
    _course(cast.episode_a, 5, "felt a pinch on the stairs")
    _course(cast.episode_b, 3, "B's own note")
    AlertFactory(episode=cast.episode_a)
    cast.earlier = earlier
    return cast


# --- Download ------------------------------------------------------------------------------


def test_the_json_download_holds_everything_about_the_patient(records, api):
    cast = records
    response = api(cast.patient_a.user).get(EXPORT)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"] == 'attachment; filename="my-rehab-data.json"'
    assert "no-store" in response["Cache-Control"]
    data = response.json()
    assert data["format"] == "pais-rehab-patient-export" and data["version"] == 1
    assert data["patient"]["id"] == cast.patient_a.pk
    assert data["patient"]["email"] == "a@riverside.test"
    assert [e["id"] for e in data["episodes"]] == [cast.earlier.pk, cast.episode_a.pk]
    by_id = {e["id"]: e for e in data["episodes"]}
    current = by_id[cast.episode_a.pk]
    assert len(current["entries"]) == 5
    assert current["entries"][0]["note"] == "felt a pinch on the stairs"
    assert current["entries"][0]["exercises"][0]["sets_completed"] == 2
    assert [p["id"] for p in current["prescriptions"]] == list(
        Prescription.objects.filter(episode=cast.episode_a).values_list("pk", flat=True)
    )
    assert current["interventions"][0]["note"] == "heel lift both shoes"
    assert by_id[cast.earlier.pk]["status"] == "closed"
    assert len(by_id[cast.earlier.pk]["entries"]) == 4
    text = response.content.decode()
    # Nobody else's data, and not the clinic's alerts.
    assert "B's own note" not in text and "b@riverside.test" not in text
    assert "alerts" not in data["episodes"][0] and "REFERRAL" not in text


def test_the_fhir_download_is_one_valid_bundle_of_all_episodes(records, api):
    cast = records
    response = api(cast.patient_a.user).get(EXPORT, {"format": "fhir"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/fhir+json")
    assert response["Content-Disposition"] == 'attachment; filename="my-rehab-data.fhir.json"'
    bundle = Bundle.model_validate(response.json())
    assert bundle.type == "collection"
    kinds = Counter(e.resource.__resource_type__ for e in bundle.entry)
    # One Patient, a Condition per episode, an activity and a rest pain score and two ROM
    # values per entry (9 entries), and no Flag: alerts are the clinic's.
    assert kinds == {"Patient": 1, "Condition": 2, "Observation": 36}
    urls = [e.fullUrl for e in bundle.entry]
    assert len(urls) == len(set(urls))


def test_a_patient_without_episodes_downloads_their_profile(cast, api):
    Episode.objects.filter(patient=cast.patient_b).delete()
    client = api(cast.patient_b.user)
    assert client.get(EXPORT).json()["episodes"] == []
    bundle = Bundle.model_validate(client.get(EXPORT, {"format": "fhir"}).json())
    assert [e.resource.__resource_type__ for e in bundle.entry] == ["Patient"]


def test_each_download_is_audited(records, api):
    cast = records
    client = api(cast.patient_a.user)
    client.get(EXPORT)
    client.get(EXPORT, {"format": "fhir"})
    rows = AuditEvent.objects.filter(action="patient.exported")
    assert rows.count() == 2
    assert {(r.actor_id, r.patient_id, r.object_type, r.object_id, r.clinic_id) for r in rows} == {
        (
            cast.patient_a.user.pk,
            cast.patient_a.pk,
            "accounts.patient",
            str(cast.patient_a.pk),
            cast.clinic.pk,
        )
    }


def test_the_format_wins_over_the_accept_header(cast, api):
    client = api(cast.patient_a.user)
    fhir = client.get(EXPORT, {"format": "fhir"}, HTTP_ACCEPT="application/json")
    assert fhir.status_code == 200 and fhir.json()["resourceType"] == "Bundle"
    asked = client.get(EXPORT, HTTP_ACCEPT="application/fhir+json")
    assert asked.status_code == 200 and asked.json()["resourceType"] == "Bundle"
    assert client.get(EXPORT, HTTP_ACCEPT="application/json").json()["version"] == 1


def test_an_unknown_format_is_a_400(cast, api):
    response = api(cast.patient_a.user).get(EXPORT, {"format": "xml"})
    assert response.status_code == 400
    assert "format" in response.json()
    assert not AuditEvent.objects.filter(action="patient.exported").exists()


@pytest.mark.parametrize("persona", ["therapist", "admin", "other_therapist"])
def test_staff_have_no_record_to_download(cast, api, persona):
    assert api(getattr(cast, persona)).get(EXPORT).status_code == 403


def test_anonymous_is_401(cast, api):
    assert api(None).get(EXPORT).status_code == 401


def test_the_page_offers_both_downloads_and_they_work_with_the_session(records):
    client = Client()
    client.force_login(records.patient_a.user)
    page = client.get("/my-data/")
    assert page.status_code == 200
    html = page.content.decode()
    assert f'href="{EXPORT}?format=json"' in html and f'href="{EXPORT}?format=fhir"' in html
    assert client.get(f"{EXPORT}?format=json").json()["patient"]["id"] == records.patient_a.pk
    assert 'href="/my-data/"' in client.get("/accounts/security/").content.decode()


def test_the_page_is_for_patients(cast):
    client = Client()
    client.force_login(cast.therapist)
    assert client.get("/my-data/").status_code == 403


# --- Erasure -------------------------------------------------------------------------------


@pytest.fixture
def everything(records) -> Any:
    """Patient A also has a pending invitation, a token, a reminder log, and deliveries and an
    inbox message for their alert; and a few audit rows from before."""
    cast = records
    cast.token = api_token_issue(user=cast.patient_a.user)
    # A link an older version issued although A had set a password (today's refuses to).
    Invitation.objects.create(
        user=cast.patient_a.user,
        token_digest=digest(new_secret()),
        created_by=cast.therapist,
        expires_at=timezone.now() + dt.timedelta(days=7),
    )
    ReminderLog.objects.create(patient=cast.patient_a, date=cast.episode_a.start_date)
    # A phone subscribed to reminders, with a reminder waiting for it.
    device = PushSubscription.objects.create(
        patient=cast.patient_a, endpoint="https://push.example.com/a", p256dh="BA", auth="AA"
    )
    Delivery.objects.create(
        clinic=cast.clinic,
        channel="push",
        event_type="reminder.daily",
        recipient=cast.patient_a.user,
        push_subscription=device,
        payload={"title": "Rehab diary", "body": "A minute?", "url": "/"},
    )
    EntryCorrection.objects.create(
        episode=cast.episode_a,
        entry_date=cast.episode_a.start_date,
        action="replaced",
        reason="Patient phoned: the pain score was typed on the wrong day.",
        old_values={"pain_activity": 7},
        corrected_by=cast.therapist,
    )
    alert = Alert.objects.get(episode=cast.episode_a)
    alert_notifications_write(alert=alert, event_type="alert.raised")
    # Sending the in-app delivery writes the inbox message and an attempt row.
    send_delivery(Delivery.objects.get(alert=alert, channel="inbox").pk)
    audit_record(
        actor=cast.therapist,
        action="episode.viewed",
        obj=cast.episode_a,
        patient_id=cast.patient_a.pk,
    )
    LogEntry.objects.create(
        user=User.objects.create_superuser("ops@example.test", "a-long-operator-passphrase"),
        content_type=ContentType.objects.get_for_model(User),
        object_id=str(cast.patient_a.user.pk),
        object_repr="Alma Aardvarkson",
        action_flag=CHANGE,
        change_message="Changed first_name.",
    )
    # Patients do not use two-factor sign-in, but an erasure must not leave a device behind.
    TOTPDevice.objects.create(user=cast.patient_a.user, name="phone", confirmed=True)
    assert InboxMessage.objects.filter(alert=alert).exists()
    assert DeliveryAttempt.objects.filter(delivery__alert=alert).exists()
    return cast


def _clinical_rows(episode_ids: list[int], patient_id: int) -> dict[str, int]:
    return {
        "episodes": Episode.objects.filter(pk__in=episode_ids).count(),
        "entries": DailyEntry.objects.filter(episode_id__in=episode_ids).count(),
        "exercise logs": ExerciseLog.objects.filter(entry__episode_id__in=episode_ids).count(),
        "prescriptions": Prescription.objects.filter(episode_id__in=episode_ids).count(),
        "interventions": Intervention.objects.filter(episode_id__in=episode_ids).count(),
        "alerts": Alert.objects.filter(episode_id__in=episode_ids).count(),
        "deliveries": Delivery.objects.filter(alert__episode_id__in=episode_ids).count(),
        "attempts": DeliveryAttempt.objects.filter(
            delivery__alert__episode_id__in=episode_ids
        ).count(),
        "inbox": InboxMessage.objects.filter(alert__episode_id__in=episode_ids).count(),
        "reminders": ReminderLog.objects.filter(patient_id=patient_id).count(),
        "push subscriptions": PushSubscription.objects.filter(patient_id=patient_id).count(),
        # (Only patient A has push reminders in these tests.)
        "push reminders": Delivery.objects.filter(channel="push").count(),
        "entry corrections": EntryCorrection.objects.filter(episode_id__in=episode_ids).count(),
    }


def _assert_erased(cast: Any, *, by: User) -> None:
    user = User.objects.get(pk=cast.patient_a.user.pk)
    patient_id = cast.patient_a.pk
    episode_ids = [cast.episode_a.pk, cast.earlier.pk]
    assert set(_clinical_rows(episode_ids, patient_id).values()) == {0}
    assert not Patient.objects.filter(pk=patient_id).exists()
    assert not Invitation.objects.filter(user=user).exists()
    assert not ApiToken.objects.filter(user=user).exists()
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert user.email == f"erased-{user.pk}@invalid"
    assert (user.first_name, user.last_name) == ("", "")
    assert not user.has_usable_password() and not user.is_active
    assert LogEntry.objects.get(object_id=str(user.pk)).object_repr == f"erased user {user.pk}"
    # The audit trail keeps every row about the patient, and names the erasure, by id only.
    erased = AuditEvent.objects.get(action="patient.erased")
    assert (erased.actor_id, erased.patient_id, erased.object_id, erased.clinic_id) == (
        by.pk,
        patient_id,
        str(patient_id),
        cast.clinic.pk,
    )
    assert AuditEvent.objects.filter(patient_id=patient_id, action="episode.viewed").exists()
    # Patient B is untouched.
    assert _clinical_rows([cast.episode_b.pk], cast.patient_b.pk)["entries"] == 3


def test_erasure_through_the_page(everything):
    cast = everything
    patient_session = Client()
    patient_session.force_login(cast.patient_a.user)
    before = _clinical_rows([cast.episode_a.pk, cast.earlier.pk], cast.patient_a.pk)
    assert all(before.values()), before
    admin = Client()
    admin.force_login(cast.admin)
    page = admin.get(f"/patients/{cast.patient_a.pk}/erase/")
    assert page.status_code == 200 and "a@riverside.test" not in page.content.decode()
    assert f'href="/patients/{cast.patient_a.pk}/erase/"' in (
        admin.get(f"/patients/{cast.patient_a.pk}/").content.decode()
    )
    response = admin.post(f"/patients/{cast.patient_a.pk}/erase/", {"email": "A@Riverside.test"})
    assert response.status_code == 302 and response["Location"] == "/patients/"
    _assert_erased(cast, by=cast.admin)
    message = admin.get("/patients/").content.decode()
    assert "2 episode(s) and 9 daily entries deleted" in message
    # Whatever the patient had open stops working.
    assert patient_session.get("/").status_code == 302
    assert Client().login(username="a@riverside.test", password="correct-horse-battery") is False
    client = Client(HTTP_AUTHORIZATION=f"Token {cast.token}")
    assert client.get(EXPORT).status_code == 401


def test_a_wrong_email_erases_nothing(everything):
    cast = everything
    admin = Client()
    admin.force_login(cast.admin)
    response = admin.post(f"/patients/{cast.patient_a.pk}/erase/", {"email": "b@riverside.test"})
    assert response.status_code == 200
    assert "not the patient&#x27;s email" in response.content.decode()
    assert Patient.objects.filter(pk=cast.patient_a.pk).exists()
    assert DailyEntry.objects.filter(episode=cast.episode_a).count() == 5
    assert not AuditEvent.objects.filter(action="patient.erased").exists()


@pytest.mark.parametrize(
    ("persona", "status"),
    [("therapist", 403), ("patient_a", 403), ("therapist_2", 404), ("other_therapist", 404)],
)
def test_only_the_clinic_admin_may_open_the_erase_page(everything, persona, status):
    cast = everything
    user = getattr(cast, persona)
    client = Client()
    client.force_login(getattr(user, "user", user))
    address = f"/patients/{cast.patient_a.pk}/erase/"
    assert client.get(address).status_code == status
    assert client.post(address, {"email": "a@riverside.test"}).status_code == status
    assert Patient.objects.filter(pk=cast.patient_a.pk).exists()


def test_erasure_through_the_api(everything, api):
    cast = everything
    response = api(cast.admin).delete(f"/api/v1/patients/{cast.patient_a.pk}/")
    assert response.status_code == 204
    _assert_erased(cast, by=cast.admin)
    assert api(cast.admin).get(f"/api/v1/patients/{cast.patient_a.pk}/").status_code == 404


@pytest.mark.parametrize(
    ("persona", "status"),
    [("therapist", 403), ("patient_a", 403), ("therapist_2", 404), ("other_therapist", 404)],
)
def test_the_api_erases_for_clinic_admins_only(everything, api, persona, status):
    cast = everything
    user = getattr(cast, persona)
    response = api(getattr(user, "user", user)).delete(f"/api/v1/patients/{cast.patient_a.pk}/")
    assert response.status_code == status
    assert Patient.objects.filter(pk=cast.patient_a.pk).exists()
    assert DailyEntry.objects.filter(episode=cast.episode_a).count() == 5
    assert not AuditEvent.objects.filter(action="patient.erased").exists()
