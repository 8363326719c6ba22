"""Erasing a patient on request (the right to erasure).

A clinic admin erases one patient of their clinic. In one transaction:

- the ``Patient`` row is deleted, and with it, by the ``CASCADE`` of every clinical table, the
  patient's episodes, daily entries and exercise logs, prescriptions, interventions, alerts, the
  deliveries and inbox messages those alerts caused (with their attempts) and the reminder log.
  ``accounts`` does not import ``rehab``: the cascade reaches its tables through the foreign
  keys, and tests/security/test_patient_data.py checks that each of them is empty afterwards;
- the account's invitations, API tokens and two-factor devices are deleted;
- the account is kept as an anonymous shell, so that the ids in the audit trail (who recorded
  which entry, who was erased by whom) still name a row: email ``erased-<id>@invalid``, blank
  names, an unusable password, inactive. A changed password hash and ``is_active=False`` end
  every session the patient had open (Django checks both on each request);
- Django admin log entries about the account and the patient lose their description (it held
  the name);
- one audit row ``patient.erased`` names the patient by id only. Earlier audit rows stay: they
  hold ids, never names or health values.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.audit import audit_record
from accounts.models import ApiToken, Invitation, Patient, User


@dataclass(frozen=True)
class Erasure:
    patient_id: int
    user_id: int
    # Rows deleted, by model label ("rehab.DailyEntry": 42, ...).
    deleted: dict[str, int]


def erased_email(user_id: int) -> str:
    # ".invalid" is reserved (RFC 2606): no mail can ever reach it.
    return f"erased-{user_id}@invalid"


def can_erase_patients(user: User) -> bool:
    return user.is_active and user.is_clinic_admin and user.clinic_id is not None


def patient_erase(*, actor: User, patient: Patient) -> Erasure:
    """Erase ``patient`` (already fetched within the actor's reach). Clinic admins only."""
    if not can_erase_patients(actor) or actor.clinic_id != patient.user.clinic_id:
        raise PermissionError("Only a clinic admin may erase a patient.")
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=patient.user_id)
        patient_id = patient.pk
        audit_record(
            actor=actor,
            action="patient.erased",
            obj=patient,
            clinic_id=user.clinic_id,
            patient_id=patient_id,
        )
        deleted: dict[str, int] = {}
        for queryset in (
            Patient.objects.filter(pk=patient_id),
            Invitation.objects.filter(user=user),
            ApiToken.objects.filter(user=user),
            TOTPDevice.objects.filter(user=user),
            StaticDevice.objects.filter(user=user),
        ):
            _, per_model = queryset.delete()
            for label, count in per_model.items():
                if count:
                    deleted[label] = deleted.get(label, 0) + count
        for model, pk in ((User, user.pk), (Patient, patient_id)):
            LogEntry.objects.filter(
                content_type=ContentType.objects.get_for_model(model), object_id=str(pk)
            ).update(object_repr=f"erased {model._meta.model_name} {pk}", change_message="")
        user.email = erased_email(user.pk)
        user.first_name = ""
        user.last_name = ""
        user.set_unusable_password()
        user.is_active = False
        user.save()
    return Erasure(patient_id=patient_id, user_id=user.pk, deleted=deleted)
