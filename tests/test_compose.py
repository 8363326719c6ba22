"""docker-compose.yml, Dockerfile and .dockerignore, checked by reading them (no Docker here).

The checks pin what would otherwise only fail at deploy time: a missing healthcheck, a service
that starts before its database is ready, an environment variable the settings never read, a
command that names a module that does not exist.
"""

from __future__ import annotations

import importlib
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml
from celery import Celery
from celery.app.utils import find_app

ROOT = Path(__file__).resolve().parent.parent
APP_SERVICES = ("web", "worker", "beat")
CONTRACT_ENV = (
    "DATABASE_URL",
    "REDIS_URL",
    "DJANGO_SECRET_KEY",
    "DJANGO_DEBUG",
    "DJANGO_ALLOWED_HOSTS",
    "EMAIL_URL",
)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    return compose["services"]


def command_words(service: dict[str, Any]) -> list[str]:
    command = service["command"]
    if isinstance(command, str):
        return shlex.split(command)
    if command[:2] == ["sh", "-c"]:
        return shlex.split(command[2])
    return list(command)


def settings_env_names() -> set[str]:
    """Every variable config/settings.py reads through the env_* helpers."""
    source = (ROOT / "config" / "settings.py").read_text()
    return set(re.findall(r'env_(?:str|bool|int|list)\(\s*"([A-Z0-9_]+)"', source))


def test_the_five_services_of_the_production_shape(services):
    assert set(services) == {"postgres", "redis", "web", "worker", "beat"}
    assert services["postgres"]["image"].split(":")[1].startswith("16")
    assert services["redis"]["image"].split(":")[1].startswith("7")
    for name in APP_SERVICES:
        assert services[name]["build"] == "."


def test_redis_never_evicts_queued_tasks(services):
    words = command_words(services["redis"])
    assert words[0] == "redis-server"
    assert words[words.index("--maxmemory-policy") + 1] == "noeviction"


@pytest.mark.parametrize("name", ["postgres", "redis", "web", "worker", "beat"])
def test_every_service_has_a_healthcheck(services, name):
    check = services[name]["healthcheck"]
    assert check["test"][0] in ("CMD", "CMD-SHELL")
    assert len(check["test"]) >= 2
    assert check["interval"] and check["timeout"] and check["retries"] >= 1


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_wait_for_healthy_dependencies(services, name):
    depends = services[name]["depends_on"]
    assert isinstance(depends, dict), "depends_on needs conditions, not a plain list"
    assert {"postgres", "redis"} <= set(depends)
    for dependency in depends.values():
        assert dependency["condition"] == "service_healthy"
    if name != "web":
        # The web service runs the migrations; worker and beat start after it.
        assert "web" in depends


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_get_the_contract_environment(services, name):
    env = services[name]["environment"]
    assert set(CONTRACT_ENV) <= set(env)
    assert str(env["DJANGO_DEBUG"]) == "0"
    # Required, with no default: compose refuses to start without it.
    assert re.fullmatch(r"\$\{DJANGO_SECRET_KEY:\?[^}]+\}", env["DJANGO_SECRET_KEY"])
    assert env["DATABASE_URL"].startswith("postgres://")
    assert "@postgres:5432/" in env["DATABASE_URL"]
    assert env["REDIS_URL"].startswith("redis://redis:6379/")


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_set_only_variables_something_reads(services, name):
    read_by_gunicorn = {"WEB_CONCURRENCY"}
    unknown = set(services[name]["environment"]) - settings_env_names() - read_by_gunicorn
    assert unknown == set()


def test_contract_variables_are_read_by_the_settings():
    assert set(CONTRACT_ENV) <= settings_env_names()


@pytest.mark.filterwarnings("ignore:No directory at:UserWarning")
def test_web_migrates_and_collects_static_before_gunicorn(services):
    words = command_words(services["web"])
    text = " ".join(words)
    assert text.index("manage.py migrate") < text.index("manage.py collectstatic")
    assert text.index("manage.py collectstatic") < text.index("gunicorn")
    target = words[words.index("gunicorn") + 1]
    module_name, attribute = target.split(":")
    assert module_name == "config.wsgi"
    assert callable(getattr(importlib.import_module(module_name), attribute))


@pytest.mark.parametrize(("name", "role"), [("worker", "worker"), ("beat", "beat")])
def test_celery_services_run_the_projects_app(services, name, role):
    words = command_words(services[name])
    assert words[0] == "celery"
    app_name = words[words.index("-A") + 1]
    assert words[words.index("-A") + 2] == role
    app = find_app(app_name)
    assert isinstance(app, Celery)
    assert app is importlib.import_module("config.celery").app


def test_python_healthchecks_compile(services):
    for name in ("web", "beat"):
        test = services[name]["healthcheck"]["test"]
        assert test[:3] == ["CMD", "python", "-c"]
        compile(test[3], f"{name} healthcheck", "exec")


def test_only_known_variables_are_interpolated():
    """A stray ``$NAME`` is expanded by compose on the host; container-side ones need ``$$``."""
    text = (ROOT / "docker-compose.yml").read_text()
    names = set(re.findall(r"(?<!\$)\$\{([A-Z0-9_]+)", text))
    assert names <= settings_env_names() | {
        "POSTGRES_PASSWORD",
        "WEB_CONCURRENCY",
        "PAIS_HTTP_PORT",
    }
    assert not re.search(r"(?<!\$)\$(?![{$])", text.replace("$$", ""))


def test_beat_keeps_its_schedule_where_the_settings_put_it(services):
    dockerfile = (ROOT / "Dockerfile").read_text()
    var_dir = re.search(r"PAIS_VAR_DIR=(\S+)", dockerfile)
    assert var_dir is not None
    assert f"beat-state:{var_dir.group(1)}" in services["beat"]["volumes"]


def test_dockerfile_builds_a_slim_non_root_image():
    lines = [
        line.strip()
        for line in (ROOT / "Dockerfile").read_text().splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    assert lines[0] == "FROM python:3.11-slim"
    text = "\n".join(lines)
    assert re.search(r"pip install (--no-deps )?\.", text)
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0")
    # The user switch comes after the installs, and before the process starts.
    assert text.index("USER ") > text.rindex("pip install")
    cmd = next(line for line in lines if line.startswith("CMD "))
    assert "config.wsgi:application" in cmd


def test_dockerignore_keeps_local_state_out_of_the_image():
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".git", ".venv", "*.sqlite3", "var", ".env"} <= ignored
    # pip install . needs these two.
    assert "pyproject.toml" not in ignored
    assert "README.md" not in ignored
