"""Reads of the privacy feature: the borrower's own requests, the staff's list of
correction requests and the menu count, in SQL."""

from dataclasses import dataclass
from functools import cache

import sqlalchemy as sa
from flask import g
from flask_login import current_user
from sqlalchemy.orm import contains_eager, joinedload

from portal.accounts.models import Role, User
from portal.borrowers.models import Borrower
from portal.core.calendar import local_today
from portal.core.statements import UserParameters, user_parameters
from portal.extensions import db
from portal.privacy.models import ConsentEvent, CorrectionRequest, CorrectionStatus

STATUS_FILTERS = {
    "open": (CorrectionStatus.OPEN,),
    "answered": (CorrectionStatus.DONE, CorrectionStatus.DECLINED),
    "all": tuple(CorrectionStatus),
}


def overdue_clause(today=None):
    """Still open after its last day to answer (``due_on``), as SQL."""
    return sa.and_(
        CorrectionRequest.status == CorrectionStatus.OPEN,
        CorrectionRequest.due_on < (today or local_today()),
    )


def borrower_corrections(borrower_id: int) -> list[CorrectionRequest]:
    """A borrower's own correction requests, newest first."""
    return list(
        db.session.scalars(
            sa.select(CorrectionRequest)
            .where(CorrectionRequest.borrower_id == borrower_id)
            .order_by(CorrectionRequest.requested_at.desc(), CorrectionRequest.id.desc())
        )
    )


def consent_history(borrower_id: int) -> list[ConsentEvent]:
    """Every consent decision of the borrower, oldest first."""
    return list(
        db.session.scalars(
            sa.select(ConsentEvent)
            .where(ConsentEvent.borrower_id == borrower_id)
            .options(joinedload(ConsentEvent.decided_by))
            .order_by(ConsentEvent.decided_at, ConsentEvent.id)
        )
    )


def staff_list(user: User, status: str):
    """Correction requests of the borrowers ``user`` sees now, the nearest deadline first.

    The borrower's current officer and their branch's head see them (the admin all): a
    reassigned borrower's request moves with the borrower, as ``visible_to`` says.
    """
    return (
        sa.select(CorrectionRequest, overdue_clause().label("overdue"))
        .join(CorrectionRequest.borrower)
        .where(Borrower.visible_filter(user), CorrectionRequest.status.in_(STATUS_FILTERS[status]))
        .order_by(CorrectionRequest.due_on, CorrectionRequest.id)
        .options(contains_eager(CorrectionRequest.borrower).joinedload(Borrower.officer))
    )


@dataclass(frozen=True)
class MenuCount:
    """Open correction requests waiting for the staff member, and how many are late."""

    waiting: int
    overdue: int


def menu_count() -> MenuCount:
    """The current staff member's open correction requests (one query per page)."""
    if "privacy_menu_count" not in g:
        row = db.session.execute(
            _menu_count_stmt(current_user.role),
            user_parameters(current_user) | {"today": local_today()},
        ).one()
        g.privacy_menu_count = MenuCount(row.waiting or 0, row.overdue or 0)
    return g.privacy_menu_count


@cache
def _menu_count_stmt(role: Role):
    """The menu's counts for a role, built once (portal/core/statements.py)."""
    late = CorrectionRequest.due_on < sa.bindparam("today")
    return (
        sa.select(
            sa.func.count(CorrectionRequest.id).label("waiting"),
            sa.func.count(CorrectionRequest.id).filter(late).label("overdue"),
        )
        .join(CorrectionRequest.borrower)
        .where(
            CorrectionRequest.status == CorrectionStatus.OPEN,
            Borrower.visible_filter(UserParameters(role)),
        )
    )
