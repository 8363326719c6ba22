"""Django's JavaScript catalogue, one address per language.

The address names the language (/jsi18n/es/), so a browser and the service worker may keep each
copy for a while without asking which language a cookie or a header meant; base.html asks for the
page's own language. Served to everyone: it holds the scripts' words, no data (docs/i18n.md).
"""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.utils import translation
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET
from django.views.i18n import JavaScriptCatalog

_catalogue_view = JavaScriptCatalog.as_view(domain="djangojs")


@require_GET
@cache_control(public=True, max_age=3600)
def javascript_catalog(request: HttpRequest, language: str) -> HttpResponseBase:
    if language not in dict(settings.LANGUAGES):
        raise Http404("No such language.")
    with translation.override(language):
        response = _catalogue_view(request)
    return response
