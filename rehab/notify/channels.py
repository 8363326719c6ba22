"""The ways a notification travels: email, the clinic's in-app inbox, a signed webhook.

Each channel is a small class with ``send(delivery)``. It returns the receiver's status code when
there is one, and raises a :mod:`rehab.notify.errors` type when the send fails, which tells the
sender whether to retry. Channels never change the Delivery row themselves: claiming, recording
attempts and scheduling retries is the sender's job, the same for every channel.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import http.client
import json
import smtplib
import uuid
from typing import Protocol

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext

from accounts.language import in_language_of
from accounts.models import User
from rehab.models import Channel, Delivery, Episode, InboxMessage
from rehab.notify import messages, signing, transport
from rehab.notify.addresses import UnresolvableHost, UnsafeURL, check_url
from rehab.notify.errors import EndpointGone, PermanentError, TransientError

USER_AGENT = "PAIS-rehab-webhooks/1"
# Statuses worth another try: the receiver is busy or down, not refusing the message.
TRANSIENT_STATUSES = frozenset({408, 425, 429})


class NotificationChannel(Protocol):
    def send(self, delivery: Delivery) -> int | None: ...


# --- Email ---------------------------------------------------------------------------------------


class EmailChannel:
    def send(self, delivery: Delivery) -> int | None:
        user = delivery.recipient
        if user is None or not user.is_active or not user.email:
            raise PermanentError("The recipient has no active account.")
        if user.clinic_id != delivery.clinic_id:
            # They moved clinic since the row was written: the alert is no longer theirs.
            raise PermanentError("The recipient is no longer a member of the clinic.")
        if delivery.event_type == "programme.email":
            _send(_programme_mail(delivery, user))
            return None
        if delivery.alert is None:
            raise PermanentError("Alert emails need an alert.")
        escalated = delivery.event_type == "alert.escalated"
        template = "emails/alert_escalated" if escalated else "emails/alert"
        # In the recipient's language: the subject, the context's words and the templates.
        with in_language_of(user):
            context = messages.alert_context(delivery)
            mail = EmailMultiAlternatives(
                subject=messages.email_subject(delivery),
                body=render_to_string(f"{template}.txt", context),
                to=[user.email],
                headers={"Content-Language": translation.get_language()},
            )
            mail.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
        _send(mail)
        return None


def _send(mail: EmailMultiAlternatives) -> None:
    try:
        mail.send()
    except smtplib.SMTPRecipientsRefused as exc:
        raise PermanentError("The mail server refused the recipient's address.") from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise TransientError(f"The mail server failed: {type(exc).__name__}.") from exc


def _programme_mail(delivery: Delivery, user: User) -> EmailMultiAlternatives:
    """The patient's one-page exercise programme, the PDF attached (rehab/exercise_library.py)."""
    from rehab.exercise_library import programme_for
    from rehab.programme_pdf import programme_pdf

    episode = (
        Episode.objects.select_related("patient__user__clinic", "patient__therapist")
        .filter(pk=delivery.payload.get("episode"), patient__user=user)
        .first()
    )
    if episode is None:
        raise PermanentError("The programme's episode is gone or is not the recipient's.")
    with in_language_of(user):
        programme = programme_for(episode=episode, as_of=episode.patient.local_today())
        context = {
            "first_name": user.first_name,
            "therapist": programme.therapist_name or programme.clinic_name,
            "clinic": programme.clinic_name,
            "url": f"{settings.SITE_URL}/",
        }
        mail = EmailMultiAlternatives(
            subject=gettext("Your exercise programme"),
            body=render_to_string("emails/programme.txt", context),
            to=[user.email],
            headers={"Content-Language": translation.get_language()},
        )
        mail.attach_alternative(render_to_string("emails/programme.html", context), "text/html")
        mail.attach(programme.filename, programme_pdf(programme), "application/pdf")
    return mail


# --- In-app inbox --------------------------------------------------------------------------------


