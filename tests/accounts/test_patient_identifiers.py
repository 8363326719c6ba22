"""Date of birth, sex and the clinic's medical record number: entered by staff on the pages and
through POST / PATCH /api/v1/patients/, checked, audited with ids only, kept within reach."""

from __future__ import annotations

import datetime as dt

import pytest

from accounts.models import AuditEvent, Patient
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def _detail(pk: int) -> str:
    return f"/api/v1/patients/{pk}/"


def _ids(patient: Patient) -> tuple:
    return (patient.birth_date, patient.sex, patient.mrn)


def _errors(response) -> dict:
    assert response.status_code == 400, (response.status_code, response.content)
    return response.json()


def test_staff_create_a_patient_with_identifiers(cast, api):
    response = api(cast.therapist).post(
        "/api/v1/patients/",
        {
            "email": "new@riverside.test",
            "first_name": "Nia",
            "last_name": "Okafor",
            "birth_date": "1994-03-02",
            "sex": "female",
            "mrn": "RV-001234",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["birth_date"], body["sex"], body["mrn"]) == ("1994-03-02", "female", "RV-001234")
    patient = Patient.objects.get(pk=body["id"])
    assert patient.birth_date == dt.date(1994, 3, 2)
    got = api(cast.therapist).get(_detail(patient.pk)).json()
    assert (got["birth_date"], got["sex"], got["mrn"]) == ("1994-03-02", "female", "RV-001234")


def test_a_therapist_records_identifiers_by_patch_and_it_is_audited_with_ids_only(cast, api):
    patient = cast.patient_a
    response = api(cast.therapist).patch(
        _detail(patient.pk),
        {"birth_date": "1990-01-31", "sex": "male", "mrn": " 000417 "},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["mrn"] == "000417"
    patient.refresh_from_db()
    assert _ids(patient) == (dt.date(1990, 1, 31), "male", "000417")
    (event,) = AuditEvent.objects.filter(action="patient.identifiers_changed")
    assert (event.actor_id, event.patient_id, event.object_id) == (
        cast.therapist.pk,
        patient.pk,
        str(patient.pk),
    )
    # Only ids in the trail: none of the values.
    row = " ".join(str(value) for value in AuditEvent.objects.filter(pk=event.pk).values().get())
    assert "000417" not in row and "1990" not in row and "male" not in row
    # A field left out keeps its value; blank clears it; the same values again audit nothing.
    api(cast.therapist).patch(_detail(patient.pk), {"sex": ""}, format="json")
    patient.refresh_from_db()
    assert (patient.sex, patient.mrn) == ("", "000417")
    api(cast.therapist).patch(_detail(patient.pk), {"sex": ""}, format="json")
    assert AuditEvent.objects.filter(action="patient.identifiers_changed").count() == 2


def test_a_record_number_is_unique_within_the_clinic_only(cast, api):
    api(cast.therapist).patch(_detail(cast.patient_a.pk), {"mrn": "A-1"}, format="json")
    taken = api(cast.admin).patch(_detail(cast.patient_b.pk), {"mrn": "A-1"}, format="json")
    assert "mrn" in _errors(taken)
    created = api(cast.therapist).post(
        "/api/v1/patients/",
        {"email": "dup@riverside.test", "first_name": "D", "last_name": "U", "mrn": "A-1"},
        format="json",
    )
    assert "mrn" in _errors(created)
    assert not Patient.objects.filter(user__email="dup@riverside.test").exists()
    # Another clinic numbers its own patients: the same number is theirs to use.
    other = api(cast.other_therapist).patch(
        _detail(cast.other_patient.pk), {"mrn": "A-1"}, format="json"
    )
    assert other.status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"sex": "m"}, "sex"),
        ({"birth_date": "2999-01-01"}, "birth_date"),
        ({"birth_date": "1850-01-01"}, "birth_date"),
        ({"birth_date": "31/01/1990"}, "birth_date"),
        ({"mrn": "<script>"}, "mrn"),
        ({"mrn": "x" * 65}, "mrn"),
    ],
)
def test_bad_identifiers_are_400_naming_the_field_and_nothing_is_saved(cast, api, body, field):
    response = api(cast.therapist).patch(_detail(cast.patient_a.pk), body, format="json")
    assert field in _errors(response)
    patient = Patient.objects.get(pk=cast.patient_a.pk)
    assert (patient.birth_date, patient.sex, patient.mrn) == (None, "", "")


