"""Shapes of the referral follow-up endpoints (docs/api.md, "Referral follow-up").

Input serializers only parse (types and the YYYY-MM-DD date form); ``rehab.referrals`` checks the
values, with the same words as for the pages. A field left out of a PATCH keeps its value.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from rehab.api.serializers import StrictDateField, text_up_to
from rehab.free_text import NOTE_MAX_LENGTH
from rehab.models import Episode, EpisodeStatus, ReferralChange, ReferralOutcome
from rehab.referral_selectors import SHOW_VALUES, ReferralPanel, ReferralRow
from rehab.referrals import REASON_MAX_LENGTH, REFERRED_TO_MAX_LENGTH

# Plain text in the schema (the values in words): enums named "status" and "outcome" already
# exist for episodes and alerts. The service refuses any other value, naming the field.
STATUS_HELP = "The episode's status: " + ", ".join(EpisodeStatus.values) + "."
OUTCOME_HELP = "One of " + ", ".join(ReferralOutcome.values) + ", or empty: not known yet."


class ReferralListQuerySerializer(serializers.Serializer[Any]):
    show = serializers.ChoiceField(
        choices=SHOW_VALUES,
        required=False,
        help_text="all (default); awaiting: no outcome recorded yet; due: no appointment or "
        "outcome 14 days after the referral; outcome: an outcome recorded.",
    )


def _follow_up(row: ReferralRow) -> dict[str, Any]:
    follow_up = row.follow_up
    return {
        "appointment_date": follow_up.appointment_date if follow_up else None,
        "outcome": follow_up.outcome if follow_up else "",
        "outcome_date": follow_up.outcome_date if follow_up else None,
        "surgery_date": follow_up.surgery_date if follow_up else None,
        "note": follow_up.note if follow_up else "",
    }


class ReferralItemSerializer(serializers.Serializer[ReferralRow]):
    """One referred episode of the list; ``id`` is the episode's (a referral is its episode's)."""

    id = serializers.IntegerField(source="episode.pk")
    episode = serializers.IntegerField(source="episode.pk")
    patient = serializers.IntegerField(source="episode.patient_id")
    patient_name = serializers.SerializerMethodField()
    therapist = serializers.IntegerField(source="episode.patient.therapist_id", allow_null=True)
    status = serializers.CharField(source="episode.status", help_text=STATUS_HELP)
    referral_date = serializers.DateField(source="episode.referral_date")
    referred_to = serializers.CharField(source="episode.referred_to")
    days_since_referral = serializers.IntegerField()
    follow_up_due = serializers.BooleanField(source="due")
    appointment_date = serializers.SerializerMethodField()
    outcome = serializers.SerializerMethodField()
    outcome_date = serializers.SerializerMethodField()
    surgery_date = serializers.SerializerMethodField()
    reminder_sent_at = serializers.SerializerMethodField()

    def get_patient_name(self, row: ReferralRow) -> str:
        return row.episode.patient.user.get_full_name()

    def get_appointment_date(self, row: ReferralRow) -> str | None:
        day = _follow_up(row)["appointment_date"]
        return day.isoformat() if day else None

    def get_outcome(self, row: ReferralRow) -> str:
        return str(_follow_up(row)["outcome"])

    def get_outcome_date(self, row: ReferralRow) -> str | None:
        day = _follow_up(row)["outcome_date"]
        return day.isoformat() if day else None

    def get_surgery_date(self, row: ReferralRow) -> str | None:
        day = _follow_up(row)["surgery_date"]
        return day.isoformat() if day else None

    def get_reminder_sent_at(self, row: ReferralRow) -> str | None:
        sent = row.follow_up.reminder_sent_at if row.follow_up else None
        return serializers.DateTimeField().to_representation(sent) if sent else None


class ReferralChangeSerializer(serializers.ModelSerializer[ReferralChange]):
    class Meta:
        model = ReferralChange
        fields = ["action", "reason", "old_values", "new_values", "changed_by", "changed_at"]
        read_only_fields = fields


class FollowUpSerializer(serializers.Serializer[dict[str, Any]]):
    """An episode's referral and its follow-up; ``referral_date`` null: no referral recorded."""

    episode = serializers.IntegerField()
    status = serializers.CharField(help_text=STATUS_HELP)
    referral_date = serializers.DateField(allow_null=True)
    referred_to = serializers.CharField(allow_blank=True)
    referral_note = serializers.CharField(allow_blank=True)
    days_since_referral = serializers.IntegerField(allow_null=True)
    follow_up_due = serializers.BooleanField()
    appointment_date = serializers.DateField(allow_null=True)
    outcome = serializers.CharField(allow_blank=True, help_text=OUTCOME_HELP)
    outcome_date = serializers.DateField(allow_null=True)
    surgery_date = serializers.DateField(allow_null=True)
    note = serializers.CharField(allow_blank=True)
    reminder_sent_at = serializers.DateTimeField(allow_null=True)
    updated_by = serializers.IntegerField(allow_null=True)
    updated_at = serializers.DateTimeField(allow_null=True)
    history = ReferralChangeSerializer(many=True)


def follow_up_body(*, episode: Episode, panel: ReferralPanel) -> dict[str, Any]:
    """What ``FollowUpSerializer`` shows of ``panel``, the referral of ``episode``."""
    row = panel.row
    follow_up = row.follow_up if row else None
    values = (
        _follow_up(row)
        if row
        else {
            "appointment_date": None,
            "outcome": "",
            "outcome_date": None,
            "surgery_date": None,
            "note": "",
        }
    )
    return {
        "episode": episode.pk,
        "status": episode.status,
        "referral_date": episode.referral_date,
        "referred_to": episode.referred_to,
        "referral_note": episode.referral_note,
        "days_since_referral": row.days_since_referral if row else None,
        "follow_up_due": row.due if row else False,
        **values,
        "reminder_sent_at": follow_up.reminder_sent_at if follow_up else None,
        "updated_by": follow_up.updated_by_id if follow_up else None,
        "updated_at": follow_up.updated_at if follow_up else None,
        "history": [item.change for item in panel.history],
    }


class FollowUpInputSerializer(serializers.Serializer[Any]):
    """PATCH: any of the fields; a null date (or an empty outcome) clears it."""

    appointment_date = StrictDateField(
        required=False, allow_null=True, help_text="With the surgeon or clinic; may lie ahead."
    )
    outcome = serializers.CharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        help_text=f"{OUTCOME_HELP} Empty or null clears it (with its date).",
    )
    outcome_date = StrictDateField(
        required=False, allow_null=True, help_text="Required with an outcome; not after today."
    )
    surgery_date = StrictDateField(
        required=False,
        allow_null=True,
        help_text="Required with (and only with) the outcome surgery_scheduled.",
    )
    note = text_up_to(NOTE_MAX_LENGTH, required=False, allow_blank=True)

    def validate_outcome(self, value: str | None) -> str:
        return value or ""


class ReferralCorrectInputSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(
        allow_blank=True,
        help_text=f"Required: why the referral is corrected (up to {REASON_MAX_LENGTH} "
        "characters). Kept with the old and new values.",
    )
    date = StrictDateField(required=False)
    referred_to = text_up_to(REFERRED_TO_MAX_LENGTH, required=False, allow_blank=True)
    note = text_up_to(NOTE_MAX_LENGTH, required=False, allow_blank=True)


class ReferralWithdrawInputSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(
        allow_blank=True,
        help_text="Required: why the referral is withdrawn (recorded by mistake).",
    )
