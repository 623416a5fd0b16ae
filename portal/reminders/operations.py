"""Writes of reminders: the periodic runs (docs/jobs.md) and the staff's SMS choice.

Each run tells every person once: a reminder carries a ``once_key`` (unique among
staff notices, and among the outbox's texts), and the escalation of a red warning is
claimed level by level with one conditional UPDATE. They flush and audit; the caller
(the job, a command, a view) commits.
"""

from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import joinedload

from portal.accounts.models import Role, User
from portal.audit.operations import record
from portal.care.texts import Text, queue
from portal.core.actions import Refused
from portal.core.calendar import Month, last_day_before, local_date
from portal.core.links import external_url
from portal.database import utcnow
from portal.extensions import db
from portal.notices.operations import notify
from portal.reminders import queries, texts
from portal.reminders.models import StaffNotice, StaffSms
from portal.visits.deadlines import warning_deadlines
from portal.visits.models import Visit, VisitWarning


class ReminderError(Refused):
    """A refused change of reminder settings."""


# --- telling one member of staff -------------------------------------------------------


def _store(user: User, kind: str, subject_id: int | None, key: str, params: dict) -> bool:
    """Add the reminder unless its key is there already; whether it was added."""
    insert = postgresql.insert if db.engine.dialect.name == "postgresql" else sqlite.insert
    added = db.session.execute(
        insert(StaffNotice.__table__)
        .on_conflict_do_nothing(index_elements=["once_key"])
        .returning(StaffNotice.id),
        {
            "user_id": user.id,
            "kind": kind,
            "subject_id": subject_id,
            "params": params,
            "once_key": key,
            "created_at": utcnow(),
        },
    ).scalar()
    return added is not None


def _link(kind: str, params: dict) -> str:
    if kind == texts.MORNING:
        return external_url("visits.month")
    if kind in texts.DIGESTS.values():
        return external_url("visits.warnings")
    return external_url("visits.detail", visit_id=params["visit_id"], _anchor="warning")


def text_staff(
    user: User, kind: str, key: str, params: dict, *, branch_id: int | None,
    sms: StaffSms | None, day: date,
) -> None:  # fmt: skip
    """Text the reminder if ``user`` opted in, in their language; once per key."""
    branch_id = branch_id or user.branch_id
    if sms is None or not sms.opted_in or not sms.mobile or branch_id is None:
        return
    locale = user.locale or "zh"
    link = _link(kind, params)
    with force_locale(locale):
        body = texts.sms_text(kind, params, user.display_name, link)
        values = texts.sms_values(kind, params, user.display_name, link)
    queue(
        Text(
            once_key=f"staff:{key}",
            occasion=kind.replace(".", "_"),
            branch_id=branch_id,
            locale=locale,
            body=body,
            due_on=day,
            user_id=user.id,
            mobile=sms.mobile,
            values=values,
        )
    )


def tell_staff(
    user: User,
    kind: str,
    key: str,
    params: dict,
    *,
    branch_id: int | None,
    sms: StaffSms | None,
    day: date,
    subject_id: int | None = None,
    text: bool = True,
) -> bool:
    """Store the reminder in the portal and, if ``user`` opted in and ``text``, text it;
    once per key. Whether it was new."""
    if not _store(user, kind, subject_id, key, params):
        return False
    if text:
        text_staff(user, kind, key, params, branch_id=branch_id, sms=sms, day=day)
    return True


# --- the officers' morning ---------------------------------------------------------------


