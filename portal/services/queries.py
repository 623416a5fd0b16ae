"""Lists, menu counts and satisfaction figures of the services feature, in SQL."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache

import sqlalchemy as sa
from flask import g
from flask_login import current_user
from sqlalchemy.orm import contains_eager, joinedload, with_expression

from portal.accounts.models import Role, User
from portal.borrowers.models import Borrower
from portal.branches.models import Branch
from portal.core.calendar import company_tz
from portal.core.statements import user_parameters
from portal.database import utcnow
from portal.extensions import db
from portal.notices.queries import unread_count
from portal.services.models import (
    OPEN_STATUSES,
    ServiceKind,
    ServiceRequest,
    ServiceSession,
    ServiceStatus,
    localized_name,
)
from portal.visits.models import Visit, latest_version

S = ServiceStatus
# The queue's tabs: which statuses each shows.
QUEUE_FILTERS = {
    "open": OPEN_STATUSES,
    "new": (S.SUBMITTED,),
    "accepted": (S.ACCEPTED,),
    "done": (S.COMPLETED, S.RATED),
    "declined": (S.DECLINED,),
    "all": tuple(S),
}


def _with_overdue(stmt, now: datetime):
    return stmt.options(
        with_expression(ServiceRequest.listed_overdue, ServiceRequest.overdue_clause(now))
    )


def queue(user: User, status_filter: str, overdue_only: bool, now: datetime | None = None):
    """The branch queue: new requests first, the most urgent deadline first among them."""
    now = now or utcnow()
    stmt = (
        sa.select(ServiceRequest)
        .join(ServiceRequest.borrower)
        .where(
            Borrower.visible_filter(user),
            ServiceRequest.status.in_(QUEUE_FILTERS.get(status_filter, OPEN_STATUSES)),
        )
        .order_by(
            sa.case((ServiceRequest.status == S.SUBMITTED, 0), else_=1),
            ServiceRequest.respond_by,
            ServiceRequest.id,
        )
        .options(
            contains_eager(ServiceRequest.borrower),
            joinedload(ServiceRequest.assignee),
            joinedload(ServiceRequest.branch),
        )
    )
    if overdue_only:
        stmt = stmt.where(ServiceRequest.overdue_clause(now))
    return _with_overdue(stmt, now)


def assignments(user: User, include_done: bool, now: datetime | None = None):
    """Requests assigned to ``user``: open ones by planned date, or the finished ones."""
    statuses = (S.COMPLETED, S.RATED) if include_done else (S.ACCEPTED,)
    stmt = (
        sa.select(ServiceRequest)
        .join(ServiceRequest.borrower)
        .where(ServiceRequest.assignee_id == user.id, ServiceRequest.status.in_(statuses))
        .order_by(ServiceRequest.planned_on, ServiceRequest.id)
        .options(contains_eager(ServiceRequest.borrower), joinedload(ServiceRequest.session))
    )
    return _with_overdue(stmt, now or utcnow())


def borrower_requests(borrower_id: int):
    """A borrower's own requests, newest first."""
    return (
        sa.select(ServiceRequest)
        .where(ServiceRequest.borrower_id == borrower_id)
        .order_by(ServiceRequest.submitted_at.desc(), ServiceRequest.id.desc())
        .options(joinedload(ServiceRequest.session))
    )


def sessions(user: User):
    """Group sessions visible to ``user``, latest date first, with their request counts."""
    served = (
        sa.select(sa.func.count(ServiceRequest.id))
        .where(ServiceRequest.session_id == ServiceSession.id)
        .correlate(ServiceSession)
        .scalar_subquery()
    )
    return (
        sa.select(ServiceSession)
        .where(ServiceSession.visible_filter(user))
        .order_by(ServiceSession.held_on.desc(), ServiceSession.id.desc())
        .options(
            joinedload(ServiceSession.branch),
            with_expression(ServiceSession.listed_served, served),
        )
    )


def kind_names() -> dict[str, str]:
    """Every kind of service's name in the reader's language, by code (notices name them)."""
    return {kind.code: kind.name for kind in db.session.scalars(sa.select(ServiceKind))}


# Menu counts: one COUNT query per menu, remembered for the request --------------------


@dataclass(frozen=True)
class MenuCounts:
    waiting: int = 0
    overdue: int = 0


def menu_counts() -> MenuCounts:
    """What waits for the current user: the head's new requests, the officer's assignments."""
    if "service_menu_counts" not in g:
        g.service_menu_counts = _menu_counts(current_user)
    return g.service_menu_counts


def _menu_counts(user: User) -> MenuCounts:
    if user.role == Role.BORROWER:
        return MenuCounts(waiting=unread_count(user.id))
    row = db.session.execute(
        _menu_counts_stmt(user.role), user_parameters(user) | {"now": utcnow()}
    ).one()
    return MenuCounts(waiting=row[0], overdue=row[1])


@cache
def _menu_counts_stmt(role: Role):
    """The staff menu's counts for a role, built once (portal/core/statements.py)."""
    if role == Role.OFFICER:
        mine = ServiceRequest.assignee_id == sa.bindparam("user_id")
        waiting = ServiceRequest.status == S.ACCEPTED
    else:
        mine = (
            sa.true()
            if role == Role.ADMIN
            else ServiceRequest.branch_id == sa.bindparam("branch_id")
        )
        waiting = ServiceRequest.status == S.SUBMITTED
    overdue = ServiceRequest.overdue_clause(sa.bindparam("now"))
    return sa.select(
        sa.func.count(ServiceRequest.id),
        sa.func.coalesce(sa.func.sum(sa.case((overdue, 1), else_=0)), 0),
    ).where(mine, waiting)


