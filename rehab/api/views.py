"""API v1: episodes, prescriptions, daily entries, interventions, the exercise catalogue,
progress, alerts and the clinic's rule thresholds.

Every view first fetches the episode through the caller's reach (out of reach: 404), then checks
the role where the operation needs one (403), then validates input (400) and calls one service.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api.base import ApiView
from accounts.audit import audit_read
from accounts.scoping import can_manage_patients, get_in_reach_or_404, scope_to_patients
from rehab import rules, selectors, services
from rehab.alerts import alert_acknowledge, alert_resolve, alert_snooze
from rehab.api.referral_serializers import (
    ReferralCorrectInputSerializer,
    ReferralWithdrawInputSerializer,
)
from rehab.api.serializers import (
    AlertListQuerySerializer,
    AlertNoteInputSerializer,
    AlertResolvedSerializer,
    AlertSerializer,
    AlertSnoozeInputSerializer,
    CloseInputSerializer,
    EntryDeleteInputSerializer,
    EntryInputSerializer,
    EntryRangeQuerySerializer,
    EntrySerializer,
    EpisodeCreateInputSerializer,
    EpisodeListQuerySerializer,
    EpisodeSerializer,
    InterventionCreateInputSerializer,
    InterventionSerializer,
    PrescriptionCreateInputSerializer,
    PrescriptionEndInputSerializer,
    PrescriptionSerializer,
    ProgressQuerySerializer,
    ProgressSerializer,
    ReevaluationRunSerializer,
    ReferralInputSerializer,
    ThresholdsInputSerializer,
    ThresholdsSerializer,
)
from rehab.evaluation import episode_progress
from rehab.finding_text import finding_dict
from rehab.models import (
    Alert,
    DailyEntry,
    Episode,
    Intervention,
    Prescription,
    ReevaluationRun,
)
from rehab.referrals import referral_correct, referral_withdraw
from rehab.thresholds import ClinicThresholds, clinic_thresholds, clinic_thresholds_update
from rehab.versions import EntryPrecondition, entry_etag

EPISODE_TAG = ["episodes"]
PRESCRIPTION_TAG = ["prescriptions"]
ENTRY_TAG = ["entries"]
INTERVENTION_TAG = ["interventions"]
PROGRESS_TAG = ["progress"]
ALERT_TAG = ["alerts"]
SETTINGS_TAG = ["clinic settings"]

DATE_PARAMETER = OpenApiParameter(
    "date", OpenApiTypes.DATE, OpenApiParameter.PATH, description="The entry's date, YYYY-MM-DD."
)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _episodes() -> QuerySet[Episode]:
    return Episode.objects.select_related("patient__user")


def _entries() -> QuerySet[DailyEntry]:
    return DailyEntry.objects.prefetch_related("exercises__prescription")


class EpisodeApiView(ApiView):
    # A view under /episodes/{pk}/: the episode must be within the caller's reach.

    def get_episode(self, pk: int) -> Episode:
        return get_in_reach_or_404(self.request.user, _episodes(), via="patient", pk=pk)

    def audit_list(self, response: Response, *, action: str, episode: Episode) -> None:
        """One audit row for a list under the episode (staff only), with how many it showed."""
        audit_read(
            self.request.user,
            action=action,
            obj=episode,
            patient_id=episode.patient_id,
            count=len(response.data["results"]),
        )


def _parse_url_date(value: str) -> dt.date:
    # fromisoformat alone would also take "20260310" or "2026-W10-2"; the contract says
    # YYYY-MM-DD.
    try:
        if not _ISO_DATE.fullmatch(value):
            raise ValueError(value)
        return dt.date.fromisoformat(value)
    except ValueError:
        raise serializers.ValidationError(
            {"date": ["Use a real calendar date written YYYY-MM-DD."]}
        ) from None


# --- Episodes ----------------------------------------------------------------------------------
class EpisodeListCreateView(ApiView):
    @extend_schema(
        tags=EPISODE_TAG,
        operation_id="episodes_list",
        summary="Episodes of the patients in the caller's reach",
        parameters=[EpisodeListQuerySerializer],
        responses=EpisodeSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        query = EpisodeListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        episodes = scope_to_patients(request.user, _episodes(), via="patient")
        if "patient" in query.validated_data:
            episodes = episodes.filter(patient_id=query.validated_data["patient"])
        if "status" in query.validated_data:
            episodes = episodes.filter(status=query.validated_data["status"])
        response = self.paginated_response(episodes, EpisodeSerializer)
        audit_read(
            request.user,
            action="episodes.listed",
            obj=Episode,
            patient_id=query.validated_data.get("patient"),
            count=len(response.data["results"]),
        )
        return response

    @extend_schema(
        tags=EPISODE_TAG,
        operation_id="episodes_create",
        summary="Open an episode (a conservative trial) for a patient",
        request=EpisodeCreateInputSerializer,
        responses={201: EpisodeSerializer},
    )
    def post(self, request: Request) -> Response:
        actor = self.require_clinic_staff()
        data = EpisodeCreateInputSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        episode = services.episode_open(actor=actor, **data.validated_data)
        return Response(EpisodeSerializer(episode).data, status=status.HTTP_201_CREATED)


class EpisodeDetailView(EpisodeApiView):
    @extend_schema(
        tags=EPISODE_TAG,
        operation_id="episodes_retrieve",
        summary="One episode",
        responses=EpisodeSerializer,
    )
    def get(self, request: Request, pk: int) -> Response:
        episode = self.get_episode(pk)
        body = EpisodeSerializer(episode).data
        audit_read(
            request.user, action="episode.viewed", obj=episode, patient_id=episode.patient_id
        )
        return Response(body)


class EpisodeReferralView(EpisodeApiView):
    @extend_schema(
        tags=EPISODE_TAG,
        operation_id="episodes_referral",
        summary="Record a referral for a surgical opinion; the status becomes 'referred'",
        request=ReferralInputSerializer,
        responses={200: EpisodeSerializer},
    )
    def post(self, request: Request, pk: int) -> Response:
        episode = self.get_episode(pk)
        actor = self.require_clinic_staff()
        data = ReferralInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        episode = services.episode_record_referral(
            actor=actor, episode=episode, **data.validated_data
        )
        return Response(EpisodeSerializer(episode).data)

    # Correcting and withdrawing the referral (issue 14, docs/referrals.md): beside the
    # contract's POST, with a required reason; the old and new values are kept.
    @extend_schema(
        tags=EPISODE_TAG,
        operation_id="episodes_referral_correct",
        summary="Correct the recorded referral (date, referred_to, note) with a reason",
        request=ReferralCorrectInputSerializer,
        responses={200: EpisodeSerializer},
    )
    def patch(self, request: Request, pk: int) -> Response:
        episode = self.get_episode(pk)
        actor = self.require_clinic_staff()
        data = ReferralCorrectInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        episode = referral_correct(actor=actor, episode=episode, **data.validated_data)
        return Response(EpisodeSerializer(episode).data)

    @extend_schema(
        tags=EPISODE_TAG,
        operation_id="episodes_referral_withdraw",
        summary="Withdraw a referral recorded by mistake; the status becomes 'active' again",
        request=ReferralWithdrawInputSerializer,
        responses={200: EpisodeSerializer},
    )
    def delete(self, request: Request, pk: int) -> Response:
        episode = self.get_episode(pk)
        actor = self.require_clinic_staff()
        # The reason may come as a body field or, for clients that send no body with a
        # DELETE, as ?reason= (as for entries).
        body = request.data if isinstance(request.data, dict) else {}
        data = ReferralWithdrawInputSerializer(
            data={"reason": body.get("reason", request.query_params.get("reason", ""))}
        )
        data.is_valid(raise_exception=True)
        episode = referral_withdraw(actor=actor, episode=episode, **data.validated_data)
        return Response(EpisodeSerializer(episode).data)


class EpisodeCloseView(EpisodeApiView):
    @extend_schema(
        tags=EPISODE_TAG,
        operation_id="episodes_close",
        summary="Close the episode with its outcome; the status becomes 'closed'",
        request=CloseInputSerializer,
        responses={200: EpisodeSerializer},
    )
    def post(self, request: Request, pk: int) -> Response:
        episode = self.get_episode(pk)
        actor = self.require_clinic_staff()
        data = CloseInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        episode = services.episode_close(actor=actor, episode=episode, **data.validated_data)
        return Response(EpisodeSerializer(episode).data)


# --- Exercises and prescriptions ---------------------------------------------------------------
class PrescriptionListCreateView(EpisodeApiView):
    @extend_schema(
        tags=PRESCRIPTION_TAG,
        operation_id="prescriptions_list",
        summary="The episode's prescriptions, past and present",
        responses=PrescriptionSerializer(many=True),
    )
    def get(self, request: Request, pk: int) -> Response:
        episode = self.get_episode(pk)
        response = self.paginated_response(
            Prescription.objects.filter(episode=episode), PrescriptionSerializer
        )
        self.audit_list(response, action="prescriptions.listed", episode=episode)
        return response

    @extend_schema(
        tags=PRESCRIPTION_TAG,
        operation_id="prescriptions_create",
        summary="Prescribe an exercise",
        request=PrescriptionCreateInputSerializer,
        responses={201: PrescriptionSerializer},
    )
    def post(self, request: Request, pk: int) -> Response:
        episode = self.get_episode(pk)
        actor = self.require_clinic_staff()
        data = PrescriptionCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        prescription = services.prescription_create(
            actor=actor, episode=episode, **data.validated_data
        )
        return Response(PrescriptionSerializer(prescription).data, status=status.HTTP_201_CREATED)


class PrescriptionEndView(EpisodeApiView):
    @extend_schema(
        tags=PRESCRIPTION_TAG,
        operation_id="prescriptions_end",
        summary="Set the last day of a prescription",
        request=PrescriptionEndInputSerializer,
        responses={200: PrescriptionSerializer},
    )
    def post(self, request: Request, pk: int, prescription_id: int) -> Response:
        episode = self.get_episode(pk)
        try:
            prescription = Prescription.objects.get(episode=episode, pk=prescription_id)
        except Prescription.DoesNotExist:
            raise Http404("Not found.") from None
        actor = self.require_clinic_staff()
        data = PrescriptionEndInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        prescription = services.prescription_end(
            actor=actor, prescription=prescription, end_date=data.validated_data["end_date"]
        )
        return Response(PrescriptionSerializer(prescription).data)


# --- Daily entries -----------------------------------------------------------------------------
class EntryListView(EpisodeApiView):
    @extend_schema(
        tags=ENTRY_TAG,
        operation_id="entries_list",
        summary="The episode's daily entries, newest first",
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATE, description="First date (inclusive)."),
            OpenApiParameter("to", OpenApiTypes.DATE, description="Last date (inclusive)."),
        ],
        responses=EntrySerializer(many=True),
    )
    def get(self, request: Request, pk: int) -> Response:
        episode = self.get_episode(pk)
        query = EntryRangeQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        entries = _entries().filter(episode=episode)
        if "from" in query.validated_data:
            entries = entries.filter(date__gte=query.validated_data["from"])
        if "to" in query.validated_data:
            entries = entries.filter(date__lte=query.validated_data["to"])
        response = self.paginated_response(entries, EntrySerializer)
        self.audit_list(response, action="entries.listed", episode=episode)
        return response


class EntryDetailView(EpisodeApiView):
    def get_entry(self, episode: Episode, date: dt.date) -> DailyEntry:
        try:
            return _entries().get(episode=episode, date=date)
        except DailyEntry.DoesNotExist:
            raise Http404("Not found.") from None

    @extend_schema(
        tags=ENTRY_TAG,
        operation_id="entries_retrieve",
        summary="The entry of one day",
        parameters=[DATE_PARAMETER],
        responses=EntrySerializer,
    )
    def get(self, request: Request, pk: int, date: str) -> Response:
        episode = self.get_episode(pk)
        entry = self.get_entry(episode, _parse_url_date(date))
        body = EntrySerializer(entry).data
        audit_read(request.user, action="entry.viewed", obj=entry, patient_id=episode.patient_id)
        return Response(body, headers={"ETag": entry_etag(entry)})

    @extend_schema(
        tags=ENTRY_TAG,
        operation_id="entries_put",
        summary="Record or replace the entry of one day (idempotent)",
        description="Send `If-Match: <ETag>` (the version the form showed) or `If-None-Match: *` "
        "(there was no entry) to refuse overwriting a newer copy: 412 with the stored entry, "
        "or 200 without a write when the stored values equal those sent.",
        parameters=[
            DATE_PARAMETER,
            OpenApiParameter(
                "If-Match",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                description="The ETag of the entry the client saw (from GET or the last PUT).",
            ),
            OpenApiParameter(
                "If-None-Match",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                description="`*`: the client saw no entry for this day.",
            ),
        ],
        request=EntryInputSerializer,
        responses={
            200: OpenApiResponse(EntrySerializer, description="Replaced"),
            201: OpenApiResponse(EntrySerializer, description="Created"),
            412: OpenApiResponse(
                EntrySerializer,
                description="The entry changed since the version in If-Match / If-None-Match, "
                "and the values differ: the stored entry, unchanged.",
            ),
            409: OpenApiResponse(
                description="The episode is referred or closed: its diary is read-only for "
                "the patient (staff correct it with a reason)."
            ),
        },
    )
    def put(self, request: Request, pk: int, date: str) -> Response:
        episode = self.get_episode(pk)
        # A referred or closed episode's diary is read-only for the patient: 409, whatever the
        # body holds.
        services.diary_check_writable(actor=self.caller, episode=episode)
        day = _parse_url_date(date)
        data = EntryInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        precondition = EntryPrecondition.from_headers(
            if_match=request.headers.get("If-Match"),
            if_none_match=request.headers.get("If-None-Match"),
        )
        try:
            result = self._record(episode, day, values, precondition)
        except services.EntryVersionConflict as conflict:
            return self._conflict(conflict.entry)
        return Response(
            EntrySerializer(result.entry).data,
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
            headers={"ETag": entry_etag(result.entry)},
        )

    def _record(
        self,
        episode: Episode,
        day: dt.date,
        values: dict[str, Any],
        precondition: EntryPrecondition,
    ) -> services.EntryResult:
        return services.entry_record(
            actor=self.caller,
            episode=episode,
            date=day,
            pain_activity=values["pain_activity"],
            pain_rest=values["pain_rest"],
            pf_rom_affected=values["pf_rom_affected"],
            pf_rom_unaffected=values["pf_rom_unaffected"],
            exercises=[dict(item) for item in values["exercises"]],
            note=values["note"],
            reason=values["reason"],
            precondition=precondition,
        )

    @staticmethod
    def _conflict(current: DailyEntry | None) -> Response:
        """412: the stored copy wins; the client shows it and drops what it sent."""
        if current is None:
            return Response(
                {"detail": "This day's entry was deleted after the form was opened."},
                status=status.HTTP_412_PRECONDITION_FAILED,
            )
        return Response(
            EntrySerializer(current).data,
            status=status.HTTP_412_PRECONDITION_FAILED,
            headers={"ETag": entry_etag(current)},
        )

    @extend_schema(
        tags=ENTRY_TAG,
        operation_id="entries_delete",
        summary="Delete the entry of one day",
        parameters=[
            DATE_PARAMETER,
            OpenApiParameter(
                "reason",
                OpenApiTypes.STR,
                description="Required from staff when the episode is referred or closed "
                "(also accepted as a JSON body field).",
            ),
        ],
        request=EntryDeleteInputSerializer,
        responses={
            204: None,
            409: OpenApiResponse(
                description="The episode is referred or closed: its diary is read-only for "
                "the patient (staff correct it with a reason)."
            ),
        },
    )
    def delete(self, request: Request, pk: int, date: str) -> Response:
        episode = self.get_episode(pk)
        services.diary_check_writable(actor=self.caller, episode=episode)
        entry = self.get_entry(episode, _parse_url_date(date))
        # The reason may come as a body field or, for clients that send no body with a
        # DELETE, as ?reason=.
        body = request.data if isinstance(request.data, dict) else {}
        data = EntryDeleteInputSerializer(
            data={"reason": body.get("reason", request.query_params.get("reason", ""))}
        )
        data.is_valid(raise_exception=True)
        services.entry_delete(actor=self.caller, entry=entry, reason=data.validated_data["reason"])
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Interventions -----------------------------------------------------------------------------
class InterventionListCreateView(EpisodeApiView):
    @extend_schema(
        tags=INTERVENTION_TAG,
        operation_id="interventions_list",
        summary="The episode's interventions",
        responses=InterventionSerializer(many=True),
    )
    def get(self, request: Request, pk: int) -> Response:
        episode = self.get_episode(pk)
        response = self.paginated_response(
            Intervention.objects.filter(episode=episode), InterventionSerializer
        )
        self.audit_list(response, action="interventions.listed", episode=episode)
        return response

    @extend_schema(
        tags=INTERVENTION_TAG,
        operation_id="interventions_create",
        summary="Record an intervention (never a corticosteroid injection near the Achilles)",
        request=InterventionCreateInputSerializer,
        responses={201: InterventionSerializer},
    )
    def post(self, request: Request, pk: int) -> Response:
        episode = self.get_episode(pk)
        actor = self.require_clinic_staff()
        data = InterventionCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        intervention = services.intervention_record(
            actor=actor, episode=episode, **data.validated_data
        )
        return Response(InterventionSerializer(intervention).data, status=status.HTTP_201_CREATED)


# --- Progress ----------------------------------------------------------------------------------
class EpisodeProgressView(EpisodeApiView):
    @extend_schema(
        tags=PROGRESS_TAG,
        operation_id="episodes_progress",
        summary="Where the episode stands as of a date: metrics, findings, recommendation",
        description="Read-only: reading progress never creates or changes alerts.",
        parameters=[ProgressQuerySerializer],
        responses=ProgressSerializer,
    )
    def get(self, request: Request, pk: int) -> Response:
        episode = self.get_episode(pk)
        query = ProgressQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        as_of: dt.date = query.validated_data.get("as_of") or episode.patient.local_today()
        evaluation = episode_progress(episode=episode, as_of=as_of)
        body = {"episode": episode.pk, "as_of": as_of.isoformat(), **evaluation.as_dict()}
        # Codes and field names are the contract; the sentences follow Accept-Language.
        body["findings"] = [finding_dict(finding) for finding in evaluation.findings]
        audit_read(
            request.user, action="progress.viewed", obj=episode, patient_id=episode.patient_id
        )
        return Response(body)


# --- Alerts ------------------------------------------------------------------------------------
class AlertApiView(ApiView):
    def get_alert(self, pk: int, *, for_update: bool = False) -> Alert:
        # Patients reach no alerts (404, like anything else out of reach).
        alerts = selectors.alerts_for(self.request.user)
        if for_update:
            # Serialises a clinician's action with a concurrent evaluation of the episode,
            # which locks the same rows: neither overwrites the other's change.
            alerts = alerts.select_for_update(of=("self",))
        try:
            return alerts.get(pk=pk)
        except Alert.DoesNotExist:
            raise Http404("Not found.") from None


class AlertListView(AlertApiView):
    @extend_schema(
        tags=ALERT_TAG,
        operation_id="alerts_list",
        summary="Alerts of the patients in reach (therapist: theirs; clinic admin: the clinic)",
        parameters=[AlertListQuerySerializer],
        responses=AlertSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        self.require_clinic_staff()
        query = AlertListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        alerts = selectors.alerts_for(request.user).order_by("-created_at", "-id")
        if "status" in query.validated_data:
            alerts = alerts.filter(status=query.validated_data["status"])
        if "episode" in query.validated_data:
            alerts = alerts.filter(episode_id=query.validated_data["episode"])
        response = self.paginated_response(alerts, AlertSerializer)
        audit_read(
            request.user, action="alerts.listed", obj=Alert, count=len(response.data["results"])
        )
        return response


class AlertDetailView(AlertApiView):
    @extend_schema(
        tags=ALERT_TAG,
        operation_id="alerts_retrieve",
        summary="One alert",
        responses=AlertSerializer,
    )
    def get(self, request: Request, pk: int) -> Response:
        alert = self.get_alert(pk)
        body = AlertSerializer(alert).data
        audit_read(
            request.user, action="alert.viewed", obj=alert, patient_id=alert.episode.patient_id
        )
        return Response(body)


class AlertAcknowledgeView(AlertApiView):
    @extend_schema(
        tags=ALERT_TAG,
        operation_id="alerts_acknowledge",
        summary="Acknowledge: seen and being handled; not raised again while it lasts",
        request=AlertNoteInputSerializer,
        responses=AlertSerializer,
    )
    def post(self, request: Request, pk: int) -> Response:
        data = AlertNoteInputSerializer(data=request.data)
        with transaction.atomic():
            alert = self.get_alert(pk, for_update=True)
            actor = self.require_clinic_staff()
            data.is_valid(raise_exception=True)
            alert = alert_acknowledge(actor=actor, alert=alert, note=data.validated_data["note"])
        return Response(AlertSerializer(alert).data)


class AlertResolveView(AlertApiView):
    @extend_schema(
        tags=ALERT_TAG,
        operation_id="alerts_resolve",
        summary="Resolve by hand; if the finding still fires, says so and holds back new "
        "alerts of its code until an evaluation no longer finds it",
        request=AlertNoteInputSerializer,
        responses=AlertResolvedSerializer,
    )
    def post(self, request: Request, pk: int) -> Response:
        data = AlertNoteInputSerializer(data=request.data)
        with transaction.atomic():
            alert = self.get_alert(pk, for_update=True)
            actor = self.require_clinic_staff()
            data.is_valid(raise_exception=True)
            alert = alert_resolve(actor=actor, alert=alert, note=data.validated_data["note"])
        return Response(AlertResolvedSerializer(alert).data)


class AlertSnoozeView(AlertApiView):
    @extend_schema(
        tags=ALERT_TAG,
        operation_id="alerts_snooze",
        summary="Snooze until a date; reopened then if the condition still holds",
        request=AlertSnoozeInputSerializer,
        responses=AlertSerializer,
    )
    def post(self, request: Request, pk: int) -> Response:
        data = AlertSnoozeInputSerializer(data=request.data)
        with transaction.atomic():
            alert = self.get_alert(pk, for_update=True)
            actor = self.require_clinic_staff()
            data.is_valid(raise_exception=True)
            # The patient's today: evaluations (which reopen it) run on the patient's dates.
            alert = alert_snooze(
                actor=actor,
                alert=alert,
                until=data.validated_data["until"],
                today=alert.episode.patient.local_today(),
            )
        return Response(AlertSerializer(alert).data)


# --- Clinic thresholds -------------------------------------------------------------------------
def _thresholds_body(current: ClinicThresholds) -> dict[str, Any]:
    return {
        "values": current.values.as_dict(),
        "defaults": current.defaults,
        "overrides": current.overrides,
        "ruleset": rules.RULESET_VERSION,
        "updated_at": current.updated_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        if current.updated_at
        else None,
        "updated_by": current.updated_by.pk if current.updated_by else None,
        "warnings": [warning.as_dict() for warning in current.warnings],
        "reevaluation": reevaluation_body(current.reevaluation) if current.reevaluation else None,
    }


def reevaluation_body(run: ReevaluationRun) -> dict[str, Any]:
    return {
        "id": run.pk,
        "status": run.status,
        "total": run.total,
        "done": run.done,
        "created_at": run.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "finished_at": run.finished_at.strftime("%Y-%m-%dT%H:%M:%SZ") if run.finished_at else None,
    }


class ClinicThresholdsView(ApiView):
    @extend_schema(
        tags=SETTINGS_TAG,
        operation_id="clinic_thresholds_retrieve",
        summary="The rule thresholds in force for the caller's clinic (clinic staff)",
        responses=ThresholdsSerializer,
    )
    def get(self, request: Request) -> Response:
        actor = self.require_clinic_staff()
        assert actor.clinic_id is not None
        return Response(_thresholds_body(clinic_thresholds(clinic_id=actor.clinic_id)))

    @extend_schema(
        tags=SETTINGS_TAG,
        operation_id="clinic_thresholds_update",
        summary="Set the clinic's thresholds (clinic admin); a name left out is the default",
        description="A change queues the re-evaluation of the clinic's active episodes at once "
        "(`reevaluation`: poll `GET /api/v1/clinic/reevaluations/{id}/`). Values outside a "
        "hard limit are a 400 naming the field and its label; values outside the published "
        "range are saved and listed in `warnings`.",
        request=ThresholdsInputSerializer,
        responses=ThresholdsSerializer,
    )
    def put(self, request: Request) -> Response:
        actor = self.require_clinic_staff()
        if not actor.is_clinic_admin:
            raise PermissionDenied("Only a clinic admin may change the clinic's thresholds.")
        if not isinstance(request.data, dict):
            raise serializers.ValidationError(
                {"non_field_errors": ["Send an object of threshold names and values."]}
            )
        return Response(
            _thresholds_body(clinic_thresholds_update(actor=actor, values=request.data))
        )


class ReevaluationRunView(ApiView):
    @extend_schema(
        tags=SETTINGS_TAG,
        operation_id="clinic_reevaluations_retrieve",
        summary="The progress of a re-evaluation of the clinic's episodes (clinic staff)",
        responses=ReevaluationRunSerializer,
    )
    def get(self, request: Request, pk: int) -> Response:
        # A clinic's object, reached by its staff; anybody else (a patient of the clinic
        # included) finds nothing here, as for the clinic's webhooks.
        actor = self.caller
        if not can_manage_patients(actor) or actor.clinic_id is None:
            raise Http404("Not found.")
        try:
            run = ReevaluationRun.objects.get(pk=pk, clinic_id=actor.clinic_id)
        except ReevaluationRun.DoesNotExist:
            raise Http404("Not found.") from None
        return Response(reevaluation_body(run))
