"""Two-factor sign-in (TOTP authenticator apps, with single-use recovery codes) for privileged
accounts: therapists, clinic admins and the installation's operators.

Built on django-otp: a confirmed ``TOTPDevice`` is the authenticator app, a ``StaticDevice``
holds the recovery codes, and ``OTPMiddleware`` marks a session verified (``user.is_verified()``)
once :func:`django_otp.login` has recorded the device that passed. This module holds the reads
the pages and the middleware need, and the writes (enrol, disable, new recovery codes), which are
services: typed, keyword-only, audited.

A clinic can require two-factor (``Clinic.require_two_factor``); patients are never asked.
"""

from __future__ import annotations

import re
from typing import Literal

import segno
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import throttling
from accounts.audit import audit_record
from accounts.models import Clinic, User
from accounts.services import api_tokens_revoke_all

RECOVERY_CODE_COUNT = 10
TOTP_DEVICE_NAME = "Authenticator app"
RECOVERY_DEVICE_NAME = "Recovery codes"

Step = Literal["verify", "enrol"]


def is_eligible(user: User) -> bool:
    """Who can (and, where their clinic says so, must) use two-factor sign-in."""
    return user.is_active and user.is_privileged


def confirmed_totp(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def has_two_factor(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def _is_verified(user: User) -> bool:
    # OTPMiddleware installs is_verified(); a user object from elsewhere (a token, a fresh
    # login() on this request) has not passed the second step in this session.
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified()) if callable(is_verified) else False


def pending_step(user: User) -> Step | None:
    """What a signed-in session still owes before it may reach staff pages: "verify" (has an
    authenticator, has not entered a code in this session), "enrol" (the clinic requires one
    and there is none yet), or None. One query for staff, none for anybody else."""
    if not is_eligible(user) or _is_verified(user):
        return None
    if user.pk is None:
        return None
    row = (
        User.objects.filter(pk=user.pk)
        .annotate(has_totp=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)))
        .values_list("has_totp", "clinic__require_two_factor")
        .first()
    )
    if row is None:
        return None
    has_totp, required = row
    if has_totp:
        return "verify"
    if required:
        return "enrol"
    return None


def clinic_requires(user: User) -> bool:
    if user.clinic_id is None:
        return False
    return Clinic.objects.filter(pk=user.clinic_id, require_two_factor=True).exists()


# --- Codes ---------------------------------------------------------------------------------------


def _normalise(code: str) -> str:
    # People type codes with spaces ("123 456") or copy recovery codes in capitals or with a dash.
    return re.sub(r"[\s-]", "", code).lower()


def code_verify(*, user: User, code: str) -> Device | None:
    """Check a code from the authenticator app (6 digits) or a recovery code (used up here).

    Raises throttling.LockedOut while code entry is locked for this user (too many wrong codes,
    or django-otp's own growing delay after each failure). Returns the device that accepted the
    code, or None for a wrong code, which counts towards the lockout.
    """
    throttling.otp_check(user.pk)
    code = _normalise(code)
    device: Device | None
    if re.fullmatch(r"\d{6}", code):
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    else:
        device = StaticDevice.objects.filter(user=user, confirmed=True).first()
    if device is None or not code:
        throttling.otp_failed(user.pk)
        return None
    with transaction.atomic():
        # Locked so that two requests cannot both spend one recovery code or one TOTP step.
        locked = type(device).objects.select_for_update().get(pk=device.pk)
        allowed, info = locked.verify_is_allowed()
        if not allowed:
            until = (info or {}).get("locked_until")
            wait = int((until - timezone.now()).total_seconds()) + 1 if until else 1
            raise throttling.LockedOut(
                wait, _("Please wait a few seconds before trying another code.")
            )
        ok = locked.verify_token(code)
    if not ok:
        throttling.otp_failed(user.pk)
        return None
    throttling.otp_succeeded(user.pk)
    return locked


# --- Enrolment -----------------------------------------------------------------------------------


def enrolment_device(*, user: User) -> TOTPDevice:
    """The authenticator being set up: the same one on every visit until it is confirmed, so
    reloading the page does not change the QR code already scanned."""
    if not is_eligible(user):
        raise PermissionError("Two-factor sign-in is for therapists and clinic admins.")
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    return device


def qr_code_svg(device: TOTPDevice) -> str:
    """The device's otpauth:// address as an inline SVG QR code (no image file, no script)."""
    return str(
        segno.make(device.config_url, error="m").svg_inline(
            scale=4, border=2, title=_("QR code for your authenticator app")
        )
    )


def secret_base32(device: TOTPDevice) -> str:
    """The secret as people type it into an app that cannot scan: base32, in groups of four."""
    from base64 import b32encode

    raw = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def _new_recovery_codes(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def enrolment_confirm(*, user: User, device: TOTPDevice, code: str) -> list[str]:
    """Confirm the authenticator with its first code; returns the recovery codes, which are
    shown once and never again.

    The user's API tokens are revoked: they were issued on a password alone, and from now on a
    token costs a code too."""
    if device.user_id != user.pk or device.confirmed:
        raise PermissionError("This is not an authenticator being set up by this user.")
    throttling.otp_check(user.pk)
    if not device.verify_token(_normalise(code)):
        throttling.otp_failed(user.pk)
        raise ValidationError(
            {
                "code": [
                    _("That code did not match. Check the app shows this account and try again.")
                ]
            }
        )
    throttling.otp_succeeded(user.pk)
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = _new_recovery_codes(user)
        audit_record(actor=user, action="two_factor.enabled", obj=device)
        api_tokens_revoke_all(users=[user], actor=user, reason="two_factor_enabled")
    return codes


def two_factor_disable(*, user: User, code: str) -> None:
    """Remove the authenticator and the recovery codes; needs a current code from either."""
    device = code_verify(user=user, code=code)
    if device is None:
        raise ValidationError({"code": [_("That code is wrong or has expired.")]})
    with transaction.atomic():
        audit_record(actor=user, action="two_factor.disabled", obj=user)
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()


def recovery_codes_regenerate(*, user: User, code: str) -> list[str]:
    """Replace the recovery codes (the old ones stop working); needs a current code."""
    device = code_verify(user=user, code=code)
    if device is None:
        raise ValidationError({"code": [_("That code is wrong or has expired.")]})
    with transaction.atomic():
        codes = _new_recovery_codes(user)
        audit_record(actor=user, action="two_factor.recovery_codes_replaced", obj=user)
    return codes


# --- The API token endpoint ----------------------------------------------------------------------


def api_sign_in_check(*, user: User, otp: str) -> None:
    """The token endpoint's second step: a privileged user with an authenticator must send a
    current code as ``otp``; one whose clinic requires two-factor and who has none yet gets no
    token until they set it up on the website. Raises ValidationError naming ``otp``, or
    throttling.LockedOut."""
    if not is_eligible(user):
        return
    if has_two_factor(user):
        if not otp.strip():
            raise ValidationError(
                {
                    "otp": [
                        _("Enter the 6-digit code from your authenticator app, or a recovery code.")
                    ]
                }
            )
        if code_verify(user=user, code=otp) is None:
            raise ValidationError({"otp": [_("That code is wrong or has expired.")]})
    elif clinic_requires(user):
        raise ValidationError(
            {
                "otp": [
                    _(
                        "Your clinic requires two-factor sign-in. Set it up on the website "
                        "(Account, Two-factor sign-in) before using the API."
                    )
                ]
            }
        )
