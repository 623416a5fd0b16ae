"""Lists downloaded as CSV or Excel: masked as on screen, audited, safe to open.

A list's export view passes the same rows its page shows (same query, filters and
order, no paging) and one (header, value) pair per column; the values are already
masked as the page masks them. Text that a spreadsheet would read as a formula is
neutralised (OWASP "CSV injection"): a leading apostrophe in CSV, a plain string cell
in Excel.
"""

import csv
import io
import unicodedata
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import islice

from flask import Response
from flask_babel import format_decimal, ngettext
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from portal.audit.operations import record
from portal.core.actions import Refused
from portal.core.calendar import local_date, local_today

FORMATS = ("csv", "xlsx")
MAX_ROWS = 100_000
# The first characters a spreadsheet reads as the start of a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
WIDTH_SAMPLE = 1000  # rows looked at to size the columns
MAX_WIDTH = 60
MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

Column = tuple[str, Callable[[object], object]]


def limited(stmt):
    """``stmt`` asking for one row more than an export takes, to tell when it is too many."""
    return stmt.limit(MAX_ROWS + 1)


def _plain(value):
    """A cell's value: text, a number, a date (a stored moment's company date), or ""."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return local_date(value if value.tzinfo else value.replace(tzinfo=UTC))
    if isinstance(value, (date, int, float, Decimal)) and not isinstance(value, bool):
        return value
    return str(value)


def _table(columns: list[Column], rows: Iterable) -> list[list]:
    """The cells of every row; refused above ``MAX_ROWS`` rows."""
    table = [
        [_plain(value(row)) for _header, value in columns] for row in islice(rows, MAX_ROWS + 1)
    ]
    if len(table) > MAX_ROWS:
        raise Refused(
            ngettext(
                "More than %(count)s row matches: narrow the list down before downloading it.",
                "More than %(count)s rows match: narrow the list down before downloading it.",
                MAX_ROWS,
                count=format_decimal(MAX_ROWS),
            )
        )
    return table


def _neutral(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _csv(headers: list[str], table: list[list]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([_neutral(h) for h in headers])
    for cells in table:
        writer.writerow(
            [
                _neutral(c) if isinstance(c, str) else c.isoformat() if isinstance(c, date) else c
                for c in cells
            ]
        )
    # The byte order mark makes Excel read the file as UTF-8 (Chinese names intact).
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


def _width(value) -> int:
    """Characters a value takes on screen, a Chinese character counting two."""
    text = value.isoformat() if isinstance(value, date) else str(value)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _xlsx(headers: list[str], table: list[list]) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.freeze_panes = "A2"
    for index, header in enumerate(headers, start=1):
        widest = max(
            [_width(header), *(_width(cells[index - 1]) for cells in table[:WIDTH_SAMPLE])]
        )
        sheet.column_dimensions[get_column_letter(index)].width = min(widest + 2, MAX_WIDTH)
    bold = Font(bold=True)
    sheet.append([_xlsx_cell(sheet, header, bold) for header in headers])
    for cells in table:
        sheet.append([_xlsx_cell(sheet, value) for value in cells])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _xlsx_cell(sheet, value, font: Font | None = None) -> WriteOnlyCell:
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)  # control characters Excel refuses
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # never a formula, whatever the text starts with
    elif isinstance(value, date):
        cell.number_format = "yyyy-mm-dd"
    if font is not None:
        cell.font = font
    return cell


def _summary(fmt: str, count: int, filters: dict | None) -> str:
    wanted = " ".join(f"{name}={value}" for name, value in (filters or {}).items() if value)
    return f"format={fmt} rows={count}" + (f" filters: {wanted}" if wanted else "")


def export_response(
    kind: str, columns: list[Column], rows: Iterable, fmt: str, filters: dict | None = None
) -> Response:
    """``rows`` as a ``kind-YYYY-MM-DD.csv|xlsx`` download, the export audited.

    ``filters`` are the list's filters, written to the audit entry with the row count.
    The caller's view is ``@writes``: the audit entry commits with the request.
    """
    table = _table(columns, rows)
    headers = [str(header) for header, _value in columns]
    body = _csv(headers, table) if fmt == "csv" else _xlsx(headers, table)
    record(f"export.{kind}", None, _summary(fmt, len(table), filters))
    response = Response(body, mimetype=MIMETYPES[fmt])
    filename = f"{kind}-{local_today().isoformat()}.{fmt}"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response
