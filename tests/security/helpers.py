"""Signing in through the pages, codes from a TOTP device, and the environment of a production
process, for the security tests."""

from __future__ import annotations

import time

from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from accounts.models import User
from tests.conftest import PASSWORD

LOGIN = "/accounts/login/"
LOGOUT = "/accounts/logout/"
SETUP = "/accounts/two-factor/setup/"
VERIFY = "/accounts/two-factor/verify/"
TOKEN = "/api/v1/auth/token/"


def sign_in(client: Client, email: str, password: str = PASSWORD, **extra: str):
    """POST the login page as a browser would; returns the (unfollowed) response."""
    return client.post(LOGIN, {"username": email, "password": password}, **extra)


def totp_at(device: TOTPDevice, offset_steps: int = 0) -> str:
    """The code an authenticator app shows now (or ``offset_steps`` steps away)."""
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + offset_steps * device.step
    return f"{totp.token():0{device.digits}d}"


def wrong_code(device: TOTPDevice) -> str:
    """Six digits that no step within the device's tolerance would accept."""
    valid = {totp_at(device, step) for step in range(-2, 3)}
    candidate = 0
    while f"{candidate:06d}" in valid:
        candidate += 1
    return f"{candidate:06d}"


def enrol(client: Client, user: User) -> tuple[TOTPDevice, list[str]]:
    """Set up an authenticator through the pages; returns the device and the recovery codes."""
    page = client.get(SETUP)
    assert page.status_code == 200, page
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post(SETUP, {"code": totp_at(device)})
    assert response.status_code == 200
    assert response.templates[0].name == "accounts/two_factor_codes.html"
    return TOTPDevice.objects.get(pk=device.pk), list(response.context["codes"])


def token_client(key: str) -> APIClient:
    """An API client that sends this API token."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def token_works(key: str) -> bool:
    """Whether the token still opens the API (200), or was refused (401)."""
    status = token_client(key).get("/api/v1/episodes/").status_code
    assert status in {200, 401}
    return status == 200


def admin_user_form(user: User, **changes: str | None) -> dict[str, str]:
    """The Django admin's change form for ``user`` as a browser posts it, with ``changes``
    (a value of None leaves the field out)."""
    data: dict[str, str | None] = {
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "role": user.role,
        "clinic": str(user.clinic_id or ""),
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
        "is_active": "on",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}
