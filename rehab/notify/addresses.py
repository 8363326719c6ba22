"""Which webhook URLs we are willing to call.

A webhook URL is typed in by a clinic admin, and the server then makes requests to it: without a
check, anybody with that role could make the server probe its own network (a database port,
the cloud metadata service at 169.254.169.254). So a URL is refused unless every address its
host resolves to is a public one, both when the endpoint is saved and again at each send, since
DNS can change in between. The sender connects to the address checked here, not to whatever a
second lookup would return.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext

ALLOWED_SCHEMES = ("http", "https")
MAX_URL_LENGTH = 500  # WebhookEndpoint.url
# Spaces and control characters would end up in the request line; nothing valid needs them.
_FORBIDDEN = re.compile(r"[\x00-\x20\x7f<>\"{}|\\^`]")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeURL(ValueError):
    """The URL may not be called. The message says why, in words an admin can act on."""


class UnresolvableHost(UnsafeURL):
    """The host name did not resolve (which may be temporary)."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # path and query, as sent in the request line
    addresses: tuple[str, ...]  # every address the host resolved to, each checked


def allow_private() -> bool:
    return bool(getattr(settings, "PAIS_WEBHOOK_ALLOW_PRIVATE", False))


def is_public(address: IPAddress) -> bool:
    """True for an address on the public internet; False for anything local or special."""
    if isinstance(address, ipaddress.IPv6Address):
        # ::ffff:10.0.0.1 reaches 10.0.0.1: judge the IPv4 address it wraps.
        mapped = address.ipv4_mapped or address.sixtofour
        if mapped is not None:
            return is_public(mapped)
    return not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        # Shared address space (100.64.0.0/10) and the like are neither "private" nor public.
        or not address.is_global
    )


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to, for TCP. An IP literal is returned as it is."""
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError) as exc:
        raise UnresolvableHost(
            gettext("The host %(host)s could not be resolved.") % {"host": repr(host)}
        ) from exc
    addresses: list[str] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        # IPv6 scope ids ("fe80::1%eth0") are not part of the address itself.
        address = str(sockaddr[0]).split("%", 1)[0]
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise UnresolvableHost(
            gettext("The host %(host)s could not be resolved.") % {"host": repr(host)}
        )
    return addresses


def check_url(url: str, *, private_ok: bool | None = None) -> Target:
    """Parse, validate and resolve a webhook URL; raise UnsafeURL when it may not be called."""
    private_ok = allow_private() if private_ok is None else private_ok
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeURL(
            gettext("Use an address of at most %(max)d characters.") % {"max": MAX_URL_LENGTH}
        )
    if _FORBIDDEN.search(url):
        raise UnsafeURL(gettext("Enter a full http:// or https:// address, without spaces."))
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # e.g. an unbalanced "[" in the host
        raise UnsafeURL(gettext("Enter a full http:// or https:// address.")) from exc
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES or not parts.netloc:
        raise UnsafeURL(gettext("Enter a full http:// or https:// address."))
    if scheme != "https" and not (private_ok or settings.DEBUG):
        raise UnsafeURL(gettext("Use an https:// address: webhooks carry references to patients."))
    if parts.username is not None or parts.password is not None:
        raise UnsafeURL(gettext("Remove the user name and password from the address."))
    host = parts.hostname
    if not host:
        raise UnsafeURL(gettext("The address has no host."))
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError as exc:
        raise UnsafeURL(gettext("The address has an invalid port.")) from exc
    addresses = resolve(host, port)
    if not private_ok:
        for address in addresses:
            if not is_public(ipaddress.ip_address(address)):
                raise UnsafeURL(
                    gettext(
                        "The host %(host)s resolves to %(address)s, a private, loopback, "
                        "link-local or otherwise non-public address: webhooks go to public "
                        "addresses only."
                    )
                    % {"host": repr(host), "address": address}
                )
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(scheme=scheme, host=host, port=port, path=path, addresses=tuple(addresses))
