"""Reads for staff administration (pages and API): the clinic's staff, their caseloads, covers.

A staff member or a cover is reached through the caller's clinic only: :func:`staff_for` and
:func:`covers_for` hold nothing of another clinic (a 404 there), and nothing at all for a patient.
The role (only clinic admins act) is checked after, so a therapist of the clinic gets a 403, as on
the other settings pages.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Count, Exists, OuterRef, QuerySet
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Cover, Patient, Role, User
from accounts.scoping import AnyUser, cover_today

STAFF_ROLES = (Role.THERAPIST, Role.CLINIC_ADMIN)


def staff_for(user: AnyUser) -> QuerySet[User]:
    """The therapists and admins of the caller's clinic, for its active staff; else nothing."""
    if not isinstance(user, User) or not user.is_active or user.clinic_id is None:
        return User.objects.none()
    if not user.is_clinic_staff:
        return User.objects.none()
    return User.objects.filter(clinic_id=user.clinic_id, role__in=STAFF_ROLES)


def covers_for(user: AnyUser) -> QuerySet[Cover]:
    """Every cover of the caller's clinic (its active staff only), with both therapists."""
    if not isinstance(user, User) or not user.is_active or user.clinic_id is None:
        return Cover.objects.none()
    if not user.is_clinic_staff:
        return Cover.objects.none()
    return Cover.objects.filter(clinic_id=user.clinic_id).select_related("absent", "covering")


def covers_current_and_coming(user: AnyUser) -> QuerySet[Cover]:
    """The covers that are running or still to come (not cancelled), soonest first."""
    return (
        covers_for(user)
        .filter(cancelled_at__isnull=True, end_date__gte=cover_today())
        .order_by("start_date", "pk")
    )


def patients_of(member: User) -> QuerySet[Patient]:
    """The patients assigned to ``member`` (whatever their episodes' state), by name."""
    if member.clinic_id is None:
        return Patient.objects.none()
    return (
        Patient.objects.filter(therapist=member, user__clinic_id=member.clinic_id)
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "pk")
    )


@dataclass
class StaffRow:
    member: User
    patients: int
    invited: bool  # never set a password (an invitation is the way in)
    two_factor: bool
    covered_by: list[Cover] = field(default_factory=list)  # running or to come
    covering: list[Cover] = field(default_factory=list)

    @property
    def status(self) -> str:
        if not self.member.is_active:
            return "inactive"
        return "invited" if self.invited else "active"


def staff_rows(user: AnyUser) -> list[StaffRow]:
    """The staff list: each member with their number of patients, whether they still have to
    accept their invitation, whether they use two-factor sign-in, and their covers. Three
    queries whatever the size of the clinic."""
    members = list(
        staff_for(user)
        .annotate(
            patient_count=Count("assigned_patients", distinct=True),
            has_totp=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)),
        )
        .order_by("-is_active", "last_name", "first_name", "pk")
    )
    by_absent: dict[int, list[Cover]] = defaultdict(list)
    by_covering: dict[int, list[Cover]] = defaultdict(list)
    for cover in covers_current_and_coming(user):
        by_absent[cover.absent_id].append(cover)
        by_covering[cover.covering_id].append(cover)
    return [
        StaffRow(
            member=member,
            patients=member.patient_count,
            invited=not member.has_usable_password() and member.last_login is None,
            two_factor=bool(member.has_totp),
            covered_by=by_absent.get(member.pk, []),
            covering=by_covering.get(member.pk, []),
        )
        for member in members
    ]


def reassign_targets(user: AnyUser, *, exclude: User | None = None) -> QuerySet[User]:
    """The therapists a patient may be given to: active therapists of the caller's clinic."""
    found = staff_for(user).filter(role=Role.THERAPIST, is_active=True)
    if exclude is not None:
        found = found.exclude(pk=exclude.pk)
    return found.order_by("last_name", "first_name", "pk")


def covering_therapists(absent_ids: Iterable[int], *, on: dt.date) -> dict[int, list[User]]:
    """For each of these therapists, the active colleagues covering them ``on`` that day."""
    found: dict[int, list[User]] = defaultdict(list)
    ids = set(absent_ids)
    if not ids:
        return found
    for cover in (
        Cover.objects.in_force(on)
        .filter(absent_id__in=ids, covering__is_active=True)
        .select_related("absent", "covering")
    ):
        # Both of the cover's clinic, as cover_create made them; a row saying otherwise gives
        # nobody anything (scoping checks the same).
        if cover.covering.clinic_id == cover.clinic_id == cover.absent.clinic_id:
            found[cover.absent_id].append(cover.covering)
    return found
