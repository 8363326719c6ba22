from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse
from django.utils import translation
from django.utils.cache import add_never_cache_headers
from django.utils.translation import trans_real
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from accounts import sessions, twofactor
from accounts.api.authentication import BearerTokenAuthentication
from accounts.audit import current_ip
from accounts.models import User
from accounts.throttling import client_ip

API_PREFIX = "/api/"


class RequestContextMiddleware:
    """Makes the caller's IP address available to audit rows written during the request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # REMOTE_ADDR, or the client's address as our own proxies report it when
        # PAIS_TRUSTED_PROXY_COUNT says how many there are (accounts.throttling.client_ip).
        token = current_ip.set(client_ip(request) or None)
        try:
            return self.get_response(request)
        finally:
            current_ip.reset(token)


class UserLanguageMiddleware:
    """Pages speak the signed-in user's chosen language; the API keeps Accept-Language.

    Runs after LocaleMiddleware (which picked the cookie's or the browser's language) and after
    authentication. The API is left to Accept-Language alone, as api-contract.md says: an app or
    integration asks for the language it wants on each request (docs/i18n.md).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith(API_PREFIX):
            # Not the language cookie (the sign-in page's switch): that is no contract for the API.
            translation.activate(_accept_language(request))
            request.LANGUAGE_CODE = translation.get_language()
        else:
            user = _session_user(request)
            if user is not None and user.language in dict(settings.LANGUAGES):
                translation.activate(user.language)
                request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)


def _accept_language(request: HttpRequest) -> str:
    """The best of settings.LANGUAGES for the Accept-Language header, else the default."""
    header = request.headers.get("Accept-Language", "")
    for code, _quality in trans_real.parse_accept_lang_header(header):
        if code == "*":
            break
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            continue
    return settings.LANGUAGE_CODE


def _session_user(request: HttpRequest) -> User | None:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not isinstance(user, User):
        return None
    return user


class SessionPolicyMiddleware:
    """Ends sessions that sat idle too long (privileged accounts) or outlived their lifetime,
    (accounts/sessions.py)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = _session_user(request)
        if user is not None:
            if not sessions.is_started(request.session):
                # A session from before these rules (sign-ins stamp theirs): its clocks start
                # now.
                sessions.start(request.session, user)
            reason = sessions.check(request.session, user)
            if reason is not None:
                message = sessions.ended_message(reason, user)
                logout(request)
                if request.path.startswith(API_PREFIX) or _view_name(request) in _NO_SIGN_IN:
                    # Carry on signed out: the API answers 401 as for any missing credentials,
                    # and the files every page loads need nobody signed in (a service worker
                    # whose update check were redirected to the sign-in page would fail).
                    return self.get_response(request)
                messages.info(request, message)
                return redirect_to_login(request.get_full_path())
        return self.get_response(request)


def _view_name(request: HttpRequest) -> str | None:
    try:
        return resolve(request.path_info).view_name
    except Resolver404:
        return None


# Addresses that work signed out and hold nobody's data: the files any page loads (the web app
# manifest, the offline diary's service worker and the page it shows offline: docs/diary.md) and
# the reminder email's one-click unsubscribe, which must work without signing in (RFC 8058).
_NO_SIGN_IN = {"manifest", "service-worker", "offline", "reminders-unsubscribe"}


# The addresses a session owing its second step may still open, by their namespaced view names:
# signing in and out, the two-factor pages themselves, the files every page loads (_NO_SIGN_IN),
# and the two API endpoints that never read the session (they exchange a password or an
# invitation token). Namespaced, so that the admin's own "admin:login" is not mistaken for ours.
_OPEN_DURING_TWO_FACTOR = {
    "login",
    "logout",
    "two-factor-verify",
    "two-factor-setup",
    *_NO_SIGN_IN,
    "api-auth-token",
    "api-auth-invitation-accept",
}

_TWO_FACTOR_API_MESSAGE = (
    "Two-factor sign-in is required: finish it on the website before using the API with this "
    "session."
)


def _authenticates_by_token(request: HttpRequest) -> bool:
    """Whether the request carries an API token that really authenticates it.

    Only a valid token lets an API request past a session that owes its second step: any other
    ``Authorization`` header (``x``, ``Bogus x``, ``Bearer x``, a revoked token) would leave DRF to
    fall back on that very session.
    """
    try:
        return BearerTokenAuthentication().authenticate(Request(request)) is not None
    except AuthenticationFailed:
        return False


class TwoFactorMiddleware:
    """Keeps a privileged session that owes its second step (a code, or setting up an
    authenticator its clinic requires) away from everything but the two-factor pages: every page,
    every form POST, the Django admin, and every API call that would run on the session.

    Headers change nothing here. An API request gets through only when it authenticated by a
    valid API token (the token endpoint asks for the code before it issues one); then it runs as
    the token's user, not the session's.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = _session_user(request)
        if user is None or self._is_open(request):
            return self.get_response(request)
        step = twofactor.pending_step(user)
        if step is None:
            return self.get_response(request)
        if request.path.startswith(API_PREFIX):
            if _authenticates_by_token(request):
                return self.get_response(request)
            response: HttpResponse = JsonResponse({"detail": _TWO_FACTOR_API_MESSAGE}, status=403)
            add_never_cache_headers(response)
            return response
        target = reverse("two-factor-verify" if step == "verify" else "two-factor-setup")
        return redirect(f"{target}?{urlencode({'next': request.get_full_path()})}")

    @staticmethod
    def _is_open(request: HttpRequest) -> bool:
        if request.path.startswith(settings.STATIC_URL):
            return True
        return _view_name(request) in _OPEN_DURING_TWO_FACTOR
