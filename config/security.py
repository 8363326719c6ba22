"""The Content-Security-Policy of every HTML page, and the deploy checks that guard it.

Django 5.2's SecurityMiddleware sends HSTS, ``X-Content-Type-Options`` and the referrer policy but
no Content-Security-Policy, so this middleware adds one. The pages are built for it: no inline
script (chart figures travel in ``application/json`` blocks read by static/js/charts.js), no
inline style, no ``on*=`` handler, and nothing from another origin (plotly.js and Swagger UI are
served from our own static files). The policy therefore says ``'self'`` and little else; see
docs/security.md, "Deployment hardening", for each directive and why.

The same policy is sent in development (DEBUG on), so a page that would break in production
breaks on the developer's screen first. (Django's yellow debug pages use inline styles and
scripts: with DEBUG on they show unstyled, which is the price of that.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Tags, register
from django.core.checks import Error as CheckError
from django.http import HttpRequest, HttpResponse

HEADER = "Content-Security-Policy"

# One year: the least HSTS lifetime that browsers' preload lists accept, and what we promise.
MIN_HSTS_SECONDS = 365 * 24 * 3600

# Directive -> sources. Order is kept in the header, which makes it readable in a browser's
# network panel and stable for the tests.
POLICY: dict[str, tuple[str, ...]] = {
    # Anything not named below (fonts, media, workers, manifests, frames) from our origin only.
    "default-src": ("'self'",),
    # Our own files only: no inline code, no eval, no CDN.
    "script-src": ("'self'",),
    # Our own stylesheets, plus the one exact <style> text that plotly.js writes itself (its hash
    # is added by plotly_style_hashes() below). Styles set through the CSSOM (element.style,
    # insertRule), as plotly.js and Swagger UI do, are outside a policy's reach.
    "style-src": ("'self'",),
    # data: for Swagger UI's and the admin's SVG icons; blob: for the picture plotly.js draws
    # when a chart is downloaded as PNG.
    "img-src": ("'self'", "data:", "blob:"),
    "connect-src": ("'self'",),
    # No other site may frame a page (clickjacking); X-Frame-Options: DENY says the same to
    # older browsers.
    "frame-ancestors": ("'none'",),
    "base-uri": ("'self'",),
    "form-action": ("'self'",),
    "object-src": ("'none'",),
}


# plotly.js creates <style id="plotly.js-style-global"> with an empty text node and then adds
# its rules with insertRule(); allowing the hash of the empty text lets the element exist
# (insertRule is not subject to the policy) while any injected <style> with content stays
# blocked. Without it the charts' layers lose their positioning and overlap the page.
_EMPTY_STYLE_HASH = "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='"


def plotly_style_hashes() -> tuple[str, ...]:
    """The style-src hashes of the <style> elements that our plotly.js creates: the empty one.

    The full plotly.js bundle also injected MapLibre's stylesheet on load (for map traces); the
    partial bundle we serve (reports/plotly_js.py) has no map trace and tools/plotly/build.mjs
    leaves that stylesheet out, so nothing else needs a hash. tests/security/test_csp.py checks the
    bundle writes no other <style>, and tests/browser/test_csp.py that the charts draw under it.
    """
    return (_EMPTY_STYLE_HASH,)


def content_security_policy() -> dict[str, tuple[str, ...]]:
    """POLICY with the plotly.js style hashes added to style-src."""
    return {**POLICY, "style-src": (*POLICY["style-src"], *plotly_style_hashes())}


def render_policy(policy: dict[str, tuple[str, ...]]) -> str:
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in policy.items())


def is_html(response: HttpResponse) -> bool:
    return response.get("Content-Type", "").lower().startswith("text/html")


class ContentSecurityPolicyMiddleware:
    """Adds the policy to every HTML response that does not set its own."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.header_value = render_policy(content_security_policy())

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if is_html(response) and HEADER not in response:
            response[HEADER] = self.header_value
        return response


_MIDDLEWARE = f"{__name__}.{ContentSecurityPolicyMiddleware.__name__}"


@register(Tags.security, deploy=True)
def check_security_headers(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """``manage.py check --deploy``: what Django's own deploy checks do not cover."""
    errors: list[CheckMessage] = []
    if _MIDDLEWARE not in settings.MIDDLEWARE:
        errors.append(
            CheckError(
                "The Content-Security-Policy middleware is not installed.",
                hint=f"Add {_MIDDLEWARE!r} to MIDDLEWARE, right after SecurityMiddleware.",
                id="pais.E001",
            )
        )
    if settings.SECURE_HSTS_SECONDS < MIN_HSTS_SECONDS:
        errors.append(
            CheckError(
                f"SECURE_HSTS_SECONDS is {settings.SECURE_HSTS_SECONDS}: HSTS must last at least "
                f"one year ({MIN_HSTS_SECONDS} seconds).",
                hint="Unset DJANGO_SECURE_HSTS_SECONDS to get the default of one year.",
                id="pais.E002",
            )
        )
    return errors
