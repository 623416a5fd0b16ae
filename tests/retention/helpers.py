"""A borrower with something of every kind the retention run handles."""

from datetime import date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from portal.borrowers.models import Borrower, IdCardPhoto
from portal.care.models import OutboxMessage, OutboxStatus
from portal.database import utcnow
from portal.extensions import db
from portal.loans.models import Loan, LoanStatus
from portal.networking.models import ProfileEntry, ProfileSide
from portal.privacy import consents
from portal.privacy.models import ConsentMethod, Purpose
from portal.visits.models import ErasedVisitPhoto, Visit, VisitPhoto
from tests.factories import make_borrower, make_loan
from tests.visits.photo_helpers import photo_visit

# The loan of ``client`` closes on this day (the factory's closed loans do too).
CLOSED_ON = date(2026, 10, 15)
SMALL = (320, 240)
_seeds = iter(range(100, 10**6))


def make_client(officer, *, closed_on: date | None = CLOSED_ON, photos: int = 2, user=None) -> int:
    """A borrower with consents given, a loan (closed on ``closed_on``, or still active
    with None), a visit with ``photos`` photos, a business profile, two greetings and a
    reminder in the outbox, and an ID-card photo. Returns the borrower's id."""
    borrower = make_borrower(officer, user=user, created_at=utcnow() - timedelta(days=400))
    for purpose in Purpose:
        consents.decide(borrower, purpose, True, ConsentMethod.PAPER, officer)
    loan = make_loan(borrower, LoanStatus.ACTIVE)
    photo_visit(
        borrower,
        officer,
        utcnow() - timedelta(days=30),
        seeds=[next(_seeds) for _ in range(photos)],
        size=SMALL,
    )
    if closed_on is not None:
        loan.status = LoanStatus.CLOSED
        loan.closed_on = closed_on
        loan.outstanding_balance = Decimal("0.00")
    for side, tag in ((ProfileSide.OFFER, "仔猪"), (ProfileSide.NEED, "饲料")):
        db.session.add(
            ProfileEntry(borrower_id=borrower.id, side=side, free_tag=tag, match_key=f"free:{tag}")
        )
    for year, status in ((2025, OutboxStatus.DELIVERED), (2026, OutboxStatus.SENT)):
        db.session.add(_message(borrower, f"{borrower.full_name}，生日快乐！", year, status))
    db.session.add(
        _message(
            borrower,
            f"{borrower.full_name}，您本月应还款。",
            2026,
            OutboxStatus.SENT,
            f"due:{borrower.id}",
        )
    )
    db.session.add(
        IdCardPhoto(borrower_id=borrower.id, content=b"\xff\xd8id", media_type="image/jpeg")
    )
    db.session.flush()
    return borrower.id


def _message(borrower, body, year, status, once_key=None) -> OutboxMessage:
    return OutboxMessage(
        borrower_id=borrower.id,
        branch_id=borrower.branch_id,
        occasion_code="birthday" if once_key is None else "repayment_due",
        year=year,
        due_on=date(year, 3, 1),
        locale="zh",
        body=body,
        status=status,
        mobile=borrower.mobile,
        sent_at=datetime(year, 3, 1, 1, 0).astimezone(),
        once_key=once_key,
    )


def count(model, **where) -> int:
    stmt = sa.select(sa.func.count()).select_from(model)
    for name, value in where.items():
        stmt = stmt.where(getattr(model, name) == value)
    return db.session.scalar(stmt)


def photos_of(borrower_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(VisitPhoto.id))
        .join(Visit, Visit.id == VisitPhoto.visit_id)
        .where(Visit.borrower_id == borrower_id)
    )


def erased_of(borrower_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(ErasedVisitPhoto)
        .join(Visit, Visit.id == ErasedVisitPhoto.visit_id)
        .where(Visit.borrower_id == borrower_id)
    )


def greetings_of(borrower_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(OutboxMessage.id)).where(
            OutboxMessage.borrower_id == borrower_id, OutboxMessage.once_key.is_(None)
        )
    )


def kept(borrower_id: int) -> tuple[int, int, int]:
    """The borrower's loans, visits and outbox rows: what the run must keep."""
    return (
        count(Loan, borrower_id=borrower_id),
        count(Visit, borrower_id=borrower_id),
        count(OutboxMessage, borrower_id=borrower_id, once_key=f"due:{borrower_id}"),
    )


def borrower(borrower_id: int) -> Borrower:
    return db.session.get(Borrower, borrower_id)
