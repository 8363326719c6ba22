"""The language switch: on the sign-in and invitation pages (before sign-in) and the Account page.

A form that works without JavaScript. Signed in, the choice is the user's (their pages, emails and
push texts); before sign-in it is a cookie for this browser, which sign-in then keeps as the
user's choice if they had none (accounts/language.py).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts.language import user_language_set, validate_language
from accounts.models import User


@require_POST
def language_choose(request: HttpRequest) -> HttpResponse:
    language = request.POST.get("language", "")
    try:
        validate_language(language)
    except ValidationError as exc:
        return HttpResponseBadRequest(
            "; ".join(exc.message_dict["language"]), content_type="text/plain; charset=utf-8"
        )
    user = request.user
    if isinstance(user, User) and user.is_authenticated:
        user_language_set(user=user, language=language)
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = "/"
    response = HttpResponseRedirect(next_url)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        samesite="Lax",
        secure=request.is_secure(),
        httponly=True,
    )
    return response
