"""Reading care data: the occasion catalogue, templates, due borrowers and the outbox."""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy.orm import aliased, selectinload

from portal.accounts.models import User
from portal.borrowers.models import Borrower, Tier
from portal.branches.models import Branch
from portal.care.gateways import SentMessage
from portal.care.greetings import default_template
from portal.care.models import BIRTHDAY, GreetingTemplate, Occasion, OutboxMessage, OutboxStatus
from portal.care.occasions import (
    BUILT_IN_OCCASIONS,
    OccasionRule,
    birthday_in_year,
    occasions_on,
    occurrence_in_year,
)
from portal.extensions import db
from portal.privacy import consents
from portal.privacy.models import Purpose

BIRTHDAY_NAMES = {"zh": "生日", "en": "birthday"}


@dataclass(frozen=True)
class OccasionInfo:
    """One entry of the catalogue: the birthday, a built-in holiday or an admin's occasion."""

    code: str
    names: dict[str, str] = field(compare=False)
    rule: OccasionRule | None = None
    occasion_id: int | None = None
    active: bool = True

    @property
    def built_in(self) -> bool:
        return self.occasion_id is None

    def name(self, locale: str) -> str:
        """The name in ``locale``, falling back to Chinese."""
        return self.names.get(str(locale)) or self.names["zh"]

    def next_date(self, today: date) -> date | None:
        """The next occurrence on or after ``today`` (None for the birthday)."""
        if self.rule is None:
            return None
        for year in (today.year, today.year + 1):
            when = occurrence_in_year(self.rule, year)
            if when is not None and when >= today:
                return when
        return None


def catalogue(active_only: bool = False) -> list[OccasionInfo]:
    """The birthday, the built-in holidays, then the admin's occasions by code."""
    entries = [OccasionInfo(BIRTHDAY, BIRTHDAY_NAMES)]
    entries += [OccasionInfo(rule.code, rule.names, rule) for rule in BUILT_IN_OCCASIONS]
    stmt = sa.select(Occasion).order_by(Occasion.code)
    if active_only:
        stmt = stmt.where(Occasion.active)
    entries += [
        OccasionInfo(o.code, o.rule.names, o.rule, o.id, o.active) for o in db.session.scalars(stmt)
    ]
    return entries


def upcoming_holidays(today: date, count: int) -> list[tuple[date, OccasionInfo]]:
    """The next ``count`` holidays (built-in and active admin ones) from ``today``."""
    dated = [(entry.next_date(today), entry) for entry in catalogue(active_only=True)]
    return sorted(((when, e) for when, e in dated if when), key=lambda pair: pair[0])[:count]


def catalogue_by_code() -> dict[str, OccasionInfo]:
    """The whole catalogue keyed by code."""
    return {entry.code: entry for entry in catalogue()}


def holiday_codes_on(day: date) -> list[str]:
    """Built-in and active admin occasions falling on ``day``."""
    codes = occasions_on(day)
    admin = db.session.scalars(sa.select(Occasion).where(Occasion.active).order_by(Occasion.code))
    codes += [o.code for o in admin if occurrence_in_year(o.rule, day.year) == day]
    return codes


def template_bodies() -> dict[tuple[str, str], str]:
    """The admin's wording by (occasion code, locale)."""
    rows = db.session.execute(
        sa.select(GreetingTemplate.occasion_code, GreetingTemplate.locale, GreetingTemplate.body)
    )
    return {(code, locale): body for code, locale, body in rows}


def template_body(code: str, locale: str, saved: dict | None = None) -> str:
    """The admin's wording if there is one, else the default."""
    saved = template_bodies() if saved is None else saved
    return saved.get((code, locale)) or default_template(code, locale)


@lru_cache(maxsize=65536)
def _birthday_on(birth_date: date, calendar: str, year: int) -> date | None:
    # Many borrowers share a birth date; the lunar conversion is done once per date.
    return birthday_in_year(birth_date, calendar, year)  # type: ignore[arg-type]


def _eligible():
    """Borrowers who want greetings and whose portal account, if any, is enabled."""
    account = aliased(User)
    return (
        sa.select(Borrower.id, Borrower.birth_date, Borrower.birthday_calendar)
        .outerjoin(account, Borrower.user_id == account.id)
        .where(
            consents.given_filter(Purpose.GREETINGS),
            sa.or_(Borrower.user_id.is_(None), account.active),
        )
        .order_by(Borrower.id)
    )


