"""The VAPID key pair (RFC 8292) that identifies this server to browsers' push services.

The browser subscribes with our public key (``applicationServerKey``) and the push service then
accepts messages only when they carry a token signed with the matching private key. So the pair
must stay the same for as long as subscriptions made with it should keep working.

Where the pair comes from:

- ``PAIS_VAPID_PUBLIC_KEY`` and ``PAIS_VAPID_PRIVATE_KEY`` (base64url, as printed by
  ``manage.py vapid_keys``): always, in production;
- otherwise, with ``DJANGO_DEBUG`` on only, a pair generated once into
  ``PAIS_VAR_DIR/vapid-keys.json`` so that ``make run`` needs no setup;
- otherwise there is none, and Web Push is off (the page offers email only).
"""

from __future__ import annotations

import base64
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger(__name__)

DEV_KEY_FILE = "vapid-keys.json"


@dataclass(frozen=True)
class VapidKeys:
    public_key: str  # base64url of the uncompressed P-256 point (65 bytes), no padding
    private_key: str  # base64url of the 32-byte private scalar, no padding
    subject: str  # "mailto:..." or "https://...": whom a push service can contact about us


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def key_pair_generate() -> tuple[str, str]:
    """A new P-256 key pair as (public, private), both base64url."""
    private = ec.generate_private_key(ec.SECP256R1())
    public_bytes = private.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    private_bytes = private.private_numbers().private_value.to_bytes(32, "big")
    return b64url(public_bytes), b64url(private_bytes)


def _check_pair(public_key: str, private_key: str) -> None:
    """Fail loudly on a pair that does not belong together (a half-updated environment)."""
    try:
        scalar = int.from_bytes(b64url_decode(private_key), "big")
        derived = ec.derive_private_key(scalar, ec.SECP256R1()).public_key()
    except ValueError as exc:
        raise ImproperlyConfigured("PAIS_VAPID_PRIVATE_KEY is not a P-256 private key.") from exc
    derived_public = derived.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    if b64url(derived_public) != public_key.rstrip("="):
        raise ImproperlyConfigured("PAIS_VAPID_PUBLIC_KEY does not match PAIS_VAPID_PRIVATE_KEY.")


def subject() -> str:
    configured = str(getattr(settings, "PAIS_VAPID_SUBJECT", "") or "")
    if configured:
        return configured
    # RFC 8292 accepts an https: URL as the contact; the site's address is the natural one.
    return str(settings.SITE_URL)


def _dev_keys(var_dir: Path) -> tuple[str, str]:
    path = var_dir / DEV_KEY_FILE
    try:
        stored = json.loads(path.read_text())
        return str(stored["public_key"]), str(stored["private_key"])
    except FileNotFoundError:
        pass
    public_key, private_key = key_pair_generate()
    var_dir.mkdir(parents=True, exist_ok=True)
    # Created exclusively and readable by the owner only; if another process won the race, its
    # pair is the one to use.
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        stored = json.loads(path.read_text())
        return str(stored["public_key"]), str(stored["private_key"])
    with os.fdopen(descriptor, "w") as handle:
        json.dump({"public_key": public_key, "private_key": private_key}, handle)
    logger.info("Generated a development VAPID key pair in %s", path)
    return public_key, private_key


def vapid_keys() -> VapidKeys | None:
    """The key pair in use, or None when Web Push is not configured."""
    public_key = str(getattr(settings, "PAIS_VAPID_PUBLIC_KEY", "") or "").strip()
    private_key = str(getattr(settings, "PAIS_VAPID_PRIVATE_KEY", "") or "").strip()
    if public_key or private_key:
        if not (public_key and private_key):
            raise ImproperlyConfigured(
                "Set both PAIS_VAPID_PUBLIC_KEY and PAIS_VAPID_PRIVATE_KEY, or neither."
            )
        _check_pair(public_key, private_key)
        return VapidKeys(public_key.rstrip("="), private_key.rstrip("="), subject())
    if not settings.DEBUG:
        return None
    public_key, private_key = _dev_keys(Path(settings.VAR_DIR))
    return VapidKeys(public_key, private_key, subject())
