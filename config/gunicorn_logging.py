"""gunicorn's logger with one-time secrets taken out of every line it writes.

The production command runs gunicorn with ``--logger-class config.gunicorn_logging.RedactingLogger``
(Dockerfile, docker-compose.yml, docs/deploy.md). gunicorn's access log would otherwise write
the request line, the path, the query and the Referer of ``/invite/<token>/`` and of the
password-reset link, and whoever reads the log could use the link.
"""

from __future__ import annotations

import logging
from typing import Any

from gunicorn.glogging import Logger

from config.log_redaction import RedactSecretsFilter, redact


class RedactingLogger(Logger):
    def __init__(self, cfg: Any) -> None:
        super().__init__(cfg)
        # The error log ("Error handling request /invite/..."): a filter on the logger itself.
        redacting: logging.Filter = RedactSecretsFilter()
        self.error_log.addFilter(redacting)
        self.access_log.addFilter(redacting)

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        """Every atom a format can name (request line, path, query, headers, environ):
        strings are redacted, whatever ``--access-logformat`` picks."""
        return {
            name: redact(value) if isinstance(value, str) else value
            for name, value in super().atoms(resp, req, environ, request_time).items()
        }
