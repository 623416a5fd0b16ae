"""The loan and the history of its status changes."""

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import User
from portal.borrowers.models import Borrower
from portal.database import UTCDateTime, enum_type, utcnow
from portal.extensions import db
from portal.loans.repayments import Due, Standing, standing
from portal.loans.schedule import RepaymentMethod


class LoanStatus(StrEnum):
    """docs/lifecycle.md: applied → approved | rejected → trained → contracted → disbursing
    → active → closed."""

    APPLIED = "applied"
    APPROVED = "approved"
    REJECTED = "rejected"
    TRAINED = "trained"
    CONTRACTED = "contracted"
    # Recorded as paid out, waiting for a second person's confirmation (four eyes).
    DISBURSING = "disbursing"
    ACTIVE = "active"
    CLOSED = "closed"


class RepaymentStatus(StrEnum):
    ON_TIME = "on_time"
    OVERDUE = "overdue"


LOAN_STATUS_LABELS = {
    LoanStatus.APPLIED: _l("Applied"),
    LoanStatus.APPROVED: _l("Approved"),
    LoanStatus.REJECTED: _l("Rejected"),
    LoanStatus.TRAINED: _l("Trained"),
    LoanStatus.CONTRACTED: _l("Contracted"),
    LoanStatus.DISBURSING: _l("Disbursement to confirm"),
    LoanStatus.ACTIVE: _lp("loan status", "Active"),
    LoanStatus.CLOSED: _lp("loan status", "Closed"),
}
REPAYMENT_STATUS_LABELS = {
    RepaymentStatus.ON_TIME: _l("On time"),
    RepaymentStatus.OVERDUE: _l("Overdue"),
}
REPAYMENT_METHOD_LABELS = {
    RepaymentMethod.EQUAL_INSTALMENTS: _l("Equal instalments"),
    RepaymentMethod.EQUAL_PRINCIPAL: _l("Equal principal"),
    RepaymentMethod.INTEREST_ONLY: _l("Interest monthly, principal at the end"),
}