def test_reassigning_stays_admin_only_and_a_mixed_request_is_all_or_nothing(cast, api):
    response = api(cast.therapist).patch(
        _detail(cast.patient_a.pk),
        {"therapist": cast.therapist_2.pk, "mrn": "B-9"},
        format="json",
    )
    assert response.status_code == 403
    assert Patient.objects.get(pk=cast.patient_a.pk).mrn == ""
    both = api(cast.admin).patch(
        _detail(cast.patient_a.pk),
        {"therapist": cast.therapist_2.pk, "mrn": "B-9"},
        format="json",
    )
    assert both.status_code == 200
    assert (both.json()["therapist"], both.json()["mrn"]) == (cast.therapist_2.pk, "B-9")
    # A bad identifier undoes the reassignment sent with it.
    bad = api(cast.admin).patch(
        _detail(cast.patient_a.pk), {"therapist": cast.therapist.pk, "sex": "x"}, format="json"
    )
    assert "sex" in _errors(bad)
    assert Patient.objects.get(pk=cast.patient_a.pk).therapist_id == cast.therapist_2.pk


def test_the_patient_gets_403_and_another_clinic_404(cast, api):
    own = api(cast.patient_a.user).patch(_detail(cast.patient_a.pk), {"mrn": "X"}, format="json")
    assert own.status_code == 403
    foreign = api(cast.other_therapist).patch(
        _detail(cast.patient_a.pk), {"mrn": "X"}, format="json"
    )
    assert foreign.status_code == 404
    assert Patient.objects.get(pk=cast.patient_a.pk).mrn == ""
    assert not AuditEvent.objects.filter(action="patient.identifiers_changed").exists()


# --- Pages -------------------------------------------------------------------------------------


def test_the_identifiers_page_saves_and_the_patient_page_shows_them(cast, client_for):
    client = client_for(cast.therapist)
    url = f"/patients/{cast.patient_a.pk}/identifiers/"
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="mrn"' in page.content.decode() and 'type="date"' in page.content.decode()
    response = client.post(url, {"birth_date": "1988-07-14", "sex": "other", "mrn": "77-12"})
    assert response.status_code == 302
    patient = Patient.objects.get(pk=cast.patient_a.pk)
    assert _ids(patient) == (dt.date(1988, 7, 14), "other", "77-12")
    detail = client.get(f"/patients/{cast.patient_a.pk}/").content.decode()
    assert "77-12" in detail and "14 Jul 1988" in detail
    assert AuditEvent.objects.filter(action="patient.identifiers_changed").count() == 1


def test_the_page_shows_the_services_refusal_and_keeps_the_input(cast, client_for):
    PatientFactory(therapist=cast.therapist, mrn="TAKEN-1")
    client = client_for(cast.therapist)
    response = client.post(
        f"/patients/{cast.patient_a.pk}/identifiers/",
        {"birth_date": "1988-07-14", "sex": "female", "mrn": "TAKEN-1"},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Another patient of your clinic has this medical record number." in page
    assert 'value="1988-07-14"' in page
    assert Patient.objects.get(pk=cast.patient_a.pk).mrn == ""


def test_the_new_patient_page_takes_identifiers(cast, client_for):
    response = client_for(cast.admin).post(
        "/patients/new/",
        {
            "email": "page@riverside.test",
            "first_name": "Page",
            "last_name": "Made",
            "timezone": "UTC",
            "birth_date": "2001-12-24",
            "sex": "unknown",
            "mrn": "N-5",
        },
    )
    assert response.status_code == 200, response.content
    patient = Patient.objects.get(user__email="page@riverside.test")
    assert _ids(patient) == (dt.date(2001, 12, 24), "unknown", "N-5")


@pytest.mark.parametrize(("persona", "status"), [("patient", 403), ("other_clinic", 404)])
def test_the_identifiers_page_is_out_of_reach_of_patients_and_other_clinics(
    cast, client_for, persona, status
):
    # The patient's own record: refused like the patient page (403); another clinic's: absent.
    user = cast.patient_a.user if persona == "patient" else cast.other_therapist
    client = client_for(user)
    url = f"/patients/{cast.patient_a.pk}/identifiers/"
    assert client.get(url).status_code == status
    assert client.post(url, {"mrn": "Z"}).status_code == status
    assert Patient.objects.get(pk=cast.patient_a.pk).mrn == ""
