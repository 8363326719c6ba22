"""A clinic's own rule thresholds: reading them with their defaults, and changing them.

Only the values that differ from the spec's defaults are stored (``ClinicRuleSettings.overrides``),
so a clinic that never touched a threshold follows the defaults, including any future change of
a default. Evaluations read them through ``rehab.evaluation.thresholds_for_clinic``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, Final

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.audit import audit_record
from accounts.models import Role, User
from rehab import rules
from rehab.models import ClinicRuleSettings

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

DEFAULTS: Final = rules.Thresholds()
NAMES: Final = tuple(f.name for f in fields(rules.Thresholds))
INTEGER_NAMES: Final = frozenset(
    f.name for f in fields(rules.Thresholds) if isinstance(getattr(DEFAULTS, f.name), int)
)

# What each threshold means, in the words of the thresholds page and the API's schema.
LABELS: Final[Mapping[str, tuple[StrOrPromise, StrOrPromise]]] = {
    "review_day": (_("Review day"), _("Trial day from which REFERRAL_CONSIDER can fire.")),
    "overdue_day": (_("Overdue day"), _("Trial day from which the referral is overdue.")),
    "min_entries_per_week": (
        _("Entries for a usable week"),
        _("Entries a 7-day window needs before its mean pain counts."),
    ),
    "mcid_points": (_("Important improvement, points"), _("Pain fall on the 0–10 scale.")),
    "mcid_percent": (_("Important improvement, %"), _("Pain fall as a share of the baseline.")),
    "low_baseline_max": (
        _("Low baseline, at most"),
        _("At or below this baseline the percentage alone decides."),
    ),
    "resolved_max_pain": (_("Resolved, pain at most"), _("Mean pain over the last 7 days.")),
    "worsening_points": (
        _("Worsening, points above baseline"),
        _("Mean pain over the last 3 days, above the baseline."),
    ),
    "adherence_min_percent": (_("Adherence, at least %"), _("Share of prescribed sets done.")),
    "adherence_from_day": (_("Adherence judged from day"), _("Trial day.")),
    "rom_change_deg": (_("ROM decline, degrees"), _("Loss of plantar flexion since week 1.")),
    "rom_deficit_deg": (_("ROM deficit, degrees"), _("Difference to the unaffected side.")),
    "immobilization_max_days": (_("Immobilization, at most days"), _("Longer is flagged.")),
    "bmi_flag": (_("BMI flag from"), _("kg/m².")),
}


@dataclass(frozen=True)
class ClinicThresholds:
    """The values in force for a clinic, the defaults, and which ones the clinic changed."""

    values: rules.Thresholds
    overrides: dict[str, int | float]
    updated_at: dt.datetime | None = None
    updated_by: User | None = None

    @property
    def defaults(self) -> dict[str, int | float]:
        return DEFAULTS.as_dict()


def clinic_thresholds(*, clinic_id: int) -> ClinicThresholds:
    row = (
        ClinicRuleSettings.objects.filter(clinic_id=clinic_id).select_related("updated_by").first()
    )
    if row is None:
        return ClinicThresholds(values=DEFAULTS, overrides={})
    return ClinicThresholds(
        values=rules.Thresholds.from_mapping(row.overrides or {}),
        overrides=dict(row.overrides or {}),
        updated_at=row.updated_at,
        updated_by=row.updated_by,
    )


def _field_of(message: str) -> str:
    name, sep, _ = message.partition(":")
    return name if sep and name in NAMES else "non_field_errors"


def thresholds_validate(values: Mapping[str, Any]) -> rules.Thresholds:
    """The thresholds ``values`` describe (missing or None: the default), or ValidationError.

    Every field is checked on its own first, so that all the bad ones are named at once
    (``Thresholds`` stops at the first); then the whole, for the rules between fields.
    """
    errors: dict[str, list[str]] = {}
    given: dict[str, Any] = {}
    for name, value in values.items():
        if name not in NAMES:
            errors.setdefault(str(name), []).append(gettext("Unknown threshold."))
            continue
        if value is None:
            continue
        try:
            rules.Thresholds.from_mapping({name: value})
        except ValueError as exc:
            message = str(exc)
            if _field_of(message) == name:
                errors.setdefault(name, []).append(message.partition(":")[2].strip())
                continue
            # A single value that breaks a rule between fields (overdue_day <= default
            # review_day) is judged with the other values below.
        given[name] = value
    if errors:
        raise ValidationError(errors)
    try:
        return rules.Thresholds.from_mapping(given)
    except ValueError as exc:
        message = str(exc)
        field = _field_of(message)
        text = message.partition(":")[2].strip() if field != "non_field_errors" else message
        raise ValidationError({field: [text]}) from None


def clinic_thresholds_update(*, actor: User, values: Mapping[str, Any]) -> ClinicThresholds:
    """Set the actor's clinic's thresholds to ``values`` (names left out: the default).

    Clinic admins only (``PermissionError`` otherwise). Stores only the values that differ from
    the defaults, and leaves an audit row when anything changed (saving the same values again
    is not a change).
    """
    if actor.role != Role.CLINIC_ADMIN or actor.clinic_id is None or not actor.is_active:
        raise PermissionError("Only a clinic admin may change the clinic's thresholds.")
    thresholds = thresholds_validate(values)
    overrides = {
        name: value
        for name, value in thresholds.as_dict().items()
        if value != getattr(DEFAULTS, name)
    }
    with transaction.atomic():
        row, _ = ClinicRuleSettings.objects.select_for_update().get_or_create(
            clinic_id=actor.clinic_id
        )
        if row.overrides != overrides:
            row.overrides = overrides
            row.updated_by = actor
            row.updated_at = timezone.now()
            row.save(update_fields=["overrides", "updated_by", "updated_at"])
            audit_record(
                actor=actor,
                action="clinic.thresholds_updated",
                obj=row,
                clinic_id=actor.clinic_id,
            )
    return ClinicThresholds(
        values=thresholds, overrides=overrides, updated_at=row.updated_at, updated_by=row.updated_by
    )
