"""The one place that decides who may reach which patient.

Every page and API endpoint that touches patient data narrows its queryset with
:func:`scope_to_patients` (or uses :func:`patients_for`), so reach is decided here and nowhere
else. Anything outside the caller's reach is simply absent from the queryset, which makes views
answer 404 for it: a foreign object is indistinguishable from one that does not exist.

- a patient reaches their own patient record;
- a therapist reaches the patients assigned to them in their own clinic;
- a clinic admin reaches every patient of their clinic;
- anybody else (anonymous, a user with no clinic role) reaches nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import MultipleObjectsReturned, ObjectDoesNotExist
from django.db.models import Model, Q, QuerySet
from django.http import Http404

from accounts.models import Patient, Role, User
from accounts.prepared import INT64_MAX, INT64_MIN, PreparedQuery

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
        return Q(**{f"{p}therapist_id": user.pk, f"{p}user__clinic_id": user.clinic_id})
    if user.role == Role.CLINIC_ADMIN:
        return Q(**{f"{p}user__clinic_id": user.clinic_id})
    return None


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


class ScopedLookup(Generic[M]):
    """:func:`get_in_reach_or_404` for a lookup a hot path makes on every request, compiled once.

    ``ScopedLookup(lambda: Episode.objects.select_related("patient"), via="patient")`` and then
    ``.get_or_404(user, pk)`` answers exactly as ``get_in_reach_or_404(user, queryset,
    via="patient", pk=pk)``: the reach rule is still :func:`_patient_condition`'s, applied with
    ``queryset.filter(condition)`` as :func:`scope_to_patients` applies it. What is kept is the
    SQL the ORM compiles for it, once per form of the condition (a patient's, a therapist's, a
    clinic admin's), with the caller's ids and the looked-up id as parameters
    (:mod:`accounts.prepared`). A condition of another form, or an id that is not a plain
    64-bit integer, takes the uncompiled path.
    """

    def __init__(self, queryset: Callable[[], QuerySet[M]], *, via: str, field: str = "pk") -> None:
        self._queryset = queryset
        self._via = via
        self._field = field
        self._prepared: dict[tuple[Any, ...], PreparedQuery[M]] = {}

    def get_or_404(self, user: AnyUser, value: Any) -> M:
        condition = _patient_condition(user, self._via)
        if condition is None:
            raise Http404("Not found.")
        ids = [child[1] for child in condition.children if isinstance(child, tuple)]
        if (
            len(ids) != len(condition.children)
            or not all(type(v) is int for v in (*ids, value))
            or not INT64_MIN <= value <= INT64_MAX
        ):
            return get_in_reach_or_404(
                user, self._queryset(), via=self._via, **{self._field: value}
            )
        form = (
            condition.connector,
            condition.negated,
            tuple(child[0] for child in condition.children),  # type: ignore[index]
        )
        prepared = self._prepared.get(form)
        if prepared is None:
            prepared = self._prepared[form] = self._prepare(form)
        found = prepared.fetch(value=value, **{f"reach{i}": v for i, v in enumerate(ids)})
        if not found:
            raise Http404("Not found.")
        if len(found) > 1:
            raise MultipleObjectsReturned(f"More than one {self._field}={value!r} in reach.")
        return found[0]

    def _prepare(self, form: tuple[Any, ...]) -> PreparedQuery[M]:
        connector, negated, lookups = form
        names = [f"reach{i}" for i in range(len(lookups))]

        def build(value: int, **ids: int) -> QuerySet[M]:
            # The caller's condition with the ids standing in, then what .get() adds: the
            # lookup, no ordering, and a limit that tells one row from several.
            condition = Q(
                *[(lookup, ids[name]) for lookup, name in zip(lookups, names, strict=True)],
                _connector=connector,
                _negated=negated,
            )
            queryset = self._queryset().filter(condition).filter(**{self._field: value})
            return queryset.order_by()[:2]

        return PreparedQuery(build, "value", *names)


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
