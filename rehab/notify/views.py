"""The clinic admin's webhook settings pages (/settings/webhooks/).

Another clinic's endpoint is a 404; anybody but a clinic admin gets a 403. A new or rotated
secret is shown in the answer to the POST that made it, once, on a page that no cache keeps.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import User
from rehab.forms import add_service_errors
from rehab.models import WebhookEndpoint
from rehab.notify import endpoints
from rehab.notify.endpoints import EndpointWithSecret
from rehab.notify.forms import WebhookEndpointForm
from rehab.notify.signing import secret_hint


def _admin(request: HttpRequest) -> User:
    user = request.user
    if not endpoints.can_manage_webhooks(user):
        raise PermissionDenied(_("Only clinic admins manage webhooks."))
    assert isinstance(user, User)
    return user


def _endpoint(request: HttpRequest, pk: int) -> tuple[User, WebhookEndpoint]:
    endpoint = endpoints.endpoints_for(request.user).filter(pk=pk).first()
    if endpoint is None:
        raise Http404("No such webhook endpoint.")
    return _admin(request), endpoint


def _secret_page(request: HttpRequest, shown: EndpointWithSecret, *, created: bool) -> HttpResponse:
    return render(
        request,
        "settings/webhooks_secret.html",
        {"endpoint": shown.endpoint, "secret": shown.secret, "created": created},
    )


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def webhook_list(request: HttpRequest) -> HttpResponse:
    actor = _admin(request)
    form = WebhookEndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            created = endpoints.webhook_endpoint_create(actor=actor, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return _secret_page(request, created, created=True)
    rows = [
        {"endpoint": endpoint, "hint": secret_hint(endpoint.secret)}
        for endpoint in endpoints.endpoints_for(actor)
    ]
    return render(request, "settings/webhooks.html", {"rows": rows, "form": form})


@login_required
@never_cache
@require_http_methods(["GET"])
def webhook_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _actor, endpoint = _endpoint(request, pk)
    deliveries = list(endpoints.deliveries_of(endpoint=endpoint)[:25])
    return render(
        request,
        "settings/webhooks_detail.html",
        {"endpoint": endpoint, "hint": secret_hint(endpoint.secret), "deliveries": deliveries},
    )


@login_required
@never_cache
@require_POST
def webhook_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    actor, endpoint = _endpoint(request, pk)
    rotated = endpoints.webhook_endpoint_rotate_secret(actor=actor, endpoint=endpoint)
    return _secret_page(request, rotated, created=False)


@login_required
@require_POST
def webhook_test(request: HttpRequest, pk: int) -> HttpResponse:
    actor, endpoint = _endpoint(request, pk)
    try:
        endpoints.webhook_endpoint_test(actor=actor, endpoint=endpoint)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Test event queued. Its result appears below."))
    return redirect("webhook-detail", pk=endpoint.pk)


@login_required
@require_POST
def webhook_set_active(request: HttpRequest, pk: int, active: bool) -> HttpResponse:
    actor, endpoint = _endpoint(request, pk)
    try:
        endpoints.webhook_endpoint_update(actor=actor, endpoint=endpoint, is_active=active)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, _("Deliveries turned on.") if active else _("Deliveries turned off.")
        )
    return redirect("webhook-detail", pk=endpoint.pk)


@login_required
@require_POST
def webhook_delete(request: HttpRequest, pk: int) -> HttpResponse:
    actor, endpoint = _endpoint(request, pk)
    url = endpoint.url
    endpoints.webhook_endpoint_delete(actor=actor, endpoint=endpoint)
    messages.success(request, _("Deleted the endpoint %(url)s.") % {"url": url})
    return redirect("webhook-list")
