"""axe-core for the browser tests: the copy pinned in tools/axe (`make pytest` installs it)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.browser.conftest import _unavailable

AXE = Path(__file__).resolve().parents[2] / "tools" / "axe" / "node_modules" / "axe-core"


def require_axe() -> None:
    """Skip without axe-core, or fail under PAIS_REQUIRE_BROWSER=1 (CI)."""
    if not (AXE / "axe.min.js").exists():
        _unavailable(f"axe-core is not installed ({AXE}); run `npm ci --prefix tools/axe`")


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Run axe-core on the page as it is now; each violation with its impact and elements."""
    require_axe()
    page.add_script_tag(path=str(AXE / "axe.min.js"))
    result = page.evaluate("async () => JSON.stringify((await axe.run(document)).violations)")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]}
        for v in json.loads(result)
    ]
