"""Loans with a schedule, files of repayments, and what an import may change."""

import csv
import io
import itertools
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from openpyxl import Workbook

from portal.audit.models import AuditEntry
from portal.borrowers.models import Borrower
from portal.extensions import db
from portal.loans import lifecycle
from portal.loans.models import Loan, LoanInstalment, LoanStatus, Repayment
from portal.loans.schedule import RepaymentMethod
from tests.factories import make_loan

HEADER = ["contract_number", "paid_on", "amount", "reference", "balance"]
CHINESE_HEADER = ["合同编号", "还款日期", "还款金额", "交易流水号", "贷款余额"]
_numbers = itertools.count(1)


def scheduled_loan(app, world, *, foreign=False, status=LoanStatus.ACTIVE, **overrides) -> str:
    """An active loan of 12,000 yuan at 12 % over 12 months, equal principal, disbursed on
    1 February 2026 with its schedule (1,120.00 due 1 March, 1,110.00 due 1 April …);
    returns its contract number."""
    number = overrides.pop("contract_number", f"IMP-{next(_numbers):05d}")
    with app.app_context():
        ref = world.foreign_borrower if foreign else world.own_borrower
        loan = make_loan(
            db.session.get(Borrower, ref.id),
            status,
            contract_number=number,
            approved_amount=Decimal("12000.00"),
            approved_term_months=12,
            annual_rate_percent=Decimal("12.00"),
            repayment_method=RepaymentMethod.EQUAL_PRINCIPAL,
            disbursed_on=date(2026, 2, 1),
            outstanding_balance=Decimal("12000.00"),
            **overrides,
        )
        lifecycle.store_schedule(loan)
        db.session.commit()
    return number


def csv_bytes(rows: list[list], header=HEADER, encoding="utf-8") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list], header=CHINESE_HEADER) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(client, content: bytes, filename: str = "repayments.csv"):
    """Post the file as the upload form does."""
    token = client.csrf_token("/imports/repayments")
    return client.post(
        "/imports/repayments",
        data={"csrf_token": token, "file": (io.BytesIO(content), filename)},
        content_type="multipart/form-data",
    )


def stored_state(app) -> tuple:
    """Everything an import may change: the payments, the loans' figures, the instalments'
    settling days, and the audit entries of imports."""
    with app.app_context():
        payments = db.session.execute(
            sa.select(
                Repayment.loan_id,
                Repayment.paid_on,
                Repayment.amount,
                Repayment.principal,
                Repayment.interest,
                Repayment.source,
                Repayment.reference,
            ).order_by(Repayment.id)
        ).all()
        loans = db.session.execute(
            sa.select(
                Loan.id,
                Loan.outstanding_balance,
                Loan.overdue_days,
                Loan.repayment_status,
                Loan.version,
            ).order_by(Loan.id)
        ).all()
        settled = db.session.execute(
            sa.select(LoanInstalment.id, LoanInstalment.settled_on).order_by(LoanInstalment.id)
        ).all()
        audits = db.session.scalars(
            sa.select(AuditEntry.summary)
            .where(AuditEntry.action == "imports.repayments")
            .order_by(AuditEntry.id)
        ).all()
    return payments, loans, settled, audits


def loan_of(app, number: str) -> Loan:
    """A detached copy of the loan, its instalments and payments loaded."""
    with app.app_context():
        loan = db.session.scalar(sa.select(Loan).where(Loan.contract_number == number))
        loan.instalments, loan.repayments  # noqa: B018 - loaded before the session closes
        db.session.expunge_all()
        return loan
