"""Writes of the care feature. They flush and audit; the caller commits."""

from datetime import date, datetime, timedelta
from itertools import islice

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects import postgresql, sqlite

from portal.accounts.models import User
from portal.audit.operations import record
from portal.care import queries
from portal.care.gateways import Receipt, SendResult
from portal.care.greetings import check_template, render
from portal.care.models import GreetingTemplate, Occasion, OutboxMessage, OutboxStatus
from portal.core.actions import Refused
from portal.database import utcnow
from portal.extensions import db

OCCASION_FIELDS = ("code", "calendar", "month", "day", "term_name", "name_zh", "name_en", "active")
BATCH = 500


def batched(items, size: int = BATCH):
    """Lists of up to ``size`` items (itertools.batched arrives with Python 3.12)."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


class CareError(Refused):
    """A refused care action; the message is shown to the user."""


def create_occasion(**values) -> Occasion:
    """Add an admin occasion."""
    occasion = Occasion(**{key: values.get(key) for key in OCCASION_FIELDS})
    occasion.rule  # noqa: B018 - builds the rule, which refuses impossible dates
    db.session.add(occasion)
    record("care.occasion_create", occasion, f"{occasion.code} {occasion.calendar}")
    return occasion


def update_occasion(occasion: Occasion, **values) -> None:
    """Change an admin occasion; its code stays, because sent greetings refer to it."""
    for key in OCCASION_FIELDS[1:]:
        setattr(occasion, key, values.get(key))
    occasion.rule  # noqa: B018
    record("care.occasion_update", occasion, f"{occasion.code} active={occasion.active}")


def save_template(code: str, locale: str, body: str, saved_by: User) -> GreetingTemplate:
    """Store the wording of one occasion in one language, after checking its placeholders."""
    check_template(body)
    template = db.session.scalar(
        sa.select(GreetingTemplate).filter_by(occasion_code=code, locale=locale)
    )
    if template is None:
        template = GreetingTemplate(occasion_code=code, locale=locale, body=body)
        db.session.add(template)
    template.body = body
    template.updated_by_id = saved_by.id
    record("care.template_save", template, f"{code}/{locale}")
    return template


def _insert_ignoring_duplicates():
    """INSERT … ON CONFLICT DO NOTHING on the outbox's unique key, for either database."""
    insert = postgresql.insert if db.engine.dialect.name == "postgresql" else sqlite.insert
    return (
        insert(OutboxMessage.__table__)
        .on_conflict_do_nothing(
            index_elements=["borrower_id", "occasion_code", "year"],
            # Greetings only: notices and reminders are kept once by ``once_key``.
            index_where=OutboxMessage.once_key.is_(None),
        )
        .returning(OutboxMessage.id)
    )


def greeting_values(recipient: queries.Recipient, occasion: str) -> dict[str, str]:
    """What a greeting's wording, and a provider's approved template, are filled with."""
    return {
        "name": recipient.name,
        "branch": recipient.branch,
        "officer": recipient.officer,
        "occasion": occasion,
    }


def _outbox_row(day: date, code: str, recipient: queries.Recipient, names, bodies) -> dict:
    values = greeting_values(recipient, names[code].name(recipient.locale))
    text = render(queries.template_body(code, recipient.locale, bodies), values)
    return {
        "borrower_id": recipient.borrower_id,
        "branch_id": recipient.branch_id,
        "occasion_code": code,
        "year": day.year,
        "due_on": day,
        "locale": recipient.locale,
        "body": text,
        "template_values": values,
        "status": OutboxStatus.PENDING.value,
        "created_at": utcnow(),
    }


def queue_greetings(day: date, due: list[tuple[int, str]], names: dict, bodies: dict) -> int:
    """Put the given (borrower id, occasion code) greetings into the outbox once each.

    A row that another run already inserted is skipped by the database itself, so
    overlapping runs never queue a greeting twice. Returns how many rows were new.
    """
    people = queries.recipients(sorted({borrower_id for borrower_id, _ in due}))
    rows = [_outbox_row(day, code, people[borrower_id], names, bodies) for borrower_id, code in due]
    return len(db.session.execute(_insert_ignoring_duplicates(), rows).all()) if rows else 0


def queue_day(day: date) -> int:
    """Queue every greeting due on ``day`` in this transaction (the demo uses it)."""
    names, bodies = queries.catalogue_by_code(), queries.template_bodies()
    inserted = sum(
        queue_greetings(day, chunk, names, bodies) for chunk in batched(queries.due_on(day))
    )
    record("care.queue", None, f"{day.isoformat()}: {inserted} new greetings")
    return inserted


def _claimable(now: datetime):
    # Pending rows (unless held back until a later time by the daily limit), failures
    # whose back-off has passed, and rows whose sender's lease ran out (a crashed run)
    # may be taken.
    return sa.or_(
        sa.and_(
            OutboxMessage.status == OutboxStatus.PENDING,
            sa.or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now),
        ),
        sa.and_(
            OutboxMessage.status.in_([OutboxStatus.RETRYING, OutboxStatus.SENDING]),
            OutboxMessage.next_attempt_at <= now,
        ),
    )


