"""API v1: staff administration (clinic admins) and reassigning a patient.

A staff member or a cover of another clinic is a 404 (``staff_for``/``covers_for`` hold only the
caller's clinic); a therapist of the clinic gets a 403 (the role is checked after the object is
found, as on the webhook endpoints); a patient reaches no staff member at all (404) and, on their
own patient record, may not reassign (403). Each write calls one service of accounts/staff.py.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import staff
from accounts.api.base import ApiView
from accounts.api.serializers import PatientSerializer
from accounts.api.staff_serializers import (
    CoverCreateInputSerializer,
    CoverSerializer,
    DeactivationSerializer,
    PatientReassignInputSerializer,
    StaffDeactivateInputSerializer,
    StaffInviteInputSerializer,
    StaffSerializer,
)
from accounts.models import Cover, Role, User
from accounts.scoping import cover_today, patient_for_user_or_404
from accounts.staff_selectors import (
    StaffRow,
    covers_for,
    patients_of,
    staff_for,
    staff_rows,
)

STAFF_TAG = ["staff"]
ADMIN_ONLY = "Only clinic admins manage staff."
THERAPIST_UNKNOWN = "Choose an active therapist of your clinic."


class StaffApiView(ApiView):
    def require_admin(self) -> User:
        """403 for anybody but an active clinic admin (after the object was found in reach)."""
        if not staff.can_administer_staff(self.request.user):
            raise PermissionDenied(ADMIN_ONLY)
        return self.caller

    def member_or_404(self, pk: int) -> User:
        member = staff_for(self.request.user).filter(pk=pk).first()
        if member is None:
            raise Http404("Not found.")
        return member

    def context(self) -> dict[str, Any]:
        return {"request": self.request, "today": cover_today()}


def _row_of(user: User, member: User) -> StaffRow:
    return next(row for row in staff_rows(user) if row.member.pk == member.pk)


def _therapist_in_clinic(user: User, pk: int | None) -> User | None:
    """The therapist of the caller's clinic with this id (active or not: the service says which
    it may not be); None for None, and for an id that is no therapist of the clinic."""
    if pk is None:
        return None
    return staff_for(user).filter(pk=pk, role=Role.THERAPIST).first()


class StaffListView(StaffApiView):
    @extend_schema(
        tags=STAFF_TAG,
        operation_id="staff_list",
        summary="The clinic's therapists and admins (clinic admins)",
        responses=StaffSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        if not staff_for(request.user).exists():
            # A patient (or an account without a clinic) has no staff list to see.
            raise Http404("Not found.")
        actor = self.require_admin()
        rows = staff_rows(actor)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(rows, request, view=self)
        data = StaffSerializer(page or [], many=True, context=self.context()).data  # type: ignore[arg-type]
        return paginator.get_paginated_response(data)

    @extend_schema(
        tags=STAFF_TAG,
        operation_id="staff_invite",
        summary="Invite a therapist or clinic admin: they get an email with a one-time link",
        description="The link goes to the new member's email address only; it is never in the "
        "answer. An address already in use anywhere (or a look-alike of one) is a 400 naming "
        "`email`.",
        request=StaffInviteInputSerializer,
        responses={201: StaffSerializer, 403: OpenApiResponse(description="Not a clinic admin")},
    )
    def post(self, request: Request) -> Response:
        if not staff_for(request.user).exists():
            raise Http404("Not found.")
        actor = self.require_admin()
        data = StaffInviteInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        invited = staff.staff_invite(actor=actor, **data.validated_data)
        body = StaffSerializer(_row_of(actor, invited.member), context=self.context()).data
        return Response(body, status=status.HTTP_201_CREATED)


class StaffDetailView(StaffApiView):
    @extend_schema(
        tags=STAFF_TAG,
        operation_id="staff_retrieve",
        summary="One member of the clinic's staff, with the ids of their patients",
        responses=StaffSerializer,
    )
    def get(self, request: Request, pk: int) -> Response:
        member = self.member_or_404(pk)
        actor = self.require_admin()
        body = dict(StaffSerializer(_row_of(actor, member), context=self.context()).data)
        body["patient_ids"] = list(patients_of(member).values_list("pk", flat=True))
        return Response(body)


class StaffInvitationView(StaffApiView):
    @extend_schema(
        tags=STAFF_TAG,
        operation_id="staff_invitation_issue",
        summary="Email a fresh invitation link (earlier unused links stop working)",
        request=None,
        responses={
            202: OpenApiResponse(description="The email is on its way"),
            400: OpenApiResponse(description="They already set a password, or are inactive"),
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        member = self.member_or_404(pk)
        actor = self.require_admin()
        staff.staff_invitation_issue(actor=actor, member=member)
        return Response(
            {"detail": "A new invitation link is on its way to their email address."},
            status=status.HTTP_202_ACCEPTED,
        )


class StaffDeactivateView(StaffApiView):
    @extend_schema(
        tags=STAFF_TAG,
        operation_id="staff_deactivate",
        summary="Deactivate: sign-ins refused, sessions ended, API tokens revoked",
        description="Refused (400 naming `reassign`, listing the patients) while they have "
        "patients and the body does not say who takes each one. Their covers are cancelled. "
        "Not for oneself, nor for the clinic's last active admin (400 naming `member`).",
        request=StaffDeactivateInputSerializer,
        responses={200: DeactivationSerializer, 400: OpenApiResponse(description="See above")},
    )
    def post(self, request: Request, pk: int) -> Response:
        member = self.member_or_404(pk)
        actor = self.require_admin()
        data = StaffDeactivateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        chosen: dict[int, User | None] = {}
        unknown: list[str] = []
        if "reassign_all_to" in request.data:
            target = _therapist_in_clinic(actor, values["reassign_all_to"])
            if values["reassign_all_to"] is not None and target is None:
                raise serializers.ValidationError({"reassign_all_to": [THERAPIST_UNKNOWN]})
            chosen = {patient.pk: target for patient in patients_of(member)}
        for key, therapist_id in values["reassign"].items():
            try:
                patient_id = int(key)
            except ValueError:
                unknown.append(str(key))
                continue
            target = _therapist_in_clinic(actor, therapist_id)
            if therapist_id is not None and target is None:
                unknown.append(str(key))
                continue
            chosen[patient_id] = target
        if unknown:
            raise serializers.ValidationError(
                {"reassign": [f"{THERAPIST_UNKNOWN} (patients {', '.join(sorted(unknown))})"]}
            )
        done = staff.staff_deactivate(actor=actor, member=member, reassign=chosen)
        body = DeactivationSerializer(
            {
                "id": member.pk,
                "is_active": member.is_active,
                "moved": {str(k): v for k, v in done.moved.items()},
                "covers_cancelled": done.covers_cancelled,
                "sessions_ended": done.sessions_ended,
            }
        ).data
        return Response(body)


class StaffReactivateView(StaffApiView):
    @extend_schema(
        tags=STAFF_TAG,
        operation_id="staff_reactivate",
        summary="Let a deactivated member sign in again (old tokens stay revoked)",
        request=None,
        responses=StaffSerializer,
    )
    def post(self, request: Request, pk: int) -> Response:
        member = self.member_or_404(pk)
        actor = self.require_admin()
        staff.staff_reactivate(actor=actor, member=member)
        return Response(StaffSerializer(_row_of(actor, member), context=self.context()).data)


class CoverListView(StaffApiView):
    @extend_schema(
        tags=STAFF_TAG,
        operation_id="staff_covers_list",
        summary="The clinic's covers, newest first (cancelled and past ones included)",
        responses=CoverSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        covers = self._covers()
        self.require_admin()
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(covers.order_by("-start_date", "-pk"), request, self)
        data = CoverSerializer(page, many=True, context=self.context()).data
        return paginator.get_paginated_response(data)

    @extend_schema(
        tags=STAFF_TAG,
        operation_id="staff_covers_create",
        summary="Set cover while a therapist is away",
        description="From `start_date` to `end_date` (both included) the covering therapist "
        "reaches the absent therapist's patients and gets their alert emails. Both must be "
        "active therapists of the clinic; one cover at a time per absent therapist; at most 366 "
        "days; the end not in the past. Each problem is a 400 naming its field.",
        request=CoverCreateInputSerializer,
        responses={201: CoverSerializer},
    )
    def post(self, request: Request) -> Response:
        self._covers()
        actor = self.require_admin()
        data = CoverCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        errors: dict[str, list[str]] = {}
        people: dict[str, User] = {}
        for name in ("absent", "covering"):
            found = _therapist_in_clinic(actor, values[name])
            if found is None:
                errors[name] = [THERAPIST_UNKNOWN]
            else:
                people[name] = found
        if errors:
            raise serializers.ValidationError(errors)
        cover = staff.cover_create(
            actor=actor,
            absent=people["absent"],
            covering=people["covering"],
            start_date=values["start_date"],
            end_date=values["end_date"],
            note=values["note"],
        )
        return Response(
            CoverSerializer(cover, context=self.context()).data, status=status.HTTP_201_CREATED
        )

    def _covers(self) -> QuerySet[Cover]:
        if not staff_for(self.request.user).exists():
            raise Http404("Not found.")
        return covers_for(self.request.user)


class CoverApiView(StaffApiView):
    def cover_or_404(self, pk: int) -> Cover:
        cover = covers_for(self.request.user).filter(pk=pk).first()
        if cover is None:
            raise Http404("Not found.")
        return cover


class CoverDetailView(CoverApiView):
    @extend_schema(tags=STAFF_TAG, operation_id="staff_covers_retrieve", responses=CoverSerializer)
    def get(self, request: Request, pk: int) -> Response:
        cover = self.cover_or_404(pk)
        self.require_admin()
        return Response(CoverSerializer(cover, context=self.context()).data)


class CoverCancelView(CoverApiView):
    @extend_schema(
        tags=STAFF_TAG,
        operation_id="staff_covers_cancel",
        summary="Cancel a cover (the row stays, marked cancelled)",
        request=None,
        responses=CoverSerializer,
    )
    def post(self, request: Request, pk: int) -> Response:
        cover = self.cover_or_404(pk)
        actor = self.require_admin()
        staff.cover_cancel(actor=actor, cover=cover)
        return Response(CoverSerializer(cover, context=self.context()).data)


def patient_reassign_response(view: ApiView, request: Request, pk: int) -> Response:
    """``PATCH /api/v1/patients/{id}/`` ``{"therapist": id|null}``: clinic admins reassign."""
    patient = patient_for_user_or_404(request.user, pk)
    actor = view.require_clinic_staff()
    if not staff.can_administer_staff(actor):
        raise PermissionDenied("Only clinic admins reassign patients.")
    data = PatientReassignInputSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    therapist_id = data.validated_data["therapist"]
    therapist = _therapist_in_clinic(actor, therapist_id)
    if therapist_id is not None and therapist is None:
        raise serializers.ValidationError({"therapist": [THERAPIST_UNKNOWN]})
    staff.patient_reassign(actor=actor, patient=patient, therapist=therapist)
    return Response(PatientSerializer(patient).data)
