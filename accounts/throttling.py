"""Sign-in throttles: a rate per client address, and a lockout per account after failures.

Counts live in the ``throttle`` cache. In production that is Redis (``REDIS_URL``), so every
gunicorn worker and every web machine counts the same failures; without Redis each process has
its own in-memory counts, which is fine for one developer and useless against an attacker. The
counters use the cache's atomic ``add`` and ``incr``, so concurrent workers never lose a count.

Two kinds of limit (figures in config/settings.py and docs/security.md):

- **Per address**: each sign-in endpoint takes a fixed number of requests per client IP address
  and minute (fixed one-minute windows); beyond that it answers 429 with ``Retry-After``.
- **Per account**: failed passwords are counted by email address in its normal form (the one
  stored and looked up, accounts/emails.py), whether or not an account has that address (so the
  lockout itself tells nobody which addresses exist). Reaching the limit within the window locks
  the address: every attempt is then refused with the same message, *without checking the
  password*, so a right password reveals nothing while locked. A right password before that
  resets the count. A wrong old password on the password-change page counts as a failure too.
  Wrong two-factor codes are counted the same way per user.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.core.cache import BaseCache, caches
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from redis.exceptions import RedisError

from accounts.emails import normalize_email

logger = logging.getLogger(__name__)

T = TypeVar("T")

IP_WINDOW_SECONDS = 60


class LockedOut(Exception):
    """Refused by a throttle or a lockout; ``retry_after`` is in whole seconds."""

    def __init__(self, retry_after: int, message: str) -> None:
        super().__init__(message)
        self.retry_after = max(1, retry_after)
        self.message = message


def _cache() -> BaseCache:
    # A test (or an installation) that configures only "default" still gets throttles.
    return caches["throttle" if "throttle" in settings.CACHES else "default"]


def _unless_cache_down(operation: Callable[[], T], fallback: T) -> T:
    """Run a cache operation; when the cache (Redis) is unreachable, log and use ``fallback``.

    Throttles fail open: while Redis is down nobody could sign in at all otherwise, and an
    outage of minutes opens far less to an attacker than it would close to every clinic.
    """
    try:
        return operation()
    except (RedisError, OSError):
        logger.warning("Throttle cache unreachable: sign-in throttles are off until it is back")
        return fallback


def _count(key: str, window: int) -> int:
    """Add one to a counter that expires ``window`` seconds after its first count.

    Returns 0 when the cache is unreachable (no limit applies then).
    """

    def count() -> int:
        cache = _cache()
        cache.add(key, 0, window)
        try:
            return int(cache.incr(key))
        except ValueError:
            # It expired between add and incr: this is the first count of a new window.
            cache.set(key, 1, window)
            return 1

    return _unless_cache_down(count, 0)


def _digest(value: str) -> str:
    # Keys name accounts by a digest: the cache holds no email addresses.
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def _minutes(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}


# --- Client address ------------------------------------------------------------------------------


def client_ip(request: HttpRequest) -> str:
    """The caller's address: REMOTE_ADDR, or the entry that our own proxies put in
    X-Forwarded-For when ``PAIS_TRUSTED_PROXY_COUNT`` says how many there are.

    Entries further left than our proxies' are written by the client and cannot be trusted.
    """
    remote = str(request.META.get("REMOTE_ADDR") or "")
    proxies = settings.PAIS_TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    forwarded = [
        part.strip()
        for part in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",")
        if part.strip()
    ]
    if len(forwarded) < proxies:
        return remote
    return forwarded[-proxies]


# --- Per address ---------------------------------------------------------------------------------


def ip_rate_hit(request: HttpRequest, *, scope: str) -> None:
    """Count one request to a sign-in endpoint; raise LockedOut beyond the per-minute rate.

    ``scope`` groups endpoints that guess the same secret: the login page and the token
    endpoint share "login", so an attacker gets no extra tries by switching between them.
    """
    now = time.time()
    window_index = int(now // IP_WINDOW_SECONDS)
    key = f"ip:{scope}:{_digest(client_ip(request))}:{window_index}"
    if _count(key, IP_WINDOW_SECONDS + 1) > settings.PAIS_AUTH_RATE_PER_MINUTE:
        retry_after = math.ceil((window_index + 1) * IP_WINDOW_SECONDS - now)
        raise LockedOut(
            retry_after,
            _("Too many attempts from your network. Please wait a minute and try again."),
        )


# --- Per account (passwords) ---------------------------------------------------------------------


def _login_key(email: str) -> str:
    # The address as stored and looked up (accounts/emails.py): every spelling that signs in to
    # an account counts toward that account's lock.
    return _digest(normalize_email(email))


def _locked_for(kind: str, subject: str) -> int:
    until = _unless_cache_down(lambda: _cache().get(f"lock:{kind}:{subject}"), None)
    if until is None:
        return 0
    return max(1, math.ceil(float(until) - time.time()))


def _fail(kind: str, subject: str, limit: int) -> int:
    """Count a failure; lock when it reaches the limit. Returns the lock's seconds, or 0."""
    window = settings.PAIS_LOGIN_FAILURE_WINDOW_SECONDS
    if _count(f"fail:{kind}:{subject}", window) < limit:
        return 0
    lockout = settings.PAIS_LOGIN_LOCKOUT_SECONDS

    def lock() -> None:
        cache = _cache()
        cache.set(f"lock:{kind}:{subject}", time.time() + lockout, lockout)
        cache.delete(f"fail:{kind}:{subject}")

    _unless_cache_down(lock, None)
    logger.warning("%s locked out for %s s after %s failures", kind, lockout, limit)
    return lockout


