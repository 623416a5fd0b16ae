"""A lending system's repayments as rows: from a CSV or Excel file, or a pushed JSON list.

Reading only turns text into values and says, in words, what cannot be read; whether a
row fits a loan is for portal/imports/checks.py. docs/imports.md lists the columns.
"""

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from openpyxl import load_workbook

from portal.core.actions import Refused
from portal.loans.lifecycle import MAX_AMOUNT

MAX_ROWS = 100_000
MAX_FILE_BYTES = 8 * 1024 * 1024
REFERENCE_LENGTH = 64  # Repayment.reference
CONTRACT_LENGTH = 40  # Loan.contract_number


class ImportRefused(Refused):
    """The file or the push as a whole cannot be read; nothing is written."""

    def __init__(self, message, field: str | None = "file"):
        super().__init__(message, field=field)


@dataclass(frozen=True)
class Problem:
    """Why a row cannot be imported: a code for machines, words for people."""

    code: str
    message: object


@dataclass
class ImportRow:
    """One repayment as the lending system gives it, and what is wrong with it."""

    line: int  # the row's number in the file (the header is row 1), or in the pushed list
    contract_number: str
    paid_on: date | None
    amount: Decimal | None
    reference: str
    balance: Decimal | None = None  # the lending system's principal left after the payment
    problems: list[Problem] = field(default_factory=list)
    loan_id: int | None = None
    already_imported: bool = False  # stored before: skipped
    our_balance: Decimal | None = None  # the principal left after it, by our schedule

    def problem(self, code: str, message) -> None:
        self.problems.append(Problem(code, message))

    @property
    def ready(self) -> bool:
        """Nothing wrong with it and not stored before: the apply stores it."""
        return not self.problems and not self.already_imported


# The columns, by every name a header may give them (compared without case or spaces).
FIELDS = ("contract_number", "paid_on", "amount", "reference", "balance")
REQUIRED = ("contract_number", "paid_on", "amount", "reference")
HEADERS = {
    "contract_number": ("contract_number", "contract number", "contract", "合同编号", "合同号"),
    "paid_on": ("paid_on", "payment date", "date paid", "date", "还款日期", "交易日期", "日期"),
    "amount": ("amount", "amount paid", "还款金额", "交易金额", "金额"),
    "reference": (
        "reference",
        "transaction reference",
        "交易流水号",
        "流水号",
        "交易编号",
    ),
    "balance": ("balance", "balance after", "principal balance", "贷款余额", "剩余本金", "余额"),
}
FIELD_LABELS = {
    "contract_number": _l("contract number (合同编号)"),
    "paid_on": _l("payment date (还款日期)"),
    "amount": _l("amount (还款金额)"),
    "reference": _l("transaction reference (交易流水号)"),
    "balance": _l("balance after the payment (贷款余额)"),
}
_SPACES = re.compile(r"[\s_]+")
_NAMES = {_SPACES.sub(" ", name).strip(): key for key, names in HEADERS.items() for name in names}

_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")
_COMPACT_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")
_MONEY = re.compile(r"\d{1,12}(\.\d{1,2})?")
_CURRENCY = str.maketrans("", "", "¥￥, 元")


def _header_key(text) -> str:
    return _SPACES.sub(" ", str(text or "")).strip().lower()


def columns(header: list) -> dict[str, int]:
    """Which column holds each field; refused when a required one is missing or doubled."""
    found: dict[str, int] = {}
    for index, text in enumerate(header):
        key = _NAMES.get(_header_key(text))
        if key is None:
            continue
        if key in found:
            raise ImportRefused(_l("Two columns hold the %(column)s.", column=FIELD_LABELS[key]))
        found[key] = index
    missing = [FIELD_LABELS[key] for key in REQUIRED if key not in found]
    if missing:
        raise ImportRefused(
            _l(
                "The first row must name the columns; missing: %(columns)s.",
                columns="; ".join(str(label) for label in missing),
            )
        )
    return found


def parse_date(value) -> date | None:
    """A payment date from a cell: a date, or text like 2026-11-01, 2026/11/1, 20261101."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value or "").strip()
    match = _DATE.fullmatch(text) or _COMPACT_DATE.fullmatch(text)
    if not match:
        raise ValueError(text)
    return date(*(int(part) for part in match.groups()))


def parse_money(value) -> Decimal | None:
    """Yuan to the fen from a cell: a number, or text like 1,120.50 or ¥1120."""
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        # Excel keeps numbers as binary fractions: 1120.1 is 1120.0999999…
        cents = round(value * 100)
        if abs(value * 100 - cents) > 1e-6:
            raise ValueError(value)
        return Decimal(cents) / 100
    if isinstance(value, Decimal):
        value = str(value)
    text = str(value or "").strip().translate(_CURRENCY)
    if not _MONEY.fullmatch(text):
        raise ValueError(text)
    return Decimal(text)


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a number Excel stored for a reference typed as digits
    return str(value).strip()


def row_from(line: int, values: dict) -> ImportRow:
    """One row from its fields' raw values, with what cannot be read noted as problems."""
    row = ImportRow(
        line=line,
        contract_number=_text(values.get("contract_number")).upper(),
        paid_on=None,
        amount=None,
        reference=_text(values.get("reference")),
    )
    if not row.contract_number:
        row.problem("no_contract", _l("No contract number."))
    elif len(row.contract_number) > CONTRACT_LENGTH:
        row.problem("unknown_contract", _l("Unknown contract number."))
    if not row.reference:
        row.problem("no_reference", _l("No transaction reference."))
    elif len(row.reference) > REFERENCE_LENGTH:
        row.problem("bad_reference", _l("The transaction reference is longer than 64 characters."))
    _read_date(row, values.get("paid_on"))
    _read_amount(row, values.get("amount"))
    _read_balance(row, values.get("balance"))
    return row


