"""Add-to-home-screen assets, and pages that never load anything from another origin."""

from __future__ import annotations

import re
import struct
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import Client

ROOT = Path(settings.BASE_DIR)


def _png_size(path: str) -> tuple[int, int]:
    data = Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_manifest_is_served_with_its_icons(db):
    response = Client().get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    manifest = response.json()
    assert manifest["start_url"] == "/"
    assert manifest["display"] == "standalone"
    assert manifest["name"] and manifest["short_name"]
    sizes = set()
    for icon in manifest["icons"]:
        assert icon["src"].startswith(settings.STATIC_URL)
        found = finders.find(icon["src"].removeprefix(settings.STATIC_URL))
        assert found, icon["src"]
        if icon["type"] == "image/png":
            width, height = _png_size(found)
            assert f"{width}x{height}" == icon["sizes"]
            sizes.add(width)
        else:
            assert Path(found).read_text().lstrip().startswith("<svg")
    assert sizes == {192, 512}


def test_base_template_links_manifest_icons_and_stylesheet(db):
    html = Client().get("/accounts/login/").content.decode()
    assert '<html lang="en">' in html
    assert '<link rel="manifest" href="/manifest.webmanifest">' in html
    assert 'href="/static/icons/icon.svg"' in html
    assert 'rel="apple-touch-icon" href="/static/icons/icon-192.png"' in html
    assert 'href="/static/css/app.css"' in html
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in html


# An address that makes the browser contact another origin: absolute http(s) or
# protocol-relative URLs in attributes, CSS url() or @import.
_EXTERNAL = re.compile(
    r"""https?://\S*|(?:src|href|action|srcset)\s*=\s*["']\s*//\S*|url\(\s*["']?\s*//\S*""",
    re.IGNORECASE,
)
# XML namespace names are identifiers, never fetched.
_NAMESPACE = re.compile(r"""xmlns(?::\w+)?\s*=\s*["']http://www\.w3\.org/[^"']*["']""")


def test_no_template_or_static_file_points_at_another_origin():
    offenders = []
    files = [
        *(ROOT / "templates").rglob("*"),
        *(ROOT / "static").rglob("*"),
    ]
    checked = 0
    for path in files:
        if not path.is_file() or path.suffix not in {".html", ".txt", ".css", ".js", ".svg"}:
            continue
        if path.parent == ROOT / "static" / "vendor":
            # Third-party code built by tools/plotly: plotly.js's attribute descriptions and
            # licence notices name web pages it never fetches. That the charts contact no
            # other origin is checked where it happens: in Chromium, request by request
            # (tests/browser/test_therapist_charts.py), under a connect-src 'self' policy.
            continue
        checked += 1
        text = _NAMESPACE.sub("", path.read_text())
        offenders += [f"{path.relative_to(ROOT)}: {m.group(0)}" for m in _EXTERNAL.finditer(text)]
    assert checked >= 10
    assert offenders == []


def test_no_inline_script_or_style_in_templates():
    # A Content-Security-Policy without 'unsafe-inline' is coming: keep pages ready for it.
    # The invitation email is exempt: mail clients ignore stylesheets.
    offenders = []
    for path in (ROOT / "templates").rglob("*.html"):
        if path.parts[-2] == "emails":
            continue
        text = path.read_text()
        # A <script src> from our own static files is allowed (script-src 'self'); code is not.
        if re.search(
            r"<script(?![^>]*\ssrc=)|<script[^>]*>[^<]|<style|\sstyle\s*=|\son\w+\s*=",
            text,
            re.IGNORECASE,
        ):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_the_stylesheet_uses_system_fonts_and_big_tap_targets():
    css = (ROOT / "static" / "css" / "app.css").read_text()
    assert "@import" not in css and "@font-face" not in css
    assert "system-ui" in css
    assert "--tap: 44px" in css
    assert ":focus-visible" in css
