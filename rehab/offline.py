"""What the service worker keeps on the phone, and the version that replaces it after a deploy.

The worker (templates/pwa/sw.js, served at /sw.js by ``rehab.views.service_worker``) stores the
app shell below when it installs, under a cache name carrying ``shell_version()``. The version
is a digest of each shell file's address and content and of the worker's own templates: a deploy
that changes any of them changes the worker's bytes, the browser installs the new worker, and
its ``activate`` step deletes the caches of the old version (docs/diary.md, "Offline diary").
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import get_template
from django.templatetags.static import static
from django.urls import reverse

from accounts import offline_copy
from rehab.catalogue import PAIS_EXERCISES

# Static files every page needs. Anything else under STATIC_URL a page loads is cached when first
# fetched (the worker's static route), so a script added later works offline without a list.
SHELL_STATIC = (
    "css/app.css",
    "css/alerts.css",
    "css/dashboard.css",
    "js/offline-queue.js",
    "js/offline-diary.js",
    "js/questionnaire.js",
    # How to do each exercise: the day page's styles and the catalogue's drawings, kept so the
    # pictures show offline even when "How to do it" was never opened online (docs/exercises.md).
    "css/exercises.css",
    *(item["illustration"] for item in PAIS_EXERCISES),
    "icons/icon.svg",
    "icons/icon-192.png",
    "icons/icon-512.png",
)
WORKER_TEMPLATES = ("pwa/sw.js", "pwa/sw_push.js", "pwa/offline.html")

# The header with which a page says it may be kept offline (accounts/offline_copy.py).
OFFLINE_COPY_HEADER = offline_copy.OFFLINE_COPY_HEADER

# A worker runs under the policy sent with its own script, not the page's. It loads our scripts
# and talks to our origin only, like the pages (config/security.py).
WORKER_POLICY = "default-src 'self'; script-src 'self'; connect-src 'self'; object-src 'none'"


def shell_urls() -> list[str]:
    """The addresses the worker stores on install: the static shell, the manifest and the
    offline page."""
    # The JavaScript catalogue of every language, so the offline diary's scripts keep speaking the
    # patient's language (config/i18n.py).
    catalogues = [reverse("javascript-catalog", args=[code]) for code, _name in settings.LANGUAGES]
    return [
        *(static(name) for name in SHELL_STATIC),
        *catalogues,
        reverse("manifest"),
        reverse("offline"),
    ]


def _compute_version() -> str:
    digest = hashlib.sha256()
    for name in SHELL_STATIC:
        digest.update(static(name).encode())
        found = finders.find(name)
        if isinstance(found, str):
            with open(found, "rb") as handle:
                digest.update(handle.read())
    for name in WORKER_TEMPLATES:
        # The template's file, as the loader found it (Template.origin).
        origin = getattr(get_template(name), "origin", None)
        path = getattr(origin, "name", None)
        if isinstance(path, str):
            with open(path, "rb") as handle:
                digest.update(handle.read())
    # The scripts' catalogues (kept by the worker as /jsi18n/<code>/): a new translation is a
    # new shell, so phones fetch it.
    for locale_path in settings.LOCALE_PATHS:
        for compiled in sorted(Path(locale_path).glob("*/LC_MESSAGES/djangojs.mo")):
            digest.update(compiled.read_bytes())
    return digest.hexdigest()[:12]


@functools.cache
def _cached_version() -> str:
    return _compute_version()


def shell_version() -> str:
    """The digest naming this deploy's caches; recomputed on every call only in development
    (DEBUG), where files change under a running server."""
    return _compute_version() if settings.DEBUG else _cached_version()
