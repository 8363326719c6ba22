"""The one place that decides who may reach which patient.

Every page and API endpoint that touches patient data narrows its queryset with
:func:`scope_to_patients` (or uses :func:`patients_for`), so reach is decided here and nowhere
else. Anything outside the caller's reach is simply absent from the queryset, which makes views
answer 404 for it: a foreign object is indistinguishable from one that does not exist.

- a patient reaches their own patient record;
- a therapist reaches the patients assigned to them in their own clinic, and, while they cover an
  absent colleague of that clinic (a ``Cover`` in force today), the colleague's patients too;
- a clinic admin reaches every patient of their clinic;
- anybody else (anonymous, a user with no clinic role) reaches nothing.
"""

from __future__ import annotations

import datetime
from typing import Any, TypeVar

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Model, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from accounts.models import Cover, Patient, Role, User

M = TypeVar("M", bound=Model)

AnyUser = User | AnonymousUser


def _patient_condition(user: AnyUser, prefix: str) -> Q | None:
    """The filter that keeps the patients ``user`` may reach; None means "nothing"."""
    if not user.is_authenticated or not isinstance(user, User) or not user.is_active:
        return None
    p = f"{prefix}__" if prefix else ""
    if user.role == Role.PATIENT:
        return Q(**{f"{p}user_id": user.pk})
    if user.clinic_id is None:
        return None
    if user.role == Role.THERAPIST:
        # Their own patients, and the patients of the colleagues they cover today; both only
        # within their own clinic (a cover names two therapists of one clinic, and the clinic
        # condition below holds whatever a cover row says).
        covered = covered_therapist_ids(user_id=user.pk, clinic_id=user.clinic_id)
        return (Q(**{f"{p}therapist_id": user.pk}) | Q(**{f"{p}therapist_id__in": covered})) & Q(
            **{f"{p}user__clinic_id": user.clinic_id}
        )
    if user.role == Role.CLINIC_ADMIN:
        return Q(**{f"{p}user__clinic_id": user.clinic_id})
    return None


def cover_today() -> datetime.date:
    """The day covers are judged on: today in the server's time zone (``TIME_ZONE``)."""
    return timezone.localdate()


def covered_therapist_ids(*, user_id: int, clinic_id: int) -> QuerySet[Any, Any]:
    """A subquery of the ids of the therapists ``user_id`` covers today (in their clinic)."""
    return (
        Cover.objects.in_force(cover_today())
        .filter(covering_id=user_id, clinic_id=clinic_id, absent__clinic_id=clinic_id)
        .values("absent_id")
    )


def scope_to_patients(user: AnyUser, queryset: QuerySet[M], *, via: str) -> QuerySet[M]:
    """Narrow any queryset to rows whose patient ``user`` may reach.

    ``via`` is the lookup path from the queryset's model to ``Patient``: ``"patient"`` for
    episodes, ``"episode__patient"`` for entries, ``""`` for patients themselves.
    """
    condition = _patient_condition(user, via)
    if condition is None:
        return queryset.none()
    return queryset.filter(condition)


def patients_for(user: AnyUser) -> QuerySet[Patient]:
    return scope_to_patients(user, Patient.objects.select_related("user", "therapist"), via="")


def get_in_reach_or_404(user: AnyUser, queryset: QuerySet[M], *, via: str, **lookup: Any) -> M:
    """Fetch one object that ``user`` may reach, or raise Http404 (never 403)."""
    try:
        return scope_to_patients(user, queryset, via=via).get(**lookup)
    except (ObjectDoesNotExist, ValueError, TypeError) as exc:
        # ValueError/TypeError: a malformed id in the URL is as absent as a foreign one.
        raise Http404("Not found.") from exc


def patient_for_user_or_404(user: AnyUser, patient_id: Any) -> Patient:
    return get_in_reach_or_404(
        user, Patient.objects.select_related("user", "therapist"), via="", pk=patient_id
    )


def can_manage_patients(user: AnyUser) -> bool:
    """Therapists and clinic admins create patients, episodes, prescriptions, interventions."""
    return (
        isinstance(user, User) and user.is_active and user.is_clinic_staff and bool(user.clinic_id)
    )


def therapists_in_clinic(user: AnyUser) -> QuerySet[User]:
    """The therapists a caller may assign a patient to: only within the caller's own clinic."""
    if not can_manage_patients(user):
        return User.objects.none()
    assert isinstance(user, User) and user.clinic_id is not None
    return User.objects.filter(clinic_id=user.clinic_id, role=Role.THERAPIST, is_active=True)
