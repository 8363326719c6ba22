"""Where the benchmark runs: its own PostgreSQL database and its own Redis database number.

Everything is read from the environment, with defaults that work on a developer machine with the
local PostgreSQL and Redis (see docs/performance.md, "Running it"):

``BENCH_DATABASE_URL``  the database the benchmark creates, fills and drops
                        (default ``postgres://postgres@127.0.0.1:5432/pais_bench``). It must not
                        be a database anybody else uses: the benchmark drops it.
``BENCH_REDIS_URL``     the broker and cache for the benchmark's gunicorn and Celery workers
                        (default ``redis://127.0.0.1:6379/13``). The benchmark empties this one
                        database number (FLUSHDB) between measurements, never any other.

The benchmark's Django processes run with the production settings (``DJANGO_DEBUG=0``, a random
secret key): the figures are the production configuration's, not the development server's.
"""

from __future__ import annotations

import os
import secrets
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/pais_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"
# Names the benchmark refuses to drop, whatever BENCH_DATABASE_URL says.
PROTECTED_DATABASES = frozenset(
    {"postgres", "template0", "template1", "pais", "pais_dev", "pais_ci"}
)


class BenchConfigError(RuntimeError):
    pass


@dataclass(frozen=True)
class BenchEnv:
    database_url: str
    redis_url: str
    work_dir: Path
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(48))

    @classmethod
    def from_environ(cls, work_dir: Path | None = None) -> BenchEnv:
        database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
        redis_url = os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL)
        env = cls(
            database_url=database_url,
            redis_url=redis_url,
            work_dir=work_dir or Path(tempfile.mkdtemp(prefix="pais-bench-")),
        )
        env.check()
        return env

    def check(self) -> None:
        parts = urlsplit(self.database_url)
        if parts.scheme not in ("postgres", "postgresql"):
            raise BenchConfigError("BENCH_DATABASE_URL must be a postgres:// URL.")
        if self.database_name in PROTECTED_DATABASES or not self.database_name:
            raise BenchConfigError(
                f"BENCH_DATABASE_URL names {self.database_name!r}: the benchmark drops its "
                "database, so give it one of its own (e.g. pais_bench)."
            )
        redis = urlsplit(self.redis_url)
        if redis.scheme != "redis" or not redis.path.strip("/").isdigit():
            raise BenchConfigError(
                "BENCH_REDIS_URL must name a database number, e.g. redis://127.0.0.1:6379/13."
            )

    @property
    def database_name(self) -> str:
        return urlsplit(self.database_url).path.lstrip("/")

    @property
    def maintenance_url(self) -> str:
        """The same server's ``postgres`` database, to create and drop the benchmark's."""
        parts = urlsplit(self.database_url)
        return urlunsplit(parts._replace(path="/postgres"))

    @property
    def psycopg_url(self) -> str:
        parts = urlsplit(self.database_url)
        return urlunsplit(parts._replace(scheme="postgresql"))

    @property
    def static_root(self) -> Path:
        return self.work_dir / "staticfiles"

    def django_env(self, **extra: str) -> dict[str, str]:
        """The environment of every Django process of the benchmark: production settings."""
        env = dict(os.environ)
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": "config.settings",
                "DATABASE_URL": self.database_url,
                "REDIS_URL": self.redis_url,
                "DJANGO_DEBUG": "0",
                "DJANGO_SECRET_KEY": self.secret_key,
                "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
                "DJANGO_STATIC_ROOT": str(self.static_root),
                "DJANGO_LOG_LEVEL": "WARNING",
                "EMAIL_URL": "dummy://",
                "PAIS_SITE_URL": "https://127.0.0.1",
                "PAIS_VAR_DIR": str(self.work_dir / "var"),
                "PYTHONPATH": str(ROOT),
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.pop("CELERY_TASK_ALWAYS_EAGER", None)
        env.update(extra)
        return env

    def setup_django(self) -> None:
        """Configure this process like the benchmark's other Django processes, then set up."""
        os.environ.update(self.django_env())
        if str(ROOT) not in sys.path:
            sys.path.insert(0, str(ROOT))
        import django

        django.setup()
