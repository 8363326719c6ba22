"""Input and output shapes of the staff administration endpoints (clinic admins). They check
types and shapes; accounts/staff.py decides the rest."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from accounts.models import Cover, Role
from accounts.staff_selectors import StaffRow


class CoverSerializer(serializers.ModelSerializer[Cover]):
    absent = serializers.IntegerField(source="absent_id", read_only=True)
    covering = serializers.IntegerField(source="covering_id", read_only=True)
    in_force = serializers.SerializerMethodField(
        help_text="Whether the cover gives reach today (started, not ended, not cancelled)."
    )

    class Meta:
        model = Cover
        fields = [
            "id",
            "absent",
            "covering",
            "start_date",
            "end_date",
            "note",
            "created_at",
            "cancelled_at",
            "in_force",
        ]
        read_only_fields = fields

    def get_in_force(self, cover: Cover) -> bool:
        today = self.context["today"]
        return bool(cover.cancelled_at is None and cover.start_date <= today <= cover.end_date)


class CoverCreateInputSerializer(serializers.Serializer[Any]):
    absent = serializers.IntegerField(help_text="The id of the therapist who is away.")
    covering = serializers.IntegerField(help_text="The id of the therapist who covers them.")
    start_date = serializers.DateField()
    end_date = serializers.DateField(help_text="Included: the cover ends at the end of this day.")
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class StaffSerializer(serializers.Serializer[StaffRow]):
    id = serializers.IntegerField(source="member.pk")
    email = serializers.EmailField(source="member.email")
    first_name = serializers.CharField(source="member.first_name")
    last_name = serializers.CharField(source="member.last_name")
    role = serializers.ChoiceField(
        source="member.role", choices=[Role.THERAPIST.value, Role.CLINIC_ADMIN.value]
    )
    is_active = serializers.BooleanField(source="member.is_active")
    status = serializers.ChoiceField(
        choices=["active", "invited", "inactive"],
        help_text="`invited`: has not set a password through their invitation yet.",
    )
    patients = serializers.IntegerField(help_text="How many patients are assigned to them.")
    two_factor = serializers.BooleanField(help_text="Whether they use an authenticator app.")
    last_login = serializers.DateTimeField(source="member.last_login", allow_null=True)
    covered_by = CoverSerializer(
        many=True, help_text="Covers of their absence, running or to come."
    )
    covering = CoverSerializer(many=True, help_text="Colleagues they cover, running or to come.")


class StaffInviteInputSerializer(serializers.Serializer[Any]):
    email = serializers.EmailField(max_length=254)
    first_name = serializers.CharField(max_length=150)
    last_name = serializers.CharField(max_length=150)
    role = serializers.ChoiceField(choices=[Role.THERAPIST.value, Role.CLINIC_ADMIN.value])
    language = serializers.CharField(
        max_length=10,
        required=False,
        default="",
        allow_blank=True,
        help_text="Their language (`en`, `es`): the invitation email's, and their pages' until "
        "they choose.",
    )


class StaffDeactivateInputSerializer(serializers.Serializer[Any]):
    reassign = serializers.DictField(
        child=serializers.IntegerField(allow_null=True),
        required=False,
        default=dict,
        help_text="For each of their patients (by patient id, as a string key), the id of the "
        "therapist who takes them, or null to leave the patient unassigned (the clinic's "
        "admins then get their alerts).",
    )
    reassign_all_to = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="Instead of `reassign`: one therapist who takes all their patients (null: "
        "all unassigned). Sent together with `reassign`, `reassign` wins for the patients it "
        "names.",
    )


class DeactivationSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    is_active = serializers.BooleanField()
    moved = serializers.DictField(
        child=serializers.IntegerField(allow_null=True),
        help_text="Patient id -> the therapist who took them (null: unassigned).",
    )
    covers_cancelled = serializers.ListField(child=serializers.IntegerField())
    sessions_ended = serializers.IntegerField()


class PatientReassignInputSerializer(serializers.Serializer[Any]):
    therapist = serializers.IntegerField(
        allow_null=True,
        help_text="The id of an active therapist of the clinic, or null for nobody (the clinic's "
        "admins then get the patient's alerts).",
    )
