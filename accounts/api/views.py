"""API v1: tokens, invitations and patients. Each view parses input, checks reach and role, and
calls one service."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from django.db import transaction
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import erasure, selectors, services, throttling, twofactor
from accounts.api.base import ApiView
from accounts.api.serializers import (
    ApiTokenSerializer,
    InvitationAcceptedSerializer,
    InvitationAcceptInputSerializer,
    InvitationIssuedSerializer,
    PatientCreatedSerializer,
    PatientCreateInputSerializer,
    PatientIdentifiersInputSerializer,
    PatientSerializer,
    PatientUpdateInputSerializer,
    TokenObtainInputSerializer,
    TokenSerializer,
)
from accounts.api.staff_views import patient_reassign_response
from accounts.audit import audit_read
from accounts.models import ApiToken, Patient, User
from accounts.scoping import patient_for_user_or_404, patients_for, therapists_in_clinic

AUTH_TAG = ["auth"]
PATIENT_TAG = ["patients"]


class TokenObtainView(ApiView):
    # No authentication at all: a stale token header must not stop somebody from signing in.
    authentication_classes = ()
    permission_classes = (AllowAny,)

    @extend_schema(
        tags=AUTH_TAG,
        operation_id="auth_token_obtain",
        summary="Exchange email and password (and a two-factor code) for an API token",
        description="Therapists and clinic admins with two-factor sign-in also send `otp`. "
        "Bad credentials, or a missing or wrong `otp`, answer 400. Too many requests from one "
        "address (30 a minute), or an account locked after 10 failed passwords in 15 minutes "
        "(for 15 minutes), answer 429 with `Retry-After`.",
        request=TokenObtainInputSerializer,
        responses={
            200: TokenSerializer,
            400: OpenApiResponse(description="Bad credentials, or `otp` missing or wrong"),
            429: OpenApiResponse(description="Throttled or locked out; see Retry-After"),
        },
        auth=[],
    )
    def post(self, request: Request) -> Response:
        try:
            throttling.ip_rate_hit(request._request, scope="login")
            data = TokenObtainInputSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            email = data.validated_data["email"]
            user = authenticate(
                request._request, email=email, password=data.validated_data["password"]
            )
            if not isinstance(user, User):
                # While the address is locked the backend refuses without checking the
                # password: right or wrong, the answer is this same 429 (and this failure may be
                # the one that locked it).
                throttling.login_check(email)
                # One message for an unknown address and a wrong password: no account
                # enumeration.
                raise serializers.ValidationError(
                    {"non_field_errors": ["Unable to sign in with these credentials."]}
                )
            twofactor.api_sign_in_check(user=user, otp=data.validated_data["otp"])
        except throttling.LockedOut as exc:
            raise exceptions.Throttled(wait=exc.retry_after, detail=exc.message) from None
        return Response(TokenSerializer({"token": services.api_token_issue(user=user)}).data)


class TokenRevokeView(ApiView):
    @extend_schema(
        tags=AUTH_TAG,
        operation_id="auth_token_revoke",
        summary="Revoke the token this request is authenticated with",
        request=None,
        responses={204: None, 400: OpenApiResponse(description="Not token-authenticated")},
    )
    def post(self, request: Request) -> Response:
        if not isinstance(request.auth, ApiToken):
            raise serializers.ValidationError(
                {"non_field_errors": ["This request is not authenticated with an API token."]}
            )
        services.api_token_revoke(user=self.caller, token=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokenListView(ApiView):
    @extend_schema(
        tags=AUTH_TAG,
        operation_id="auth_tokens_list",
        summary="The caller's API tokens that still work (neither revoked nor expired)",
        responses=ApiTokenSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        return self.paginated_response(
            selectors.active_api_tokens(user=self.caller), ApiTokenSerializer
        )


class TokenDetailView(ApiView):
    @extend_schema(
        tags=AUTH_TAG,
        operation_id="auth_tokens_revoke",
        summary="Revoke one of the caller's tokens",
        request=None,
        responses={204: None, 404: OpenApiResponse(description="Not a live token of the caller")},
    )
    def delete(self, request: Request, pk: int) -> Response:
        # Somebody else's token, and a revoked or expired one, are simply not found.
        token = get_object_or_404(selectors.active_api_tokens(user=self.caller), pk=pk)
        services.api_token_revoke(user=self.caller, token=token)
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationAcceptView(ApiView):
    authentication_classes = ()
    permission_classes = (AllowAny,)

    @extend_schema(
        tags=AUTH_TAG,
        operation_id="auth_invitation_accept",
        summary="Set a password with a one-time invitation token",
        request=InvitationAcceptInputSerializer,
        responses={
            200: InvitationAcceptedSerializer,
            400: OpenApiResponse(description="Weak password; used, unknown or expired token"),
            429: OpenApiResponse(description="Too many requests from this address"),
        },
        auth=[],
    )
    def post(self, request: Request) -> Response:
        try:
            throttling.ip_rate_hit(request._request, scope="invitation")
        except throttling.LockedOut as exc:
            raise exceptions.Throttled(wait=exc.retry_after, detail=exc.message) from None
        data = InvitationAcceptInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.invitation_accept(
            token=data.validated_data["token"], password=data.validated_data["password"]
        )
        return Response(InvitationAcceptedSerializer({"email": user.email}).data)


class PatientListCreateView(ApiView):
    @extend_schema(
        tags=PATIENT_TAG,
        operation_id="patients_list",
        summary="Patients in the caller's reach",
        responses=PatientSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        response = self.paginated_response(patients_for(request.user), PatientSerializer)
        audit_read(
            request.user,
            action="patients.listed",
            obj=Patient,
            count=len(response.data["results"]),
        )
        return response

    @extend_schema(
        tags=PATIENT_TAG,
        operation_id="patients_create",
        summary="Invite a new patient to the caller's clinic",
        request=PatientCreateInputSerializer,
        responses={201: PatientCreatedSerializer},
    )
    def post(self, request: Request) -> Response:
        actor = self.require_clinic_staff()
        data = PatientCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values: dict[str, Any] = data.validated_data
        therapist: User | None = None
        if values["therapist"] is not None:
            # Only therapists of the caller's clinic can be found at all, so a foreign id reads
            # exactly like an unknown one.
            therapist = therapists_in_clinic(actor).filter(pk=values["therapist"]).first()
            if therapist is None:
                raise serializers.ValidationError(
                    {"therapist": ["Choose a therapist of your clinic."]}
                )
        created = services.patient_create(
            actor=actor,
            email=values["email"],
            first_name=values["first_name"],
            last_name=values["last_name"],
            timezone_name=values["timezone"],
            therapist=therapist,
            language=values["language"],
            birth_date=values["birth_date"],
            sex=values["sex"],
            mrn=values["mrn"],
        )
        out = PatientCreatedSerializer(
            created.patient, context={"invite_url": created.invitation.url}
        )
        return Response(out.data, status=status.HTTP_201_CREATED)


class PatientDetailView(ApiView):
    @extend_schema(
        tags=PATIENT_TAG,
        operation_id="patients_retrieve",
        summary="One patient in the caller's reach",
        responses=PatientSerializer,
    )
    def get(self, request: Request, pk: int) -> Response:
        patient = patient_for_user_or_404(request.user, pk)
        body = PatientSerializer(patient).data
        audit_read(request.user, action="patient.viewed", obj=patient, patient_id=patient.pk)
        return Response(body)

    @extend_schema(
        tags=PATIENT_TAG,
        operation_id="patients_update",
        summary="Record the patient's identifiers (therapist, clinic admin) or reassign the "
        "patient to another therapist (clinic admin)",
        description="Identifiers: any of `birth_date` (YYYY-MM-DD or null), `sex` (male, "
        "female, other, unknown or blank) and `mrn` (the clinic's medical record number, unique "
        "in the clinic, or blank); a field left out keeps its value. Audited "
        '(`patient.identifiers_changed`). Reassigning: `{"therapist": id}` or '
        "`{\"therapist\": null}` (nobody: the clinic's admins get the patient's alerts); a "
        "therapist gets 403, an id that is no active therapist of the clinic 400 naming "
        "`therapist`. Both in one request: all or nothing. A patient gets 403; another "
        "clinic's patient 404.",
        request=PatientUpdateInputSerializer,
        responses={
            200: PatientSerializer,
            403: OpenApiResponse(description="A patient, or a therapist reassigning"),
        },
    )
    def patch(self, request: Request, pk: int) -> Response:
        patient = patient_for_user_or_404(request.user, pk)
        actor = self.require_clinic_staff()
        identifiers = PatientIdentifiersInputSerializer(data=request.data)
        identifiers.is_valid(raise_exception=True)
        values: dict[str, Any] = identifiers.validated_data
        reassign = "therapist" in request.data or not values
        with transaction.atomic():
            if reassign:
                # Staff administration (issue 14): accounts/api/staff_views.py.
                patient_reassign_response(self, request, pk)
            if values:
                services.patient_identifiers_update(
                    actor=actor,
                    patient=patient,
                    birth_date=values.get("birth_date", patient.birth_date),
                    sex=values.get("sex", patient.sex),
                    mrn=values.get("mrn", patient.mrn),
                )
        patient = patient_for_user_or_404(request.user, pk)
        return Response(PatientSerializer(patient).data)

    @extend_schema(
        tags=PATIENT_TAG,
        operation_id="patients_erase",
        summary="Erase the patient on request (clinic admin): their clinical data is deleted "
        "and their account anonymised; the audit trail keeps ids only",
        request=None,
        responses={
            204: OpenApiResponse(description="Erased"),
            403: OpenApiResponse(description="Not a clinic admin"),
        },
    )
    def delete(self, request: Request, pk: int) -> Response:
        patient = patient_for_user_or_404(request.user, pk)
        actor = self.require_clinic_staff()
        # Therapists get past the staff check; the service refuses them (403).
        erasure.patient_erase(actor=actor, patient=patient)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PatientInvitationView(ApiView):
    @extend_schema(
        tags=PATIENT_TAG,
        operation_id="patients_invitation_issue",
        summary="Issue a fresh invitation link (earlier unused links stop working)",
        description="Only for a patient who has never set a password or signed in; for one who "
        "has, the answer is 400 naming `patient`: send a password-reset email instead "
        "(`POST /api/v1/patients/{id}/password-reset/`).",
        request=None,
        responses={
            200: InvitationIssuedSerializer,
            400: OpenApiResponse(description="The patient has already set a password"),
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        patient = patient_for_user_or_404(request.user, pk)
        actor = self.require_clinic_staff()
        # A patient who has set a password gets 400 naming "patient": staff send a password-reset
        # email instead (PatientPasswordResetView).
        issued = services.invitation_issue(actor=actor, patient=patient)
        return Response(
            InvitationIssuedSerializer(
                {"invite_url": issued.url, "expires_at": issued.invitation.expires_at}
            ).data
        )


class PatientPasswordResetView(ApiView):
    @extend_schema(
        tags=PATIENT_TAG,
        operation_id="patients_password_reset",
        summary="Email the patient a link to choose a new password",
        description="The link goes to the patient's email address only: it is never in the "
        "answer. At most `PAIS_PASSWORD_RESET_EMAILS_PER_HOUR` (3) reset emails an hour go to one "
        "address, whoever asks; beyond that 429. A patient who has not set a password yet: 400 "
        "naming `patient` (send a new invitation instead).",
        request=None,
        responses={
            202: OpenApiResponse(description="The email is on its way"),
            400: OpenApiResponse(description="The patient has not set a password yet"),
            429: OpenApiResponse(description="Enough reset emails to this address this hour"),
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        patient = patient_for_user_or_404(request.user, pk)
        actor = self.require_clinic_staff()
        try:
            services.patient_password_reset(actor=actor, patient=patient)
        except throttling.LockedOut as exc:
            raise exceptions.Throttled(wait=exc.retry_after, detail=exc.message) from None
        return Response(
            {"detail": "A password-reset link is on its way to the patient's email address."},
            status=status.HTTP_202_ACCEPTED,
        )
