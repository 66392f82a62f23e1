"""Every CSV the app sends goes through here: one writer, one formula guard, one content type.

A file is UTF-8 with a byte-order mark (so a spreadsheet opens accents right), lines end in CRLF
(RFC 4180), the header row holds stable snake_case column names (the same in every language, so
a file can be read back by a script), and times are ISO 8601 with their UTC offset.
"""

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal

from flask import Response

CONTENT_TYPE = "text/csv; charset=utf-8"
BYTE_ORDER_MARK = "\ufeff"

#: Leading characters that make a spreadsheet treat a text cell as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object) -> str:
    """Return one value as CSV text.

    Numbers are written as they are (``-5`` stays a number); text that a spreadsheet would run as
    a formula gets a leading apostrophe, whoever typed it; an aware datetime is written with its
    offset, to the second.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_text(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """Return the header and rows as CSV text (without the byte-order mark)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([cell(value) for value in row])
    return buffer.getvalue()


def csv_response(
    filename: str, header: Sequence[str], rows: Iterable[Sequence[object]]
) -> Response:
    """Return a CSV download named ``filename``."""
    body = (BYTE_ORDER_MARK + csv_text(header, rows)).encode("utf-8")
    response = Response(body, content_type=CONTENT_TYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
