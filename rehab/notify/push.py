"""Web Push: one encrypted, VAPID-signed message to one of a patient's devices.

The endpoint is the push service's URL that the patient's browser gave us, so it is an address
the client chose: it gets the webhook guard (:func:`rehab.notify.addresses.check_url`: https, a
public address) and is sent through the same pinned connection
(:func:`rehab.notify.transport.post`), never through an HTTP client that would look the name up
again. ``pywebpush`` does the RFC 8291 encryption (aes128gcm) and ``py_vapid`` signs the RFC 8292
token; neither opens a connection here.

A push service that answers 404 or 410 says the subscription is gone for good: the sender then
deletes it (:func:`subscription_forget_gone`), and with it its pending reminders.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import time
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone
from py_vapid import Vapid02
from pywebpush import WebPusher

from accounts.audit import audit_record
from rehab.models import Delivery, PushSubscription
from rehab.notify import transport
from rehab.notify.addresses import Target, UnresolvableHost, UnsafeURL, check_url
from rehab.notify.channels import TRANSIENT_STATUSES, retry_after_seconds
from rehab.notify.errors import EndpointGone, PermanentError, TransientError
from rehab.reminders.vapid import VapidKeys, vapid_keys

USER_AGENT = "PAIS-rehab-push/1"
# How long the push service keeps a message for a phone that is off. A reminder is for this
# evening; one that arrives the next morning only confuses.
MESSAGE_TTL_SECONDS = 6 * 3600
# A reminder still unsent after this (the push service was down for hours) is dropped.
STALE_AFTER = dt.timedelta(seconds=MESSAGE_TTL_SECONDS)
# The VAPID token's lifetime; RFC 8292 allows at most 24 hours.
TOKEN_LIFETIME_SECONDS = 12 * 3600
GONE_STATUSES = frozenset({404, 410})


class SubscriptionGone(EndpointGone):
    """The push service answered 404 or 410: the browser unsubscribed or the device is gone."""


def allow_private() -> bool:
    return bool(getattr(settings, "PAIS_PUSH_ALLOW_PRIVATE", False))


def check_endpoint(endpoint: str) -> Target:
    """The webhook guard, plus: https only, whatever DEBUG says, unless the test override is on.

    Every real push service (Google, Mozilla, Apple, Microsoft) is https.
    """
    private_ok = allow_private()
    if not private_ok and urlsplit(endpoint).scheme.lower() != "https":
        raise UnsafeURL("A push endpoint must be an https:// address.")
    return check_url(endpoint, private_ok=private_ok)


def origin(endpoint: str) -> str:
    parts = urlsplit(endpoint)
    return f"{parts.scheme}://{parts.netloc}"


def vapid_authorization(keys: VapidKeys, *, endpoint: str, now: float) -> str:
    """The ``Authorization: vapid t=<JWT>, k=<public key>`` header for one push service."""
    signer = Vapid02.from_raw(keys.private_key.encode())
    claims = {
        "aud": origin(endpoint),
        "exp": int(now) + TOKEN_LIFETIME_SECONDS,
        "sub": keys.subject,
    }
    return str(signer.sign(claims)["Authorization"])


def encrypt(subscription: PushSubscription, payload: dict[str, object]) -> bytes:
    """The payload as JSON, encrypted to the subscription's keys (aes128gcm, RFC 8291)."""
    pusher = WebPusher(
        {
            "endpoint": subscription.endpoint,
            "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
        }
    )
    data = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    return bytes(pusher.encode(data, content_encoding="aes128gcm")["body"])


class PushChannel:
    def send(self, delivery: Delivery) -> int | None:
        subscription = delivery.push_subscription
        if subscription is None:
            raise PermanentError("The push subscription no longer exists.")
        if timezone.now() - delivery.created_at > STALE_AFTER:
            raise PermanentError("The reminder is out of date; it is not sent any more.")
        keys = vapid_keys()
        if keys is None:
            raise PermanentError("Web Push is not configured (no VAPID key pair).")
        try:
            target = check_endpoint(subscription.endpoint)
        except UnresolvableHost as exc:
            raise TransientError(str(exc)) from exc
        except UnsafeURL as exc:
            raise PermanentError(str(exc)) from exc
        try:
            body = encrypt(subscription, delivery.payload)
        except Exception as exc:  # a malformed key stored from a bad client: it will not improve
            raise PermanentError(
                f"Could not encrypt for this device: {type(exc).__name__}."
            ) from exc
        headers = {
            "Content-Type": "application/octet-stream",
            "Content-Encoding": "aes128gcm",
            "TTL": str(MESSAGE_TTL_SECONDS),
            "Urgency": "normal",
            "User-Agent": USER_AGENT,
            "Authorization": vapid_authorization(
                keys, endpoint=subscription.endpoint, now=time.time()
            ),
        }
        timeout = float(settings.PAIS_PUSH_TIMEOUT_SECONDS)
        try:
            response = transport.post(target, body=body, headers=headers, timeout=timeout)
        except TimeoutError as exc:
            raise TransientError(f"No answer within {timeout:g} s.") from exc
        except (OSError, http.client.HTTPException) as exc:
            raise TransientError(
                f"Could not reach the push service: {type(exc).__name__}."
            ) from exc
        status = response.status
        described = f"HTTP {status} {response.reason[:60]}".strip()
        if 200 <= status < 300:
            PushSubscription.objects.filter(pk=subscription.pk).update(last_used_at=timezone.now())
            return status
        if status in GONE_STATUSES:
            raise SubscriptionGone(described, status_code=status)
        if status in TRANSIENT_STATUSES or status >= 500:
            raise TransientError(
                described,
                status_code=status,
                retry_after=retry_after_seconds(response.retry_after, now=timezone.now()),
            )
        raise PermanentError(described, status_code=status)


def subscription_forget_gone(*, subscription_id: int) -> None:
    """The push service said the device is gone: forget it (its pending reminders go with it)."""
    subscription = (
        PushSubscription.objects.select_related("patient__user").filter(pk=subscription_id).first()
    )
    if subscription is None:
        return
    audit_record(
        actor=None,
        action="push_subscription.gone",
        obj=subscription,
        clinic_id=subscription.patient.user.clinic_id,
        patient_id=subscription.patient_id,
    )
    subscription.delete()
