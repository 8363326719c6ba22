"""One HTTP POST to a checked address, with a timeout and without following redirects.

The standard library's ``http.client`` is enough here and lets us connect to the very address
that :func:`rehab.notify.addresses.check_url` approved, while the Host header and the TLS server
name stay the URL's host name. A client that resolved the name again could be pointed at an
internal address by a DNS answer that changed in between (DNS rebinding).
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
from dataclasses import dataclass

from rehab.notify.addresses import Target

# We never need the receiver's answer, only its status; reading a little lets the connection
# close cleanly without letting a receiver stream us an unbounded body.
_MAX_BODY = 64 * 1024


@dataclass(frozen=True)
class HttpResponse:
    status: int
    reason: str
    retry_after: str | None


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(
        self, host: str, port: int, *, address: str, timeout: float, context: ssl.SSLContext
    ) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self._address = address
        self._tls = context

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        # Certificate and SNI are checked against the URL's host name, not the address.
        self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)


def post(target: Target, *, body: bytes, headers: dict[str, str], timeout: float) -> HttpResponse:
    """POST ``body`` to the first of the target's addresses that accepts a connection.

    Raises ``OSError`` (including timeouts and TLS errors) and ``http.client.HTTPException``;
    the caller decides what they mean.
    """
    last_error: OSError | None = None
    for address in target.addresses:
        connection: http.client.HTTPConnection
        if target.scheme == "https":
            connection = _PinnedHTTPSConnection(
                target.host,
                target.port,
                address=address,
                timeout=timeout,
                context=ssl.create_default_context(),
            )
        else:
            connection = _PinnedHTTPConnection(
                target.host, target.port, address=address, timeout=timeout
            )
        try:
            try:
                connection.connect()
            except OSError as exc:
                # Another address of the same host may answer (e.g. IPv6 down, IPv4 up).
                last_error = exc
                continue
            connection.request("POST", target.path, body=body, headers=headers)
            response = connection.getresponse()
            # The status has arrived, and it is all we act on: a body cut short is no reason to
            # send a delivered message again.
            with contextlib.suppress(OSError, http.client.HTTPException):
                response.read(_MAX_BODY)
            return HttpResponse(
                status=response.status,
                reason=response.reason,
                retry_after=response.getheader("Retry-After"),
            )
        finally:
            connection.close()
    assert last_error is not None
    raise last_error
