"""A clinic's own rule thresholds: reading them with their defaults, and changing them.

Only the values that differ from the spec's defaults are stored (``ClinicRuleSettings.overrides``),
so a clinic that never touched a threshold follows the defaults, including any future change of
a default. Evaluations read them through ``rehab.evaluation.thresholds_for_clinic``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, Final

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.audit import audit_record
from accounts.models import Role, User
from rehab import rules
from rehab.models import ClinicRuleSettings, ReevaluationRun
from rehab.reevaluation import reevaluation_request

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
    "faam_adl_mcid": (
        _("Important change, FAAM ADL points"),
        _("Rise of the FAAM daily-living score (0–100) that counts as an improvement."),
    ),
    "faam_sports_mcid": (
        _("Important change, FAAM Sports points"),
        _("Rise of the FAAM Sports score (0–100) that counts as an improvement."),
    ),
    "psfs_mcid": (
        _("Important change, PSFS points"),
        _("Rise of the mean PSFS rating (0–10) that counts as an improvement."),
    ),
}


@dataclass(frozen=True)
class Bounds:
    """A threshold's hard limits (refused outside) and its published range (warned outside)."""

    low: float
    high: float
    published_low: float
    published_high: float
    # Where the published range comes from, in a clinician's words (docs/configuration.md).
    source: StrOrPromise


# docs/clinical-rules.md, "Why these numbers": the published range is what the sources support;
# the hard limits keep a typo (MCID 20 points, review on day 2) from reaching the rules.
BOUNDS: Final[Mapping[str, Bounds]] = {
    "review_day": Bounds(21, 112, 42, 56, _("a 6–8 week trial (guideline summary)")),
    "overdue_day": Bounds(28, 182, 56, 84, _("8 weeks to 3 months (guideline; case series)")),
    "min_entries_per_week": Bounds(1, 7, 3, 5, _("about 4 entries for a stable weekly mean")),
    "mcid_points": Bounds(
        0.5, 5, 1, 3, _("about 2 points; below 1 point is within measurement error")
    ),
    "mcid_percent": Bounds(5, 80, 20, 50, _("about 30 per cent (Farrar 2001)")),
    "low_baseline_max": Bounds(0, 10, 3, 5, _("MCID by baseline band")),
    "resolved_max_pain": Bounds(0, 5, 0, 2, _("little or no pain")),
    "worsening_points": Bounds(
        0.5, 6, 2, 4, _("2 points exceeds the NRS's measurement error (Childs 2005)")
    ),
    "adherence_min_percent": Bounds(30, 100, 70, 90, _("the convention of 80 per cent")),
    "adherence_from_day": Bounds(1, 56, 7, 21, _("two weeks to settle into the programme")),
    "rom_change_deg": Bounds(
        2, 45, 10, 20, _("the smallest real change of goniometry is about 10°")
    ),
    "rom_deficit_deg": Bounds(
        2, 45, 10, 20, _("the smallest real change of goniometry is about 10°")
    ),
    "immobilization_max_days": Bounds(1, 60, 5, 10, _("under 10 days (guideline summary)")),
    "bmi_flag": Bounds(20, 60, 25, 35, _("BMI 30 (obesity)")),
    # Martin et al. 2005 (doi:10.1177/107110070502601113): MCID 8 ADL and 9 Sports points; the
    # smallest detectable change is about 6 (ADL) and 12–14 (Sports) points.
    "faam_adl_mcid": Bounds(
        2, 30, 6, 10, _("8 points (Martin 2005); about 6 points is measurement error")
    ),
    "faam_sports_mcid": Bounds(
        2, 40, 9, 14, _("9 points (Martin 2005); 12–14 points is measurement error")
    ),
    # Stratford 1995: 2 points for the mean; Horn 2012: 1.3 points for the mean.
    "psfs_mcid": Bounds(
        0.5, 6, 1.3, 3, _("1.3 (Horn 2012) to 2 points (Stratford 1995) for the mean")
    ),
}


def label(name: str) -> str:
    """A threshold's name in words ("mcid_points" → "Important improvement, points")."""
    return str(LABELS[name][0]) if name in LABELS else name


def _shown(value: float) -> str:
    return f"{value:g}"


@dataclass(frozen=True)
class ThresholdWarning:
    """A value outside its published range: saved only once the admin confirms it."""

    name: str
    label: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.name, "label": self.label, "message": self.message}


def thresholds_warnings(values: rules.Thresholds) -> list[ThresholdWarning]:
    """The values outside their published range, each with words naming the field's label."""
    warnings = []
    for name, bounds in BOUNDS.items():
        value = getattr(values, name)
        if bounds.published_low <= value <= bounds.published_high:
            continue
        message = gettext(
            "%(label)s is %(value)s, outside the published range %(low)s–%(high)s "
            "(%(source)s). Check it before saving."
        ) % {
            "label": label(name),
            "value": _shown(value),
            "low": _shown(bounds.published_low),
            "high": _shown(bounds.published_high),
            "source": bounds.source,
        }
        warnings.append(ThresholdWarning(name=name, label=label(name), message=message))
    return warnings


