"""Creating, listing and re-inviting patients."""

from __future__ import annotations

import pytest

from accounts.models import AuditEvent, Patient, Role, User
from tests.api.helpers import errors, ids, url
from tests.factories import TherapistFactory

pytestmark = pytest.mark.django_db

NEW = {"email": "Nia.Okafor@Example.test", "first_name": "Nia", "last_name": "Okafor"}


def test_therapist_creates_a_patient_assigned_to_them(cast, api):
    response = api(cast.therapist).post(
        url("api-patient-list"), {**NEW, "timezone": "Europe/Lisbon"}, format="json"
    )
    assert response.status_code == 201
    body = response.json()
    patient = Patient.objects.select_related("user").get(pk=body["id"])
    assert body["email"] == "nia.okafor@example.test"
    assert (body["first_name"], body["last_name"], body["timezone"]) == (
        "Nia",
        "Okafor",
        "Europe/Lisbon",
    )
    assert body["therapist"] == cast.therapist.pk
    assert body["activated"] is False
    assert "/invite/" in body["invite_url"]
    assert patient.user.clinic == cast.clinic
    assert patient.user.role == Role.PATIENT
    assert patient.therapist == cast.therapist
    assert AuditEvent.objects.filter(
        action="patient.created", actor=cast.therapist, patient_id=patient.pk
    ).exists()
    assert AuditEvent.objects.filter(action="invitation.issued", patient_id=patient.pk).exists()


def test_timezone_defaults_to_utc(cast, api):
    response = api(cast.therapist).post(url("api-patient-list"), NEW, format="json")
    assert response.json()["timezone"] == "UTC"


def test_admin_assigns_a_therapist_of_the_clinic(cast, api):
    response = api(cast.admin).post(
        url("api-patient-list"), {**NEW, "therapist": cast.therapist_2.pk}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["therapist"] == cast.therapist_2.pk
    assert Patient.objects.get(pk=response.json()["id"]).user.clinic == cast.clinic


def test_admin_may_leave_the_patient_unassigned(cast, api):
    response = api(cast.admin).post(url("api-patient-list"), NEW, format="json")
    assert response.status_code == 201
    assert response.json()["therapist"] is None
    assert response.json()["id"] in ids(api(cast.admin).get(url("api-patient-list")))


@pytest.mark.parametrize("who", ["other_therapist", "admin", "unknown"])
def test_admin_cannot_assign_outside_the_clinic(cast, api, who):
    therapist_id = {"other_therapist": cast.other_therapist.pk, "admin": cast.admin.pk}.get(
        who, 999_999
    )
    body = errors(
        api(cast.admin).post(
            url("api-patient-list"), {**NEW, "therapist": therapist_id}, format="json"
        )
    )
    assert "therapist" in body
    assert not User.objects.filter(email="nia.okafor@example.test").exists()


def test_therapist_cannot_assign_another_therapist(cast, api):
    body = errors(
        api(cast.therapist).post(
            url("api-patient-list"), {**NEW, "therapist": cast.therapist_2.pk}, format="json"
        )
    )
    assert "therapist" in body
    assert not User.objects.filter(email="nia.okafor@example.test").exists()


@pytest.mark.parametrize("email", ["a@riverside.test", "A@RIVERSIDE.TEST", "p@northside.test"])
def test_duplicate_email_is_400(cast, api, email):
    client = api(cast.therapist)
    before = (User.objects.count(), Patient.objects.count(), AuditEvent.objects.count())
    body = errors(client.post(url("api-patient-list"), {**NEW, "email": email}, format="json"))
    assert "email" in body
    assert (User.objects.count(), Patient.objects.count(), AuditEvent.objects.count()) == before


@pytest.mark.parametrize(
    ("field", "value"),
    [("email", "not-an-email"), ("first_name", ""), ("last_name", ""), ("timezone", "Mars/Base")],
)
def test_invalid_patient_fields_are_400(cast, api, field, value):
    before = User.objects.count()
    body = errors(
        api(cast.therapist).post(url("api-patient-list"), {**NEW, field: value}, format="json")
    )
    assert field in body
    assert User.objects.count() == before


def test_patient_cannot_create_patients(cast, api):
    response = api(cast.patient_a.user).post(url("api-patient-list"), NEW, format="json")
    assert response.status_code == 403
    assert not User.objects.filter(email="nia.okafor@example.test").exists()


def test_lists_are_scoped(cast, api):
    patients = url("api-patient-list")
    riverside = {cast.patient_a.pk, cast.patient_b.pk}
    assert ids(api(cast.therapist).get(patients)) == riverside
    assert ids(api(cast.admin).get(patients)) == riverside
    assert ids(api(cast.therapist_2).get(patients)) == set()
    assert ids(api(cast.patient_a.user).get(patients)) == {cast.patient_a.pk}
    assert ids(api(cast.other_therapist).get(patients)) == {cast.other_patient.pk}


def test_patient_detail(cast, api):
    response = api(cast.patient_a.user).get(url("api-patient-detail", pk=cast.patient_a.pk))
    assert response.status_code == 200
    assert response.json()["email"] == "a@riverside.test"
    assert response.json()["therapist"] == cast.therapist.pk


def test_patient_list_has_no_n_plus_one(cast, api, django_assert_max_num_queries):
    client = api(cast.admin)
    client.get(url("api-patient-list"))  # warm up the token's last_used_at write
    with django_assert_max_num_queries(4):
        assert len(client.get(url("api-patient-list")).json()["results"]) == 2
    extra = TherapistFactory(clinic=cast.clinic)
    for n in range(5):
        client_patient = {"email": f"x{n}@riverside.test", "first_name": "X", "last_name": "Y"}
        api(extra).post(url("api-patient-list"), client_patient, format="json")
    with django_assert_max_num_queries(4):
        assert len(client.get(url("api-patient-list")).json()["results"]) == 7


def test_reissue_invitation_is_staff_only(cast, api):
    response = api(cast.patient_a.user).post(url("api-patient-invitation", pk=cast.patient_a.pk))
    assert response.status_code == 403
    assert not AuditEvent.objects.filter(action="invitation.issued").exists()


def test_reissue_invitation(cast, api):
    # For a patient who never set a password (one who has is refused: test_attack_invitations).
    cast.patient_b.user.set_unusable_password()
    cast.patient_b.user.save(update_fields=["password"])
    response = api(cast.admin).post(url("api-patient-invitation", pk=cast.patient_b.pk))
    assert response.status_code == 200
    assert "/invite/" in response.json()["invite_url"]
    assert AuditEvent.objects.filter(
        action="invitation.issued", actor=cast.admin, patient_id=cast.patient_b.pk
    ).exists()
