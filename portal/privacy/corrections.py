"""The fields of the borrower's record a borrower may ask to have corrected.

``CorrectionRequest.field`` holds one of these names; the form offers them, the staff's
list and the data copy print their labels. "other" is for anything the list does not
name (the note says what).
"""

from flask_babel import lazy_gettext as _l

# The borrower must have an answer within this many days (PIPL Art. 46 asks for a
# correction "promptly"; the company's own rule is 15 calendar days).
ANSWER_DAYS = 15

# The borrower record's fields, as the copy of one's data and the requests name them.
PROFILE_FIELD_LABELS = {
    "full_name": _l("Full name"),
    "resident_id": _l("Resident ID number"),
    "birth_date": _l("Birth date"),
    "sex": _l("Sex"),
    "mobile": _l("Mobile number"),
    "address": _l("Address"),
    "village": _l("Village"),
    "business_type": _l("Business type"),
    "business_description": _l("What the business does"),
    "household_size": _l("People in the household"),
    "monthly_income": _l("Monthly income (yuan)"),
    "monthly_expenses": _l("Monthly expenses (yuan)"),
    "guarantor_name": _l("Guarantor's name"),
    "guarantor_phone": _l("Guarantor's phone"),
    "birthday_calendar": _l("Calendar of the birthday greeting"),
}

CORRECTABLE_FIELDS = {
    **PROFILE_FIELD_LABELS,
    "other": _l("Something else (say what in the note)"),
}


def field_label(name: str) -> str:
    """The label of a correctable field, or the name itself for one no longer listed."""
    label = CORRECTABLE_FIELDS.get(name)
    return str(label) if label is not None else name
