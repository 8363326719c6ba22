"""The time-zone prompt on a patient's pages (docs/reminders.md, "Time zone")."""

from __future__ import annotations

from typing import Any

from django import template

from accounts.models import Patient, User

register = template.Library()


# The diary's form pages keep pain and Save above the fold on a phone: there the question
# waits below the form; everywhere else it is asked at the top.
_PROMPT_BELOW_ON = frozenset({"home", "patient-log"})


@register.inclusion_tag("includes/timezone_prompt.html", takes_context=True)
def timezone_prompt(context: template.Context, place: str) -> dict[str, Any]:
    """Rendered hidden; static/js/reminders.js shows it only when the phone's zone differs from
    the one on file. Once the patient answers (either way), it is not rendered again.

    base.html calls it twice, ``"top"`` and ``"bottom"``; it renders in one place per page."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if not isinstance(user, User) or not user.is_patient:
        return {"show": False}
    match = getattr(request, "resolver_match", None)
    below = match is not None and match.url_name in _PROMPT_BELOW_ON
    if place != ("bottom" if below else "top"):
        return {"show": False}
    zone = (
        Patient.objects.filter(user=user, timezone_confirmed=False)
        .values_list("timezone", flat=True)
        .first()
    )
    if zone is None:
        return {"show": False}
    return {
        "show": True,
        "current": zone,
        "current_label": zone.replace("_", " "),
        "next": request.get_full_path() if request is not None else "/",
        "csrf_token": context.get("csrf_token"),
    }
