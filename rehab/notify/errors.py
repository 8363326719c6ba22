"""How a channel says a send failed, and whether trying again could help.

The sender decides what happens to the Delivery row from the type alone: a transient failure is
retried with backoff, a permanent one fails the row, and a gone endpoint is also disabled so that
no later notification is attempted against it.
"""

from __future__ import annotations


class DeliveryError(Exception):
    """A failed send. ``str(exc)`` is recorded on the attempt: never put payload data in it."""

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class TransientError(DeliveryError):
    """Trying again later may succeed (timeout, connection refused, 5xx, 429)."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, status_code=status_code)
        # Seconds the receiver asked us to wait (Retry-After); None means "use the backoff".
        self.retry_after = retry_after


class PermanentError(DeliveryError):
    """Trying again would fail the same way (a 4xx, a refused address, a missing recipient)."""


class EndpointGone(PermanentError):
    """The receiver answered 410 Gone: it wants no more deliveries at this URL."""
