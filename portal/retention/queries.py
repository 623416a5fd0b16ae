"""Reads of legal holds."""

import sqlalchemy as sa

from portal.borrowers.models import Borrower
from portal.extensions import db
from portal.retention.models import LegalHold


def hold_in_place(borrower: Borrower) -> LegalHold | None:
    """The borrower's legal hold in place, if any (the borrower page shows it)."""
    return db.session.scalar(
        sa.select(LegalHold)
        .where(LegalHold.borrower_id == borrower.id, LegalHold.lifted_at.is_(None))
        .order_by(LegalHold.id.desc())
        .limit(1)
    )


def holds_of(borrower: Borrower) -> list[LegalHold]:
    """Every hold of the borrower, newest first."""
    return list(
        db.session.scalars(
            sa.select(LegalHold)
            .where(LegalHold.borrower_id == borrower.id)
            .order_by(LegalHold.placed_at.desc(), LegalHold.id.desc())
        )
    )