class Loan(db.Model):
    """One loan of one borrower, through its lifecycle."""

    __tablename__ = "loans"
    __table_args__ = (
        sa.Index("ix_loans_branch_status", "branch_id", "status"),
        sa.Index("ix_loans_borrower_status", "borrower_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    borrower_id: Mapped[int] = mapped_column(sa.ForeignKey("borrowers.id"))
    # Copied from the borrower so branch reports need no join.
    branch_id: Mapped[int] = mapped_column(sa.ForeignKey("branches.id"))
    status: Mapped[LoanStatus] = mapped_column(
        enum_type(LoanStatus, 16), default=LoanStatus.APPLIED
    )

    amount_requested: Mapped[Decimal] = mapped_column(sa.Numeric(12, 2))
    term_months_requested: Mapped[int]
    purpose: Mapped[str] = mapped_column(sa.Text)
    annual_rate_percent: Mapped[Decimal] = mapped_column(sa.Numeric(5, 2))
    applied_on: Mapped[date]

    decision_date: Mapped[date | None]
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    approved_amount: Mapped[Decimal | None] = mapped_column(sa.Numeric(12, 2))
    approved_term_months: Mapped[int | None]
    decision_note: Mapped[str] = mapped_column(sa.Text, default="")
    # Chosen at approval; the schedule is made from it at disbursement (docs/lifecycle.md).
    repayment_method: Mapped[RepaymentMethod] = mapped_column(
        enum_type(RepaymentMethod, 24), default=RepaymentMethod.EQUAL_INSTALMENTS
    )

    training_signoff_id: Mapped[int | None] = mapped_column(sa.ForeignKey("training_signoffs.id"))
    contract_number: Mapped[str | None] = mapped_column(sa.String(40), unique=True)
    contract_signed_on: Mapped[date | None]
    disbursed_on: Mapped[date | None]
    # Four eyes on money: who recorded the disbursement, and the other person who confirmed it.
    disbursement_recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    disbursement_confirmed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    closed_on: Mapped[date | None]

    repayment_status: Mapped[RepaymentStatus] = mapped_column(
        enum_type(RepaymentStatus, 16), default=RepaymentStatus.ON_TIME
    )
    overdue_days: Mapped[int] = mapped_column(default=0)
    outstanding_balance: Mapped[Decimal | None] = mapped_column(sa.Numeric(12, 2))
    written_off: Mapped[bool] = mapped_column(default=False)
    written_off_on: Mapped[date | None]

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    borrower: Mapped[Borrower] = relationship()
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    instalments: Mapped[list["LoanInstalment"]] = relationship(
        order_by="LoanInstalment.number", cascade="all, delete-orphan"
    )
    repayments: Mapped[list["Repayment"]] = relationship(
        order_by="(Repayment.paid_on, Repayment.id)", cascade="all, delete-orphan"
    )

    def standing(self, as_of: date) -> Standing:
        """Where the loan stands against its schedule on ``as_of`` (portal/loans/repayments.py)."""
        return standing(
            [Due(i.number, i.due_on, i.principal, i.interest) for i in self.instalments],
            [(r.paid_on, r.amount) for r in self.repayments],
            as_of,
        )

    @property
    def overdue(self) -> bool:
        """The overdue flag of docs/lifecycle.md, on an active loan."""
        return self.status == LoanStatus.ACTIVE and self.repayment_status == RepaymentStatus.OVERDUE

    def visible_to(self, user: User) -> bool:
        """A loan is visible to whoever sees its borrower."""
        return self.borrower.visible_to(user)


class LoanInstalment(db.Model):
    """One instalment of a disbursed loan's schedule (portal/loans/schedule.py)."""

    __tablename__ = "loan_instalments"
    __table_args__ = (
        sa.UniqueConstraint("loan_id", "number"),
        sa.Index("ix_loan_instalments_due_on", "due_on"),
        # A branch's instalments of one month: its loans lead, a few rows each
        # (the repayment rate, portal/portfolio/quality.py).
        sa.Index("ix_loan_instalments_loan_due", "loan_id", "due_on"),
        # The instalments that were (or are) paid late: portfolio at risk on any day reads
        # only these (portal/loans/portfolio.py).
        sa.Index(
            "ix_loan_instalments_late",
            "due_on",
            "loan_id",
            "settled_on",
            sqlite_where=sa.text("settled_on IS NULL OR settled_on > due_on"),
            postgresql_where=sa.text("settled_on IS NULL OR settled_on > due_on"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(sa.ForeignKey("loans.id", ondelete="CASCADE"))
    number: Mapped[int]
    due_on: Mapped[date]
    principal: Mapped[Decimal] = mapped_column(sa.Numeric(12, 2))
    interest: Mapped[Decimal] = mapped_column(sa.Numeric(12, 2))
    balance_after: Mapped[Decimal] = mapped_column(sa.Numeric(12, 2))
    # The day the payments made it whole; None while it is not (portal/loans/repayments.py).
    settled_on: Mapped[date | None]

    @property
    def amount(self) -> Decimal:
        return self.principal + self.interest


class Repayment(db.Model):
    """Money the borrower paid on a loan with a schedule, split as it settled the instalments."""

    __tablename__ = "repayments"
    __table_args__ = (
        sa.UniqueConstraint("source", "reference"),
        # What a loan had repaid by any day, read from the index alone.
        sa.Index("ix_repayments_loan_paid", "loan_id", "paid_on", "principal"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(sa.ForeignKey("loans.id", ondelete="CASCADE"))
    paid_on: Mapped[date]
    amount: Mapped[Decimal] = mapped_column(sa.Numeric(12, 2))
    principal: Mapped[Decimal] = mapped_column(sa.Numeric(12, 2))
    interest: Mapped[Decimal] = mapped_column(sa.Numeric(12, 2))
    # "officer" for one typed in; a lending system's import names itself, with its own
    # reference, so the same repayment imported twice is stored once.
    source: Mapped[str] = mapped_column(sa.String(16), default="officer")
    reference: Mapped[str | None] = mapped_column(sa.String(64))
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LoanEvent(db.Model):
    """One step of the lifecycle: who moved the loan from which status to which, and why."""

    __tablename__ = "loan_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(sa.ForeignKey("loans.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[LoanStatus | None] = mapped_column(enum_type(LoanStatus, 16))
    to_status: Mapped[LoanStatus] = mapped_column(enum_type(LoanStatus, 16))
    happened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # The step's name and its facts (amounts, days, dates) are stored as data so
    # the history reads in each reader's language; ``note`` is what a person typed.
    action: Mapped[str] = mapped_column(sa.String(32), default="")
    details: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    note: Mapped[str] = mapped_column(sa.Text, default="")

    actor: Mapped[User | None] = relationship()


def loan_status_label(status) -> str:
    """The translated name of a loan status."""
    return str(LOAN_STATUS_LABELS[LoanStatus(status)])


def repayment_method_label(method) -> str:
    """The translated name of a repayment method."""
    return str(REPAYMENT_METHOD_LABELS[RepaymentMethod(method)])


def repayment_status_label(status) -> str:
    """The translated name of a repayment status."""
    return str(REPAYMENT_STATUS_LABELS[RepaymentStatus(status)])
