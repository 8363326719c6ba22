from __future__ import annotations

import uuid
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _own_cache(settings: Any) -> None:
    # Each test gets a cache of its own (nothing one test caches reaches another),
    # and never touches a developer's Redis.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"tasks-{uuid.uuid4()}",
        }
    }
