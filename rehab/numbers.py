"""One rounding and one wording per figure, wherever it is shown.

The pages, the referral report (HTML and PDF), the chart captions, the evidence lines and the
emails all show the rules' figures through these functions, so a figure reads the same
everywhere (``tests/reports/test_numbers_agree.py`` renders one episode on every medium and
compares):

================  ==========================  ================================================
figure            rounding                    example (English; Spanish uses a comma)
================  ==========================  ================================================
pain (0–10)       1 decimal                   ``4.6``, ``7.0``, ``4.6/10``
pain change       1 decimal, signed           ``−0.9 points (−14%)``: current minus baseline,
                                              so a fall reads as a fall, as in the captions
plantar flexion   0.1°                        ``29.0°``
deficit           0.1°, with both sides       ``deficit 16.1° (sore side 29.0° vs other side
                                              45.1°)``
FAAM, PSFS        1 decimal                   ``62.5``, ``4.3``; a change signed, in points,
                                              later minus earlier (``+8.2 points``)
percentages       whole                       ``93%``
adherence         whole, or why there is none ``93%``; ``nothing prescribed`` only when the
                                              episode has no prescription at all, otherwise
                                              ``no sets due on the days logged``
================  ==========================  ================================================

Rounding is half up (2.25 → 2.3), as in ``rehab.rules``, from the value as the rules hand it
over (``Evaluation.metrics``, already rounded to 2 decimals): never Python's ``round`` or
``:.1f``, which round halves to even on binary floats. The rules' finding sentences keep their
own numbers (they are the clinical messages and are not changed here); they are rounded the same
way, to one decimal, from the exact values.

This module lives in ``rehab`` (the lowest app that shows figures: the emails and the patient's
pages) and imports nothing from ``reports``; ``reports`` uses it.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils.formats import get_format
from django.utils.translation import gettext, ngettext, pgettext

MINUS = "\u2212"  # "−", the minus sign (a hyphen reads as a dash in a sentence)


def _decimal(value: float | int | Decimal | str) -> Decimal:
    # repr of a float is the shortest text that reads back as it (4.57, not 4.5700000000000003):
    # the rules' 2-decimal figures become exactly the decimals they stand for.
    try:
        return Decimal(repr(value) if isinstance(value, float) else str(value))
    except InvalidOperation as exc:  # pragma: no cover - a NaN or an infinity is a bug upstream
        raise ValueError(f"not a number: {value!r}") from exc


def rounded(value: float | int | Decimal | str, digits: int = 1) -> Decimal:
    """``value`` rounded half up to ``digits`` decimals (2.25 → 2.3; −2.25 → −2.3)."""
    exponent = Decimal(1).scaleb(-digits)
    result = _decimal(value).quantize(exponent, rounding=ROUND_HALF_UP)
    return result + 0 if result else abs(result)  # no "-0.0"


def number(value: float | int | Decimal | str, digits: int = 1) -> str:
    """The rounded number in the active language's decimal separator: "4.6", "4,6"."""
    text = f"{rounded(value, digits):f}"
    if text.startswith("-"):
        text = MINUS + text[1:]
    return text.replace(".", str(get_format("DECIMAL_SEPARATOR")))


def signed(value: float | int | Decimal | str, digits: int = 1) -> str:
    """A change with its sign: "−0.9", "+1.2", "0.0"."""
    text = number(value, digits)
    return f"+{text}" if rounded(value, digits) > 0 else text


def unknown() -> str:
    return gettext("unknown")


def pain(value: float | int | Decimal | None) -> str:
    """A pain score or mean on the 0–10 scale: "4.6" (1 decimal)."""
    return unknown() if value is None else number(value, 1)


def pain_of_ten(value: float | int | Decimal | None) -> str:
    """ "4.6/10"."""
    return unknown() if value is None else f"{number(value, 1)}/10"


def score(value: float | int | Decimal | None) -> str:
    """A FAAM subscale score (0–100) or a PSFS mean (0–10): "62.5", "4.3" (1 decimal)."""
    return unknown() if value is None else number(value, 1)


