"""The compliance counts kept in the database (docs/visits.md, "Compliance counts").

For each built month, ``compliance_counts`` holds per branch and officer how many
borrowers owed a visit and how many of them had one: what the rule of
``compliance.py`` computes, stored. A month is counted from scratch once
(``build``: the worker's hourly run, or ``flask visits counts --rebuild``); from then
on every flush that touches what the rule reads — a visit signed, a loan's dates or
status, an officer assignment, a borrower's officer or branch — changes the counts in
its own transaction: the share of the borrowers it touches is computed before the
flush and after it, and the difference added. The hooks sit on the session
(``keep_current``, connected when the app is assembled), so every writer goes
through them, whatever its path.

On PostgreSQL two writers of one borrower take turns (the borrower's row is locked
before its share is read), and a build waits for the writers in flight and holds new
ones back (an advisory lock, exclusive for the build, shared for the writers). SQLite
writes one transaction at a time.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from portal.borrowers.models import Borrower, OfficerAssignment
from portal.core.calendar import Month, company_tz, current_month, month_of
from portal.database import listen_once, utcnow
from portal.extensions import db
from portal.loans.models import Loan
from portal.visits.compliance import owes_visit, responsible_officer_id, visited_in
from portal.visits.models import ComplianceCount, ComplianceMonth, Visit

# What the rule reads, per model.
_LOAN_FIELDS = ("borrower_id", "disbursed_on", "closed_on", "status")
_ASSIGNMENT_FIELDS = ("borrower_id", "officer_id", "started_at")
_BORROWER_FIELDS = ("officer_id", "branch_id")
# A change to the borrower row itself can touch any built month.
_EVERY_MONTH = Month(2000, 1)
# PostgreSQL advisory lock: a build holds it exclusively, a writer shared.
_LOCK = 0x636F6D70
# Months per statement: SQLite allows 500 terms in a compound SELECT.
_MONTHS_PER_QUERY = 48
_PENDING = "portal_compliance_pending"

Key = tuple[str, int, int]  # month, branch, officer


@dataclass
class _Pending:
    """What one flush touches, and the touched borrowers' share before it."""

    months: list[Month]
    borrower_ids: set[int]
    objects: list = field(default_factory=list)
    new_borrowers: set = field(default_factory=set)
    before: dict[Key, list[int]] = field(default_factory=dict)


# --- Reading the rule -------------------------------------------------------------


def _share_query(ids: list[int], months: list[Month]):
    tz = company_tz()
    return sa.union_all(
        *(
            sa.select(
                sa.literal(str(month)).label("month"),
                Borrower.branch_id,
                responsible_officer_id(month, tz).label("officer_id"),
                owes_visit(month).label("owes"),
                visited_in(month, tz).label("done"),
            ).where(Borrower.id.in_(ids))
            for month in months
        )
    )


def shares(connection: Connection, ids: set[int], months: list[Month]) -> dict[Key, list[int]]:
    """What borrowers ``ids`` add to the counts of ``months``: {(month, branch, officer): [owed, done]}."""
    result: dict[Key, list[int]] = defaultdict(lambda: [0, 0])
    if not ids or not months:
        return result
    ordered = sorted(ids)
    for start in range(0, len(months), _MONTHS_PER_QUERY):
        for row in connection.execute(
            _share_query(ordered, months[start : start + _MONTHS_PER_QUERY])
        ):
            if row.owes:
                counts = result[(row.month, row.branch_id, row.officer_id)]
                counts[0] += 1
                counts[1] += 1 if row.done else 0
    return result


def month_counts(month: Month):
    """SELECT of (month, branch_id, officer_id, owed, done) for every branch, from scratch."""
    tz = company_tz()
    owed = (
        sa.select(
            Borrower.branch_id,
            responsible_officer_id(month, tz).label("officer_id"),
            sa.case((visited_in(month, tz), 1), else_=0).label("done"),
        )
        .where(owes_visit(month))
        .subquery()
    )
    return sa.select(
        sa.literal(str(month)).label("month"),
        owed.c.branch_id,
        owed.c.officer_id,
        sa.func.count().label("owed"),
        sa.func.coalesce(sa.func.sum(owed.c.done), 0).label("done"),
    ).group_by(owed.c.branch_id, owed.c.officer_id)


# --- Building months ------------------------------------------------------------------


def _lock(connection: Connection, *, shared: bool) -> None:
    if connection.dialect.name == "postgresql":
        function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
        connection.execute(sa.select(getattr(sa.func, function)(_LOCK)))


