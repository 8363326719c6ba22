"""Audit the pinned dependencies (constraints.txt) for known vulnerabilities with pip-audit.

    python tools/audit_deps.py [constraints.txt]

pip-audit asks a vulnerability service about every pinned version: PyPI's JSON API first, then
OSV. Where neither answers (a laptop offline, a CI runner without internet, a PyPI mirror
without the per-release API), the audit cannot be made; this script then says so plainly and
exits 0, so that `make test` still passes offline. pip-audit itself would report "No known
vulnerabilities found" even when it could audit nothing, which is why its JSON is read here.

Exit status: 0 when no pinned version has a known vulnerability, or when the audit was skipped
(the message says "SKIPPED"); 1 when at least one has (each is listed with its fixed versions).
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

# What pip-audit calls each service, and one cheap request that shows whether it answers.
PROBES: dict[str, tuple[str, bytes | None]] = {
    "pypi": ("https://pypi.org/pypi/pip/json", None),
    "osv": (
        "https://api.osv.dev/v1/query",
        b'{"package": {"name": "pip", "ecosystem": "PyPI"}, "version": "24.0"}',
    ),
}
PROBE_TIMEOUT_SECONDS = 5
# A whole run takes seconds when the service answers; this only stops a hung network.
AUDIT_TIMEOUT_SECONDS = 300


def reachable(service: str) -> str | None:
    """None if the service answered the probe, else why not."""
    url, body = PROBES[service]
    request = urllib.request.Request(  # noqa: S310 (fixed https URLs)
        url, data=body, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=PROBE_TIMEOUT_SECONDS) as response:  # noqa: S310
            response.read(1)
    except Exception as error:  # any failure means "not reachable"
        return f"{type(error).__name__}: {error}"
    return None


def audit(constraints: Path, service: str) -> dict[str, Any] | str:
    """pip-audit's JSON report, or why there is none."""
    command = [
        sys.executable,
        "-m",
        "pip_audit",
        "--requirement",
        str(constraints),
        # Every package is pinned in the file: nothing to resolve, and no pip run needed.
        "--no-deps",
        "--disable-pip",
        "--vulnerability-service",
        service,
        "--format",
        "json",
        "--progress-spinner",
        "off",
        "--timeout",
        "15",
    ]
    try:
        result = subprocess.run(  # noqa: S603 (our own interpreter, fixed arguments)
            command, capture_output=True, text=True, timeout=AUDIT_TIMEOUT_SECONDS, check=False
        )
    except subprocess.TimeoutExpired:
        return f"no answer within {AUDIT_TIMEOUT_SECONDS} s"
    try:
        report: dict[str, Any] = json.loads(result.stdout)
    except json.JSONDecodeError:
        last_line = (result.stderr.strip().splitlines() or ["no output"])[-1]
        return f"pip-audit failed: {last_line}"
    return report


def main(argv: list[str]) -> int:
    constraints = Path(argv[1] if len(argv) > 1 else "constraints.txt")
    if not constraints.is_file():
        print(f"audit-deps: {constraints} not found", file=sys.stderr)
        return 2
    reasons: list[str] = []
    for service in PROBES:
        problem = reachable(service)
        if problem is not None:
            reasons.append(f"{service}: unreachable ({problem})")
            continue
        report = audit(constraints, service)
        if isinstance(report, str):
            reasons.append(f"{service}: {report}")
            continue
        dependencies = report.get("dependencies", [])
        audited = [d for d in dependencies if "skip_reason" not in d]
        if not audited:
            reasons.append(
                f"{service}: answered for none of the {len(dependencies)} pinned packages"
            )
            continue
        vulnerable = [d for d in audited if d.get("vulns")]
        skipped = len(dependencies) - len(audited)
        print(
            f"audit-deps: {len(audited)} pinned packages audited against {service} "
            f"({skipped} not known to it), {len(vulnerable)} with known vulnerabilities."
        )
        for dependency in vulnerable:
            for vuln in dependency["vulns"]:
                fixes = ", ".join(vuln.get("fix_versions") or []) or "no fixed release yet"
                name, version = dependency["name"], dependency["version"]
                print(f"  {name} {version}: {vuln['id']} (fixed in {fixes})")
        return 1 if vulnerable else 0
    print("audit-deps: SKIPPED, dependencies NOT audited: no vulnerability service answered.")
    for reason in reasons:
        print(f"  {reason}")
    print("  Run `make audit-deps` where https://pypi.org or https://api.osv.dev is reachable.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
