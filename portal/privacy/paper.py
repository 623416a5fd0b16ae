"""Decisions a borrower makes on paper with the officer after onboarding (a visit, the
branch counter): staff record them on the borrower's consents page
(``borrowers.consents``). The write flushes nothing itself and audits through
``consents.decide``; the request commits.
"""

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from portal.accounts.models import User
from portal.borrowers.models import Borrower
from portal.core.actions import Refused
from portal.extensions import db
from portal.privacy import consents
from portal.privacy.models import ConsentEvent, ConsentMethod, Purpose


class ConsentRefused(Refused):
    """A consent decision staff may not record (the loan's withdrawal, a decision that
    changes nothing)."""


LOAN_NOT_HERE = _l(
    "The consent to processing for the loan cannot be withdrawn here: withdrawing it ends "
    "the lending relationship. The branch handles it with the borrower, settling or "
    "closing the loans first; ask the branch head."
)


def record_on_paper(borrower: Borrower, purpose: Purpose, give: bool, officer: User):
    """Record the borrower's paper decision to give or withdraw ``purpose``, by ``officer``."""
    if purpose == Purpose.LOAN and not give:
        raise ConsentRefused(LOAN_NOT_HERE, field="purpose")
    if consents.given(borrower.id, purpose) == give:
        raise ConsentRefused(
            _l("This consent is given already.")
            if give
            else _l("This consent is not given: there is nothing to withdraw."),
            field="decision",
        )
    return consents.decide(borrower, purpose, give, ConsentMethod.PAPER, officer)


def history(borrower_id: int) -> list[ConsentEvent]:
    """Every decision on the borrower's consents, the latest first, with who recorded it."""
    return list(
        db.session.scalars(
            sa.select(ConsentEvent)
            .options(selectinload(ConsentEvent.decided_by))
            .where(ConsentEvent.borrower_id == borrower_id)
            .order_by(ConsentEvent.decided_at.desc(), ConsentEvent.id.desc())
        )
    )
