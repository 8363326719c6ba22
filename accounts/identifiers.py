"""The identifiers an EHR matches a patient on: date of birth, sex as the clinic records it and
the clinic's medical record number (issue 16; docs/fhir.md, "Matching the patient").

Checks only (no writes): ``accounts.services`` validates with them before it saves, and
``reports.exports`` names the clinic's identifier system with ``mrn_system``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Final

from django.conf import settings
from django.utils.translation import gettext as _

from accounts.models import Clinic, Patient, Sex

MRN_MAX_LENGTH: Final = 64
# Letters, digits and the separators record numbers use; no spaces at the ends, no control
# characters (a FHIR identifier value is matched character for character).
_MRN = re.compile(r"^[0-9A-Za-z][0-9A-Za-z ._/\-]*$")
EARLIEST_BIRTH_DATE: Final = dt.date(1900, 1, 1)


def mrn_system(clinic: Clinic | None) -> str:
    """The identifier system of the clinic's record numbers: the clinic's own (``mrn_system``,
    set by the operators to what its EHR uses), else ``PAIS_MRN_SYSTEM``, else one under this
    installation's address that names the clinic (unique, but known to no EHR until told)."""
    if clinic is not None and clinic.mrn_system:
        return clinic.mrn_system.rstrip("/")
    configured = str(getattr(settings, "MRN_SYSTEM", "") or "").rstrip("/")
    if configured:
        return configured
    slug = clinic.slug if clinic is not None else "none"
    return f"{settings.SITE_URL}/fhir/sid/mrn/{slug}"


@dataclass(frozen=True)
class Identifiers:
    birth_date: dt.date | None
    sex: str
    mrn: str


def clean_identifiers(
    *,
    clinic_id: int | None,
    birth_date: dt.date | None,
    sex: str,
    mrn: str,
    today: dt.date,
    patient: Patient | None = None,
) -> tuple[Identifiers, dict[str, list[str]]]:
    """The identifiers as they will be stored, and the errors by field name (empty when valid).
    A record number another patient of the same clinic has is refused."""
    errors: dict[str, list[str]] = {}
    mrn = mrn.strip()
    sex = sex.strip()
    if birth_date is not None and not EARLIEST_BIRTH_DATE <= birth_date <= today:
        errors["birth_date"] = [_("Enter a date of birth between 1900 and today.")]
    if sex and sex not in Sex.values:
        errors["sex"] = [
            _("Choose one of: %(values)s.") % {"values": ", ".join(Sex.values)},
        ]
    if mrn:
        if len(mrn) > MRN_MAX_LENGTH:
            errors["mrn"] = [
                _("A medical record number has at most %(max)d characters.")
                % {"max": MRN_MAX_LENGTH}
            ]
        elif not _MRN.match(mrn):
            errors["mrn"] = [
                _(
                    "Use letters, digits, spaces and . _ / - only, starting with a letter or "
                    "a digit."
                )
            ]
        else:
            taken = Patient.objects.filter(mrn=mrn)
            taken = (
                taken.filter(user__clinic__isnull=True)
                if clinic_id is None
                else taken.filter(user__clinic_id=clinic_id)
            )
            if patient is not None:
                taken = taken.exclude(pk=patient.pk)
            if taken.exists():
                errors["mrn"] = [
                    _("Another patient of your clinic has this medical record number.")
                ]
    return Identifiers(birth_date=birth_date, sex=sex, mrn=mrn), errors