class InboxChannel:
    def send(self, delivery: Delivery) -> int | None:
        alert = delivery.alert
        if alert is None:
            raise PermanentError("Inbox messages announce alerts; this delivery has none.")
        # Its title is stored in the recipient's language (a clinic's inbox has one reader each).
        with in_language_of(delivery.recipient):
            title = messages.inbox_title(alert, delivery.event_type)
        # One message per delivery (a one-to-one key): a repeated send finds the first one.
        InboxMessage.objects.get_or_create(
            delivery=delivery,
            defaults={
                "clinic_id": delivery.clinic_id,
                "alert": alert,
                "title": title,
            },
        )
        return None


# --- Webhooks ------------------------------------------------------------------------------------


def message_id(delivery: Delivery) -> str:
    """The ``webhook-id``: the same on every retry of a delivery, so receivers can de-duplicate.

    Derived, not stored: the row's id and creation time, under this installation's address, so
    that two installations (or one whose database was reset) never reuse an id.
    """
    name = f"{settings.SITE_URL}/deliveries/{delivery.pk}/{delivery.created_at.timestamp():.6f}"
    return f"msg_{uuid.uuid5(uuid.NAMESPACE_URL, name).hex}"


def payload_body(delivery: Delivery) -> bytes:
    return json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False).encode()


def retry_after_seconds(value: str | None, *, now: dt.datetime) -> float | None:
    """Retry-After as seconds, from either of its forms (delta-seconds or an HTTP-date)."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(int(value))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - now).total_seconds())


class WebhookChannel:
    def send(self, delivery: Delivery) -> int | None:
        endpoint = delivery.endpoint
        if endpoint is None:
            raise PermanentError("The webhook endpoint no longer exists.")
        if not endpoint.is_active:
            raise PermanentError("The webhook endpoint is disabled.")
        try:
            # Checked again at every send: the host's DNS may point somewhere else by now.
            target = check_url(endpoint.url)
        except UnresolvableHost as exc:
            raise TransientError(str(exc)) from exc
        except UnsafeURL as exc:
            raise PermanentError(str(exc)) from exc
        body = payload_body(delivery)
        now = timezone.now()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            **signing.headers(
                secret=endpoint.secret,
                message_id=message_id(delivery),
                timestamp=int(now.timestamp()),
                body=body,
            ),
        }
        timeout = float(settings.PAIS_WEBHOOK_TIMEOUT_SECONDS)
        try:
            response = transport.post(target, body=body, headers=headers, timeout=timeout)
        except TimeoutError as exc:
            raise TransientError(f"No answer within {timeout:g} s.") from exc
        except (OSError, http.client.HTTPException) as exc:
            raise TransientError(f"Could not reach the endpoint: {type(exc).__name__}.") from exc
        status = response.status
        described = f"HTTP {status} {response.reason[:60]}".strip()
        if 200 <= status < 300:
            return status
        if status == 410:
            raise EndpointGone(described, status_code=status)
        if status in TRANSIENT_STATUSES or status >= 500:
            raise TransientError(
                described,
                status_code=status,
                retry_after=retry_after_seconds(response.retry_after, now=timezone.now()),
            )
        if 300 <= status < 400:
            raise PermanentError(
                f"{described}: redirects are not followed; save the final address instead.",
                status_code=status,
            )
        raise PermanentError(described, status_code=status)


CHANNELS: dict[str, NotificationChannel] = {
    Channel.EMAIL: EmailChannel(),
    Channel.INBOX: InboxChannel(),
    Channel.WEBHOOK: WebhookChannel(),
}


def channel_for(name: str) -> NotificationChannel:
    if name == Channel.PUSH:
        # Imported here: the push channel builds on this module's helpers.
        from rehab.notify.push import PushChannel

        return PushChannel()
    try:
        return CHANNELS[name]
    except KeyError:
        raise PermanentError(f"Unknown channel {name!r}.") from None