def score_change(change: float | int | Decimal | None) -> str:
    """A function score's change, current minus baseline (a rise is an improvement, unlike
    pain): "+8.2 points", "−1.0 point"; "unknown" without one. ``change`` is the change of the
    exact scores (``reports.series.function_changes``), so it reads as the finding says it."""
    return unknown() if change is None else points(change)


def percent(value: float | int | Decimal | None) -> str:
    """A share in whole percent: "93%"."""
    return unknown() if value is None else f"{number(value, 0)}%"


def degrees(value: float | int | Decimal | None) -> str:
    """An angle to 0.1°: "29.0°"."""
    return unknown() if value is None else f"{number(value, 1)}°"


def points(value: float | int | Decimal) -> str:
    """A signed change in pain points: "−0.9 points", "+1.0 point"."""
    shown = signed(value, 1)
    # Only exactly one point is singular ("1.0 point"); "0.5 points", "1.5 points".
    count = 1 if abs(rounded(value, 1)) == 1 else 2
    return ngettext("%(points)s point", "%(points)s points", count) % {"points": shown}


def pain_change(
    change: float | int | Decimal | None, change_pct: float | int | Decimal | None
) -> str:
    """The change in activity pain since the baseline, current minus baseline: "−0.9 points
    (−14%)". ``change`` and ``change_pct`` are the rules' ``pain_change``/``pain_change_pct``,
    which count a fall as positive (baseline minus current); shown here as it reads in the
    charts' captions, a fall with a minus."""
    if change is None:
        return unknown()
    fall = -_decimal(change)
    text = points(fall)
    if change_pct is None:
        return text
    return gettext("%(points)s (%(percent)s%%)") % {
        "points": text,
        "percent": signed(-_decimal(change_pct), 0),
    }


def rom_deficit(
    deficit: float | int | Decimal | None,
    current: float | int | Decimal | None,
    reference: float | int | Decimal | None,
) -> str:
    """ "deficit 16.1° (sore side 29.0° vs other side 45.1°)": the deficit and the two angles
    it is the difference of, so that it never reads as a range."""
    if deficit is None or current is None or reference is None:
        return ""
    return pgettext(
        "plantar flexion",
        "deficit %(deficit)s (sore side %(current)s vs other side %(reference)s)",
    ) % {"deficit": degrees(deficit), "current": degrees(current), "reference": degrees(reference)}


def adherence(value: float | int | Decimal | None, *, has_prescriptions: bool) -> str:
    """Exercise adherence: "93%"; without a figure, why: nothing prescribed at all, or
    prescriptions whose sets did not fall on any day logged."""
    if value is not None:
        return percent(value)
    if has_prescriptions:
        return gettext("no sets due on the days logged")
    return gettext("nothing prescribed")


# The rules' evidence, figure by figure: the same rounding as the metrics above. Thresholds and
# counts (mcid_points, review_day, entries) are shown as they are.
_EVIDENCE_PAIN = frozenset(
    {"pain_baseline", "pain_current", "pain_recent", "pain_rise", "pain_change", "bmi"}
)
_EVIDENCE_PERCENT = frozenset(
    {"pain_change_pct", "adherence_pct", "adherence_min_percent", "mcid_percent"}
)
_EVIDENCE_CHANGE = frozenset({"faam_adl_change", "faam_sports_change", "psfs_change"})
_EVIDENCE_SCORE = frozenset(
    {
        "faam_adl_baseline",
        "faam_adl_current",
        "faam_sports_baseline",
        "faam_sports_current",
        "psfs_baseline",
        "psfs_current",
    }
)
_EVIDENCE_DEGREES = frozenset(
    {
        "rom_week1",
        "rom_current",
        "rom_reference",
        "rom_deficit",
        "rom_change",
        "rom_change_deg",
        "rom_deficit_deg",
    }
)


def evidence_value(key: str, value: object) -> str | None:
    """An evidence figure in its one rounding ("pain_current" 4.57 → "4.6"); None when ``key``
    is not a figure of this module (the caller shows it as it is)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return None
    if key in _EVIDENCE_PAIN or key in _EVIDENCE_SCORE:
        return number(value, 1)
    if key in _EVIDENCE_PERCENT:
        return percent(value)
    if key in _EVIDENCE_CHANGE:
        return score_change(value)
    if key in _EVIDENCE_DEGREES:
        return degrees(value)
    return None
