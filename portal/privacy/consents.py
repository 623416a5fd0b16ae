"""The consent register: every feature that processes optional data asks it first.

``given(borrower_id, purpose)`` for one borrower; ``given_filter(purpose, column)`` as a
WHERE clause for lists and runs (the greetings, the networking matches). ``decide``
records a decision: the current row and an event, in the caller's transaction.
"""

import sqlalchemy as sa

from portal.accounts.models import User
from portal.audit.operations import record
from portal.borrowers.models import Borrower
from portal.database import utcnow
from portal.extensions import db
from portal.privacy.models import Consent, ConsentEvent, ConsentMethod, Purpose

# The version of the consent texts shown to borrowers now (docs/privacy.md keeps them);
# a changed text gets a new version, and each decision records the one it was given on.
TEXT_VERSION = "2026-11"


def given(borrower_id: int, purpose: Purpose) -> bool:
    """Whether the borrower's consent to ``purpose`` stands now."""
    return bool(
        db.session.scalar(
            sa.select(Consent.given).where(
                Consent.borrower_id == borrower_id, Consent.purpose == purpose
            )
        )
    )


def given_filter(purpose: Purpose, borrower_id=Borrower.id):
    """A WHERE clause: the borrower (``borrower_id``, a column) consents to ``purpose``."""
    return sa.exists().where(
        Consent.borrower_id == borrower_id, Consent.purpose == purpose, Consent.given
    )


def current(borrower_id: int) -> dict[Purpose, Consent]:
    """The borrower's consents by purpose (a purpose never decided is missing)."""
    rows = db.session.scalars(sa.select(Consent).where(Consent.borrower_id == borrower_id))
    return {row.purpose: row for row in rows}


def decide(
    borrower: Borrower,
    purpose: Purpose,
    give: bool,
    method: ConsentMethod,
    actor: User | None,
    text_version: str = TEXT_VERSION,
) -> Consent:
    """Record that ``borrower`` gave (``give``) or withdrew their consent to ``purpose``."""
    now = utcnow()
    consent = db.session.scalar(
        sa.select(Consent).where(Consent.borrower_id == borrower.id, Consent.purpose == purpose)
    )
    if consent is None:
        consent = Consent(borrower_id=borrower.id, purpose=purpose)
        db.session.add(consent)
    consent.given = give
    consent.text_version = text_version
    consent.method = method
    consent.decided_at = now
    consent.decided_by_id = actor.id if actor else None
    db.session.add(
        ConsentEvent(
            borrower_id=borrower.id,
            purpose=purpose,
            given=give,
            text_version=text_version,
            method=method,
            decided_at=now,
            decided_by_id=consent.decided_by_id,
        )
    )
    record(
        "consent.give" if give else "consent.withdraw",
        borrower,
        f"{purpose.value}, text {text_version}, {method.value}",
        actor=actor,
    )
    return consent
