"""Sign-in and sign-out, the invitation page where an invited patient sets a password, the
two-factor pages, the account's security page, and the clinic's security settings."""

from __future__ import annotations

from typing import Any, TypeVar
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import login, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import (
    LoginView,
    PasswordResetCompleteView,
    PasswordResetConfirmView,
    PasswordResetDoneView,
    PasswordResetView,
)
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import Form
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login

from accounts import selectors, services, throttling, twofactor
from accounts.forms import (
    ClinicSecurityForm,
    CodeForm,
    InvitationPasswordForm,
    LockedOutPasswordChangeForm,
    LoginForm,
    ResetPasswordSetForm,
    ResetRequestForm,
)
from accounts.models import User
from accounts.offline_copy import OFFLINE_COPY_HEADER
from accounts.scoping import can_manage_patients
from accounts.services import invitation_accept_by_digest, invitation_find_usable
from accounts.tokens import digest

GET_POST = ["GET", "POST"]
ResponseT = TypeVar("ResponseT", bound=HttpResponseBase)


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # every caller is behind login_required
    return user


def _throttled(request: HttpRequest, exc: throttling.LockedOut) -> HttpResponse:
    response = render(request, "accounts/throttled.html", {"message": exc.message}, status=429)
    response["Retry-After"] = str(exc.retry_after)
    return response


def _safe_next(request: HttpRequest, default: str = "/") -> str:
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if wanted and url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return default


def _with_next(url_name: str, next_url: str) -> str:
    return f"{reverse(url_name)}?{urlencode({'next': next_url})}"


# --- Sign in -------------------------------------------------------------------------------------


class SignInView(LoginView):
    template_name = "registration/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            throttling.ip_rate_hit(request, scope="login")
        except throttling.LockedOut as exc:
            context = self.get_context_data(form=LoginForm(request), throttled=exc.message)
            response = self.render_to_response(context, status=429)
            response["Retry-After"] = str(exc.retry_after)
            return response
        return super().post(request, *args, **kwargs)

    def form_valid(self, form: Any) -> HttpResponse:
        # login() gives the session a new key, and starts its clocks (accounts/apps.py).
        response = super().form_valid(form)
        user = form.get_user()
        step = twofactor.pending_step(user)
        if step == "verify":
            return HttpResponseRedirect(_with_next("two-factor-verify", self.get_success_url()))
        if step == "enrol":
            return HttpResponseRedirect(_with_next("two-factor-setup", self.get_success_url()))
        return response


def _no_referrer(response: ResponseT) -> ResponseT:
    """For answers at an address that holds a token: keep it out of Referer headers.

    Only there. A page with a form must keep the site's ``same-origin`` policy: under
    ``no-referrer`` Chromium sends ``Origin: null`` with the form's POST, which Django's CSRF
    check refuses (403), and nobody could set their password."""
    response["Referrer-Policy"] = "no-referrer"
    return response


# The digest of the invitation a browser opened: the token leaves the address at once (as
# Django's password-reset view does), so it is not in the history, the Referer or any log.
INVITATION_SESSION_KEY = "pais_invitation"


def _invitation_invalid(request: HttpRequest, status: int = 404) -> HttpResponse:
    return _no_referrer(render(request, "accounts/invite_invalid.html", status=status))


@never_cache
@sensitive_post_parameters("password1", "password2")
@require_http_methods(["GET", "HEAD", "POST"])
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    """Open a one-time link: the opening is recorded (the link then works for a day at most,
    ``PAIS_INVITATION_OPENED_LIFETIME_HOURS``) and the browser is sent on to the form at an
    address without the token. A POST here (the form of older pages) sets the password."""
    try:
        throttling.ip_rate_hit(request, scope="invitation")
    except throttling.LockedOut as exc:
        return _no_referrer(_throttled(request, exc))
    if request.method == "POST":
        return _invitation_form(request, token_digest=digest(token))
    opened = services.invitation_open(token=token)
    if opened is None:
        return _invitation_invalid(request)
    request.session[INVITATION_SESSION_KEY] = opened.token_digest
    return _no_referrer(redirect("invitation-set-password"))


