"""The greeting job: queue what is due, then deliver through the gateway.

Unlike operations, these functions commit: a text message that went out cannot be
taken back, so each claim and each delivery result is its own transaction, and a
crash or a second run at the same time never sends a greeting twice nor loses the
record of one that went out. They are the only commits of the care feature; the
resend button (``resend``) runs the same delivery inside its request.
"""

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from portal.audit.operations import record
from portal.care import operations, queries
from portal.care.gateways import ConfigurationError, Gateway, Message, configured_gateway
from portal.care.models import OutboxMessage
from portal.core.actions import settle
from portal.database import utcnow
from portal.extensions import db

CLAIM_BATCH = 20
log = logging.getLogger(__name__)


@dataclass
class Report:
    """What one run did."""

    queued: int = 0
    sent: int = 0
    failed: int = 0

    def __str__(self) -> str:
        return f"{self.queued} queued, {self.sent} sent, {self.failed} failed"


def _as_message(row: OutboxMessage) -> Message:
    return Message(
        id=row.id,
        idempotency_key=row.idempotency_key,
        occasion=row.occasion_code,
        year=row.year,
        locale=row.locale,
        text=row.body,
        borrower_id=row.borrower_id,
        borrower_name=row.borrower.full_name,
        mobile=row.borrower.mobile,
    )


def _lease(gateway: Gateway, count: int) -> timedelta:
    # Long enough for every claimed message to time out once, so no other run
    # takes them over while this one is still working through the batch.
    timeout = getattr(gateway, "timeout", 1.0)
    return timedelta(seconds=300 + count * (timeout + 1))


def _deliver_batch(ids: list[int], gateway: Gateway, now: datetime, report: Report) -> None:
    claimed = operations.claim(ids, now, _lease(gateway, len(ids)), gateway.name)
    messages = [
        _as_message(row)
        for row in db.session.scalars(
            sa.select(OutboxMessage)
            .options(selectinload(OutboxMessage.borrower))
            .where(OutboxMessage.id.in_(claimed))
            .order_by(OutboxMessage.id)
        )
    ]
    # No transaction stays open while the gateway talks: on SQLite it would hold the
    # write lock for the length of a network call.
    db.session.commit()
    for message in messages:
        result = gateway.send(message)
        operations.record_result(
            db.session.get(OutboxMessage, message.id),
            result,
            utcnow(),
            max_attempts=int(current_app.config["CARE_MAX_ATTEMPTS"]),
            retry_base_seconds=float(current_app.config["CARE_RETRY_SECONDS"]),
        )
        db.session.commit()
        report.sent += result.ok
        report.failed += not result.ok


def deliver_due(
    now: datetime | None = None, gateway: Gateway | None = None, ids: list[int] | None = None
) -> Report:
    """Send every pending greeting and every failure whose back-off has passed."""
    gateway = gateway or configured_gateway()
    now = now or utcnow()
    report = Report()
    # Walking up the ids visits each message at most once per run, even one that
    # fails and becomes due again before the run ends.
    last_id = 0
    while batch := operations.claimable_ids(now, CLAIM_BATCH, last_id, ids):
        last_id = batch[-1]
        _deliver_batch(batch, gateway, now, report)
    return report


def deliver_now(message_id: int) -> bool:
    """Try one greeting at once (the resend button); True when it went out."""
    try:
        return deliver_due(ids=[message_id]).sent == 1
    except ConfigurationError:
        log.exception("care gateway misconfigured; greeting %s stays queued", message_id)
        return False


def resend(message: OutboxMessage) -> None:
    """The resend button: try a failed greeting again at once, with fresh attempts.

    The queued resend is committed before the delivery claims it, like every step of
    the job. Raises ``CareError`` when the greeting may not be sent again, or when it
    failed again (the failure is recorded all the same).
    """
    operations.queue_resend(message)
    settle()
    if not deliver_now(message.id):
        raise operations.CareError(_l("Sending failed again."))


def queue_due(day: date) -> int:
    """Queue the greetings due on ``day``, committing each chunk to keep locks short."""
    names, bodies = queries.catalogue_by_code(), queries.template_bodies()
    due = list(queries.due_on(day))
    db.session.commit()
    queued = 0
    for chunk in operations.batched(due):
        queued += operations.queue_greetings(day, chunk, names, bodies)
        db.session.commit()
    return queued


def send_due(day: date, now: datetime | None = None, gateway: Gateway | None = None) -> Report:
    """The daily job: queue the greetings due on ``day``, then deliver what may be sent."""
    gateway = gateway or configured_gateway()
    queued = queue_due(day)
    report = deliver_due(now, gateway)
    report.queued = queued
    record("care.send_due", None, f"{day.isoformat()}: {report}")
    db.session.commit()
    return report