def due_on(day: date) -> Iterator[tuple[int, str]]:
    """(borrower id, occasion code) of every greeting due on ``day``."""
    holidays = holiday_codes_on(day)
    # Read fully first: the caller writes on the same connection while iterating.
    for borrower_id, birth_date, calendar in db.session.execute(_eligible()).all():
        if _birthday_on(birth_date, calendar.value, day.year) == day:
            yield borrower_id, BIRTHDAY
        for code in holidays:
            yield borrower_id, code


@dataclass(frozen=True)
class Recipient:
    """What a greeting's wording needs to know about its borrower."""

    borrower_id: int
    branch_id: int
    name: str
    branch: str
    officer: str
    locale: str


def recipients(borrower_ids: list[int]) -> dict[int, Recipient]:
    """Recipients by borrower id, in one query."""
    officer, account = aliased(User), aliased(User)
    rows = db.session.execute(
        sa.select(
            Borrower.id,
            Borrower.branch_id,
            Borrower.full_name,
            Branch.name,
            officer.display_name,
            account.locale,
        )
        .join(Branch, Borrower.branch_id == Branch.id)
        .join(officer, Borrower.officer_id == officer.id)
        .outerjoin(account, Borrower.user_id == account.id)
        .where(Borrower.id.in_(borrower_ids))
    )
    return {
        row[0]: Recipient(row[0], row[1], row[2], row[3], row[4], row[5] or "zh") for row in rows
    }


def awaiting_receipt(gateway: str, since: datetime, until: datetime, limit: int) -> list:
    """Greetings ``gateway`` sent between ``since`` and ``until`` that no receipt reached."""
    rows = db.session.execute(
        sa.select(OutboxMessage.provider_ref, OutboxMessage.mobile, OutboxMessage.sent_at)
        .where(
            OutboxMessage.status == OutboxStatus.SENT,
            OutboxMessage.gateway == gateway,
            OutboxMessage.provider_ref.is_not(None),
            OutboxMessage.mobile.is_not(None),
            OutboxMessage.sent_at >= since,
            OutboxMessage.sent_at < until,
        )
        .order_by(OutboxMessage.sent_at, OutboxMessage.id)
        .limit(limit)
    )
    return [SentMessage(reference, mobile, sent_at) for reference, mobile, sent_at in rows]


def outbox_statement(
    branch_id: int | None, *, since: date | None = None, until: date | None = None,
    failures: bool = False,
):  # fmt: skip
    """Outbox rows of a branch (None: all), due in a span of days or failed, newest first."""
    stmt = (
        sa.select(OutboxMessage)
        .options(selectinload(OutboxMessage.borrower))
        .order_by(OutboxMessage.due_on.desc(), OutboxMessage.id.desc())
    )
    if branch_id is not None:
        stmt = stmt.where(OutboxMessage.branch_id == branch_id)
    if since is not None:
        stmt = stmt.where(OutboxMessage.due_on >= since)
    if until is not None:
        stmt = stmt.where(OutboxMessage.due_on <= until)
    if failures:
        stmt = stmt.where(OutboxMessage.status.in_([OutboxStatus.RETRYING, OutboxStatus.FAILED]))
    return stmt


def strategic_statement(user: User):
    """Strategic borrowers the user sees, for the holiday visit list."""
    return (
        sa.select(Borrower)
        .options(selectinload(Borrower.officer), selectinload(Borrower.branch))
        .where(Borrower.tier == Tier.STRATEGIC, Borrower.visible_filter(user))
        .order_by(Borrower.branch_id, Borrower.full_name)
    )


def outbox_counts(branch_id: int | None, day: date) -> dict[str, int]:
    """Today's greetings of a branch by status, and all unresolved failures."""
    where = [] if branch_id is None else [OutboxMessage.branch_id == branch_id]
    by_status = dict(
        db.session.execute(
            sa.select(OutboxMessage.status, sa.func.count())
            .where(OutboxMessage.due_on == day, *where)
            .group_by(OutboxMessage.status)
        ).all()
    )
    failures = db.session.scalar(
        sa.select(sa.func.count()).where(
            OutboxMessage.status.in_([OutboxStatus.RETRYING, OutboxStatus.FAILED]), *where
        )
    )
    return {
        "today": sum(by_status.values()),
        "sent": by_status.get(OutboxStatus.SENT, 0) + by_status.get(OutboxStatus.DELIVERED, 0),
        "failures": failures or 0,
    }
