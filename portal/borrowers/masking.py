"""How ID and phone numbers are shown: masked in lists (PIPL, GB/T 35273), readable in full."""

import phonenumbers


def mask_resident_id(number: str | None) -> str:
    """320802199001011234 → 320802********1234."""
    if not number:
        return ""
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


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
