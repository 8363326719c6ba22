from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from accounts import throttling
from accounts.audit import audit_record
from accounts.emails import normalize_email
from accounts.models import User


def password_failed(user: User) -> None:
    """Count a wrong password of ``user`` toward their lockout; audit the lock if it locked.

    Sign-in and the password-change page (a wrong old password) share this, so both count
    toward one lock per account.
    """
    if throttling.login_failed(user.email):
        # The account's owner and their clinic can see that somebody tried (no actor: we do
        # not know who).
        audit_record(actor=None, action="auth.locked_out", obj=user, clinic_id=user.clinic_id)


class EmailBackend(ModelBackend):
    """Signs in by email in its normal form (accounts/emails.py: NFKC and case folding, the same
    form as stored and as the lockout counts); the login form may send it as ``username``.

    Every password check in the project comes through here (the login page, the token endpoint,
    ``Client.login``), so the per-account lockout lives here too: no path can guess passwords
    past it. While an address is locked the password is not even checked. (The password-change
    page checks the old password itself and counts a wrong one with :func:`password_failed`.)
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        email = kwargs.get("email") or username
        if not email or not password:
            return None
        email = normalize_email(email)
        if throttling.login_lockout_remaining(email):
            return None
        try:
            # Equality, not iexact: the database's case folding (PostgreSQL's UPPER()) is not
            # ours, and a look-alike it folded onto an account slipped past that account's lock.
            user = User.objects.get(email=email)
        except User.DoesNotExist:
            # Hash anyway so that a missing account takes as long as a wrong password, and count
            # the failure: unknown addresses lock like known ones.
            User().set_password(password)
            throttling.login_failed(email)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            throttling.login_succeeded(email)
            return user
        password_failed(user)
        return None