@never_cache
@sensitive_post_parameters("password1", "password2")
@require_http_methods(GET_POST)
def invitation_set_password(request: HttpRequest) -> HttpResponse:
    """The form of the invitation this browser opened (its digest is in the session)."""
    try:
        throttling.ip_rate_hit(request, scope="invitation")
    except throttling.LockedOut as exc:
        return _throttled(request, exc)
    token_digest = request.session.get(INVITATION_SESSION_KEY)
    if not isinstance(token_digest, str):
        return _invitation_invalid(request)
    return _invitation_form(request, token_digest=token_digest)


def _invitation_form(request: HttpRequest, *, token_digest: str) -> HttpResponse:
    """Set a password through a one-time link, then land signed in on today's entry."""
    found = invitation_find_usable(token_digest=token_digest)
    if found is None:
        return _invitation_invalid(request)
    form = InvitationPasswordForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            user = invitation_accept_by_digest(
                token_digest=token_digest, password=form.cleaned_data["password1"]
            )
        except ValidationError as exc:
            errors = exc.message_dict
            if "token" in errors:
                # Used by a second tab between our check and the accept.
                return _invitation_invalid(request, status=400)
            form.add_error("password1", errors.get("password", exc.messages))
        else:
            request.session.pop(INVITATION_SESSION_KEY, None)
            login(request, user, backend="accounts.backends.EmailBackend")
            messages.success(request, _("Your password is set. Welcome!"))
            return redirect("home")
    # The form is served at /invite/set-password/, which holds no secret (see _no_referrer).
    invited = found.user
    return render(
        request,
        "accounts/invite.html",
        {
            "form": form,
            "email": invited.email,
            # A therapist or admin invited by their clinic (accounts/staff.py): same form, their
            # own words, and a word on the authenticator app their clinic may require next.
            "staff_invite": invited.is_clinic_staff,
            "two_factor_required": bool(invited.clinic and invited.clinic.require_two_factor),
        },
    )


# --- Password reset by email ---------------------------------------------------------------------


class _ResetThrottled(Exception):
    def __init__(self, response: HttpResponse) -> None:
        self.response = response


def _reset_rate_hit(request: HttpRequest) -> None:
    try:
        throttling.ip_rate_hit(request, scope="password-reset")
    except throttling.LockedOut as exc:
        raise _ResetThrottled(_no_referrer(_throttled(request, exc))) from None


class ResetRequestView(PasswordResetView):
    """``/accounts/password/reset/``: anyone asks for a link by email. Known address or not,
    the answer is the same redirect to the same page (api-contract.md, "Accounts")."""

    template_name = "accounts/password_reset.html"
    form_class = ResetRequestForm
    success_url = reverse_lazy("password-reset-done")

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            _reset_rate_hit(request)
        except _ResetThrottled as throttled:
            return throttled.response
        return super().post(request, *args, **kwargs)


