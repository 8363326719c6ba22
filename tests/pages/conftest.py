from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from accounts.models import User


@pytest.fixture
def client_for() -> Callable[[User], Client]:
    """``client_for(user)``: a browser-like client with that user's session."""

    def make(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make
