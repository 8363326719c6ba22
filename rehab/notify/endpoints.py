"""Clinic admins' webhook endpoints: reads and every write, each write with an audit row.

A secret is generated here and returned once, by the create and rotate services; afterwards
pages and the API show only a hint of it. Only clinic admins manage endpoints (others get a
PermissionError, a 403), and only their own clinic's (``endpoints_for`` holds nothing else, so
another clinic's endpoint is a 404).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from accounts.audit import audit_record
from accounts.models import Role, User
from accounts.scoping import AnyUser
from rehab.models import Delivery, DeliveryAttempt, WebhookEndpoint
from rehab.notify import signing
from rehab.notify.addresses import UnsafeURL, check_url
from rehab.notify.outbox import webhook_test_write

MAX_ENDPOINTS_PER_CLINIC = 20
DESCRIPTION_MAX = 200


@dataclass(frozen=True)
class EndpointWithSecret:
    """An endpoint with its new secret in clear text: shown to the admin once, never stored."""

    endpoint: WebhookEndpoint
    secret: str


# --- Reads ---------------------------------------------------------------------------------------


def can_manage_webhooks(user: AnyUser) -> bool:
    return (
        isinstance(user, User)
        and user.is_active
        and user.role == Role.CLINIC_ADMIN
        and user.clinic_id is not None
    )


def endpoints_for(user: AnyUser) -> QuerySet[WebhookEndpoint]:
    """The endpoints of the caller's clinic for its staff (the role is checked after, so a
    therapist gets a 403). Patients reach none of them (a 404, like any object out of their
    reach: contract, "Roles and reach")."""
    if not isinstance(user, User) or not user.is_active or user.clinic_id is None:
        return WebhookEndpoint.objects.none()
    if not user.is_clinic_staff:
        return WebhookEndpoint.objects.none()
    return WebhookEndpoint.objects.filter(clinic_id=user.clinic_id)


def deliveries_of(*, endpoint: WebhookEndpoint) -> QuerySet[Delivery]:
    """The endpoint's deliveries with their attempts, newest first: two queries per page."""
    return (
        Delivery.objects.filter(endpoint=endpoint)
        .order_by("-created_at", "-id")
        .prefetch_related(
            Prefetch("attempt_log", queryset=DeliveryAttempt.objects.order_by("started_at", "id"))
        )
    )


# --- Writes --------------------------------------------------------------------------------------


def _require_admin(actor: User) -> None:
    if not can_manage_webhooks(actor):
        raise PermissionError("Only clinic admins manage webhooks.")


def _require_own(actor: User, endpoint: WebhookEndpoint) -> None:
    _require_admin(actor)
    if endpoint.clinic_id != actor.clinic_id:
        # Views never get here (scoping makes it a 404); a direct caller is refused all the same.
        raise PermissionError("This endpoint belongs to another clinic.")


def _audit(actor: User | None, action: str, endpoint: WebhookEndpoint) -> None:
    audit_record(actor=actor, action=action, obj=endpoint, clinic_id=endpoint.clinic_id)


def _validated_url(url: str) -> str:
    url = url.strip()
    if not url:
        raise ValidationError({"url": [gettext("This field is required.")]})
    try:
        check_url(url)
    except UnsafeURL as exc:
        raise ValidationError({"url": [str(exc)]}) from exc
    return url


def _validated_description(description: str) -> str:
    description = description.strip()
    if len(description) > DESCRIPTION_MAX:
        raise ValidationError(
            {"description": [gettext("Use at most %(max)d characters.") % {"max": DESCRIPTION_MAX}]}
        )
    return description


def webhook_endpoint_create(*, actor: User, url: str, description: str = "") -> EndpointWithSecret:
    _require_admin(actor)
    assert actor.clinic_id is not None
    url = _validated_url(url)
    description = _validated_description(description)
    if (
        WebhookEndpoint.objects.filter(clinic_id=actor.clinic_id).count()
        >= MAX_ENDPOINTS_PER_CLINIC
    ):
        raise ValidationError(
            {
                "non_field_errors": [
                    gettext("A clinic can have at most %(max)d endpoints.")
                    % {"max": MAX_ENDPOINTS_PER_CLINIC}
                ]
            }
        )
    secret = signing.new_secret()
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.create(
            clinic_id=actor.clinic_id,
            url=url,
            description=description,
            secret=secret,
            created_by=actor,
        )
        _audit(actor, "webhook.created", endpoint)
    return EndpointWithSecret(endpoint=endpoint, secret=secret)


def webhook_endpoint_update(
    *,
    actor: User,
    endpoint: WebhookEndpoint,
    description: str | None = None,
    is_active: bool | None = None,
) -> WebhookEndpoint:
    """Change the description, or turn the endpoint off or back on (which clears the reason)."""
    _require_own(actor, endpoint)
    fields: list[str] = []
    if description is not None:
        endpoint.description = _validated_description(description)
        fields.append("description")
    action = None
    if is_active is not None and is_active != endpoint.is_active:
        if is_active:
            # Turning it back on (e.g. after a 410) re-checks the address under today's rules.
            _validated_url(endpoint.url)
        endpoint.is_active = is_active
        endpoint.disabled_reason = "" if is_active else f"Turned off by {actor.email}."
        fields += ["is_active", "disabled_reason"]
        action = "webhook.enabled" if is_active else "webhook.disabled"
    if not fields:
        return endpoint
    with transaction.atomic():
        endpoint.save(update_fields=fields)
        if action is not None:
            _audit(actor, action, endpoint)
    return endpoint


def webhook_endpoint_rotate_secret(*, actor: User, endpoint: WebhookEndpoint) -> EndpointWithSecret:
    """A new secret at once; deliveries from now on (retries included) are signed with it."""
    _require_own(actor, endpoint)
    secret = signing.new_secret()
    with transaction.atomic():
        endpoint.secret = secret
        endpoint.secret_rotated_at = timezone.now()
        endpoint.save(update_fields=["secret", "secret_rotated_at"])
        _audit(actor, "webhook.secret_rotated", endpoint)
    return EndpointWithSecret(endpoint=endpoint, secret=secret)


def webhook_endpoint_delete(*, actor: User, endpoint: WebhookEndpoint) -> None:
    """Delete the endpoint; its pending deliveries go with it (they could go nowhere else)."""
    _require_own(actor, endpoint)
    with transaction.atomic():
        _audit(actor, "webhook.deleted", endpoint)
        endpoint.delete()


def webhook_endpoint_test(*, actor: User, endpoint: WebhookEndpoint) -> Delivery:
    """Queue a "webhook.test" event to the endpoint, sent like any other delivery."""
    _require_own(actor, endpoint)
    if not endpoint.is_active:
        raise ValidationError(
            {"non_field_errors": [gettext("Turn the endpoint on before sending it a test event.")]}
        )
    with transaction.atomic():
        delivery_id = webhook_test_write(endpoint=endpoint)
        _audit(actor, "webhook.test_sent", endpoint)
    return Delivery.objects.get(pk=delivery_id)