def months_with_loans(now: datetime | None = None) -> list[Month]:
    """Every month from the first disbursement to the current one: the months a build covers."""
    first: date | None = db.session.scalar(sa.select(sa.func.min(Loan.disbursed_on)))
    if first is None:
        return []
    month, last = Month.containing(first), current_month(now)
    span = []
    while month <= last:
        span.append(month)
        month = month.shift(1)
    return span


def build(months: list[Month]) -> int:
    """Count ``months`` from scratch for every branch and mark them built; the caller commits.

    Returns the number of count rows written.
    """
    if not months:
        return 0
    connection = db.session.connection()
    _lock(connection, shared=False)
    names = [str(m) for m in months]
    connection.execute(sa.delete(ComplianceCount).where(ComplianceCount.month.in_(names)))
    connection.execute(sa.delete(ComplianceMonth).where(ComplianceMonth.month.in_(names)))
    written = 0
    for start in range(0, len(months), _MONTHS_PER_QUERY):
        chunk = months[start : start + _MONTHS_PER_QUERY]
        rows = connection.execute(sa.union_all(*(month_counts(m) for m in chunk))).mappings().all()
        if rows:
            connection.execute(sa.insert(ComplianceCount), [dict(r) for r in rows])
            written += len(rows)
    now = utcnow()
    connection.execute(sa.insert(ComplianceMonth), [{"month": n, "built_at": now} for n in names])
    return written


def build_missing(now: datetime | None = None) -> list[Month]:
    """Build the months with loans that are not built yet (a new month, a first run)."""
    built = set(db.session.scalars(sa.select(ComplianceMonth.month)))
    missing = [m for m in months_with_loans(now) if str(m) not in built]
    build(missing)
    return missing


def rebuild(now: datetime | None = None) -> list[Month]:
    """Forget every count and build the months with loans afresh."""
    connection = db.session.connection()
    _lock(connection, shared=False)
    connection.execute(sa.delete(ComplianceCount))
    connection.execute(sa.delete(ComplianceMonth))
    months = months_with_loans(now)
    build(months)
    return months


def differences() -> list[tuple]:
    """(month, branch, officer, kept [owed, done], counted [owed, done]) wherever the kept
    counts of a built month differ from a count from scratch; [] when they agree."""
    months = [Month.parse(m) for m in db.session.scalars(sa.select(ComplianceMonth.month))]
    kept = {
        (r.month, r.branch_id, r.officer_id): [r.owed, r.done]
        for r in db.session.execute(
            sa.select(
                ComplianceCount.month,
                ComplianceCount.branch_id,
                ComplianceCount.officer_id,
                ComplianceCount.owed,
                ComplianceCount.done,
            ).where(sa.or_(ComplianceCount.owed != 0, ComplianceCount.done != 0))
        )
    }
    counted = {}
    for start in range(0, len(months), _MONTHS_PER_QUERY):
        chunk = months[start : start + _MONTHS_PER_QUERY]
        for r in db.session.execute(sa.union_all(*(month_counts(m) for m in chunk))):
            counted[(r.month, r.branch_id, r.officer_id)] = [r.owed, int(r.done)]
    return [
        (*key, kept.get(key, [0, 0]), counted.get(key, [0, 0]))
        for key in sorted(set(kept) | set(counted))
        if kept.get(key, [0, 0]) != counted.get(key, [0, 0])
    ]


# --- Keeping them -----------------------------------------------------------------------


def _values(obj, name: str) -> list:
    """Every value ``name`` had in this flush: the stored one and the new one."""
    history = sa.inspect(obj).attrs[name].history
    values = [*history.added, *history.unchanged, *history.deleted]
    return [v for v in values if v is not None] or (
        [] if getattr(obj, name) is None else [getattr(obj, name)]
    )


def _changed(obj, names: tuple[str, ...]) -> bool:
    state = sa.inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in names)


def _month(value) -> Month:
    return month_of(value) if isinstance(value, datetime) else Month.containing(value)


def _borrower_keys(obj) -> list:
    """The borrower ids ``obj`` belongs to (old and new), or the pending Borrower itself."""
    ids = _values(obj, "borrower_id")
    if ids:
        return ids
    borrower = getattr(obj, "borrower", None)
    if borrower is not None:
        return [borrower.id if borrower.id is not None else borrower]
    raise RuntimeError(f"{type(obj).__name__} without a borrower reached the flush")


