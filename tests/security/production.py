"""A production process to attack from the outside: the production settings (``DJANGO_DEBUG=0``,
a real secret key, HTTPS behind a proxy), the static files collected, gunicorn on a local port,
and a database of its own: a throwaway PostgreSQL database when the tests run on PostgreSQL
(``DATABASE_URL``), else a SQLite file.

The tests talk to it with ``http.client`` as a browser or an API client would, cookies and CSRF
token included; nothing is shared with the test process but the network.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from rehab.reminders.vapid import key_pair_generate

ROOT = Path(__file__).resolve().parents[2]
HOST = "rehab.example.org"


def production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The process environment of a production container, on a throwaway SQLite file."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "REDIS_", "PAIS_", "CELERY_"))
    }
    env.update(
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS=HOST,
        DATABASE_URL=f"sqlite:///{tmp_path / 'unused.sqlite3'}",
        PAIS_VAR_DIR=str(tmp_path / "var"),
        DJANGO_STATIC_ROOT=str(tmp_path / "static"),
    )
    # A production installation has its Web Push key pair (docs/reminders.md).
    env["PAIS_VAPID_PUBLIC_KEY"], env["PAIS_VAPID_PRIVATE_KEY"] = key_pair_generate()
    env.update(extra)
    return env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _database(tmp_path: Path) -> Iterator[str]:
    """A database URL of the process's own: PostgreSQL like the tests' when they run on it."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        yield f"sqlite:///{tmp_path / 'production.sqlite3'}"
        return
    import psycopg

    parts = urlsplit(url)
    name = f"pais_attack_{secrets.token_hex(4)}"
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def location(self) -> str:
        return self.headers.get("location", "")

    @property
    def text(self) -> str:
        return self.body.decode(errors="replace")

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Browser:
    """Cookies and the CSRF token, as a browser keeps them, over plain ``http.client``."""

    port: int
    cookies: dict[str, str] = field(default_factory=dict)

    def request(
        self,
        method: str,
        path: str,
        *,
        form: dict[str, str] | None = None,
        json_body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        sent = {
            "Host": HOST,
            # As the TLS proxy in front of production forwards every request.
            "X-Forwarded-Proto": "https",
            "Referer": f"https://{HOST}{path}",
            **(headers or {}),
        }
        body: bytes | None = None
        if form is not None:
            form = {"csrfmiddlewaretoken": self.cookies.get("csrftoken", ""), **form}
            body = urlencode(form).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        elif json_body is not None:
            body = json_body
            sent["Content-Type"] = "application/json"
        if method not in ("GET", "HEAD") and "csrftoken" in self.cookies:
            sent.setdefault("X-CSRFToken", self.cookies["csrftoken"])
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=sent)
            response = conn.getresponse()
            data = response.read()
            for header in response.headers.get_all("Set-Cookie") or []:
                jar: SimpleCookie = SimpleCookie()
                jar.load(header)
                for name, morsel in jar.items():
                    if morsel["max-age"] == "0" or not morsel.value:
                        self.cookies.pop(name, None)
                    else:
                        self.cookies[name] = morsel.value
            return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, data)
        finally:
            conn.close()

    def sign_in(self, email: str, password: str) -> Answer:
        self.request("GET", "/accounts/login/")
        return self.request(
            "POST", "/accounts/login/", form={"username": email, "password": password}
        )


@dataclass
class ProductionSite:
    port: int
    env: dict[str, str]
    access_log: Path
    error_log: Path
    # What the process wrote to stdout and stderr (Django's console log: "Not Found: ...").
    output_log: Path

    def browser(self) -> Browser:
        return Browser(self.port)

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    def run_script(self, code: str) -> str:
        """Run Python with Django set up inside the site's own environment (to set up people);
        returns the last line it printed (``shell`` may print a banner first)."""
        return self.manage("shell", "-c", code).strip().splitlines()[-1]


def dockerfile_gunicorn_words() -> list[str]:
    """The production web command, as the image runs it (the Dockerfile's ``CMD``)."""
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.startswith("CMD "):
            words = json.loads(line.removeprefix("CMD "))
            assert words[0] == "gunicorn"
            return list(words)
    raise AssertionError("no CMD in the Dockerfile")


def gunicorn_command(port: int, access_log: Path, error_log: Path) -> list[str]:
    """The image's own command, pointed at a local port and at log files instead of the console.

    One worker (the image's default): without Redis the sign-in lockout counts in the process's
    memory, as a real deployment's workers count it together in Redis."""
    words = dockerfile_gunicorn_words()[1:]
    words[words.index("--bind") + 1] = f"127.0.0.1:{port}"
    words[words.index("--access-logfile") + 1] = str(access_log)
    return [
        sys.executable,
        "-m",
        "gunicorn",
        *words,
        "--workers",
        "1",
        "--error-logfile",
        str(error_log),
    ]


@contextmanager
def production_site(tmp_path: Path, **extra_env: str) -> Iterator[ProductionSite]:
    """Migrate, collect the static files and start gunicorn with the production settings (and
    ``extra_env``)."""
    with _database(tmp_path) as database_url:
        env = {
            **production_env(tmp_path, DATABASE_URL=database_url, **extra_env),
            "DJANGO_SETTINGS_MODULE": "config.settings",
        }
        port = _free_port()
        site = ProductionSite(
            port=port,
            env=env,
            access_log=tmp_path / "access.log",
            error_log=tmp_path / "error.log",
            output_log=tmp_path / "output.log",
        )
        site.manage("migrate", "--noinput", "-v", "0")
        site.manage("collectstatic", "--noinput", "-v", "0")
        with site.output_log.open("wb") as output:
            process = subprocess.Popen(
                gunicorn_command(port, site.access_log, site.error_log),
                cwd=ROOT,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if site.browser().request("GET", "/accounts/login/").status == 200:
                        break
                except OSError:
                    pass
                if time.monotonic() > deadline or process.poll() is not None:
                    log = site.error_log.read_text() if site.error_log.exists() else ""
                    raise RuntimeError(f"gunicorn did not start:\n{log[-3000:]}")
                time.sleep(0.2)
            yield site
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
