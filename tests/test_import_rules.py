"""The import direction and the test-helper rule, read from the source with ``ast``.

- Imports run ``reports -> rehab -> accounts`` (docs/architecture.md, "The apps"): ``accounts``
  imports neither ``rehab`` nor ``reports``; ``rehab`` does not import ``reports``. No app
  imports ``config.pages`` or ``config.urls``, which route to the apps from above, and no app
  imports another app's views: a view is where a request ends, reached only through a URLconf
  or ``config.pages`` (so "/" cannot bounce from one app's view into another's).
- A template outside ``templates/reports/`` never ``{% load %}``s a tag library of ``reports``:
  a page rendered by ``rehab`` would otherwise depend on ``reports`` behind the imports' back.
- No test module imports from another test module (``from tests.x.test_y import ...``): shared
  set-up lives in ``tests/conftest.py``, ``tests/factories.py`` or a named helper module.

Imports inside functions and under ``TYPE_CHECKING`` count: they are dependencies all the same.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# app -> the top-level packages (or modules) it must not import.
FORBIDDEN = {
    "accounts": ("rehab", "reports", "config.pages", "config.urls"),
    "rehab": ("reports", "config.pages", "config.urls", "accounts.views"),
    "reports": ("config.pages", "config.urls", "rehab.views", "accounts.views"),
}

LOAD_TAG = re.compile(r"{%-?\s*load\s+(.*?)\s*-?%}", re.DOTALL)


def imported_modules(source: str, *, package: str) -> Iterator[tuple[int, str]]:
    """Every module an ``import`` names, as (line, dotted name); relative imports are resolved
    against ``package`` (the importing module's package)."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            yield node.lineno, module
            # ``from reports import views`` imports reports.views.
            for alias in node.names:
                yield node.lineno, f"{module}.{alias.name}"


def _names(module: str, forbidden: str) -> bool:
    return module == forbidden or module.startswith(forbidden + ".")


def forbidden_imports(app: str) -> list[str]:
    found = []
    for path in sorted((ROOT / app).rglob("*.py")):
        relative = path.relative_to(ROOT)
        package = ".".join(relative.with_suffix("").parts[:-1])
        for line, module in imported_modules(path.read_text(), package=package):
            if any(_names(module, bad) for bad in FORBIDDEN[app]):
                found.append(f"{relative}:{line} imports {module}")
    return sorted(set(found))


@pytest.mark.parametrize("app", sorted(FORBIDDEN))
def test_apps_import_only_downwards(app):
    assert forbidden_imports(app) == []


def loaded_libraries(template: str) -> set[str]:
    """The tag libraries a template loads: ``{% load a b %}`` and ``{% load x y from lib %}``."""
    libraries: set[str] = set()
    for match in LOAD_TAG.finditer(template):
        words = match.group(1).split()
        if "from" in words:
            libraries.add(words[-1])
        else:
            libraries.update(words)
    return libraries


def reports_tag_libraries() -> set[str]:
    folder = ROOT / "reports" / "templatetags"
    return {p.stem for p in folder.glob("*.py") if p.stem != "__init__"}


def test_no_page_outside_reports_loads_a_reports_tag_library():
    libraries = reports_tag_libraries()
    found = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        relative = path.relative_to(ROOT / "templates")
        if relative.parts[0] == "reports":
            continue
        for library in sorted(loaded_libraries(path.read_text()) & libraries):
            found.append(f"templates/{relative} loads {library}")
    assert found == []


def test_the_checks_see_what_they_forbid():
    """The walkers themselves: each catches the shape it is there to catch."""
    source = (
        "from reports.charts import x\n"
        "import reports.views\n"
        "def f():\n    from .. import reports\n"
        "from . import views\n"
    )
    modules = {m for _, m in imported_modules(source, package="rehab.templatetags")}
    assert {"reports.charts", "reports.views", "rehab.reports", "rehab.templatetags.views"} <= (
        modules
    )
    assert not any(_names(m, "reports") for m in ["reportsx", "rehab.reports"])
    assert loaded_libraries("{% load alerts course_charts %}{%load static%}") == {
        "alerts",
        "course_charts",
        "static",
    }
    assert loaded_libraries("{% load episode_charts from course_charts %}") == {"course_charts"}


# --- Tests import no other test module -----------------------------------------------------------

# Imports from a test module that belong to files another branch of issue 11 is rewriting; each
# must still be there (the test says so once it is gone, so this list cannot outlive its reason).
PENDING: dict[str, str] = {}


def _is_test_module(module: str) -> bool:
    return module.startswith("tests.") and any(p.startswith("test_") for p in module.split("."))


def imports_of_test_modules() -> dict[str, set[str]]:
    """Test files (by path) that import a test module, and the modules they import."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / "tests").rglob("*.py")):
        relative = path.relative_to(ROOT)
        package = ".".join(relative.with_suffix("").parts[:-1])
        modules = {m for _, m in imported_modules(path.read_text(), package=package)}
        # ``from tests.x.test_y import name`` also yields tests.x.test_y.name: keep the module.
        modules = {m for m in modules if _is_test_module(m)}
        test_modules = {m for m in modules if m.rsplit(".", 1)[-1].startswith("test_")}
        if modules:
            found[relative.as_posix()] = test_modules or modules
    return found


def test_no_test_imports_another_test_module():
    found = imports_of_test_modules()
    unexpected = {path: modules for path, modules in found.items() if path not in PENDING}
    assert unexpected == {}, (
        "move the shared helper to conftest.py, factories.py or a helper module"
    )
    for path, module in PENDING.items():
        assert module in found.get(path, set()), f"{path} is clean now: drop it from PENDING"


def test_the_test_module_check_sees_a_private_helper_import():
    source = "from tests.bench.test_bulk_evaluation import _touch\nfrom . import test_reach\n"
    modules = {m for _, m in imported_modules(source, package="tests.api")}
    assert {m for m in modules if _is_test_module(m)} >= {
        "tests.bench.test_bulk_evaluation",
        "tests.api.test_reach",
    }
    assert not _is_test_module("tests.api.helpers") and not _is_test_module("tests.factories")


# --- The pure modules import no Django -----------------------------------------------------------

# Plain data in, plain data out (docs/architecture.md): the clinical rules and the questionnaire
# scoring import the standard library and each other, nothing else.
PURE_MODULES = ("rehab/rules.py", "rehab/function_scores.py", "rehab/alert_diff.py")
PURE_MAY_IMPORT = ("rehab.rules", "rehab.function_scores")


@pytest.mark.parametrize("path", PURE_MODULES)
def test_the_pure_modules_import_only_the_standard_library(path):
    source = (ROOT / path).read_text()
    found = []
    for line, module in imported_modules(source, package="rehab"):
        top = module.split(".")[0]
        allowed = top in sys.stdlib_module_names or top == "__future__"
        allowed = allowed or any(_names(module, pure) for pure in PURE_MAY_IMPORT)
        # ``from rehab import rules`` also yields "rehab" itself: the package, empty.
        if not allowed and module != "rehab":
            found.append(f"{path}:{line} imports {module}")
    assert found == []
