"""Settings come from the environment and fail loudly on bad values."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from config.env import env_bool, env_int, env_list, parse_email_url

ROOT = Path(__file__).resolve().parent.parent


def _load_settings(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    clean.update(env)
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import config.settings as s; print(s.DATABASES['default']['ENGINE'])",
        ],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        check=False,
    )


def test_debug_off_refuses_the_development_secret_key() -> None:
    result = _load_settings(DJANGO_DEBUG="0")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_debug_off_with_a_real_key_loads() -> None:
    result = _load_settings(DJANGO_DEBUG="0", DJANGO_SECRET_KEY="x" * 50)
    assert result.returncode == 0, result.stderr


def test_a_bad_boolean_stops_start_up() -> None:
    result = _load_settings(DJANGO_DEBUG="maybe")
    assert result.returncode != 0
    assert "DJANGO_DEBUG must be 1 or 0" in result.stderr


def test_a_fhir_base_that_is_not_a_web_address_stops_start_up() -> None:
    result = _load_settings(PAIS_FHIR_BASE_URL="urn:pais")
    assert result.returncode != 0
    assert "PAIS_FHIR_BASE_URL must be an http:// or https:// address" in result.stderr
    assert _load_settings(PAIS_FHIR_BASE_URL="https://rehab.example.org/fhir/").returncode == 0


def test_database_url_selects_postgres() -> None:
    result = _load_settings(DATABASE_URL="postgres://postgres@127.0.0.1:5432/rehab")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "django.db.backends.postgresql"


def test_default_database_is_sqlite() -> None:
    result = _load_settings()
    assert result.stdout.strip() == "django.db.backends.sqlite3"


@pytest.mark.django_db
def test_the_suite_runs_on_the_database_of_database_url() -> None:
    """``DATABASE_URL=postgres://... make test`` runs the suite on PostgreSQL (README, "Tests"):
    nothing in the test set-up falls back to SQLite behind the developer's back."""
    url = os.environ.get("DATABASE_URL", "")
    expected = "postgresql" if url.startswith(("postgres://", "postgresql://")) else "sqlite"
    assert connection.vendor == expected


def test_env_readers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X_BOOL", "yes")
    monkeypatch.setenv("X_INT", "12")
    monkeypatch.setenv("X_LIST", "a.example, b.example,,")
    assert env_bool("X_BOOL", False) is True
    assert env_int("X_INT", 1) == 12
    assert env_list("X_LIST", "") == ["a.example", "b.example"]
    monkeypatch.setenv("X_INT", "twelve")
    with pytest.raises(ImproperlyConfigured, match="X_INT must be a whole number"):
        env_int("X_INT", 1)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("console://", {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}),
        (
            "smtp+tls://user%40mail:p%40ss@smtp.example.org",
            {
                "EMAIL_HOST": "smtp.example.org",
                "EMAIL_PORT": 587,
                "EMAIL_HOST_USER": "user@mail",
                "EMAIL_HOST_PASSWORD": "p@ss",
                "EMAIL_USE_TLS": True,
                "EMAIL_USE_SSL": False,
            },
        ),
        ("smtps://mail.example.org:2465", {"EMAIL_PORT": 2465, "EMAIL_USE_SSL": True}),
        ("file:///tmp/mail", {"EMAIL_FILE_PATH": "/tmp/mail"}),
    ],
)
def test_email_url(url: str, expected: dict[str, object]) -> None:
    parsed = parse_email_url(url)
    for key, value in expected.items():
        assert parsed[key] == value


@pytest.mark.parametrize("url", ["gopher://x", "smtp://", "file://"])
def test_bad_email_url_fails_loudly(url: str) -> None:
    with pytest.raises(ImproperlyConfigured):
        parse_email_url(url)
