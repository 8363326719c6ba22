"""Sign-in, sign-out and the invitation page where an invited patient sets a password."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.views import LoginView
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from accounts.forms import InvitationPasswordForm, LoginForm
from accounts.services import invitation_accept, invitation_find_usable


class SignInView(LoginView):
    template_name = "registration/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


def _no_referrer(response: HttpResponse) -> HttpResponse:
    # The token sits in the address: keep it out of Referer headers.
    response["Referrer-Policy"] = "no-referrer"
    return response


@never_cache
@sensitive_post_parameters("password1", "password2")
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    """Set a password through a one-time link, then land signed in on today's entry."""
    found = invitation_find_usable(token=token)
    if found is None:
        return _no_referrer(render(request, "accounts/invite_invalid.html", status=404))
    form = InvitationPasswordForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            user = invitation_accept(token=token, password=form.cleaned_data["password1"])
        except ValidationError as exc:
            errors = exc.message_dict
            if "token" in errors:
                # Used by a second tab between our check and the accept.
                return _no_referrer(render(request, "accounts/invite_invalid.html", status=400))
            form.add_error("password1", errors.get("password", exc.messages))
        else:
            login(request, user, backend="accounts.backends.EmailBackend")
            messages.success(request, "Your password is set. Welcome!")
            return redirect("home")
    return _no_referrer(
        render(request, "accounts/invite.html", {"form": form, "email": found.user.email})
    )
