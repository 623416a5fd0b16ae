"""The demo data set of README.md: two branches, their staff and borrowers."""

from datetime import date

import sqlalchemy as sa
from flask import current_app

from portal.accounts.models import Role, User
from portal.accounts.operations import create_user
from portal.branches.models import Branch
from portal.branches.operations import create_branch
from portal.demo.borrowers import ensure_borrower
from portal.demo.care import seed_care
from portal.demo.evidence import seed_evidence
from portal.demo.loans import seed_loans
from portal.demo.people import PeopleGenerator
from portal.demo.reminders import seed_reminders
from portal.demo.services import seed_services
from portal.demo.visits import seed_visits, sign_planted
from portal.extensions import db
from portal.reports import warnings as warning_outcomes
from portal.visits import counts

SEED = 20261122
BRANCHES = [
    {"code": "SY01", "name": "泗阳众兴网点", "region": "江苏宿迁", "phone": "0527-85210001"},
    {"code": "SQ02", "name": "宿豫来龙网点", "region": "江苏宿迁", "phone": "0527-84410002"},
]
STAFF = [
    ("admin", "系统管理员", Role.ADMIN, None),
    ("head1", "周建国", Role.HEAD, "SY01"),
    ("head2", "吴秀英", Role.HEAD, "SQ02"),
    ("officer1", "陈志强", Role.OFFICER, "SY01"),
    ("officer2", "林晓燕", Role.OFFICER, "SY01"),
    ("officer3", "郭永明", Role.OFFICER, "SQ02"),
    ("officer4", "何丽娟", Role.OFFICER, "SQ02"),
]
BORROWER_COUNT = 40
DEMO_OFFICERS = {"SY01": ("officer1", "officer2"), "SQ02": ("officer3", "officer4")}


def database_is_empty() -> bool:
    """True when no account exists yet."""
    return db.session.scalar(sa.select(sa.func.count(User.id))) == 0


def _branch(code: str) -> Branch:
    return db.session.scalar(sa.select(Branch).where(Branch.code == code))


def _user(username: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.username == username))


def _ensure_branches() -> None:
    for values in BRANCHES:
        if _branch(values["code"]) is None:
            create_branch(**values)
    db.session.flush()


def _ensure_user(username: str, display_name: str, role: Role, branch_code: str | None) -> User:
    user = _user(username)
    if user is None:
        branch = _branch(branch_code) if branch_code else None
        user = create_user(
            username=username,
            display_name=display_name,
            role=role,
            branch_id=branch.id if branch else None,
            password=current_app.config["DEMO_PASSWORD"],
        )
    return user


def load_demo(today: date | None = None) -> str:
    """Create whatever part of the demo data is missing; return a summary line."""
    _ensure_branches()
    for username, name, role, branch_code in STAFF:
        _ensure_user(username, name, role, branch_code)
    people = PeopleGenerator(SEED, today or date(2026, 11, 1))
    borrowers = []
    for index in range(BORROWER_COUNT):
        person = people.person(index)
        # borrower1, 3, 5… in SY01 with officer1/officer2; the even ones in SQ02.
        branch_code = BRANCHES[index % len(BRANCHES)]["code"]
        officer = _user(DEMO_OFFICERS[branch_code][(index // 2) % 2])
        user = _ensure_user(f"borrower{index + 1}", person.full_name, Role.BORROWER, branch_code)
        borrowers.append(ensure_borrower(user, officer, person))
    db.session.flush()
    seed_loans(borrowers, today)
    seed_visits(borrowers, today)
    seed_evidence(borrowers, today, sign_planted)
    seed_care(borrowers, today)
    seed_services(borrowers, today)
    seed_reminders(borrowers, today)
    counts.build_missing()  # the months of the demo's loans, kept by every write from now on
    warning_outcomes.build_missing()  # "Do the warnings work?" of the complete months
    users = db.session.scalar(sa.select(sa.func.count(User.id)))
    return f"Demo data ready: {len(BRANCHES)} branches, {users} accounts."
