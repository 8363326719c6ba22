from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.notify.receiver import Receiver


@pytest.fixture
def allow_private(settings):
    """Webhooks to 127.0.0.1 allowed, as in local runs (the default refuses them)."""
    settings.PAIS_WEBHOOK_ALLOW_PRIVATE = True
    settings.PAIS_WEBHOOK_TIMEOUT_SECONDS = 2


@pytest.fixture
def receiver(allow_private) -> Iterator[Receiver]:
    server = Receiver().start()
    yield server
    server.stop()
