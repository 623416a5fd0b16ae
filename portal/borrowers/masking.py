"""How ID and phone numbers are shown: masked in lists (PIPL, GB/T 35273), readable in full.

A masked display must not be undone by anything printed beside it. The masked ID hides
the birth date, so wherever the ID is masked only the year of birth is shown.
"""

from datetime import date

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
