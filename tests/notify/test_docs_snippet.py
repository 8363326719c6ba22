"""The verification snippet in docs/webhooks.md works on a real delivery, and only on it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from rehab.notify.sender import send_delivery
from tests.notify.helpers import SECRET, make_alert, make_endpoint, webhook_delivery

pytestmark = pytest.mark.django_db

DOC = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"


def _snippet() -> Any:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.DOTALL)
    (code,) = [b for b in blocks if "def verify_webhook" in b]
    namespace: dict[str, Any] = {}
    exec(compile(code, str(DOC), "exec"), namespace)  # noqa: S102  (our own documentation)
    return namespace["verify_webhook"]


def test_the_documented_check_accepts_our_requests_and_nothing_else(cast, receiver):
    verify_webhook = _snippet()
    alert = make_alert(cast.episode_a)
    send_delivery(webhook_delivery(alert, make_endpoint(cast.clinic, receiver.url)).pk)
    (request,) = receiver.requests

    event = verify_webhook(SECRET, request.headers, request.body)
    assert event["type"] == "alert.raised" and event["data"]["alert"]["id"] == alert.pk

    tampered = request.body.replace(b'"high"', b'"info"')
    with pytest.raises(ValueError, match="signature"):
        verify_webhook(SECRET, request.headers, tampered)
    with pytest.raises(ValueError, match="signature"):
        verify_webhook("whsec_" + "A" * 32, request.headers, request.body)
    stale = {
        **request.headers,
        "webhook-timestamp": str(int(request.headers["webhook-timestamp"]) - 3600),
    }
    with pytest.raises(ValueError, match="timestamp"):
        verify_webhook(SECRET, stale, request.body)