class ResetDoneView(PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class ResetConfirmView(PasswordResetConfirmView):
    """The link from the email. Django's view moves the token into the session and redirects
    to ``.../set-password/``; the password is set by ``services.password_change`` (the form)."""

    template_name = "accounts/password_reset_confirm.html"
    form_class = ResetPasswordSetForm
    success_url = reverse_lazy("password-reset-complete")

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            _reset_rate_hit(request)
        except _ResetThrottled as throttled:
            return throttled.response
        response = super().dispatch(request, *args, **kwargs)
        if kwargs.get("token") != self.reset_url_token:
            # The link from the email, with its token: the redirect to the form (or the
            # invalid-link page) leaves no Referer. The form itself keeps the site's policy.
            _no_referrer(response)
        return response


class ResetCompleteView(PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


# --- Two-factor ----------------------------------------------------------------------------------


def _code_error(form: Form, exc: ValidationError | throttling.LockedOut) -> None:
    if isinstance(exc, throttling.LockedOut):
        form.add_error("code", exc.message)
    else:
        form.add_error("code", exc.message_dict.get("code", exc.messages))


def _passed(request: HttpRequest, device: Any) -> None:
    """Mark the session verified, under a new key: its privileges just grew."""
    otp_login(request, device)
    request.session.cycle_key()


@never_cache
@login_required
@require_http_methods(GET_POST)
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    """Scan the QR code (or type the secret), confirm with a first code, keep the recovery
    codes."""
    user = _user(request)
    if not twofactor.is_eligible(user):
        raise PermissionDenied("Two-factor sign-in is for therapists and clinic admins.")
    if twofactor.has_two_factor(user):
        # One authenticator at a time; replacing it starts with disabling it (which needs a code).
        return redirect("account-security")
    device = twofactor.enrolment_device(user=user)
    next_url = _safe_next(request)
    form = CodeForm(
        request.POST if request.method == "POST" else None,
        label=_("Code shown by the app"),
        help_text=_("Six digits; a new one every 30 seconds."),
    )
    if request.method == "POST" and form.is_valid():
        try:
            codes = twofactor.enrolment_confirm(
                user=user, device=device, code=form.cleaned_data["code"]
            )
        except (ValidationError, throttling.LockedOut) as exc:
            _code_error(form, exc)
        else:
            _passed(request, device)
            return render(
                request,
                "accounts/two_factor_codes.html",
                {"codes": codes, "next": next_url, "enrolled": True},
            )
    return render(
        request,
        "accounts/two_factor_setup.html",
        {
            "form": form,
            "qr_svg": twofactor.qr_code_svg(device),
            "secret": twofactor.secret_base32(device),
            "next": next_url,
            "required": twofactor.clinic_requires(user),
        },
    )


@never_cache
@login_required
@require_http_methods(GET_POST)
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    """The second step after the password: a code from the app, or a recovery code."""
    user = _user(request)
    next_url = _safe_next(request)
    if twofactor.pending_step(user) != "verify":
        return redirect(next_url)
    form = CodeForm(
        request.POST if request.method == "POST" else None,
        label=_("Code from your authenticator app"),
        help_text=_("Six digits. Lost your phone? Enter one of your recovery codes instead."),
    )
    status = 200
    if request.method == "POST":
        try:
            throttling.ip_rate_hit(request, scope="two-factor")
        except throttling.LockedOut as exc:
            return _throttled(request, exc)
        if form.is_valid():
            try:
                device = twofactor.code_verify(user=user, code=form.cleaned_data["code"])
            except throttling.LockedOut as exc:
                _code_error(form, exc)
                status = 429
            else:
                if device is not None:
                    _passed(request, device)
                    return redirect(next_url)
                form.add_error("code", _("That code is wrong or has expired."))
    return render(
        request, "accounts/two_factor_verify.html", {"form": form, "next": next_url}, status=status
    )


@never_cache
@login_required
@require_http_methods(GET_POST)
def two_factor_disable(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not twofactor.has_two_factor(user):
        return redirect("account-security")
    form = CodeForm(
        request.POST if request.method == "POST" else None,
        label=_("A current code (or a recovery code)"),
    )
    if request.method == "POST" and form.is_valid():
        try:
            twofactor.two_factor_disable(user=user, code=form.cleaned_data["code"])
        except (ValidationError, throttling.LockedOut) as exc:
            _code_error(form, exc)
        else:
            messages.success(request, _("Two-factor sign-in is off. Your recovery codes are void."))
            return redirect("account-security")
    return render(
        request,
        "accounts/two_factor_disable.html",
        {"form": form, "required": twofactor.clinic_requires(user)},
    )


@never_cache
@login_required
@require_http_methods(GET_POST)
def two_factor_recovery_codes(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not twofactor.has_two_factor(user):
        return redirect("account-security")
    form = CodeForm(
        request.POST if request.method == "POST" else None,
        label=_("A current code from your authenticator app"),
    )
    if request.method == "POST" and form.is_valid():
        try:
            codes = twofactor.recovery_codes_regenerate(user=user, code=form.cleaned_data["code"])
        except (ValidationError, throttling.LockedOut) as exc:
            _code_error(form, exc)
        else:
            return render(
                request,
                "accounts/two_factor_codes.html",
                {"codes": codes, "next": reverse("account-security"), "enrolled": False},
            )
    return render(request, "accounts/two_factor_recovery.html", {"form": form})


# --- The account's security page -----------------------------------------------------------------


@never_cache
@login_required
def account_security(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    response = render(
        request,
        "accounts/security.html",
        {
            "eligible": twofactor.is_eligible(user),
            "has_two_factor": twofactor.has_two_factor(user),
            "recovery_codes_left": twofactor.recovery_codes_left(user),
            "clinic_requires": twofactor.clinic_requires(user),
            # Patients never see API tokens (their app signs in by itself): staff only.
            "tokens": [] if user.is_patient else selectors.active_api_tokens(user=user),
        },
    )
    if user.is_patient:
        # Sign out lives here: a patient on a shared phone must reach it offline too, so the
        # offline diary may keep this page on their phone (docs/diary.md).
        response[OFFLINE_COPY_HEADER] = "1"
    return response


@login_required
@require_POST
def account_token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    if user.is_patient:
        # The page never offers it to a patient; the address is no way in either.
        raise Http404("No such token.")
    token = get_object_or_404(selectors.active_api_tokens(user=user), pk=pk)
    services.api_token_revoke(user=user, token=token)
    messages.success(request, _("The token is revoked: apps using it are signed out."))
    return redirect("account-security")


@never_cache
@login_required
@sensitive_post_parameters("old_password", "new_password1", "new_password2")
@require_http_methods(GET_POST)
def password_change(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    # A wrong old password counts toward the sign-in lockout (accounts/forms.py).
    form = LockedOutPasswordChangeForm(user, request.POST if request.method == "POST" else None)
    form.label_suffix = ""
    if request.method == "POST":
        try:
            throttling.ip_rate_hit(request, scope="login")
        except throttling.LockedOut as exc:
            return _throttled(request, exc)
        if form.is_valid():
            try:
                services.password_change(
                    user=user, new_password=form.cleaned_data["new_password1"], actor=user
                )
            except ValidationError as exc:
                form.add_error("new_password2", exc.message_dict.get("new_password", exc.messages))
            else:
                # Keeps this session; every other session of the user ends.
                update_session_auth_hash(request, user)
                messages.success(
                    request,
                    _(
                        "Your password is changed. Other devices are signed out and your API "
                        "tokens are revoked."
                    ),
                )
                return redirect("account-security")
    return render(request, "accounts/password_change.html", {"form": form})


# --- The clinic's security settings --------------------------------------------------------------


@never_cache
@login_required
@require_http_methods(GET_POST)
def clinic_security(request: HttpRequest) -> HttpResponse:
    """Whether the clinic requires two-factor sign-in: admins change it, therapists read it."""
    user = _user(request)
    if not can_manage_patients(user) or user.clinic is None:
        raise PermissionDenied("Only therapists and clinic admins may open this page.")
    clinic = user.clinic
    may_edit = user.is_clinic_admin
    if request.method == "POST" and not may_edit:
        raise PermissionDenied("Only a clinic admin may change the clinic's security settings.")
    form = ClinicSecurityForm(
        request.POST if request.method == "POST" else None,
        initial={"require_two_factor": clinic.require_two_factor},
    )
    if request.method == "POST" and form.is_valid():
        required = bool(form.cleaned_data["require_two_factor"])
        revoked = services.clinic_two_factor_set(actor=user, clinic=clinic, required=required)
        if required:
            messages.success(
                request,
                _(
                    "Two-factor sign-in is now required for therapists and clinic admins. "
                    "API tokens revoked: %(count)s."
                )
                % {"count": revoked},
            )
        else:
            messages.success(request, _("Two-factor sign-in is now optional."))
        return redirect("security-settings")
    return render(
        request,
        "accounts/clinic_security.html",
        {"form": form, "clinic": clinic, "may_edit": may_edit},
    )
