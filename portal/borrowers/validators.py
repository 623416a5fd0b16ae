"""Checks of resident ID numbers, phone numbers and ID-card photos.

Each check returns the normalised value or raises ``InvalidValueError`` carrying a
translatable message, so forms and tests use the same rules.
"""

import io
import re
from dataclasses import dataclass
from datetime import date

import phonenumbers
from flask_babel import lazy_gettext as _l
from PIL import ImageOps
from stdnum import exceptions as stdnum_errors
from stdnum import numdb
from stdnum.cn import ric

from portal.borrowers.models import Sex
from portal.core.images import ImageRefusedError, ImageTooLargeError, decode_upload


class InvalidValueError(ValueError):
    """A value the user typed that breaks a rule; ``message`` says which."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


# --- resident ID (GB 11643) ------------------------------------------------------------

_SEPARATORS = re.compile(r"[\s-]+")


def county_code_ever_used(code: str) -> bool:
    """Whether ``code`` is a county code in stdnum's table, in any year.

    An ID card carries the code in force when it was issued, not at birth, and keeps it
    when the county is later renamed or merged: ``ric.get_birth_place`` wants the code in
    force in the birth year, which refuses everyone born before their county got its
    current code. The same table without that year test accepts codes past and present.
    """
    return any("county" in found for _part, found in numdb.get("cn/loc").info(code))


@dataclass(frozen=True)
class ResidentId:
    """A checked 18-character resident ID and what it encodes."""

    number: str
    birth_date: date
    sex: Sex


def check_resident_id(value: str, today: date | None = None) -> ResidentId:
    """Validate an 18-character ID (county code, birth date, check character)."""
    number = _SEPARATORS.sub("", value or "").upper()
    if len(number) == 15 and number.isdigit():
        raise InvalidValueError(
            _l(
                "15-digit ID numbers are no longer valid. Please enter the 18-character number of the current ID card."
            )
        )
    if len(number) != 18:
        raise InvalidValueError(_l("An ID number has 18 characters."))
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise InvalidValueError(_l("An ID number has 17 digits followed by a digit or X."))
    if number[17] != ric.calc_check_digit(number):
        raise InvalidValueError(_l("The check character does not match: please check every digit."))
    try:
        birth_date = ric.get_birth_date(number)
    except stdnum_errors.ValidationError:
        raise InvalidValueError(_l("The birth date in this ID number does not exist.")) from None
    if birth_date > (today or date.today()):
        raise InvalidValueError(_l("The birth date in this ID number is in the future."))
    if not county_code_ever_used(number[:6]):
        raise InvalidValueError(_l("The county code in this ID number is not known."))
    # The 17th digit is odd for men and even for women.
    sex = Sex.MALE if int(number[16]) % 2 else Sex.FEMALE
    return ResidentId(number, birth_date, sex)


# --- phone numbers ---------------------------------------------------------------------

_MOBILE_TYPES = {phonenumbers.PhoneNumberType.MOBILE}
_PHONE_TYPES = {
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
}


def _parse_cn(value: str) -> phonenumbers.PhoneNumber | None:
    try:
        number = phonenumbers.parse((value or "").strip(), "CN")
    except phonenumbers.NumberParseException:
        return None
    if number.country_code != 86 or not phonenumbers.is_valid_number(number):
        return None
    return number


def check_mobile(value: str) -> str:
    """A mainland mobile number as its 11 digits."""
    number = _parse_cn(value)
    if number is None or phonenumbers.number_type(number) not in _MOBILE_TYPES:
        raise InvalidValueError(
            _l("Enter a mainland mobile number of 11 digits, e.g. 138 1234 5678.")
        )
    return str(number.national_number)


def check_phone(value: str) -> str:
    """A mainland mobile (11 digits) or landline (area code with its leading 0)."""
    number = _parse_cn(value)
    if number is None or phonenumbers.number_type(number) not in _PHONE_TYPES:
        raise InvalidValueError(
            _l("Enter a mainland mobile or landline number, e.g. 138 1234 5678 or 0527-8521 0001.")
        )
    digits = str(number.national_number)
    if phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.MOBILE:
        return digits
    return "0" + digits


# --- ID-card photo ---------------------------------------------------------------------

MAX_PHOTO_BYTES = 5 * 1024 * 1024
MAX_PHOTO_SIDE = 6000
STORED_PHOTO_SIDE = 2000
_PHOTO_FORMATS = ("JPEG", "PNG", "WEBP")


def reencode_photo(stream) -> bytes:
    """Decode an uploaded image and return it as a fresh JPEG without metadata.

    Only the decoded pixels are kept: the file name, the browser's media type and
    any EXIF data (which may hold the place it was taken) are ignored.
    """
    data = stream.read(MAX_PHOTO_BYTES + 1)
    if len(data) > MAX_PHOTO_BYTES:
        raise InvalidValueError(_l("The photo is larger than 5 MB. Please take a smaller one."))
    try:
        image = decode_upload(data, _PHOTO_FORMATS, MAX_PHOTO_SIDE)
        image = ImageOps.exif_transpose(image).convert("RGB")
    except ImageTooLargeError:
        raise InvalidValueError(_l("The photo is larger than 6000 pixels on a side.")) from None
    except (ImageRefusedError, OSError, ValueError, SyntaxError):
        raise InvalidValueError(
            _l("This file is not a readable JPEG, PNG or WebP photo.")
        ) from None
    image.thumbnail((STORED_PHOTO_SIDE, STORED_PHOTO_SIDE))
    output = io.BytesIO()
    image.save(output, format="JPEG", quality=85, optimize=True)
    return output.getvalue()