def login_locked_message(seconds: int) -> str:
    return _(
        "Too many failed attempts to sign in to this account. For your security it is locked "
        "for a while: try again in %(duration)s."
    ) % {"duration": _minutes(seconds)}


def login_lockout_remaining(email: str) -> int:
    """Seconds the account behind this address stays locked (0: not locked)."""
    return _locked_for("login", _login_key(email))


def login_check(email: str) -> None:
    """Raise LockedOut while the address is locked."""
    remaining = login_lockout_remaining(email)
    if remaining:
        raise LockedOut(remaining, login_locked_message(remaining))


def login_failed(email: str) -> int:
    """Record a wrong password (or unknown address). Returns the lock's seconds if it locked."""
    return _fail("login", _login_key(email), settings.PAIS_LOGIN_FAILURE_LIMIT)


def login_succeeded(email: str) -> None:
    _unless_cache_down(lambda: _cache().delete(f"fail:login:{_login_key(email)}"), False)


# --- Per user (two-factor codes) -----------------------------------------------------------------


def otp_locked_message(seconds: int) -> str:
    return _("Too many wrong codes. Code entry is locked: try again in %(duration)s.") % {
        "duration": _minutes(seconds)
    }


def otp_check(user_id: int) -> None:
    remaining = _locked_for("otp", str(user_id))
    if remaining:
        raise LockedOut(remaining, otp_locked_message(remaining))


def otp_failed(user_id: int) -> int:
    return _fail("otp", str(user_id), settings.PAIS_OTP_FAILURE_LIMIT)


def otp_succeeded(user_id: int) -> None:
    _unless_cache_down(lambda: _cache().delete(f"fail:otp:{user_id}"), False)


# --- Per email address (password-reset emails) ---------------------------------------------------

RESET_EMAIL_WINDOW_SECONDS = 3600


def reset_email_hit(email: str) -> None:
    """Count one password-reset email to this address; raise LockedOut beyond
    ``PAIS_PASSWORD_RESET_EMAILS_PER_HOUR`` within the hour, whoever asked for it."""
    key = f"reset-email:{_login_key(email)}"
    if _count(key, RESET_EMAIL_WINDOW_SECONDS) > settings.PAIS_PASSWORD_RESET_EMAILS_PER_HOUR:
        raise LockedOut(
            RESET_EMAIL_WINDOW_SECONDS,
            _(
                "Enough password-reset emails went to this address in the last hour. "
                "Please try again later."
            ),
        )
