"""API v1: the referral follow-up (docs/api.md, "Referral follow-up").

- ``GET /api/v1/referrals/``: the referred patients in the caller's reach, paginated;
- ``GET|PATCH /api/v1/episodes/{id}/referral/follow-up/``: an episode's referral and what became
  of it (appointment, outcome), with the history of changes;
- ``PATCH|DELETE /api/v1/episodes/{id}/referral/`` (in ``rehab.api.views``, beside the contract's
  POST): correct or withdraw the referral, with a reason.

Reach first (404), then the role (403: staff only, patients included), then the input (400).
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api.base import ApiView
from accounts.audit import audit_read
from rehab.api.referral_serializers import (
    FollowUpInputSerializer,
    FollowUpSerializer,
    ReferralItemSerializer,
    ReferralListQuerySerializer,
    follow_up_body,
)
from rehab.api.views import EpisodeApiView
from rehab.models import Episode
from rehab.referral_selectors import SHOW_ALL, referral_list, referral_panel
from rehab.referrals import referral_follow_up_update

REFERRAL_TAG = ["referrals"]


class ReferralListView(ApiView):
    @extend_schema(
        tags=REFERRAL_TAG,
        operation_id="referrals_list",
        summary="Referred patients in the caller's reach, follow-up due first",
        parameters=[ReferralListQuerySerializer],
        responses=ReferralItemSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        self.require_clinic_staff()
        query = ReferralListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = referral_list(user=request.user, show=query.validated_data.get("show", SHOW_ALL))
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(rows.rows, request, view=self) or []
        response = paginator.get_paginated_response(
            ReferralItemSerializer(page, many=True).data  # type: ignore[arg-type]
        )
        audit_read(request.user, action="referrals.listed", obj=Episode, count=len(page))
        return response


class ReferralFollowUpView(EpisodeApiView):
    def _body(self, episode: Episode) -> dict[str, object]:
        panel = referral_panel(episode=episode)
        return FollowUpSerializer(follow_up_body(episode=episode, panel=panel)).data

    @extend_schema(
        tags=REFERRAL_TAG,
        operation_id="referral_follow_up_retrieve",
        summary="The episode's referral, its follow-up and the history of changes",
        responses=FollowUpSerializer,
    )
    def get(self, request: Request, pk: int) -> Response:
        episode = self.get_episode(pk)
        self.require_clinic_staff()
        body = self._body(episode)
        audit_read(
            request.user, action="referral.viewed", obj=episode, patient_id=episode.patient_id
        )
        return Response(body)

    @extend_schema(
        tags=REFERRAL_TAG,
        operation_id="referral_follow_up_update",
        summary="Record the appointment and outcome of the referral (fields left out keep "
        "their values)",
        request=FollowUpInputSerializer,
        responses=FollowUpSerializer,
    )
    def patch(self, request: Request, pk: int) -> Response:
        episode = self.get_episode(pk)
        actor = self.require_clinic_staff()
        data = FollowUpInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        referral_follow_up_update(actor=actor, episode=episode, **data.validated_data)
        return Response(self._body(episode))
