"""Numbers and dates in the words of the reports, in the active language.

The reports format numbers the way they always have (``f"{x:.1f}"``, ``f"{x:g}"``: rounded, no
grouping), then only swap the decimal point for the locale's separator, so English stays exactly
as before and Spanish reads "31,5". Django's ``number_format`` is not used for the rounding: it
cuts digits off rather than rounding them.
"""

from __future__ import annotations

import datetime as dt

from django.utils.formats import date_format, get_format


def local_decimal(text: str) -> str:
    """A number already formatted with a "." as decimal point, with the locale's separator."""
    return text.replace(".", str(get_format("DECIMAL_SEPARATOR")))


def fixed(value: float, digits: int = 1) -> str:
    """``value`` rounded to ``digits`` decimals: "5.5" in English, "5,5" in Spanish."""
    return local_decimal(f"{value:.{digits}f}")


def general(value: float) -> str:
    """``value`` in its shortest form ("35", "2.5"): the ``:g`` format, localised."""
    return local_decimal(f"{value:g}")


def day_month_year(date: dt.date) -> str:
    """E.g. "5 Jan 2027" in English; the month's name follows the active language."""
    return date_format(date, "j M Y")


def day_month(date: dt.date) -> str:
    """E.g. "5 Jan"."""
    return date_format(date, "j M")