def morning_visits(day: date) -> int:
    """Remind every officer with visits open this month of them; how many were told.

    One grouped query finds the counts (``queries.officers_due``); an officer with
    nothing due is not disturbed.
    """
    due = queries.officers_due(day)
    users = {
        u.id: u
        for u in db.session.scalars(sa.select(User).where(User.id.in_([d.officer_id for d in due])))
    }
    choices = queries.sms_choices(list(users))
    month = Month.containing(day)
    told = 0
    for row in due:
        params = {
            "day": day.isoformat(),
            "month": str(month),
            "due": row.due,
            "overdue": row.overdue,
            "days_left": (month.last_day - day).days + 1,
        }
        told += tell_staff(
            users[row.officer_id],
            texts.MORNING,
            queries.morning_key(row.officer_id, day),
            params,
            branch_id=row.branch_id,
            sms=choices.get(row.officer_id),
            day=day,
        )
    record("reminders.morning", None, f"{day.isoformat()}: {told} officers reminded")
    return told


# --- red warnings past their deadline ------------------------------------------------------


def fill_deadlines() -> int:
    """Give a deadline to open warnings raised before deadlines existed (or by bulk loads)."""
    missing = db.session.scalars(
        sa.select(VisitWarning)
        .options(joinedload(VisitWarning.visit))
        .where(VisitWarning.acknowledged_at.is_(None), VisitWarning.act_by.is_(None))
    ).all()
    for warning in missing:
        deadlines = warning_deadlines(warning.raised_at, warning.visit.risk_signals or [])
        warning.act_by, warning.admin_by = deadlines["act_by"], deadlines["admin_by"]
    return len(missing)


def _claim(stamp, deadline, now: datetime) -> list[int]:
    """Stamp the open warnings whose ``deadline`` has passed and that ``stamp`` lacks.

    One conditional UPDATE … RETURNING: two runs at once never both claim a warning,
    so each level is told once.
    """
    result = db.session.execute(
        sa.update(VisitWarning)
        .where(
            VisitWarning.acknowledged_at.is_(None),
            stamp.is_(None),
            deadline.is_not(None),
            deadline <= now,
        )
        .values({stamp.key: now})
        .returning(VisitWarning.id)
        .execution_options(synchronize_session=False)
    )
    return sorted(result.scalars())


def _warning_params(warning: VisitWarning) -> dict:
    visit = warning.visit
    return {
        "warning_id": warning.id,
        "visit_id": visit.id,
        "borrower": visit.borrower.full_name,
        "officer": visit.officer.display_name,
        "branch": visit.borrower.branch.name,
        "visited_on": local_date(visit.visited_at).isoformat(),
        "deadline": last_day_before(warning.act_by).isoformat(),
        "admin_day": local_date(warning.admin_by).isoformat() if warning.admin_by else "",
    }


def _load(ids: list[int]) -> list[VisitWarning]:
    if not ids:
        return []
    return list(
        db.session.scalars(
            sa.select(VisitWarning)
            .options(
                joinedload(VisitWarning.visit).joinedload(Visit.borrower),
                joinedload(VisitWarning.visit).joinedload(Visit.officer),
            )
            .where(VisitWarning.id.in_(ids))
            .order_by(VisitWarning.id)
            .execution_options(populate_existing=True)
        ).unique()
    )


def _staff(role: Role) -> dict[int | None, list[User]]:
    """The active staff of ``role`` by branch (the admins under None), one query."""
    people: dict[int | None, list[User]] = {}
    for user in db.session.scalars(
        sa.select(User).where(User.role == role, User.active).order_by(User.id)
    ):
        people.setdefault(user.branch_id, []).append(user)
    return people