def _read_date(row: ImportRow, value) -> None:
    try:
        row.paid_on = parse_date(value)
    except ValueError:
        row.problem("bad_date", _l("The payment date is not a date (year-month-day)."))


def _read_amount(row: ImportRow, value) -> None:
    try:
        row.amount = parse_money(value)
    except ValueError:
        row.problem(
            "bad_amount", _l("The amount is not a number of yuan with at most two decimals.")
        )
        return
    if not Decimal("0") < row.amount <= MAX_AMOUNT:
        row.amount = None
        row.problem("bad_amount", _l("The amount must be above 0 and at most 1,000,000 yuan."))


def _read_balance(row: ImportRow, value) -> None:
    if value is None or _text(value) == "":
        return
    try:
        row.balance = parse_money(value)
    except ValueError:
        row.problem(
            "bad_balance", _l("The balance is not a number of yuan with at most two decimals.")
        )


# --- files ------------------------------------------------------------------

XLSX_START = b"PK\x03\x04"
OLD_EXCEL_START = b"\xd0\xcf\x11\xe0"


def read_file(content: bytes, filename: str = "") -> list[ImportRow]:
    """The rows of an uploaded CSV or Excel (.xlsx) file; refused when it is neither."""
    if len(content) > MAX_FILE_BYTES:
        raise ImportRefused(_l("The file is larger than 8 MB: split it into several files."))
    if content.startswith(OLD_EXCEL_START):
        raise ImportRefused(
            _l("Excel 97–2003 files (.xls) cannot be read: save the file as .xlsx or CSV.")
        )
    if content.startswith(XLSX_START):
        table = _xlsx_table(content)
    elif filename.lower().endswith((".csv", ".txt")) or not filename:
        table = _csv_table(content)
    else:
        raise ImportRefused(_wrong_type())
    return _rows(table)


def _wrong_type():
    return _l("Upload a CSV file or an Excel workbook (.xlsx).")


def _decode(content: bytes) -> str:
    """UTF-8 (with or without the byte order mark Excel writes), else GB18030."""
    if b"\x00" in content[:4096]:
        raise ImportRefused(_wrong_type())
    if content.startswith(b"\xef\xbb\xbf"):
        content = content[3:]
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("gb18030")
    except UnicodeDecodeError:
        raise ImportRefused(
            _l("The file's text is neither UTF-8 nor GB18030: save it as CSV (UTF-8).")
        ) from None


def _csv_table(content: bytes):
    text = _decode(content)
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count) if first else ","
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


def _xlsx_table(content: bytes) -> list:
    """The first sheet's rows, as values (dates as dates, numbers as numbers)."""
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        try:
            return list(book.worksheets[0].iter_rows(values_only=True))
        finally:
            book.close()
    except (zipfile.BadZipFile, KeyError, IndexError, ValueError, OSError):
        raise ImportRefused(_wrong_type()) from None


def _rows(table) -> list[ImportRow]:
    lines = iter(table)
    header = next(lines, None)
    if header is None:
        raise ImportRefused(_l("The file is empty."))
    where = columns(list(header))
    rows = []
    for line, cells in enumerate(lines, start=2):
        cells = list(cells)
        if not any(_text(cell) for cell in cells):
            continue  # a blank line
        if len(rows) == MAX_ROWS:
            raise _too_many()
        rows.append(
            row_from(line, {key: cells[i] if i < len(cells) else None for key, i in where.items()})
        )
    if not rows:
        raise ImportRefused(_l("The file has no repayments below its header."))
    return rows


def _too_many():
    return ImportRefused(
        _l("More than 100,000 repayments in one file: split it into several files.")
    )


# --- pushed JSON --------------------------------------------------------------

MAX_PUSHED = 5_000


def read_pushed(payload) -> list[ImportRow]:
    """The rows of a JSON push: a list of objects with the fields' English names."""
    if isinstance(payload, dict) and "repayments" in payload:
        payload = payload["repayments"]
    if not isinstance(payload, list) or not all(isinstance(item, dict) for item in payload):
        raise ImportRefused(_l("Send a JSON list of repayments (objects)."))
    if not payload:
        raise ImportRefused(_l("The list of repayments is empty."))
    if len(payload) > MAX_PUSHED:
        raise ImportRefused(_l("At most 5,000 repayments in one request."))
    return [
        row_from(index, {key: _scalar(item.get(key)) for key in FIELDS})
        for index, item in enumerate(payload, start=1)
    ]


def _scalar(value):
    """A pushed value as a cell would hold it; lists and objects read as nothing."""
    return value if isinstance(value, str | int | float) and not isinstance(value, bool) else None
