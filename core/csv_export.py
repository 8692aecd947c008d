"""Reports staff download: CSV in UTF-8 with a byte-order mark, so that spreadsheet programs
(Excel on Windows above all) read Cyrillic correctly instead of guessing a legacy code page."""

import csv
import io
from collections.abc import Iterable, Sequence

from django.http import HttpResponse

BOM = "\ufeff"


def csv_text(rows: Iterable[Sequence[object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow(["" if value is None else value for value in row])
    return BOM + buffer.getvalue()


def csv_response(filename: str, rows: Iterable[Sequence[object]]) -> HttpResponse:
    response = HttpResponse(csv_text(rows).encode("utf-8"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