class _Alerts:
    """The escalations of one run: each warning in the portal of everyone told, then
    one text per person — the warning itself, or how many when there are several (a
    backlog must not become a hundred messages to one phone)."""

    def __init__(self, now: datetime):
        self.now, self.day = now, local_date(now)
        self.told: dict[tuple[int, str], list[tuple[VisitWarning, dict]]] = {}
        self.people: dict[int, User] = {}

    def alert(self, warning: VisitWarning, kind: str, people: list[User]) -> None:
        params = _warning_params(warning)
        for person in people:
            key = f"{kind}:{warning.id}:{person.id}"
            stored = tell_staff(
                person, kind, key, params, branch_id=warning.branch_id, sms=None,
                day=self.day, subject_id=warning.id, text=False,
            )  # fmt: skip
            if stored:
                self.people[person.id] = person
                self.told.setdefault((person.id, kind), []).append((warning, params))
        names = ", ".join(person.username for person in people) or "nobody"
        record("visit.warning_escalated", warning, f"{kind}: {names}")

    def text(self) -> None:
        choices = queries.sms_choices(list(self.people))
        for (person_id, kind), items in self.told.items():
            person, (first, params) = self.people[person_id], items[0]
            if len(items) > 1:
                kind = texts.DIGESTS[kind]
                params = {"count": len(items)}
            key = f"{kind}:{first.id}:{len(items)}:{person_id}"
            text_staff(
                person, kind, key, params, branch_id=first.branch_id,
                sms=choices.get(person_id), day=self.day,
            )  # fmt: skip


def escalate_warnings(now: datetime | None = None) -> tuple[int, int]:
    """Alert the branch head of each open red warning past ``act_by``, and the admin of
    each past ``admin_by``; each level once. Returns (head level, admin level) counts."""
    now = now or utcnow()
    fill_deadlines()
    db.session.flush()
    to_head = _load(_claim(VisitWarning.head_alerted_at, VisitWarning.act_by, now))
    to_admin = _load(_claim(VisitWarning.admin_alerted_at, VisitWarning.admin_by, now))
    heads = _staff(Role.HEAD) if to_head else {}
    admins = _staff(Role.ADMIN).get(None, []) if to_admin else []
    alerts = _Alerts(now)
    for warning in to_head:
        alerts.alert(warning, texts.WARNING_HEAD, heads.get(warning.branch_id, []))
    for warning in to_admin:
        alerts.alert(warning, texts.WARNING_ADMIN, admins)
    alerts.text()
    return len(to_head), len(to_admin)


# --- the day before a group session -------------------------------------------------------


def session_reminders(day: date) -> int:
    """Remind the borrowers of tomorrow's group sessions; how many were told.

    Each request in a session still to be held gets one reminder for the session's
    date (moving the session to another day earns a new one).
    """
    from portal.services.models import ServiceRequest, ServiceSession, ServiceStatus

    tomorrow = day + timedelta(days=1)
    rows = db.session.execute(
        sa.select(ServiceRequest, ServiceSession)
        .join(ServiceSession, ServiceRequest.session_id == ServiceSession.id)
        .where(
            ServiceSession.held_on == tomorrow,
            ServiceSession.completed_at.is_(None),
            ServiceRequest.status == ServiceStatus.ACCEPTED,
        )
        .order_by(ServiceRequest.id)
    ).all()
    for request, session in rows:
        notify(
            request.borrower_id,
            "session.tomorrow",
            request,
            once_key=f"session.tomorrow:{session.id}:{request.id}:{tomorrow.isoformat()}",
            kind=request.kind_code,
            title=session.title,
            date=session.held_on,
            place=session.place,
        )
    record("reminders.sessions", None, f"{tomorrow.isoformat()}: {len(rows)} borrowers")
    return len(rows)


# --- settings and reading ------------------------------------------------------------------


def save_sms(user: User, mobile: str, opted_in: bool) -> StaffSms:
    """Store a member of staff's number and whether their reminders are texted."""
    if opted_in and not mobile:
        raise ReminderError(
            _l("Enter your mobile number to receive reminders by SMS."), field="mobile"
        )
    row = db.session.get(StaffSms, user.id)
    if row is None:
        row = StaffSms(user_id=user.id)
        db.session.add(row)
    row.mobile, row.opted_in = mobile, opted_in
    record("reminders.sms", user, f"opted_in={opted_in}")
    return row


def mark_all_read(user: User) -> int:
    result = db.session.execute(
        sa.update(StaffNotice)
        .where(StaffNotice.user_id == user.id, StaffNotice.read_at.is_(None))
        .values(read_at=utcnow())
    )
    record("reminders.read_all", user, f"{result.rowcount} read")
    return result.rowcount
