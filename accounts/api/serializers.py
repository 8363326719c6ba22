"""Input and output shapes of the auth and patient endpoints. Validation of meaning lives in
``accounts.services``; these check types and shapes only."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from accounts.models import ApiToken, Patient, User


# --- Auth --------------------------------------------------------------------------------------
class TokenObtainInputSerializer(serializers.Serializer[Any]):
    email = serializers.CharField(max_length=254)
    password = serializers.CharField(max_length=256, trim_whitespace=False)
    otp = serializers.CharField(
        max_length=32,
        required=False,
        allow_blank=True,
        default="",
        help_text="Therapists and clinic admins who use two-factor sign-in: the current 6-digit "
        "code from their authenticator app, or one of their recovery codes.",
    )


class TokenSerializer(serializers.Serializer[Any]):
    token = serializers.CharField(help_text="Send it as `Authorization: Token <token>`.")


class ApiTokenSerializer(serializers.ModelSerializer[ApiToken]):
    current = serializers.SerializerMethodField(
        help_text="Whether this request is authenticated with this token."
    )

    class Meta:
        model = ApiToken
        fields = ["id", "created_at", "expires_at", "last_used_at", "current"]
        read_only_fields = fields

    def get_current(self, token: ApiToken) -> bool:
        auth = self.context["request"].auth
        return isinstance(auth, ApiToken) and auth.pk == token.pk


class InvitationAcceptInputSerializer(serializers.Serializer[Any]):
    token = serializers.CharField(max_length=256, help_text="The token from the invite URL.")
    password = serializers.CharField(max_length=256, trim_whitespace=False)


class InvitationAcceptedSerializer(serializers.Serializer[Any]):
    email = serializers.EmailField(help_text="Sign in with this address and the new password.")


# --- Patients ----------------------------------------------------------------------------------
class PatientCreateInputSerializer(serializers.Serializer[Any]):
    email = serializers.EmailField(max_length=254)
    first_name = serializers.CharField(max_length=150)
    last_name = serializers.CharField(max_length=150)
    timezone = serializers.CharField(
        max_length=64, required=False, default="UTC", help_text="IANA name, e.g. Europe/London."
    )
    therapist = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Clinic admins only: the id of a therapist of the clinic to assign. A "
        "therapist's new patient is always assigned to that therapist.",
    )
    language = serializers.CharField(
        max_length=10,
        required=False,
        default="",
        allow_blank=True,
        help_text="The patient's language, a code such as `en` or `es`: the invitation email's "
        "and, until the patient chooses another, their pages' and reminders'. Blank: the "
        "site's default for emails, the phone's language for pages.",
    )
    birth_date = serializers.DateField(
        required=False, allow_null=True, default=None, help_text="Date of birth, YYYY-MM-DD."
    )
    sex = serializers.CharField(
        max_length=8,
        required=False,
        allow_blank=True,
        default="",
        help_text="Sex as the clinic records it: male, female, other, unknown, or blank.",
    )
    mrn = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        default="",
        help_text="The clinic's medical record number (unique in the clinic), or blank.",
    )


class PatientIdentifiersInputSerializer(serializers.Serializer[Any]):
    """``PATCH /api/v1/patients/{id}/``: any of the identifiers; a field left out keeps its
    value, blank (or null for the date) clears it."""

    birth_date = serializers.DateField(
        required=False, allow_null=True, help_text="Date of birth, YYYY-MM-DD, or null."
    )
    sex = serializers.CharField(
        max_length=8,
        required=False,
        allow_blank=True,
        help_text="Sex as the clinic records it: male, female, other, unknown, or blank.",
    )
    mrn = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        help_text="The clinic's medical record number (unique in the clinic), or blank.",
    )


class PatientUpdateInputSerializer(PatientIdentifiersInputSerializer):
    """The schema of ``PATCH /api/v1/patients/{id}/``: identifiers and/or a reassignment."""

    therapist = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="Clinic admins: the id of an active therapist of the clinic, or null for "
        "nobody (the clinic's admins then get the patient's alerts).",
    )


class PatientSerializer(serializers.ModelSerializer[Patient]):
    email = serializers.EmailField(source="user.email", read_only=True)
    first_name = serializers.CharField(source="user.first_name", read_only=True)
    last_name = serializers.CharField(source="user.last_name", read_only=True)
    therapist: serializers.PrimaryKeyRelatedField[User] = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True
    )
    activated = serializers.SerializerMethodField(
        help_text="Whether the patient has set a password through their invitation."
    )
    # Blank when not recorded: a plain string, not the choices' enum (which has no blank).
    sex = serializers.CharField(
        read_only=True,
        help_text="Sex as the clinic records it: male, female, other, unknown, or blank.",
    )

    class Meta:
        model = Patient
        fields = [
            "id",
            "email",
            "first_name",
            "last_name",
            "timezone",
            "therapist",
            "activated",
            "created_at",
            "birth_date",
            "sex",
            "mrn",
        ]
        read_only_fields = fields

    def get_activated(self, patient: Patient) -> bool:
        return patient.user.has_usable_password()


class PatientCreatedSerializer(PatientSerializer):
    invite_url = serializers.SerializerMethodField(
        help_text="A one-time link (`.../invite/<token>/`); POST its token with a password to "
        "/api/v1/auth/invitations/accept/."
    )

    class Meta(PatientSerializer.Meta):
        fields = [*PatientSerializer.Meta.fields, "invite_url"]
        read_only_fields = fields

    def get_invite_url(self, patient: Patient) -> str:
        return str(self.context["invite_url"])


class InvitationIssuedSerializer(serializers.Serializer[Any]):
    invite_url = serializers.CharField()
    expires_at = serializers.DateTimeField()
