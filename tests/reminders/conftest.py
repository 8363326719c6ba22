from __future__ import annotations

from collections.abc import Iterator

import pytest

from rehab.reminders.vapid import key_pair_generate
from tests.reminders.pushservice import PushService, start_push_service


@pytest.fixture
def vapid(settings) -> tuple[str, str]:
    """A VAPID key pair in the settings, as an installation sets it; returns (public, private)."""
    public_key, private_key = key_pair_generate()
    settings.PAIS_VAPID_PUBLIC_KEY = public_key
    settings.PAIS_VAPID_PRIVATE_KEY = private_key
    settings.PAIS_VAPID_SUBJECT = "mailto:ops@riverside.test"
    return public_key, private_key


@pytest.fixture
def push_service(settings) -> Iterator[PushService]:
    """A push service on 127.0.0.1, with the documented override that lets sends reach it."""
    settings.PAIS_PUSH_ALLOW_PRIVATE = True
    service, server = start_push_service()
    try:
        yield service
    finally:
        server.shutdown()
        server.server_close()