@dataclass(frozen=True)
class ClinicThresholds:
    """The values in force for a clinic, the defaults, and which ones the clinic changed.

    After a change, ``warnings`` lists the values outside their published range and
    ``reevaluation`` is the run that re-evaluates the clinic's active episodes (None when
    nothing changed).
    """

    values: rules.Thresholds
    overrides: dict[str, int | float]
    updated_at: dt.datetime | None = None
    updated_by: User | None = None
    warnings: list[ThresholdWarning] = field(default_factory=list)
    reevaluation: ReevaluationRun | None = None

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


def _value_problem(name: str, value: Any) -> str | None:
    """What is wrong with one value on its own, in words naming its label (None: nothing)."""
    bounds = BOUNDS[name]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return gettext("%(label)s: enter a number.") % {"label": label(name)}
    if name in INTEGER_NAMES and not float(value).is_integer():
        return gettext("%(label)s: enter a whole number.") % {"label": label(name)}
    if not bounds.low <= value <= bounds.high:
        return gettext("%(label)s: must be from %(low)s to %(high)s (got %(value)s).") % {
            "label": label(name),
            "low": _shown(bounds.low),
            "high": _shown(bounds.high),
            "value": _shown(value),
        }
    return None


def thresholds_validate(values: Mapping[str, Any]) -> rules.Thresholds:
    """The thresholds ``values`` describe (missing or None: the default), or ValidationError.

    Every field is checked on its own first, so that all the bad ones are named at once, each
    message naming the field's label; then the rule between fields (the overdue day after the
    review day).
    """
    errors: dict[str, list[str]] = {}
    given: dict[str, Any] = {}
    for name, value in values.items():
        if name not in NAMES:
            errors.setdefault(str(name), []).append(gettext("Unknown threshold."))
            continue
        if value is None:
            continue
        problem = _value_problem(name, value)
        if problem is not None:
            errors.setdefault(name, []).append(problem)
            continue
        given[name] = int(value) if name in INTEGER_NAMES else value
    if errors:
        raise ValidationError(errors)
    review = given.get("review_day", DEFAULTS.review_day)
    overdue = given.get("overdue_day", DEFAULTS.overdue_day)
    if overdue <= review:
        raise ValidationError(
            {
                "overdue_day": [
                    gettext("%(overdue)s must be later than %(review)s (%(day)s).")
                    % {
                        "overdue": label("overdue_day"),
                        "review": label("review_day"),
                        "day": review,
                    }
                ]
            }
        )
    try:
        return rules.Thresholds.from_mapping(given)
    except ValueError as exc:  # a limit of the rules' own, should the two ever disagree
        raise ValidationError({"non_field_errors": [str(exc)]}) from None


class UnconfirmedThresholds(Exception):
    """Values outside their published range, not confirmed: nothing was saved."""

    def __init__(self, warnings: list[ThresholdWarning]) -> None:
        super().__init__("; ".join(w.message for w in warnings))
        self.warnings = warnings


def clinic_thresholds_update(
    *, actor: User, values: Mapping[str, Any], confirm: bool = True
) -> ClinicThresholds:
    """Set the actor's clinic's thresholds to ``values`` (names left out: the default).

    Clinic admins only (``PermissionError`` otherwise). Stores only the values that differ from
    the defaults, and leaves an audit row when anything changed (saving the same values again
    is not a change). A change queues the re-evaluation of the clinic's active episodes
    (``rehab.reevaluation``), in the same transaction. With ``confirm=False`` (the page, until
    the admin confirms) values outside their published range raise ``UnconfirmedThresholds``
    and nothing is saved; the API saves them and returns the warnings.
    """
    if actor.role != Role.CLINIC_ADMIN or actor.clinic_id is None or not actor.is_active:
        raise PermissionError("Only a clinic admin may change the clinic's thresholds.")
    thresholds = thresholds_validate(values)
    warnings = thresholds_warnings(thresholds)
    if warnings and not confirm:
        raise UnconfirmedThresholds(warnings)
    run: ReevaluationRun | None = None
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
            # The pages and the alerts must agree at once, not after tonight's run.
            run = reevaluation_request(actor=actor, clinic_id=actor.clinic_id)
    return ClinicThresholds(
        values=thresholds,
        overrides=overrides,
        updated_at=row.updated_at,
        updated_by=row.updated_by,
        warnings=warnings,
        reevaluation=run,
    )
