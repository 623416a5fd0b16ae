"""Reads of the field kit: the plan page's offer, the kit's data, planned vs done, the held queue."""

from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache

import sqlalchemy as sa
from flask import g
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from portal.accounts.models import Role, User
from portal.borrowers.masking import mask_phone, mask_resident_id
from portal.borrowers.models import Borrower, IdCardPhoto
from portal.core.calendar import Month, local_date, local_midnight
from portal.core.statements import UserParameters, user_parameters
from portal.extensions import db
from portal.fieldkit.models import DayPlan, FieldEntry, Outcome, PlannedBorrower
from portal.loans.models import Loan, LoanStatus, RepaymentStatus
from portal.privacy.models import Consent, Purpose
from portal.services.models import OPEN_STATUSES, SERVICE_STATUS_LABELS, ServiceRequest
from portal.visits import compliance
from portal.visits.compliance import DueBorrower, risk_sort_key
from portal.visits.forms import VisitForm
from portal.visits.models import RepaymentState, Visit
from portal.visits.questions import sections
from portal.visits.risk import risk_label

# How many borrowers the suggested plan aims at: whole villages, the most urgent first.
SUGGESTED_VISITS = 8
KIT_VERSION = 1


# --- The plan page ------------------------------------------------------------------


@dataclass(frozen=True)
class Village:
    """The borrowers of one village on the plan page, most urgent first."""

    name: str
    rows: list[DueBorrower]


def _urgency(row: DueBorrower) -> tuple:
    # Overdue from last month first, then by the latest risk (red first).
    return (not row.missed_last_month, risk_sort_key(row.latest_risk))


def _by_village(rows: list[DueBorrower]) -> list[Village]:
    villages: dict[str, list[DueBorrower]] = {}
    for row in sorted(rows, key=_urgency):  # stable: officer_month's order within a level
        villages.setdefault(row.village, []).append(row)
    return [
        Village(name, members)
        for name, members in sorted(villages.items(), key=lambda item: _urgency(item[1][0]))
    ]


@dataclass(frozen=True)
class PlanOffer:
    """What the plan page offers an officer: to visit (due and overdue), then visited."""

    to_visit: list[Village]
    visited: list[Village]

    @property
    def borrower_ids(self) -> list[int]:
        return [r.borrower_id for v in (*self.to_visit, *self.visited) for r in v.rows]

    def suggested(self) -> list[int]:
        """Whole villages, most urgent first, until about SUGGESTED_VISITS borrowers."""
        chosen: list[int] = []
        for village in self.to_visit:
            if len(chosen) >= SUGGESTED_VISITS:
                break
            chosen += [r.borrower_id for r in village.rows]
        return chosen


def plan_offer(officer_id: int) -> PlanOffer:
    """The officer's borrowers owing a visit this month, grouped by village.

    Only those with an active loan: a loan that owed this month's visit but closed since
    cannot be followed up, so it is not offered for the day.
    """
    month = compliance.officer_month(officer_id)
    active = active_loans(row.borrower_id for row in month.rows)

    def visitable(rows: list[DueBorrower]) -> list[DueBorrower]:
        return [row for row in rows if row.borrower_id in active]

    return PlanOffer(
        _by_village(visitable(month.overdue + month.due)), _by_village(visitable(month.done))
    )


def plan_of(officer_id: int, day: date) -> DayPlan | None:
    return db.session.scalar(
        sa.select(DayPlan).where(DayPlan.officer_id == officer_id, DayPlan.day == day)
    )


def active_loans(borrower_ids) -> dict[int, Loan]:
    """Each borrower's active loan (the newest, as a new visit follows up)."""
    loans: dict[int, Loan] = {}
    stmt = (
        sa.select(Loan)
        .where(Loan.borrower_id.in_(list(borrower_ids)), Loan.status == LoanStatus.ACTIVE)
        .order_by(Loan.disbursed_on, Loan.id)
    )
    for loan in db.session.scalars(stmt):
        loans[loan.borrower_id] = loan  # the last one wins: newest disbursement
    return loans


