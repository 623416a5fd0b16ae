"""Reads of the visits feature; each page runs a fixed number of these."""

import sqlalchemy as sa
from flask import g
from sqlalchemy.orm import contains_eager, joinedload, load_only

from portal.accounts.models import Role, User
from portal.borrowers.models import Borrower
from portal.branches.models import Branch
from portal.core.forms import optional_id
from portal.extensions import db
from portal.visits.models import Visit, VisitWarning, latest_version


def _list_columns():
    # Lists never need the long texts; the signature lives in another table anyway.
    return load_only(
        Visit.id,
        Visit.borrower_id,
        Visit.officer_id,
        Visit.amends_id,
        Visit.visited_at,
        Visit.place,
        Visit.risk_level,
        Visit.risk_signals,
        Visit.signed_at,
    )


def visits_of(borrower_id: int):
    """A borrower's visits, newest first, with the officer's name."""
    return (
        sa.select(Visit)
        .where(Visit.borrower_id == borrower_id)
        .options(_list_columns(), joinedload(Visit.officer).load_only(User.display_name))
        .order_by(Visit.visited_at.desc(), Visit.id.desc())
    )


def recent_visits(borrower_id: int, limit: int = 6) -> list[Visit]:
    """The borrower's latest visits for the timeline partial (one query)."""
    return list(db.session.scalars(visits_of(borrower_id).limit(limit)))


def amendments_of(visit: Visit) -> list[Visit]:
    """Every amendment of the visit's original, oldest first."""
    return list(
        db.session.scalars(
            sa.select(Visit)
            .where(Visit.amends_id == visit.root_id)
            .options(_list_columns(), joinedload(Visit.officer).load_only(User.display_name))
            .order_by(Visit.signed_at, Visit.id)
        )
    )


def newest_version_id(visit: Visit) -> int:
    """The id of the newest version of the visit: its latest amendment, else the original."""
    root = visit.root_id
    return db.session.scalar(
        sa.select(Visit.id).where(
            sa.or_(Visit.id == root, Visit.amends_id == root), latest_version()
        )
    )


def warning_of(visit_id: int) -> VisitWarning | None:
    return db.session.scalar(sa.select(VisitWarning).where(VisitWarning.visit_id == visit_id))


def _warnings_scope(user: User):
    if user.role == Role.ADMIN:
        return sa.true()
    return VisitWarning.branch_id == user.branch_id


def warnings_list(user: User, open_only: bool):
    """Red-visit warnings the user handles, open ones first, newest first."""
    stmt = (
        sa.select(VisitWarning)
        .join(VisitWarning.visit)
        .join(Visit.borrower)
        .where(_warnings_scope(user))
        .options(
            contains_eager(VisitWarning.visit).contains_eager(Visit.borrower),
            contains_eager(VisitWarning.visit).joinedload(Visit.officer),
            joinedload(VisitWarning.acknowledged_by),
        )
        .order_by(VisitWarning.acknowledged_at.is_not(None), VisitWarning.raised_at.desc())
    )
    if open_only:
        stmt = stmt.where(VisitWarning.acknowledged_at.is_(None))
    return stmt


def open_warning_count(user: User) -> int:
    """Open warnings for the menu badge: one COUNT per request, only for heads and admins."""
    if user.role not in (Role.HEAD, Role.ADMIN):
        return 0
    if "visit_open_warnings" not in g:
        g.visit_open_warnings = db.session.scalar(
            sa.select(sa.func.count(VisitWarning.id)).where(
                _warnings_scope(user), VisitWarning.acknowledged_at.is_(None)
            )
        )
    return g.visit_open_warnings


def borrower_of(user: User) -> Borrower | None:
    """The borrower record of a borrower login."""
    return db.session.scalar(sa.select(Borrower).where(Borrower.user_id == user.id))


def compliance_branch(user: User, requested: str | None) -> Branch | None:
    """The branch a compliance page shows: the head's own; for admins the one asked for."""
    if user.role == Role.HEAD:
        return user.branch
    branch_id = optional_id(requested)
    stmt = sa.select(Branch).where(Branch.active).order_by(Branch.code)
    if branch_id is not None:
        chosen = db.session.get(Branch, branch_id)
        if chosen is not None:
            return chosen
    return db.session.scalars(stmt.limit(1)).first()


def branches() -> list[Branch]:
    return list(db.session.scalars(sa.select(Branch).where(Branch.active).order_by(Branch.code)))