def claimable_ids(
    now: datetime, limit: int, after_id: int = 0, ids: list[int] | None = None
) -> list[int]:
    """Ids above ``after_id`` of messages that may be sent now, oldest first."""
    stmt = (
        sa.select(OutboxMessage.id)
        .where(OutboxMessage.id > after_id, _claimable(now))
        .order_by(OutboxMessage.id)
    )
    if ids is not None:
        stmt = stmt.where(OutboxMessage.id.in_(ids))
    return list(db.session.scalars(stmt.limit(limit)))


def claim(ids: list[int], now: datetime, lease: timedelta, gateway: str) -> list[int]:
    """Mark ``ids`` as being sent by this run; return the ones no other run took first."""
    # One conditional UPDATE: a row already taken no longer matches the WHERE, on
    # SQLite (writers queue) and on PostgreSQL (the condition is re-checked after the lock).
    result = db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), _claimable(now))
        .values(status=OutboxStatus.SENDING, next_attempt_at=now + lease, gateway=gateway)
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    )
    return sorted(result.scalars())


def backoff(attempts: int, base_seconds: float) -> timedelta:
    """Wait before the next try: base, 2×base, 4×base…, at most a day."""
    return timedelta(seconds=min(base_seconds * 2 ** (attempts - 1), 86400))


def record_result(
    message: OutboxMessage,
    result: SendResult,
    now: datetime,
    *,
    max_attempts: int,
    retry_base_seconds: float,
) -> None:
    """Store a delivery attempt: sent, or failed with the error and when to try again.

    A failure the gateway says cannot succeed on another try (a provider refused the
    template or the number) is failed at once.
    """
    message.attempts += 1
    message.last_error = result.error[:500]
    message.provider_code = result.code[:64]
    if result.ok:
        message.status, message.sent_at, message.next_attempt_at = OutboxStatus.SENT, now, None
        message.provider_ref = result.reference[:64] or None
    elif not result.retry or message.attempts >= max_attempts:
        message.status, message.next_attempt_at = OutboxStatus.FAILED, None
    else:
        message.status = OutboxStatus.RETRYING
        message.next_attempt_at = now + backoff(message.attempts, retry_base_seconds)


def cancel(message: OutboxMessage, reason: str) -> None:
    """A claimed greeting that will never be sent (the consent was withdrawn)."""
    message.status = OutboxStatus.CANCELLED
    message.next_attempt_at = None
    message.last_error = reason[:500]


def hold(message: OutboxMessage, until: datetime, reason: str) -> None:
    """Keep a claimed greeting back until ``until`` without spending an attempt (the daily limit)."""
    message.status = OutboxStatus.PENDING
    message.next_attempt_at = until
    message.last_error = reason[:500]


def record_receipts(gateway: str, receipts: list[Receipt], now: datetime) -> dict[str, int]:
    """Apply a provider's delivery receipts to the greetings they name; audited once.

    A receipt changes only a greeting still ``sent``: the first word on it stands, and a
    receipt pushed twice, or for a message the outbox does not hold (a password code),
    changes nothing. Returns how many were delivered, failed and left alone.
    """
    counts = {"delivered": 0, "failed": 0, "unchanged": 0}
    references = sorted({receipt.reference for receipt in receipts})
    rows = {
        row.provider_ref: row
        for chunk in batched(references)
        for row in db.session.scalars(
            sa.select(OutboxMessage).where(
                OutboxMessage.gateway == gateway, OutboxMessage.provider_ref.in_(chunk)
            )
        )
    }
    for receipt in receipts:
        row = rows.get(receipt.reference)
        if row is None or row.status != OutboxStatus.SENT:
            counts["unchanged"] += 1
            continue
        row.provider_code = receipt.code[:64]
        if receipt.delivered:
            row.status, row.delivered_at = OutboxStatus.DELIVERED, receipt.when or now
            counts["delivered"] += 1
        else:
            row.status, row.next_attempt_at = OutboxStatus.FAILED, None
            row.last_error = f"not delivered ({receipt.code}) {receipt.description}".strip()[:500]
            counts["failed"] += 1
    if counts["delivered"] or counts["failed"]:
        record(
            "care.sms_receipts",
            None,
            f"{gateway}: {counts['delivered']} delivered, {counts['failed']} failed, "
            f"{counts['unchanged']} unchanged",
        )
    return counts


def queue_resend(message: OutboxMessage) -> None:
    """A head asks for a failed greeting to be tried again now, with fresh attempts."""
    if not message.resendable:
        raise CareError(_l("Only a failed greeting can be sent again."))
    message.status = OutboxStatus.RETRYING
    message.attempts = 0
    message.next_attempt_at = utcnow()
    record("care.resend", message, message.idempotency_key)