# --- The kit -------------------------------------------------------------------------


def _utc_text(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _latest_visits(borrower_ids: list[int]) -> dict[int, Visit]:
    newest = (
        sa.select(Visit.id)
        .where(Visit.borrower_id == Borrower.id)
        .order_by(Visit.visited_at.desc(), Visit.id.desc())
        .limit(1)
        .correlate(Borrower)
        .scalar_subquery()
    )
    stmt = sa.select(Visit).join(Borrower, Visit.id == newest).where(Borrower.id.in_(borrower_ids))
    return {visit.borrower_id: visit for visit in db.session.scalars(stmt)}


def _open_requests(borrower_ids: list[int]) -> dict[int, list[dict]]:
    stmt = (
        sa.select(ServiceRequest)
        .where(
            ServiceRequest.borrower_id.in_(borrower_ids),
            ServiceRequest.status.in_(OPEN_STATUSES),
        )
        .order_by(ServiceRequest.submitted_at, ServiceRequest.id)
    )
    requests: dict[int, list[dict]] = {}
    for request in db.session.scalars(stmt):
        requests.setdefault(request.borrower_id, []).append(
            {
                "label": request.kind.name,
                "status": str(SERVICE_STATUS_LABELS[request.status]),
                "opened_on": local_date(request.submitted_at).isoformat(),
            }
        )
    return requests


def _with_photo(borrower_ids: list[int]) -> set[int]:
    stmt = sa.select(IdCardPhoto.borrower_id).where(IdCardPhoto.borrower_id.in_(borrower_ids))
    return set(db.session.scalars(stmt))


VISIT_PURPOSES = (Purpose.PHOTOS, Purpose.SURVEYS)


def _consents(borrower_ids: list[int]) -> dict[int, set[Purpose]]:
    """The visit's optional purposes each borrower consents to, in one query."""
    agreed: dict[int, set[Purpose]] = {}
    rows = db.session.execute(
        sa.select(Consent.borrower_id, Consent.purpose).where(
            Consent.borrower_id.in_(borrower_ids),
            Consent.purpose.in_(VISIT_PURPOSES),
            Consent.given,
        )
    )
    for borrower_id, purpose in rows:
        agreed.setdefault(borrower_id, set()).add(purpose)
    return agreed


def _visit_summary(visit: Visit) -> dict:
    return {
        "visited_at": _utc_text(visit.visited_at),
        "risk_level": visit.risk_level.value,
        "risk_label": risk_label(visit.risk_level),
        "summary": [
            [str(question.heading), question.text(visit)]
            for _section, asked in sections(internal=True)
            for question in asked
        ],
    }


def _loan(loan: Loan) -> dict:
    amount = loan.approved_amount if loan.approved_amount is not None else loan.amount_requested
    return {
        "id": loan.id,
        "purpose": loan.purpose,
        "amount": f"{amount:,.0f}",
        "disbursed_on": loan.disbursed_on.isoformat() if loan.disbursed_on else None,
    }


def kit(officer: User, plan: DayPlan | None, photo_url, now: datetime) -> dict:
    """The field kit of docs/field-kit.md: today's plan, only borrowers the officer sees.

    A fixed number of queries whatever the plan's size. ``photo_url(borrower_id)`` makes
    the ID photo's address.
    """
    data = {
        "version": KIT_VERSION,
        "generated_at": _utc_text(now),
        "officer": {"id": officer.id, "name": officer.display_name},
        "plan": None,
        "borrowers": [],
    }
    if plan is None:
        return data
    data["plan"] = {
        "id": plan.id,
        "day": plan.day.isoformat(),
        "created_at": _utc_text(plan.created_at),
    }
    stops = db.session.execute(
        sa.select(PlannedBorrower.borrower_id, Borrower)
        .join(Borrower, Borrower.id == PlannedBorrower.borrower_id)
        .where(PlannedBorrower.plan_id == plan.id, Borrower.visible_filter(officer))
        .order_by(PlannedBorrower.position)
    ).all()
    borrowers = [borrower for _id, borrower in stops]
    ids = [b.id for b in borrowers]
    loans = active_loans(ids)
    visits = _latest_visits(ids)
    requests = _open_requests(ids)
    photos = _with_photo(ids)
    agreed = _consents(ids)
    for borrower in borrowers:
        loan = loans.get(borrower.id)
        visit = visits.get(borrower.id)
        overdue = loan is not None and loan.repayment_status == RepaymentStatus.OVERDUE
        data["borrowers"].append(
            {
                "id": borrower.id,
                "name": borrower.full_name,
                "village": borrower.village,
                "address": borrower.address,
                "phone_masked": mask_phone(borrower.mobile),
                "id_masked": mask_resident_id(borrower.resident_id),
                "loan": _loan(loan) if loan else None,
                "last_visit": _visit_summary(visit) if visit else None,
                "open_requests": requests.get(borrower.id, []),
                "id_photo_url": photo_url(borrower.id) if borrower.id in photos else None,
                # The optional purposes the visit form follows (photos, the survey
                # question): the offline form hides what is not agreed to; the server
                # refuses it all the same when the entry arrives.
                "consents": {p.value: p in agreed.get(borrower.id, ()) for p in VISIT_PURPOSES},
                # As the online form fills them (visits.views._fill_defaults).
                "defaults": {
                    "place": [f"{borrower.address} {borrower.village}".strip()],
                    "repayment_status": [
                        str(RepaymentState.OVERDUE if overdue else RepaymentState.ON_TIME)
                    ],
                },
            }
        )
    return data


# --- Received entries ----------------------------------------------------------------


def entry_of(officer_id: int, client_id: str) -> FieldEntry | None:
    """The entry this officer's tablet sent with ``client_id``, if it was received."""
    return db.session.scalar(
        sa.select(FieldEntry).where(
            FieldEntry.officer_id == officer_id, FieldEntry.client_id == client_id
        )
    )


def entries_of(officer_id: int, client_ids: list[str]) -> dict[str, FieldEntry]:
    """The officer's own received entries among ``client_ids`` (one query)."""
    stmt = sa.select(FieldEntry).where(
        FieldEntry.officer_id == officer_id, FieldEntry.client_id.in_(client_ids)
    )
    return {entry.client_id: entry for entry in db.session.scalars(stmt)}


def plan_for_entry(officer_id: int, plan_id: int | None) -> DayPlan | None:
    """The officer's own plan the entry names; another officer's plan is no plan."""
    if plan_id is None:
        return None
    plan = db.session.get(DayPlan, plan_id)
    return plan if plan is not None and plan.officer_id == officer_id else None


def planned_loan_id(plan: DayPlan | None, borrower_id: int) -> int | None:
    if plan is None:
        return None
    return db.session.scalar(
        sa.select(PlannedBorrower.loan_id).where(
            PlannedBorrower.plan_id == plan.id, PlannedBorrower.borrower_id == borrower_id
        )
    )


# --- The head's pages ----------------------------------------------------------------


@dataclass(frozen=True)
class PlannedDone:
    """One officer's planned visits in a month, and how many were made on the planned day."""

    officer_id: int
    name: str
    plans: int
    planned: int
    done: int

    @property
    def percent(self) -> int | None:
        return round(100 * self.done / self.planned) if self.planned else None


def planned_vs_done(branch_id: int, month: Month) -> list[PlannedDone]:
    """Per officer of the branch: planned visits of ``month`` and those made that day (one query).

    A planned visit is done when the borrower has a signed visit (not an amendment)
    timed on the planned day, by anyone. Served by ``ix_day_plans_branch_day`` and
    ``ix_visits_borrower_visited``.
    """
    first = month.day(1)
    after = month.shift(1).day(1)
    made = sa.exists().where(
        Visit.borrower_id == PlannedBorrower.borrower_id,
        Visit.visited_at >= DayPlan.starts_at,
        Visit.visited_at < DayPlan.ends_at,
        Visit.amends_id.is_(None),
    )
    stmt = (
        sa.select(
            DayPlan.officer_id,
            User.display_name,
            sa.func.count(sa.distinct(DayPlan.id)).label("plans"),
            sa.func.count().label("planned"),
            sa.func.sum(sa.case((made, 1), else_=0)).label("done"),
        )
        .select_from(DayPlan)
        .join(PlannedBorrower, PlannedBorrower.plan_id == DayPlan.id)
        .join(User, User.id == DayPlan.officer_id)
        .where(DayPlan.branch_id == branch_id, DayPlan.day >= first, DayPlan.day < after)
        .group_by(DayPlan.officer_id, User.display_name)
        .order_by(User.display_name)
    )
    return [
        PlannedDone(r.officer_id, r.display_name, r.plans, r.planned, int(r.done or 0))
        for r in db.session.execute(stmt)
    ]


def _held_scope(user: User):
    if user.role == Role.ADMIN:
        return FieldEntry.outcome == Outcome.HELD
    return sa.and_(FieldEntry.outcome == Outcome.HELD, FieldEntry.branch_id == user.branch_id)


def held_list(user: User, open_only: bool):
    """Held entries the user handles: open ones first, newest first."""
    stmt = (
        sa.select(FieldEntry)
        .where(_held_scope(user))
        .options(
            joinedload(FieldEntry.officer),
            joinedload(FieldEntry.borrower),
            joinedload(FieldEntry.handled_by),
        )
        .order_by(FieldEntry.handled_at.is_not(None), FieldEntry.received_at.desc())
    )
    if open_only:
        stmt = stmt.where(FieldEntry.handled_at.is_(None))
    return stmt


def open_held_count(user: User) -> int:
    """Open held entries for the menu badge: one COUNT per request, heads and admins only."""
    if user.role not in (Role.HEAD, Role.ADMIN):
        return 0
    if "fieldkit_open_held" not in g:
        g.fieldkit_open_held = db.session.scalar(
            _open_held_count_stmt(user.role), user_parameters(user)
        )
    return g.fieldkit_open_held


@cache
def _open_held_count_stmt(role: Role):
    """The menu badge's COUNT for a role, built once (portal/core/statements.py)."""
    return sa.select(sa.func.count(FieldEntry.id)).where(
        _held_scope(UserParameters(role)), FieldEntry.handled_at.is_(None)
    )


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The company-calendar day as UTC bounds."""
    start = local_midnight(day)
    end = local_midnight(date.fromordinal(day.toordinal() + 1))
    return start.astimezone(UTC), end.astimezone(UTC)


def _value_text(question, value: str) -> str:
    labels = getattr(question.kind, "labels", None)
    if labels:
        for option, label in labels.items():
            if str(option) == value:
                return str(label)
    return value


def received_answers(fields: dict) -> list[tuple[str, str]]:
    """A held entry's answers as received, each under its question's label, in form order.

    Values the form would not accept are shown as sent; the signature is shown apart.
    """

    def values(name: str) -> list[str]:
        sent = fields.get(name)
        return [v for v in sent if isinstance(v, str)] if isinstance(sent, list) else []

    rows = [
        (str(VisitForm.visited_at.args[0]), " ".join(values("visited_at"))),
        (str(VisitForm.place.args[0]), " ".join(values("place"))),
    ]
    for _section, asked in sections(internal=True):
        for question in asked:
            texts = [_value_text(question, v) for v in values(question.name)]
            rows.append((str(question.heading), ", ".join(t for t in texts if t) or "—"))
    location = [values(name)[0] for name in ("latitude", "longitude") if values(name)]
    if location:
        rows.append((_("Location"), ", ".join(location)))
    return rows
