"""Signing in through the pages, codes from a TOTP device, and the environment of a production
process, for the security tests."""

from __future__ import annotations

import time

from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

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
