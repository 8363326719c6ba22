"""Production settings, loaded from the environment as in docker-compose.yml, pass Django's
deployment checks and ours, and their responses carry the security headers and cookie flags.

Production settings are read once per process, so each case runs ``manage.py`` or a short
script in a subprocess with DJANGO_DEBUG=0 and a real secret key. The pinned dependencies and
the dependency audit script are checked here too.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from config.security import (
    MIN_HSTS_SECONDS,
    check_security_headers,
    content_security_policy,
    render_policy,
)
from tests.security.helpers import PRODUCTION_HOST, production_env
from tools import audit_deps

ROOT = Path(__file__).resolve().parents[2]
HOST = PRODUCTION_HOST


def manage(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=production_env(tmp_path, **env),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_check_deploy_passes_with_production_settings(tmp_path: Path) -> None:
    result = manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize(
    ("env", "check_id"),
    [
        ({"DJANGO_SECURE_HSTS_SECONDS": str(MIN_HSTS_SECONDS - 1)}, "pais.E002"),
        ({"DJANGO_SECURE_SSL_REDIRECT": "0"}, "security.W008"),
    ],
)
def test_check_deploy_fails_on_a_weakened_setting(
    tmp_path: Path, env: dict[str, str], check_id: str
) -> None:
    result = manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING", **env)
    assert result.returncode != 0
    assert check_id in result.stdout + result.stderr


def test_the_deploy_check_wants_the_policy_middleware_and_a_year_of_hsts() -> None:
    without = [m for m in _middleware() if not m.endswith("ContentSecurityPolicyMiddleware")]
    with override_settings(MIDDLEWARE=without, SECURE_HSTS_SECONDS=MIN_HSTS_SECONDS):
        assert [e.id for e in check_security_headers()] == ["pais.E001"]
    with override_settings(SECURE_HSTS_SECONDS=MIN_HSTS_SECONDS):
        assert check_security_headers() == []
    assert MIN_HSTS_SECONDS == 31_536_000


def _middleware() -> list[str]:
    from django.conf import settings

    return list(settings.MIDDLEWARE)


# Runs inside a production process: the login page over plain HTTP and, as the TLS proxy
# forwards it, over HTTPS; the API docs page; an API call without credentials.
_REQUESTS = r"""
import json
import django
django.setup()
from django.conf import settings
from django.test import Client

