"""How ID and phone numbers are shown: masked in lists (PIPL, GB/T 35273), readable in full.

A masked display must not be undone by anything printed beside it. The masked ID hides
the birth date, so wherever the ID is masked only the year of birth is shown. Numbers
never go into URLs, which end up in access logs, browser history and Referer headers.
"""

import re
from datetime import date
from urllib.parse import parse_qsl, urlencode, urlsplit

import phonenumbers


def mask_resident_id(number: str | None) -> str:
    """320802199001011234 → 320802********1234."""
    if not number:
        return ""
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def birth_year(birth_date: date | None) -> str:
    """The year of birth only: the day would fill the stars of the masked ID."""
    return str(birth_date.year) if birth_date else ""


def mask_phone(number: str | None) -> str:
    """13812345678 → 138****5678; landlines keep their area code."""
    if not number:
        return ""
    if len(number) <= 7:
        return "*" * (len(number) - 2) + number[-2:]
    return number[:3] + "*" * (len(number) - 7) + number[-4:]


def display_phone(number: str | None) -> str:
    """Landlines with their area code set apart (0527 8521 0001); mobiles as stored."""
    if not number or not number.startswith("0"):
        return number or ""
    try:
        parsed = phonenumbers.parse(number, "CN")
    except phonenumbers.NumberParseException:
        return number
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)


# A whole mobile (1 and 10 digits), landline (0 and 9 to 11 digits) or ID number standing
# alone in a text, such as a borrower's login (their mobile) in the audit log.
_NUMBER_IN_TEXT = re.compile(
    r"(?<![0-9A-Za-z])(?:\d{17}[\dXx]|1[3-9]\d{9}|0\d{9,11})(?![0-9A-Za-z])"
)


def mask_numbers_in_text(text: str | None) -> str:
    """``text`` with every phone and ID number in it masked."""

    def mask(match: re.Match) -> str:
        number = match.group()
        return mask_resident_id(number) if len(number) == 18 else mask_phone(number)

    return _NUMBER_IN_TEXT.sub(mask, text or "")


# Four digits in a row (the tail one searches by) or three and the X that ends some IDs.
_NUMBER_PART = re.compile(r"\d{4}|\d{3}[Xx]")
_BLANKS = re.compile(r"[\s-]+")


def holds_number(value: str | None) -> bool:
    """Whether ``value`` may hold (part of) a phone or ID number: then it stays out of URLs."""
    return bool(_NUMBER_PART.search(_BLANKS.sub("", value or "")))


def without_numbers(path: str) -> str:
    """``path`` (with its query) less the query values that may hold a phone or ID number."""
    parts = urlsplit(path)
    kept = [
        (name, value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
        if not holds_number(value)
    ]
    return parts.path + ("?" + urlencode(kept) if kept else "")
