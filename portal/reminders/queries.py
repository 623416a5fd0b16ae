"""Reads of reminders: who owes which visits this morning, the reminders a member of
staff reads, and their SMS choice."""

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask import url_for

from portal.accounts.models import Role, User
from portal.borrowers.models import Borrower
from portal.core.calendar import Month, company_tz, local_today
from portal.extensions import db
from portal.reminders import texts
from portal.reminders.models import StaffNotice, StaffSms
from portal.visits.compliance import owes_visit, visited_in


@dataclass(frozen=True)
class OfficerDue:
    """One officer's open visits of the month on a morning."""

    officer_id: int
    name: str
    locale: str
    branch_id: int | None
    open: int
    overdue: int

    @property
    def due(self) -> int:
        return self.open - self.overdue


def officers_due(day: date) -> list[OfficerDue]:
    """Every active officer's borrowers still to visit in ``day``'s month: one grouped query.

    The monthly rule of ``portal.visits.compliance``: a borrower owes a visit this month
    and has none yet; *overdue* when they also owed one last month and had none, as on
    the officer's month page. Officers with nothing open are left out.
    """
    tz = company_tz()
    month = Month.containing(day)
    last = month.shift(-1)
    missed_last = sa.and_(owes_visit(last), ~visited_in(last, tz))
    rows = db.session.execute(
        sa.select(
            User.id,
            User.display_name,
            User.locale,
            User.branch_id,
            sa.func.count().label("open"),
            sa.func.sum(sa.case((missed_last, 1), else_=0)).label("overdue"),
        )
        .join(Borrower, Borrower.officer_id == User.id)
        .where(User.role == Role.OFFICER, User.active, owes_visit(month), ~visited_in(month, tz))
        .group_by(User.id, User.display_name, User.locale, User.branch_id)
        .order_by(User.id)
    )
    return [OfficerDue(r[0], r[1], r[2] or "zh", r[3], r.open, int(r.overdue or 0)) for r in rows]


def sms_choices(user_ids: list[int]) -> dict[int, StaffSms]:
    """The SMS choices of those who made one, by user id (one query)."""
    if not user_ids:
        return {}
    rows = db.session.scalars(sa.select(StaffSms).where(StaffSms.user_id.in_(user_ids)))
    return {row.user_id: row for row in rows}


def sms_choice(user_id: int) -> StaffSms | None:
    return db.session.get(StaffSms, user_id)


def notices_of(user_id: int):
    """A member of staff's reminders, newest first."""
    return (
        sa.select(StaffNotice)
        .where(StaffNotice.user_id == user_id)
        .order_by(StaffNotice.created_at.desc(), StaffNotice.id.desc())
    )


def morning_reminder(user_id: int, day: date) -> StaffNotice | None:
    """This morning's reminder of visits, if one was made (the officer's month page)."""
    return db.session.scalar(
        sa.select(StaffNotice).where(StaffNotice.once_key == morning_key(user_id, day))
    )


def morning_key(user_id: int, day: date) -> str:
    """The one morning reminder of an officer on a day."""
    return f"{texts.MORNING}:{user_id}:{day.isoformat()}"


def unread_count(user_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(StaffNotice.id)).where(
            StaffNotice.user_id == user_id, StaffNotice.read_at.is_(None)
        )
    )


def link_of(notice: StaffNotice) -> str:
    """The page a reminder leads to."""
    if notice.kind == texts.MORNING:
        return url_for("visits.month")
    return url_for("visits.detail", visit_id=notice.params["visit_id"], _anchor="warning")


def todays_morning(user: User) -> StaffNotice | None:
    """The officer's reminder of this morning, for the banner of their month page."""
    return morning_reminder(user.id, local_today()) if user.role == Role.OFFICER else None


def reminder_text(notice: StaffNotice) -> str:
    """A reminder in the reader's language."""
    return texts.text(notice.kind, notice.params)
