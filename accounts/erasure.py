"""Erasing a patient on request (the right to erasure).

A clinic admin erases one patient of their clinic. In one transaction:

- the ``Patient`` row is deleted, and with it, by the ``CASCADE`` of every clinical table, the
  patient's episodes, daily entries and exercise logs, prescriptions, interventions, alerts, the
  deliveries and inbox messages those alerts caused (with their attempts), the reminder log, and
  the devices subscribed to reminders (push subscriptions) with the reminders still waiting for
  them. The reminder preferences are columns of the ``Patient`` row itself.
  ``accounts`` does not import ``rehab``: the cascade reaches its tables through the foreign
  keys, and tests/security/test_patient_data.py checks that each of them is empty afterwards;
- the account's invitations, API tokens and two-factor devices are deleted;
- the account is kept as an anonymous shell, so that the ids in the audit trail (who recorded
  which entry, who was erased by whom) still name a row: email ``erased-<id>@invalid``, blank
  names, an unusable password, inactive. A changed password hash and ``is_active=False`` end
  every session the patient had open (Django checks both on each request);
- the Django admin's log keeps its rows (who changed what, when) but loses the description and
  change message of every row about the account or any object the erasure deletes (an episode's
  description holds the patient's name; an inline's change message holds its description), and
  of any other row that mentions the patient's email or full name;
- one audit row ``patient.erased`` names the patient by id only. Earlier audit rows stay: they
  hold ids, never names or health values.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import router, transaction
from django.db.models import F, Model, Q, QuerySet, Value
from django.db.models.deletion import Collector
from django.db.models.functions import Concat
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
        removed: dict[type[Model], set[object]] = defaultdict(set)
        for queryset in (
            Patient.objects.filter(pk=patient_id),
            Invitation.objects.filter(user=user),
            ApiToken.objects.filter(user=user),
            TOTPDevice.objects.filter(user=user),
            StaticDevice.objects.filter(user=user),
        ):
            for label, count in _delete(queryset, removed).items():
                if count:
                    deleted[label] = deleted.get(label, 0) + count
        removed[User].add(user.pk)
        _scrub_admin_log(removed, mentions=[user.email, user.get_full_name()])
        user.email = erased_email(user.pk)
        user.first_name = ""
        user.last_name = ""
        user.set_unusable_password()
        user.is_active = False
        user.save()
    return Erasure(patient_id=patient_id, user_id=user.pk, deleted=deleted)


def _delete(queryset: QuerySet[Model], removed: dict[type[Model], set[object]]) -> dict[str, int]:
    """Delete like ``queryset.delete()`` (the same collector, the same cascade), noting in
    ``removed`` the primary key of every row it deletes, whatever its table."""
    collector = Collector(using=router.db_for_write(queryset.model), origin=queryset)
    collector.collect(queryset)
    for model, instances in collector.data.items():
        removed[model].update(instance.pk for instance in instances)
    for fast in collector.fast_deletes:  # rows deleted by one query, without loading them
        removed[fast.model].update(fast.values_list("pk", flat=True))
    _, per_model = collector.delete()
    return per_model


def _scrub_admin_log(removed: dict[type[Model], set[object]], *, mentions: Iterable[str]) -> None:
    """Blank the descriptions of the Django admin's log rows about what was erased.

    A row's ``object_repr`` is the object's ``str()`` when the admin wrote it (an episode's names
    the patient) and its ``change_message`` may describe inline rows; the rows stay (the admin's
    own history of who did what), described by model and id only.
    """
    for model, pks in removed.items():
        content_type = ContentType.objects.get_for_model(model, for_concrete_model=False)
        ids = sorted(str(pk) for pk in pks)
        for start in range(0, len(ids), 500):
            LogEntry.objects.filter(
                content_type=content_type, object_id__in=ids[start : start + 500]
            ).update(
                object_repr=Concat(Value(f"erased {model._meta.model_name} "), F("object_id")),
                change_message="",
            )
    # Rows about anything else that still name the patient (a colleague's account edited with the
    # patient's address in it, a description written by hand): blanked too.
    named = Q()
    for text in (mention.strip() for mention in mentions):
        if text:
            named |= Q(object_repr__icontains=text) | Q(change_message__icontains=text)
    if not named:
        return
    rows = LogEntry.objects.filter(named)
    for content_type_id in set(rows.values_list("content_type_id", flat=True)):
        model_name = ContentType.objects.get_for_id(content_type_id).model
        rows.filter(content_type_id=content_type_id).update(
            object_repr=Concat(Value(f"erased {model_name} "), F("object_id")), change_message=""
        )
