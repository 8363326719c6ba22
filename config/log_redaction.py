"""Secrets that travel in addresses never reach a log.

An invitation link (``/invite/<token>/``) and a password-reset link
(``/accounts/password/reset/<uidb64>/<token>/``) carry one-time secrets in their path. Whoever
reads the access log, the error log or Django's "Not Found: ..." lines must not be able to
replay them. Both redactors below use :func:`redact`: the gunicorn logger class
(config/gunicorn_logging.py) for the access and error logs, and :class:`RedactSecretsFilter` for
Django's loggers (settings ``LOGGING``).
"""

from __future__ import annotations

import logging
import re

REDACTED = "[redacted]"

# The landing addresses without a secret (where the token moved into the session) stay readable.
_INVITATION = re.compile(r"(/invite/)(?!set-password/)[^/?#\s\"']+")
_PASSWORD_RESET = re.compile(
    r"(/accounts/password/reset/[^/?#\s\"']+/)(?!set-password/)[^/?#\s\"']+(?=/)"
)
# Query parameters that could carry a credential, whatever the path.
_QUERY_SECRET = re.compile(
    r"([?&;](?:token|key|password|secret|otp|code|uid|uidb64)=)[^&;#\s\"']*", re.IGNORECASE
)


def redact(text: str) -> str:
    """``text`` with every secret of an address replaced by ``[redacted]``."""
    if "/" not in text and "=" not in text:
        return text
    text = _INVITATION.sub(rf"\g<1>{REDACTED}", text)
    text = _PASSWORD_RESET.sub(rf"\g<1>{REDACTED}", text)
    return _QUERY_SECRET.sub(rf"\g<1>{REDACTED}", text)


class RedactSecretsFilter(logging.Filter):
    """Rewrites a record's message with the secrets redacted (it never drops a record)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            # A malformed record: logging reports it itself; leave it alone.
            return True
        redacted = redact(message)
        if redacted != message:
            record.msg = redacted
            record.args = None
        return True
