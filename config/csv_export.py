"""The one CSV writer of the project: every cell is safe to open in a spreadsheet.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` (``=HYPERLINK(...)``,
``=cmd|...``), or with a tab, carriage return or line feed before one, as a formula: OWASP's "CSV
injection". A leading apostrophe makes such a cell text. Values come from people (notes, names,
email addresses), so every CSV download (entries, outcomes, the audit trail) is written here;
tests/security/test_attack_csv.py fails if any other module builds a ``csv.writer``.

It lives outside the apps because ``accounts`` (the audit trail) and ``reports`` both use it, and
``accounts`` must not import ``reports``.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def csv_safe(value: object) -> object:
    """A cell that no spreadsheet will run: text starting like a formula gets a leading '.

    Numbers stay numbers (a negative number is not a formula); leading spaces do not hide one.
    """
    if not isinstance(value, str):
        return value
    if value.startswith(_FORMULA_STARTS) or value.lstrip().startswith(_FORMULA_STARTS[:4]):
        return "'" + value
    return value


class _Echo:
    """A file whose ``write`` hands the line back, so rows can be streamed one by one."""

    def write(self, value: str) -> str:
        return value


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[object]]) -> Iterator[str]:
    """The header and each row as CSV lines (``\\r\\n``), cells made safe; ``None`` is empty."""
    writer = csv.writer(_Echo(), lineterminator="\r\n")
    yield writer.writerow([csv_safe(cell) for cell in header])
    for row in rows:
        yield writer.writerow(["" if cell is None else csv_safe(cell) for cell in row])


def csv_text(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """The whole CSV as one string (for downloads small enough to build in memory)."""
    return "".join(csv_lines(header, rows))
