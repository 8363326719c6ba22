"""Staff administration through API v1 (issue 14, point 6): the clinic admin lists staff,
invites a therapist (who accepts through the invitation endpoint), deactivates (sessions and
tokens gone, patients moved only as chosen), reactivates, reassigns a patient and sets cover."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.sessions.models import Session
from django.core import mail
from django.test import Client
from django.utils import timezone

from accounts.models import AuditEvent, Cover, Patient, User
from accounts.services import api_token_issue
from tests.api.helpers import errors, url
from tests.conftest import PASSWORD
from tests.factories import PatientFactory
from tests.security.helpers import token_client

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "physio-clinic-2026-spring"


def _actions(**filters: object) -> list[str]:
    return list(AuditEvent.objects.filter(**filters).values_list("action", flat=True))


def test_the_admin_lists_the_clinics_staff_only(cast, api):
    response = api(cast.admin).get(url("api-staff-list"))
    assert response.status_code == 200
    body = response.json()
    by_email = {row["email"]: row for row in body["results"]}
    assert set(by_email) == {
        "therapist@riverside.test",
        "therapist2@riverside.test",
        "admin@riverside.test",
    }
    assert by_email["therapist@riverside.test"]["patients"] == 2
    assert by_email["therapist2@riverside.test"]["patients"] == 0
    assert by_email["admin@riverside.test"]["role"] == "clinic_admin"
    assert by_email["therapist@riverside.test"]["status"] == "active"


def test_invite_a_therapist_who_accepts_and_signs_in(cast, api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api(cast.admin).post(
            url("api-staff-list"),
            {
                "email": "New.Physio@Riverside.test",
                "first_name": "Noor",
                "last_name": "Haddad",
                "role": "therapist",
                "language": "es",
            },
            format="json",
        )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "invited" and body["role"] == "therapist"
    # The link goes to the new colleague only: never in the answer.
    assert "/invite/" not in str(body)
    (message,) = mail.outbox
    assert message.to == ["new.physio@riverside.test"]
    assert message.extra_headers["Content-Language"] == "es"
    token = re.search(r"/invite/([\w-]+)/", message.body).group(1)
    member = User.objects.get(pk=body["id"])
    assert member.clinic_id == cast.clinic.pk and member.role == "therapist"
    assert not member.has_usable_password()
    assert _actions(object_id=str(member.pk)) == ["staff.invited"]

    accepted = api(None).post(
        url("api-auth-invitation-accept"),
        {"token": token, "password": NEW_PASSWORD},
        format="json",
    )
    assert accepted.status_code == 200
    signed_in = api(None).post(
        url("api-auth-token"),
        {"email": "new.physio@riverside.test", "password": NEW_PASSWORD},
        format="json",
    )
    assert signed_in.status_code == 200
    # A therapist of the clinic with no patients yet.
    own = token_client(signed_in.json()["token"]).get(url("api-patient-list"))
    assert own.json()["count"] == 0


def test_invite_refuses_a_taken_address_and_a_bad_role(cast, api):
    response = api(cast.admin).post(
        url("api-staff-list"),
        {"email": "p@northside.test", "first_name": "X", "last_name": "Y", "role": "patient"},
        format="json",
    )
    body = errors(response)
    assert set(body) == {"role"}  # the role is a choice: refused before the address is looked up
    response = api(cast.admin).post(
        url("api-staff-list"),
        {"email": "p@northside.test", "first_name": "X", "last_name": "Y", "role": "therapist"},
        format="json",
    )
    assert "cannot be used" in errors(response)["email"][0]
    assert not User.objects.filter(first_name="X").exists()


def test_reissue_an_invitation_by_email_only(cast, api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        created = api(cast.admin).post(
            url("api-staff-list"),
            {
                "email": "late@riverside.test",
                "first_name": "L",
                "last_name": "Ate",
                "role": "therapist",
            },
            format="json",
        )
        again = api(cast.admin).post(url("api-staff-invitation", pk=created.json()["id"]))
    assert again.status_code == 202
    assert "/invite/" not in again.content.decode()
    assert len(mail.outbox) == 2
    first = re.search(r"/invite/([\w-]+)/", mail.outbox[0].body).group(1)
    # The first link stopped working.
    stale = api(None).post(
        url("api-auth-invitation-accept"), {"token": first, "password": NEW_PASSWORD}, format="json"
    )
    assert stale.status_code == 400
    # A member who already set a password gets no invitation.
    refused = api(cast.admin).post(url("api-staff-invitation", pk=cast.therapist.pk))
    assert "member" in errors(refused)


def test_deactivation_refuses_while_patients_are_not_placed(cast, api):
    response = api(cast.admin).post(
        url("api-staff-deactivate", pk=cast.therapist.pk), {}, format="json"
    )
    message = errors(response)["reassign"][0]
    assert "2 patients" in message
    assert f"#{cast.patient_a.pk}" in message and f"#{cast.patient_b.pk}" in message
    cast.therapist.refresh_from_db()
    assert cast.therapist.is_active
    assert Patient.objects.filter(therapist=cast.therapist).count() == 2
    # Naming only one of the two is refused just the same: nothing moved.
    partial = api(cast.admin).post(
        url("api-staff-deactivate", pk=cast.therapist.pk),
        {"reassign": {str(cast.patient_a.pk): cast.therapist_2.pk}},
        format="json",
    )
    assert f"#{cast.patient_b.pk}" in errors(partial)["reassign"][0]
    assert Patient.objects.get(pk=cast.patient_a.pk).therapist_id == cast.therapist.pk


def test_deactivation_moves_as_chosen_and_ends_sessions_and_tokens(cast, api):
    key = api_token_issue(user=cast.therapist)
    browser = Client()
    assert browser.login(username=cast.therapist.email, password=PASSWORD)
    other_browser = Client()
    other_browser.force_login(cast.therapist_2)
    assert browser.get("/").status_code == 200

    response = api(cast.admin).post(
        url("api-staff-deactivate", pk=cast.therapist.pk),
        {
            "reassign": {
                str(cast.patient_a.pk): cast.therapist_2.pk,
                str(cast.patient_b.pk): None,
            }
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["moved"] == {
        str(cast.patient_a.pk): cast.therapist_2.pk,
        str(cast.patient_b.pk): None,
    }
    assert body["sessions_ended"] == 1 and body["is_active"] is False
    assert Patient.objects.get(pk=cast.patient_a.pk).therapist_id == cast.therapist_2.pk
    assert Patient.objects.get(pk=cast.patient_b.pk).therapist_id is None

    # Signed out at once: the session row is gone, the token refused.
    assert browser.get("/").status_code == 302
    assert token_client(key).get(url("api-patient-list")).status_code == 401
    # Somebody else's session is untouched.
    assert other_browser.get("/").status_code == 200
    assert Session.objects.count() >= 1
    # And no new sign-in.
    assert not Client().login(username=cast.therapist.email, password=PASSWORD)

    actions = _actions(actor=cast.admin)
    assert actions.count("patient.reassigned") == 2
    for action in ("user.deactivated", "user.sessions_ended", "api_token.revoked.user_deactivated"):
        assert action in actions


def test_reassign_all_to_one_therapist(cast, api):
    response = api(cast.admin).post(
        url("api-staff-deactivate", pk=cast.therapist.pk),
        {"reassign_all_to": cast.therapist_2.pk},
        format="json",
    )
    assert response.status_code == 200
    assert Patient.objects.filter(therapist=cast.therapist_2).count() == 2


def test_deactivation_refuses_targets_outside_the_clinic_and_oneself(cast, api):
    foreign = api(cast.admin).post(
        url("api-staff-deactivate", pk=cast.therapist.pk),
        {"reassign_all_to": cast.other_therapist.pk},
        format="json",
    )
    assert "reassign_all_to" in errors(foreign)
    self_target = api(cast.admin).post(
        url("api-staff-deactivate", pk=cast.therapist.pk),
        {"reassign_all_to": cast.therapist.pk},
        format="json",
    )
    assert "reassign" in errors(self_target)
    oneself = api(cast.admin).post(url("api-staff-deactivate", pk=cast.admin.pk), {}, format="json")
    assert "member" in errors(oneself)
    cast.therapist.refresh_from_db()
    assert cast.therapist.is_active


def test_reactivate_keeps_tokens_revoked_and_patients_where_they_went(cast, api):
    key = api_token_issue(user=cast.therapist_2)
    assert (
        api(cast.admin)
        .post(url("api-staff-deactivate", pk=cast.therapist_2.pk), {}, format="json")
        .status_code
        == 200
    )
    response = api(cast.admin).post(url("api-staff-reactivate", pk=cast.therapist_2.pk))
    assert response.status_code == 200 and response.json()["status"] == "active"
    assert token_client(key).get(url("api-patient-list")).status_code == 401
    assert Client().login(username=cast.therapist_2.email, password=PASSWORD)
    assert "user.reactivated" in _actions(object_id=str(cast.therapist_2.pk))
    again = api(cast.admin).post(url("api-staff-reactivate", pk=cast.therapist_2.pk))
    assert "member" in errors(again)


def test_patch_reassigns_a_patient(cast, api):
    response = api(cast.admin).patch(
        url("api-patient-detail", pk=cast.patient_a.pk),
        {"therapist": cast.therapist_2.pk},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["therapist"] == cast.therapist_2.pk
    # The new therapist reaches the patient, the former one no longer does.
    assert (
        api(cast.therapist_2).get(url("api-patient-detail", pk=cast.patient_a.pk)).status_code
        == 200
    )
    assert (
        api(cast.therapist).get(url("api-patient-detail", pk=cast.patient_a.pk)).status_code == 404
    )
    rows = AuditEvent.objects.filter(patient_id=cast.patient_a.pk, actor=cast.admin)
    assert {(r.action, r.object_id) for r in rows} == {
        ("patient.reassigned", str(cast.patient_a.pk)),
        ("therapist.patient_removed", str(cast.therapist.pk)),
        ("therapist.patient_added", str(cast.therapist_2.pk)),
    }
    nobody = api(cast.admin).patch(
        url("api-patient-detail", pk=cast.patient_a.pk), {"therapist": None}, format="json"
    )
    assert nobody.json()["therapist"] is None


def test_patch_refuses_bad_therapists(cast, api):
    for value in (cast.other_therapist.pk, cast.admin.pk, 10**9, "x"):
        response = api(cast.admin).patch(
            url("api-patient-detail", pk=cast.patient_a.pk), {"therapist": value}, format="json"
        )
        assert "therapist" in errors(response), value
    missing = api(cast.admin).patch(
        url("api-patient-detail", pk=cast.patient_a.pk), {}, format="json"
    )
    assert "therapist" in errors(missing)
    User.objects.filter(pk=cast.therapist_2.pk).update(is_active=False)
    inactive = api(cast.admin).patch(
        url("api-patient-detail", pk=cast.patient_a.pk),
        {"therapist": cast.therapist_2.pk},
        format="json",
    )
    assert "therapist" in errors(inactive)
    assert Patient.objects.get(pk=cast.patient_a.pk).therapist_id == cast.therapist.pk


def test_cover_create_list_and_cancel(cast, api):
    today = timezone.localdate()
    response = api(cast.admin).post(
        url("api-cover-list"),
        {
            "absent": cast.therapist.pk,
            "covering": cast.therapist_2.pk,
            "start_date": today.isoformat(),
            "end_date": (today + dt.timedelta(days=6)).isoformat(),
            "note": "Conference",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    cover = response.json()
    assert cover["in_force"] is True
    listed = api(cast.admin).get(url("api-cover-list")).json()
    assert [c["id"] for c in listed["results"]] == [cover["id"]]
    staff = {row["id"]: row for row in api(cast.admin).get(url("api-staff-list")).json()["results"]}
    assert [c["id"] for c in staff[cast.therapist.pk]["covered_by"]] == [cover["id"]]
    assert [c["id"] for c in staff[cast.therapist_2.pk]["covering"]] == [cover["id"]]

    cancelled = api(cast.admin).post(url("api-cover-cancel", pk=cover["id"]))
    assert cancelled.status_code == 200
    assert cancelled.json()["in_force"] is False and cancelled.json()["cancelled_at"]
    assert _actions(object_type="accounts.cover") == ["cover.cancelled", "cover.created"]
    again = api(cast.admin).post(url("api-cover-cancel", pk=cover["id"]))
    assert "cover" in errors(again)


def test_cover_refusals_name_their_field(cast, api):
    today = timezone.localdate()

    def post(**body: object):
        data = {
            "absent": cast.therapist.pk,
            "covering": cast.therapist_2.pk,
            "start_date": today.isoformat(),
            "end_date": today.isoformat(),
            **body,
        }
        return api(cast.admin).post(url("api-cover-list"), data, format="json")

    assert "covering" in errors(post(covering=cast.therapist.pk))
    assert "covering" in errors(post(covering=cast.other_therapist.pk))
    assert "absent" in errors(post(absent=cast.admin.pk))
    assert "end_date" in errors(post(end_date=(today - dt.timedelta(days=1)).isoformat()))
    assert "end_date" in errors(
        post(
            start_date=(today - dt.timedelta(days=9)).isoformat(),
            end_date=(today - dt.timedelta(days=2)).isoformat(),
        )
    )
    assert "end_date" in errors(post(end_date=(today + dt.timedelta(days=400)).isoformat()))
    assert post().status_code == 201
    overlap = post(
        start_date=today.isoformat(), end_date=(today + dt.timedelta(days=3)).isoformat()
    )
    assert "start_date" in errors(overlap)
    assert Cover.objects.count() == 1


def test_deactivating_a_covering_therapist_cancels_the_cover(cast, api):
    today = timezone.localdate()
    Cover.objects.create(
        clinic=cast.clinic,
        absent=cast.therapist,
        covering=cast.therapist_2,
        start_date=today,
        end_date=today + dt.timedelta(days=3),
    )
    response = api(cast.admin).post(
        url("api-staff-deactivate", pk=cast.therapist_2.pk), {}, format="json"
    )
    assert response.status_code == 200
    assert len(response.json()["covers_cancelled"]) == 1
    assert Cover.objects.get().cancelled_at is not None


def test_the_last_admin_cannot_be_deactivated(cast, api):
    second = User.objects.create_user(
        email="admin2@riverside.test", password=PASSWORD, role="clinic_admin", clinic=cast.clinic
    )
    assert (
        api(second)
        .post(url("api-staff-deactivate", pk=cast.admin.pk), {}, format="json")
        .status_code
        == 200
    )
    # Now `second` is the clinic's only active admin: nobody can deactivate them (not themself).
    assert "member" in errors(
        api(second).post(url("api-staff-deactivate", pk=second.pk), {}, format="json")
    )


def test_a_patient_of_the_member_in_another_state_is_listed_too(cast, api):
    closed = PatientFactory(therapist=cast.therapist_2, user__email="c@riverside.test")
    response = api(cast.admin).post(
        url("api-staff-deactivate", pk=cast.therapist_2.pk), {}, format="json"
    )
    assert f"#{closed.pk}" in errors(response)["reassign"][0]