client = Client(HTTP_HOST="rehab.example.org")
https = {"HTTP_X_FORWARDED_PROTO": "https"}
plain = client.get("/accounts/login/")
page = client.get("/accounts/login/", **https)
docs = client.get("/api/docs/", **https)
api = client.get("/api/v1/episodes/", **https)
csrf = page.cookies["csrftoken"]
print(json.dumps({
    "plain": [plain.status_code, plain.get("Location")],
    "page": [page.status_code, dict(page.headers)],
    "docs": [docs.status_code, dict(docs.headers)],
    "api": [api.status_code, dict(api.headers)],
    "csrf_cookie": {"secure": csrf["secure"], "samesite": csrf["samesite"]},
    "settings": {
        name: getattr(settings, name)
        for name in (
            "SESSION_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "SESSION_COOKIE_SAMESITE",
            "CSRF_COOKIE_SECURE", "SECURE_SSL_REDIRECT", "DEBUG",
        )
    },
}))
"""


@pytest.fixture(scope="module")
def production_responses(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp_path = tmp_path_factory.mktemp("production")
    env = production_env(tmp_path)
    # As the web container does before gunicorn starts: pages need the static files' manifest.
    collect = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert collect.returncode == 0, collect.stderr
    result = subprocess.run(
        [sys.executable, "-c", _REQUESTS],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    yield json.loads(result.stdout.strip().splitlines()[-1])


def test_plain_http_is_redirected_to_https(production_responses: dict[str, Any]) -> None:
    status, location = production_responses["plain"]
    assert status == 301
    assert location == f"https://{HOST}/accounts/login/"


def test_pages_carry_hsts_and_the_security_headers(production_responses: dict[str, Any]) -> None:
    status, headers = production_responses["page"]
    assert status == 200
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert headers["Content-Security-Policy"] == render_policy(content_security_policy())


def test_the_api_docs_run_under_the_same_policy(production_responses: dict[str, Any]) -> None:
    status, headers = production_responses["docs"]
    assert status == 200
    assert headers["Content-Security-Policy"] == render_policy(content_security_policy())


def test_api_answers_are_not_cached_and_carry_no_page_policy(
    production_responses: dict[str, Any],
) -> None:
    status, headers = production_responses["api"]
    assert status == 401
    assert "no-store" in headers["Cache-Control"]
    assert headers["Content-Type"].startswith("application/json")
    assert "Content-Security-Policy" not in headers
    assert headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_cookies_are_secure_in_production(production_responses: dict[str, Any]) -> None:
    assert production_responses["csrf_cookie"] == {"secure": True, "samesite": "Lax"}
    assert production_responses["settings"] == {
        "SESSION_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "CSRF_COOKIE_SECURE": True,
        "SECURE_SSL_REDIRECT": True,
        "DEBUG": False,
    }


# --- Pinned dependencies -----------------------------------------------------------------------


def _pins() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = re.fullmatch(r"([A-Za-z0-9._-]+)==([A-Za-z0-9.+!-]+)", line)
        assert match, f"not an exact pin: {line!r}"
        pins[canonicalize_name(match.group(1))] = match.group(2)
    return pins


def _declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    return [Requirement(name) for name in names]


def test_every_dependency_is_pinned_within_its_declared_range() -> None:
    pins = _pins()
    for requirement in _declared():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name} is not pinned: run `make constraints`"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"{requirement.name}=={pins[name]} is outside {requirement.specifier}"
        )


def test_the_environment_runs_the_pinned_versions() -> None:
    # What pip-audit checks (constraints.txt) is what the tests run: `make install` installs
    # with `-c constraints.txt`, so a drift means the pins or the environment are stale.
    pins = _pins()
    for requirement in _declared():
        name = canonicalize_name(requirement.name)
        installed = metadata.version(requirement.name)
        assert installed == pins[name], (
            f"{requirement.name} {installed} is installed but {pins[name]} is pinned: run "
            "`make constraints` after an upgrade, or `make install`"
        )


# --- The dependency audit ----------------------------------------------------------------------


def _audit_with(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    *,
    reachable: dict[str, str | None],
    reports: dict[str, Any],
) -> int:
    constraints = tmp_path / "constraints.txt"
    constraints.write_text("django==5.2.0\n")
    monkeypatch.setattr(audit_deps, "reachable", lambda service: reachable[service])
    monkeypatch.setattr(audit_deps, "audit", lambda path, service: reports[service])
    return audit_deps.main(["audit_deps.py", str(constraints)])


def test_the_audit_fails_on_a_known_vulnerability(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = {
        "dependencies": [
            {
                "name": "django",
                "version": "5.2.0",
                "vulns": [{"id": "PYSEC-2025-1", "fix_versions": ["5.2.1"]}],
            },
            {"name": "pip-api", "skip_reason": "not on PyPI"},
        ]
    }
    status = _audit_with(
        monkeypatch, tmp_path, reachable={"pypi": None, "osv": None}, reports={"pypi": report}
    )
    out = capsys.readouterr().out
    assert status == 1
    assert "1 pinned packages audited against pypi (1 not known to it), 1 with known" in out
    assert "django 5.2.0: PYSEC-2025-1 (fixed in 5.2.1)" in out


def test_the_audit_passes_when_nothing_is_known(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = {"dependencies": [{"name": "django", "version": "5.2.0", "vulns": []}]}
    status = _audit_with(
        monkeypatch, tmp_path, reachable={"pypi": None, "osv": None}, reports={"pypi": report}
    )
    assert status == 0
    assert "0 with known vulnerabilities" in capsys.readouterr().out


def test_the_audit_says_it_was_skipped_when_no_service_answers(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A mirror that knows the projects but not their releases answers for no package: pip-audit
    # itself would print "No known vulnerabilities found"; the script must not pass that off.
    mirror = {"dependencies": [{"name": "django", "skip_reason": "Dependency not found on PyPI"}]}
    status = _audit_with(
        monkeypatch,
        tmp_path,
        reachable={"pypi": None, "osv": "URLError: Name or service not known"},
        reports={"pypi": mirror},
    )
    out = capsys.readouterr().out
    assert status == 0
    assert "SKIPPED, dependencies NOT audited" in out
    assert "pypi: answered for none of the 1 pinned packages" in out
    assert "osv: unreachable (URLError: Name or service not known)" in out
