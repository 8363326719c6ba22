"""Words for an episode's records on the staff pages: injection sites and corrections."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Final

from django import template
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext_lazy

from rehab.injection_sites import site_label
from rehab.models import Diagnosis, Intervention, InterventionKind, Side

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

register = template.Library()


@register.filter
def intervention_site(intervention: Intervention) -> str:
    """An injection's site in words (the code's label); other kinds' free text as typed."""
    if intervention.kind == InterventionKind.CORTICOSTEROID_INJECTION:
        return site_label(intervention.site)
    return intervention.site


# The words for the fields a correction lists (rehab.corrections), in the reader's language.
FIELD_LABELS: Final[Mapping[str, StrOrPromise]] = {
    "kind": _("Kind"),
    "start_date": _("Start date"),
    "end_date": _("End date"),
    "site": _("Site"),
    "note": _("Note"),
    "needs_review": _("Needs review"),
    "exercise": _("Exercise"),
    "sets": _("Sets per day"),
    "reps": _("Repetitions or hold"),
    "logged_sets": _("Sets logged"),
    "affected_side": _("Affected ankle"),
    "diagnosis": _("Diagnosis"),
    "intake_pain_activity": _("Intake pain, activity"),
    "intake_pf_rom_affected": _("Intake plantar flexion, affected side (°)"),
    "intake_pf_rom_unaffected": _("Intake plantar flexion, unaffected side (°)"),
    "bmi": _("BMI"),
}

RECORD_LABELS: Final[Mapping[str, StrOrPromise]] = {
    "intervention": _("Intervention"),
    "prescription": _("Prescription"),
    "episode": _("Intake values"),
    "entry": _("Diary entry"),
}

ACTION_LABELS: Final[Mapping[str, StrOrPromise]] = {
    "changed": _("changed"),
    "deleted": _("deleted"),
    "created": pgettext_lazy("diary entry", "created"),
    "replaced": _("replaced"),
}


@register.filter
def field_label(name: str) -> str:
    return str(FIELD_LABELS.get(name, name))


@register.filter
def record_label(object_type: str) -> str:
    return str(RECORD_LABELS.get(object_type, _("Record")))


@register.filter
def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))


@register.filter
def correction_value(value: object, name: str = "") -> str:
    """A kept value in words: "–" for none, yes/no, a site's label, a count of logged days."""
    if value is None or value == "":
        return "–"
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    if isinstance(value, list):
        return ngettext("%(count)d day", "%(count)d days", len(value)) % {"count": len(value)}
    if name == "site" and isinstance(value, str):
        return site_label(value)
    if name == "kind" and isinstance(value, str) and value in InterventionKind.values:
        return str(InterventionKind(value).label)
    if name == "diagnosis" and isinstance(value, str) and value in Diagnosis.values:
        return str(Diagnosis(value).label)
    if name == "affected_side" and isinstance(value, str) and value in Side.values:
        return str(Side(value).label)
    return str(value)