# Satisfaction ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """Satisfaction of one group (a branch, an officer, a kind of service)."""

    key: object
    label: str
    branch: str
    ratings: int
    average_rating: float | None
    visits: int
    average_visit: float | None


def period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """UTC instants of the first local moment of ``start`` and the first after ``end``."""
    zone = company_tz()
    first = datetime.combine(start, time.min, tzinfo=zone)
    after = datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone)
    return first, after


def _rated_in(scope, first, after) -> tuple:
    """The conditions of a request rated in the period, within ``scope``."""
    return (
        ServiceRequest.status == S.RATED,
        ServiceRequest.rated_at >= first,
        ServiceRequest.rated_at < after,
        scope(ServiceRequest.branch_id),
    )


def rating_rows(group_columns, scope, first, after):
    """(group…, count, average) of service ratings given in the period."""
    stmt = (
        sa.select(
            *group_columns,
            sa.func.count(ServiceRequest.id),
            sa.func.avg(ServiceRequest.rating),
        )
        .where(*_rated_in(scope, first, after))
        .group_by(*group_columns)
    )
    return db.session.execute(stmt).all()


def satisfaction(branch_id: int | None, start: date, end: date) -> dict[str, list[Figure]]:
    """Figures per branch, officer and kind of service; ``branch_id`` None means all."""
    first, after = period_bounds(start, end)

    def scope(column):
        return sa.true() if branch_id is None else column == branch_id

    visits = visit_satisfaction(scope, first, after)
    return {
        "branches": _by_branch(scope, first, after, visits["branch"]),
        "officers": _by_officer(scope, first, after, visits["officer"]),
        "kinds": _by_kind(scope, first, after),
    }


def _average(value) -> float | None:
    return None if value is None else round(float(value), 2)


def _by_branch(scope, first, after, visit_rows: dict) -> list[Figure]:
    ratings = {
        row[0]: row[1:] for row in rating_rows([ServiceRequest.branch_id], scope, first, after)
    }
    ids = set(ratings) | set(visit_rows)
    names = dict(
        db.session.execute(sa.select(Branch.id, Branch.name).where(Branch.id.in_(ids))).all()
    )
    return sorted(
        (
            _figure(key, names.get(key, ""), "", ratings.get(key), visit_rows.get(key))
            for key in ids
        ),
        key=lambda figure: figure.label,
    )


def _by_officer(scope, first, after, visit_rows: dict) -> list[Figure]:
    ratings = {
        row[0]: row[1:] for row in rating_rows([ServiceRequest.assignee_id], scope, first, after)
    }
    ids = (set(ratings) | set(visit_rows)) - {None}
    people = db.session.execute(
        sa.select(User.id, User.display_name, Branch.name)
        .outerjoin(Branch, Branch.id == User.branch_id)
        .where(User.id.in_(ids))
    ).all()
    return sorted(
        (
            _figure(uid, name, branch, ratings.get(uid), visit_rows.get(uid))
            for uid, name, branch in people
        ),
        key=lambda figure: (figure.branch, figure.label),
    )


def _by_kind(scope, first, after) -> list[Figure]:
    rows = db.session.execute(
        sa.select(
            ServiceKind.code,
            ServiceKind.name_zh,
            ServiceKind.name_en,
            ServiceKind.position,
            sa.func.count(ServiceRequest.id),
            sa.func.avg(ServiceRequest.rating),
        )
        .join(ServiceRequest, ServiceRequest.kind_code == ServiceKind.code)
        .where(*_rated_in(scope, first, after))
        .group_by(ServiceKind.code, ServiceKind.name_zh, ServiceKind.name_en, ServiceKind.position)
        .order_by(ServiceKind.position)
    ).all()
    return [
        _figure(code, localized_name(zh, en), "", (count, avg), None)
        for code, zh, en, _position, count, avg in rows
    ]


def _figure(key, label, branch, ratings, visits) -> Figure:
    ratings, visits = ratings or (0, None), visits or (0, None)
    return Figure(
        key=key,
        label=label,
        branch=branch or "",
        ratings=ratings[0],
        average_rating=_average(ratings[1]),
        visits=visits[0],
        average_visit=_average(visits[1]),
    )


def visit_satisfaction(scope, first: datetime, after: datetime) -> dict[str, dict]:
    """Satisfaction (1–5) from the visit forms of the period, per branch and per officer.

    Only the latest version of each visit counts: an amended original is replaced by
    its amendment, and only visits where the question was asked (the borrower consents
    to surveys) count. One pass over the period's visits, grouped by branch and officer
    together (an officer's visits stay with the branch they were made in); the two
    views are summed from it. Returns ``{"branch": {id: (count, avg)}, "officer":
    {id: (count, avg)}}``.
    """
    rows = db.session.execute(
        sa.select(
            Visit.branch_id,
            Visit.officer_id,
            sa.func.count(Visit.id),
            sa.func.sum(Visit.satisfaction),
        )
        .where(
            Visit.visited_at >= first,
            Visit.visited_at < after,
            scope(Visit.branch_id),
            latest_version(),
            Visit.satisfaction.is_not(None),
        )
        .group_by(Visit.branch_id, Visit.officer_id)
    ).all()
    totals: dict[str, dict] = {"branch": {}, "officer": {}}
    for branch_id, officer_id, count, points in rows:
        for name, key in (("branch", branch_id), ("officer", officer_id)):
            seen, total = totals[name].get(key, (0, 0))
            totals[name][key] = (seen + count, total + int(points))
    return {
        name: {key: (count, points / count) for key, (count, points) in groups.items()}
        for name, groups in totals.items()
    }
