"""The retention schedule: what is kept how long, and what happens at the end.

One declaration: the daily run (portal/retention/run.py) applies it, docs/privacy.md
prints it (``SCHEDULE``), the tests read the periods from it. A borrower's
**relationship end** is the day their last loan closed or was written off (a rejected
application: the day it was decided; a borrower who never applied: the day they were
registered), provided no loan of theirs is still open (applied, approved, trained,
contracted, being disbursed, or active and not written off).
"""

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext as _ln

from portal.privacy.models import Purpose

# The records lending and anti-money-laundering rules require (loan, repayment, visit and
# complaint records) are kept at least five years after the business relationship ends;
# then the borrower is anonymised and the records stay, without the person.
LEGAL_YEARS = 5
# Optional data, kept for its purpose only while the borrower is a client: deleted this
# many days after the relationship ends (at once when its consent is withdrawn).
OPTIONAL_DAYS = 90
# Rows deleted or borrowers anonymised per transaction: a run never holds a long lock.
BATCH = 200


class Kind(StrEnum):
    """A kind of optional data the run deletes."""

    PHOTOS = "photos"  # the photos of the borrower's visits
    PROFILE = "profile"  # the business profile's offers and needs
    GREETINGS = "greetings"  # the greeting history in the care outbox


# Each optional kind and the consent it hangs on.
OPTIONAL_KINDS = {
    Kind.PHOTOS: Purpose.PHOTOS,
    Kind.PROFILE: Purpose.NETWORKING,
    Kind.GREETINGS: Purpose.GREETINGS,
}


@dataclass(frozen=True)
class Rule:
    """One line of the schedule, as docs/privacy.md prints it."""

    what: object
    period: object
    why: object
    end: object


_AFTER_THE_END = _ln(
    "%(num)s year after the relationship ends",
    "%(num)s years after the relationship ends",
    LEGAL_YEARS,
)
_UNTIL_WITHDRAWN = _ln(
    "Until the consent is withdrawn, at most %(num)s day after the relationship ends",
    "Until the consent is withdrawn, at most %(num)s days after the relationship ends",
    OPTIONAL_DAYS,
)

SCHEDULE = (
    Rule(
        _l("Loans, their schedules and repayments, signed visits, complaints"),
        _AFTER_THE_END,
        _l("Lending and anti-money-laundering rules: at least 5 years"),
        _l("The borrower is anonymised; the records and their figures stay"),
    ),
    Rule(
        _l("Name, ID number, phone, address, guarantor, ID-card photo, login"),
        _AFTER_THE_END,
        _l("They identify the borrower of the records above"),
        _l("Deleted or blanked (anonymisation)"),
    ),
    Rule(
        _l("Photos on visits"),
        _UNTIL_WITHDRAWN,
        _l("Optional: consent to photos on visits"),
        _l("The images are deleted; the signed record keeps their digests"),
    ),
    Rule(
        _l("Business profile (offers and needs)"),
        _UNTIL_WITHDRAWN,
        _l("Optional: consent to networking"),
        _l("Deleted"),
    ),
    Rule(
        _l("Greeting history (care outbox)"),
        _UNTIL_WITHDRAWN,
        _l("Optional: consent to greetings by SMS"),
        _l("Deleted"),
    ),
)


def optional_cutoff(today: date) -> date:
    """A relationship that ended on or before this day has its optional data deleted."""
    return today - timedelta(days=OPTIONAL_DAYS)


def legal_cutoff(today: date) -> date:
    """A relationship that ended on or before this day has its borrower anonymised."""
    year = today.year - LEGAL_YEARS
    # 29 February of a leap year: the 28th of a common one.
    return today.replace(year=year, day=min(today.day, 28 if today.month == 2 else today.day))
