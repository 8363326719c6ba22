from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    # Uploaded pictures go to a folder of the test's own, never the project's var/media.
    settings.MEDIA_ROOT = tmp_path / "media"
