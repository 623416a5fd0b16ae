"""Routes of the loans feature for the access matrix."""

from portal.borrowers.models import Borrower
from portal.extensions import db
from portal.loans.models import LoanStatus
from tests.factories import Ref, make_loan
from tests.routes import ADMIN, EVERYONE, MANAGERS, STAFF, Route

APPLICATION = {
    "amount": "30000",
    "term_months": "12",
    "annual_rate_percent": "8.5",
    "purpose": "购买饲料",
}

ROUTES = [
    Route("loans.index", "GET", "/loans/", STAFF),
    Route("loans.export", "GET", "/loans/export.csv", STAFF),
    Route("loans.export", "GET", "/loans/export.xlsx?status=active", STAFF),
    Route("loans.apply", "GET", "/borrowers/{own_borrower.id}/loans/new", STAFF),
    Route("loans.apply", "GET", "/borrowers/{foreign_borrower.id}/loans/new", ADMIN),
    Route("loans.apply", "POST", "/borrowers/{foreign_borrower.id}/loans/new", ADMIN, APPLICATION),
    Route("loans.detail", "GET", "/loans/{own_loan.id}", EVERYONE),
    Route("loans.detail", "GET", "/loans/{foreign_loan.id}", ADMIN),
    Route("loans.decision", "GET", "/loans/{applied_loan.id}/decision", MANAGERS),
    Route("loans.decision", "POST", "/loans/{applied_loan.id}/decision", MANAGERS),
    Route("loans.decision", "GET", "/loans/{foreign_applied_loan.id}/decision", ADMIN),
    Route("loans.contract", "GET", "/loans/{trained_loan.id}/contract", STAFF),
    Route("loans.contract", "POST", "/loans/{foreign_loan.id}/contract", ADMIN),
    Route("loans.disburse", "GET", "/loans/{contracted_loan.id}/disburse", STAFF),
    Route("loans.disburse", "POST", "/loans/{foreign_loan.id}/disburse", ADMIN),
    Route(
        "loans.confirm_disbursement",
        "GET",
        "/loans/{disbursing_loan.id}/confirm-disbursement",
        MANAGERS,
    ),
    Route(
        "loans.confirm_disbursement",
        "POST",
        "/loans/{foreign_disbursing_loan.id}/confirm-disbursement",
        ADMIN,
    ),
    Route(
        "loans.return_disbursement",
        "GET",
        "/loans/{disbursing_loan.id}/return-disbursement",
        MANAGERS,
    ),
    Route(
        "loans.return_disbursement",
        "POST",
        "/loans/{foreign_disbursing_loan.id}/return-disbursement",
        ADMIN,
    ),
    Route("loans.payment", "GET", "/loans/{own_loan.id}/payment", STAFF),
    Route("loans.payment", "POST", "/loans/{foreign_loan.id}/payment", ADMIN),
    Route("loans.repayment", "GET", "/loans/{own_loan.id}/repayment", STAFF),
    Route("loans.repayment", "POST", "/loans/{foreign_loan.id}/repayment", ADMIN),
    Route("loans.write_off", "GET", "/loans/{own_loan.id}/write-off", MANAGERS),
    Route("loans.write_off", "POST", "/loans/{foreign_loan.id}/write-off", ADMIN),
    Route("loans.close", "GET", "/loans/{own_loan.id}/close", STAFF),
    Route("loans.close", "POST", "/loans/{foreign_loan.id}/close", ADMIN),
]


def objects(app, world) -> dict:
    """Loans of the World's borrowers waiting for each step."""
    with app.app_context():
        own = db.session.get(Borrower, world.own_borrower.id)
        foreign = db.session.get(Borrower, world.foreign_borrower.id)
        loans = {
            "applied_loan": make_loan(own),
            "foreign_applied_loan": make_loan(foreign),
            "trained_loan": make_loan(own, LoanStatus.TRAINED),
            "contracted_loan": make_loan(own, LoanStatus.CONTRACTED, contract_number="JK-X-1"),
            "disbursing_loan": make_loan(own, LoanStatus.DISBURSING, contract_number="JK-X-2"),
            "foreign_disbursing_loan": make_loan(
                foreign, LoanStatus.DISBURSING, contract_number="JK-X-3"
            ),
        }
        refs = {name: Ref(loan.id, str(loan.id)) for name, loan in loans.items()}
        db.session.commit()
    return refs