def _months_touched(obj, is_new: bool, is_deleted: bool) -> list[Month]:
    """The months whose counts flushing ``obj`` may change; [] when none."""
    whole = is_new or is_deleted
    if isinstance(obj, Visit):  # never changed once signed
        return [month_of(obj.visited_at)] if whole else []
    if isinstance(obj, Loan) and (whole or _changed(obj, _LOAN_FIELDS)):
        return [_month(d) for name in ("disbursed_on", "closed_on") for d in _values(obj, name)]
    if isinstance(obj, OfficerAssignment) and (whole or _changed(obj, _ASSIGNMENT_FIELDS)):
        # No start yet: the column's default, now.
        return [_month(moment) for moment in _values(obj, "started_at") or [utcnow()]]
    if isinstance(obj, Borrower) and not is_new and (is_deleted or _changed(obj, _BORROWER_FIELDS)):
        return [_EVERY_MONTH]
    return []


def _touched(session: Session) -> tuple[dict, list]:
    """{borrower id or pending Borrower: earliest month touched}, and the objects touched."""
    touched: dict = {}
    objects = []
    new, deleted = session.new, session.deleted
    for obj in (*new, *session.dirty, *deleted):
        months = _months_touched(obj, obj in new, obj in deleted)
        if not months:
            continue
        if isinstance(obj, Borrower):
            keys = [obj.id]
        else:
            keys = _borrower_keys(obj)
            objects.append(obj)
        for key in keys:
            touched[key] = min(touched.get(key, months[0]), *months)
    return touched, objects


def _share_before(session: Session, _flush_context, _instances) -> None:
    # A flush that failed before its end leaves its share behind; it never applies.
    session.info.pop(_PENDING, None)
    touched, objects = _touched(session)
    if not touched:
        return
    connection = session.connection()
    ids = {key for key in touched if isinstance(key, int)}
    if ids and connection.dialect.name == "postgresql":
        connection.execute(
            sa.select(Borrower.id)
            .where(Borrower.id.in_(ids))
            .order_by(Borrower.id)
            .with_for_update()
        )
    _lock(connection, shared=True)
    first = min(touched.values())
    months = [
        Month.parse(text)
        for text in connection.scalars(
            sa.select(ComplianceMonth.month)
            .where(ComplianceMonth.month >= str(first))
            .order_by(ComplianceMonth.month)
        )
    ]
    if not months:
        return
    session.info[_PENDING] = _Pending(
        months=months,
        borrower_ids=ids,
        objects=objects,
        new_borrowers={key for key in touched if not isinstance(key, int)},
        before=shares(connection, ids, months),
    )


def _add_difference(session: Session, _flush_context) -> None:
    pending: _Pending | None = session.info.pop(_PENDING, None)
    if pending is None:
        return
    new_ids = {borrower.id for borrower in pending.new_borrowers}
    ids = pending.borrower_ids | new_ids
    for obj in pending.objects:
        if obj.borrower_id not in ids:
            raise RuntimeError(f"{type(obj).__name__} {obj.id} was counted after its flush only")
    connection = session.connection()
    after = shares(connection, ids, pending.months)
    changes = []
    for key in sorted(set(after) | set(pending.before)):
        old, new = pending.before.get(key, [0, 0]), after.get(key, [0, 0])
        owed, done = new[0] - old[0], new[1] - old[1]
        if owed or done:
            month, branch_id, officer_id = key
            changes.append(
                {
                    "month": month,
                    "branch_id": branch_id,
                    "officer_id": officer_id,
                    "owed": owed,
                    "done": done,
                }
            )
    if changes:
        _add(connection, changes)


def _forget(session: Session, _transaction) -> None:
    session.info.pop(_PENDING, None)


def keep_current() -> None:
    """Connect the session hooks that keep the counts of built months current (once)."""
    listen_once(
        db.session,
        (
            ("before_flush", _share_before),
            ("after_flush", _add_difference),
            ("after_transaction_end", _forget),
        ),
    )


def _add(connection: Connection, changes: list[dict]) -> None:
    insert = (postgresql if connection.dialect.name == "postgresql" else sqlite).insert(
        ComplianceCount
    )
    table = ComplianceCount.__table__
    connection.execute(
        insert.on_conflict_do_update(
            index_elements=[table.c.month, table.c.branch_id, table.c.officer_id],
            set_={
                "owed": table.c.owed + insert.excluded.owed,
                "done": table.c.done + insert.excluded.done,
            },
        ),
        changes,
    )
