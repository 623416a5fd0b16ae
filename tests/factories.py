"""Factories for tests; they use the same operations as the app."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import factory
import sqlalchemy as sa

from portal.accounts.models import Role, User
from portal.accounts.operations import create_user
from portal.borrowers.models import Borrower, OfficerAssignment
from portal.branches.models import Branch
from portal.demo.borrowers import borrower_fields
from portal.demo.people import PeopleGenerator
from portal.extensions import db
from portal.loans.models import Loan, LoanStatus
from portal.privacy.consents import TEXT_VERSION
from portal.privacy.models import Consent, ConsentEvent, ConsentMethod, Purpose

_people = PeopleGenerator(seed=7, reference_date=date(2026, 11, 1))
_person_index = iter(range(10**6))

PASSWORD = "portal-demo"


class BranchFactory(factory.alchemy.SQLAlchemyModelFactory):
    class Meta:
        model = Branch
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "flush"

    code = factory.Sequence(lambda n: f"B{n:03d}")
    name = factory.Sequence(lambda n: f"测试网点{n}")
    region = "江苏宿迁"


def make_user(username: str, role: Role, branch: Branch | None = None, **kwargs) -> User:
    """An account with the demo password."""
    user = create_user(
        username=username,
        display_name=kwargs.pop("display_name", username),
        role=role,
        branch_id=branch.id if branch else None,
        password=kwargs.pop("password", PASSWORD),
        **kwargs,
    )
    db.session.flush()
    return user


def make_borrower(
    officer: User, user: User | None = None, *, withheld: Iterable[Purpose] = (), **overrides
) -> Borrower:
    """A borrower of ``officer``'s branch with a realistic, unique identity.

    The borrower gave every consent on paper at onboarding, but those ``withheld``
    (recorded as refused), so features that ask the consent register act as before.
    """
    person = _people.person(next(_person_index))
    values = {
        "branch_id": officer.branch_id,
        "officer_id": officer.id,
        "user_id": user.id if user else None,
        **borrower_fields(person),
    } | overrides
    borrower = Borrower(**values)
    db.session.add(borrower)
    db.session.flush()
    db.session.add(OfficerAssignment(borrower_id=borrower.id, officer_id=borrower.officer_id))
    withheld = set(withheld)
    for purpose in Purpose:
        decision = {
            "borrower_id": borrower.id,
            "purpose": purpose,
            "given": purpose not in withheld,
            "text_version": TEXT_VERSION,
            "method": ConsentMethod.PAPER,
            "decided_by_id": borrower.officer_id,
        }
        # Written directly, without the audit entries of consents.decide.
        db.session.add(Consent(**decision))
        db.session.add(ConsentEvent(**decision))
    db.session.flush()
    return borrower


def make_loan(borrower: Borrower, status: LoanStatus = LoanStatus.APPLIED, **overrides) -> Loan:
    """A loan in ``status``, with the fields that status implies filled in."""
    values = {
        "borrower_id": borrower.id,
        "branch_id": borrower.branch_id,
        "status": status,
        "amount_requested": Decimal("50000.00"),
        "term_months_requested": 12,
        "purpose": "购买仔猪和饲料",
        "annual_rate_percent": Decimal("8.50"),
        "applied_on": date(2026, 1, 5),
    }
    if status not in (LoanStatus.APPLIED, LoanStatus.REJECTED):
        values |= {
            "decision_date": date(2026, 1, 10),
            "approved_amount": Decimal("50000.00"),
            "approved_term_months": 12,
        }
    if status in (
        LoanStatus.CONTRACTED,
        LoanStatus.DISBURSING,
        LoanStatus.ACTIVE,
        LoanStatus.CLOSED,
    ):
        values |= {
            "contract_number": f"JK-{borrower.id:06d}",
            "contract_signed_on": date(2026, 1, 20),
        }
    if status == LoanStatus.DISBURSING:  # recorded by the officer, not confirmed yet
        values |= {
            "disbursed_on": date(2026, 1, 25),
            "disbursement_recorded_by_id": borrower.officer_id,
        }
    if status in (LoanStatus.ACTIVE, LoanStatus.CLOSED):
        values |= {"disbursed_on": date(2026, 1, 25), "outstanding_balance": Decimal("40000.00")}
    if status == LoanStatus.CLOSED:
        values |= {"closed_on": date(2026, 10, 15), "outstanding_balance": Decimal("0.00")}
    loan = Loan(**(values | overrides))
    db.session.add(loan)
    db.session.flush()
    return loan


@dataclass(frozen=True)
class Ref:
    """A record's id and name, usable after its session has closed."""

    id: int
    name: str


@dataclass(frozen=True)
class World:
    """Ids of the cast most tests need; load the records inside an app context."""

    branch: Ref
    other_branch: Ref
    admin: Ref
    head: Ref
    officer: Ref
    other_head: Ref
    other_officer: Ref
    borrower: Ref
    # Borrower records: the officer's (whose login is ``borrower``) and another branch's.
    own_borrower: Ref
    foreign_borrower: Ref
    own_loan: Ref
    foreign_loan: Ref


def user_ref(user: User) -> Ref:
    return Ref(user.id, user.username)


def build_world() -> World:
    """Create the cast and return their ids."""
    branch, other = BranchFactory(), BranchFactory()
    users = {
        "admin": make_user("admin", Role.ADMIN),
        "head": make_user("head", Role.HEAD, branch),
        "officer": make_user("officer", Role.OFFICER, branch),
        "other_head": make_user("otherhead", Role.HEAD, other),
        "other_officer": make_user("otherofficer", Role.OFFICER, other),
        "borrower": make_user("borrower", Role.BORROWER, branch),
    }
    own = make_borrower(users["officer"], user=users["borrower"])
    foreign = make_borrower(users["other_officer"])
    own_loan, foreign_loan = (
        make_loan(own, LoanStatus.ACTIVE),
        make_loan(foreign, LoanStatus.ACTIVE),
    )
    return World(
        branch=Ref(branch.id, branch.code),
        other_branch=Ref(other.id, other.code),
        own_borrower=Ref(own.id, own.full_name),
        foreign_borrower=Ref(foreign.id, foreign.full_name),
        own_loan=Ref(own_loan.id, own_loan.contract_number),
        foreign_loan=Ref(foreign_loan.id, foreign_loan.contract_number),
        **{key: user_ref(user) for key, user in users.items()},
    )


def empty_database() -> None:
    """Delete every row of every table (inside an app context), as after each test."""
    db.session.remove()
    with db.engine.begin() as connection:
        existing = set(sa.inspect(connection).get_table_names())
        tables = [t.name for t in reversed(db.metadata.sorted_tables) if t.name in existing]
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(
                "TRUNCATE " + ", ".join(tables) + " RESTART IDENTITY CASCADE"
            )
        else:
            for table in tables:
                connection.exec_driver_sql(f"DELETE FROM {table}")
