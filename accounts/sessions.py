"""How long a signed-in session lasts.

Django already gives a new session key at sign-in (``login()`` cycles it, which defeats session
fixation) and deletes the session row at sign-out. On top of that:

- **Idle timeout for privileged accounts** (therapists, clinic admins, operators): a session with
  no request for ``PAIS_STAFF_IDLE_TIMEOUT_SECONDS`` (30 minutes) is signed out. Clinic computers
  are shared and left unlocked; a patient's own phone is not, so patients have no idle timeout.
- **Absolute lifetime**: ``PAIS_STAFF_SESSION_LIFETIME_SECONDS`` (12 hours) after signing in for
  privileged accounts, ``PAIS_PATIENT_SESSION_LIFETIME_SECONDS`` (30 days) for everybody else,
  however active the session is.

The times live in the session itself (server-side), stamped at every sign-in (a
``user_logged_in`` receiver, accounts/apps.py) and checked on every request by
:class:`accounts.middleware.SessionPolicyMiddleware`.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.utils import timezone

from accounts.models import User

SIGNED_IN_AT = "pais_signed_in_at"
LAST_SEEN_AT = "pais_last_seen_at"

# Recording the last request rewrites the session row; once a minute is precise enough for a
# 30-minute timeout and spares a database write on every page.
TOUCH_EVERY_SECONDS = 60

IDLE = "idle"
EXPIRED = "expired"


def _now() -> float:
    return timezone.now().timestamp()


def lifetime_seconds(user: User) -> int:
    if user.is_privileged:
        return settings.PAIS_STAFF_SESSION_LIFETIME_SECONDS
    return settings.PAIS_PATIENT_SESSION_LIFETIME_SECONDS


def start(session: SessionBase, user: User) -> None:
    """Stamp a freshly signed-in session with its start and give it the role's lifetime."""
    now = _now()
    session[SIGNED_IN_AT] = now
    session[LAST_SEEN_AT] = now
    if user.is_privileged:
        # The cookie and the server-side row end with the staff lifetime (the default,
        # SESSION_COOKIE_AGE, is the patients' 30 days).
        session.set_expiry(settings.PAIS_STAFF_SESSION_LIFETIME_SECONDS)


def is_started(session: SessionBase) -> bool:
    return SIGNED_IN_AT in session


def check(session: SessionBase, user: User) -> str | None:
    """Why this session must end now (IDLE or EXPIRED), or None after recording the request."""
    now = _now()
    signed_in_at = float(session.get(SIGNED_IN_AT, now))
    last_seen_at = float(session.get(LAST_SEEN_AT, now))
    if now - signed_in_at > lifetime_seconds(user):
        return EXPIRED
    if user.is_privileged and now - last_seen_at > settings.PAIS_STAFF_IDLE_TIMEOUT_SECONDS:
        return IDLE
    if now - last_seen_at >= TOUCH_EVERY_SECONDS:
        session[LAST_SEEN_AT] = now
    return None


def _duration(seconds: int) -> str:
    if seconds % 86400 == 0:
        days = seconds // 86400
        return "1 day" if days == 1 else f"{days} days"
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return "1 hour" if hours == 1 else f"{hours} hours"
    minutes = max(1, seconds // 60)
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


def ended_message(reason: str, user: User) -> str:
    if reason == IDLE:
        idle = _duration(settings.PAIS_STAFF_IDLE_TIMEOUT_SECONDS)
        return f"You were signed out after {idle} without activity. Please sign in again."
    return (
        f"For your security, sessions end {_duration(lifetime_seconds(user))} after signing in. "
        "Please sign in again."
    )
