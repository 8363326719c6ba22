from __future__ import annotations

import uuid
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _own_cache(settings: Any) -> None:
    # The digest marks what it sent in the cache; a cache of each test's own keeps tests apart
    # and never touches a developer's Redis.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"tasks-{uuid.uuid4()}",
        }
    }
