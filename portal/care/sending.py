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
from flask_babel import lazy_ngettext as _ln
from sqlalchemy.orm import selectinload

from portal.audit.operations import record
from portal.borrowers.models import Borrower
from portal.care import operations, queries, rules
from portal.care.gateways import ConfigurationError, Gateway, Message, configured_gateway
from portal.care.models import OutboxMessage
from portal.care.providers import STATUS_WINDOW
from portal.core.actions import settle
from portal.core.calendar import company_tz
from portal.database import utcnow
from portal.extensions import db
from portal.privacy import consents
from portal.privacy.models import Purpose

CLAIM_BATCH = 20
# The status query: messages sent at least RECEIPT_GRACE ago (the pushed receipt comes
# first), at most STATUS_BATCH per run, within the providers' STATUS_WINDOW.
RECEIPT_GRACE = timedelta(minutes=10)
STATUS_BATCH = 200
log = logging.getLogger(__name__)


@dataclass
class Report:
    """What one run did."""

    queued: int = 0
    sent: int = 0
    failed: int = 0
    # Kept back until tomorrow by the daily limit per number (portal/care/rules.py).
    held: int = 0
    # Queued greetings not sent: the borrower withdrew their consent meanwhile.
    cancelled: int = 0
    # Quiet hours: nothing was sent; they end then (UTC, and the company's time of day).
    quiet_until: datetime | None = None
    quiet_until_local: str = ""

    def __str__(self) -> str:
        text = f"{self.queued} queued, {self.sent} sent, {self.failed} failed"
        if self.held:
            text += f", {self.held} held back by the daily limit"
        if self.cancelled:
            text += f", {self.cancelled} cancelled (consent withdrawn)"
        if self.quiet_until:
            text += f"; quiet hours until {self.quiet_until_local}"
        return text


def _values(row: OutboxMessage) -> dict[str, str]:
    """The template values stored with the message (older greetings: read again now)."""
    if row.template_values:
        return dict(row.template_values)
    if row.once_key is not None or row.borrower_id is None:
        return {}
    recipient = queries.recipients([row.borrower_id])[row.borrower_id]
    occasion = queries.catalogue_by_code().get(row.occasion_code)
    name = occasion.name(row.locale) if occasion else row.occasion_code
    return operations.greeting_values(recipient, name)


def _as_message(row: OutboxMessage) -> Message:
    return Message(
        id=row.id,
        idempotency_key=row.idempotency_key,
        occasion=row.occasion_code,
        year=row.year,
        locale=row.locale,
        text=row.body,
        borrower_id=row.borrower_id,
        borrower_name=row.recipient_name,
        mobile=_mobile(row),
        values=_values(row),
        greeting=row.once_key is None,
    )


def _mobile(row: OutboxMessage) -> str:
    """The borrower's number now; a message stored with its own number keeps that one."""
    return row.borrower.mobile if row.borrower is not None else row.mobile or ""


def _lease(gateway: Gateway, count: int) -> timedelta:
    # Long enough for every claimed message to time out once, so no other run
    # takes them over while this one is still working through the batch.
    timeout = getattr(gateway, "timeout", 1.0)
    return timedelta(seconds=300 + count * (timeout + 1))


def _without_consent(rows: list[OutboxMessage]) -> list[OutboxMessage]:
    """The greetings among ``rows`` whose borrower no longer consents to greetings.

    Asked at the moment of sending, in one query, so a withdrawal stops even a greeting
    queued before it. Notices and password codes (``once_key`` set) are not greetings:
    they go whatever the choice.
    """
    greetings = {row.borrower_id for row in rows if row.once_key is None and row.borrower_id}
    if not greetings:
        return []
    consenting = set(
        db.session.scalars(
            sa.select(Borrower.id).where(
                Borrower.id.in_(greetings), consents.given_filter(Purpose.GREETINGS)
            )
        )
    )
    return [
        row
        for row in rows
        if row.once_key is None and row.borrower_id and row.borrower_id not in consenting
    ]


def _deliver_batch(ids: list[int], gateway: Gateway, now: datetime, report: Report) -> None:
    claimed = operations.claim(ids, now, _lease(gateway, len(ids)), gateway.name)
    rows = db.session.scalars(
        sa.select(OutboxMessage)
        .options(selectinload(OutboxMessage.borrower))
        .where(OutboxMessage.id.in_(claimed))
        .order_by(OutboxMessage.id)
    ).all()
    withdrawn = _without_consent(rows)
    for row in withdrawn:
        operations.cancel(row, "the borrower withdrew their consent to greetings")
    report.cancelled += len(withdrawn)
    rows = [row for row in rows if row not in withdrawn]
    messages = [_as_message(row) for row in rows]
    for row in rows:
        row.mobile = _mobile(row)  # the number it goes to, which the limit counts by
    # No transaction stays open while the gateway talks: on SQLite it would hold the
    # write lock for the length of a network call.
    db.session.commit()
    for message in messages:
        if gateway.delivers and rules.limit_reached(message.mobile, now):
            operations.hold(
                db.session.get(OutboxMessage, message.id),
                rules.next_day_opening(now),
                f"daily limit of {rules.daily_cap()} messages to this number reached",
            )
            db.session.commit()
            report.held += 1
            continue
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
    if gateway.delivers:
        report.quiet_until = rules.quiet_until(now)
        if report.quiet_until:
            report.quiet_until_local = f"{report.quiet_until.astimezone(company_tz()):%H:%M}"
            return report  # what is due waits: the first run after the quiet hours sends it
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
    _refuse_outside_the_rules(message)
    operations.queue_resend(message)
    settle()
    if not deliver_now(message.id):
        raise operations.CareError(_l("Sending failed again."))


def _refuse_outside_the_rules(message: OutboxMessage) -> None:
    """A resend waits for the quiet hours and the daily limit like any greeting."""
    try:
        gateway = configured_gateway()
    except ConfigurationError:
        return  # the delivery below fails and says so
    if not gateway.delivers:
        return
    now = utcnow()
    if rules.quiet_until(now):
        raise operations.CareError(
            _l(
                "No greeting is sent during the quiet hours (%(hours)s). Resend it once they are over.",
                hours=str(rules.quiet_hours()),
            )
        )
    if rules.limit_reached(_mobile(message), now):
        raise operations.CareError(
            _ln(
                "This number has already had %(num)d message today, the most a day. Resend the greeting tomorrow.",
                "This number has already had %(num)d messages today, the most a day. Resend the greeting tomorrow.",
                rules.daily_cap(),
            )
        )


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


@dataclass
class StatusReport:
    """What one status query run found."""

    asked: int = 0
    delivered: int = 0
    failed: int = 0
    waiting: int = 0
    unanswered: int = 0

    def __str__(self) -> str:
        return (
            f"{self.asked} asked, {self.delivered} delivered, {self.failed} failed, "
            f"{self.waiting} still waiting, {self.unanswered} unanswered"
        )


def query_statuses(now: datetime | None = None, gateway: Gateway | None = None) -> StatusReport:
    """Ask the provider about sent greetings no delivery receipt has reached yet.

    The periodic job behind the receipts (docs/sms.md): a receipt the provider could not
    push, or pushed before the outbox knew the message's id, is read here instead. Only
    the providers' gateways can be asked; with ``log`` or ``webhook`` it does nothing.
    """
    gateway = gateway or configured_gateway()
    now = now or utcnow()
    report = StatusReport()
    if not hasattr(gateway, "status"):
        return report
    sent = queries.awaiting_receipt(
        gateway.name, now - STATUS_WINDOW, now - RECEIPT_GRACE, STATUS_BATCH
    )
    db.session.commit()  # no transaction stays open while the provider answers
    receipts = []
    for message in sent:
        report.asked += 1
        try:
            receipt = gateway.status(message, now)
        except Exception:  # one message's query failing does not stop the others
            log.warning("%s status of %s not read", gateway.name, message.reference, exc_info=True)
            report.unanswered += 1
            continue
        if receipt is None:
            report.waiting += 1
        else:
            receipts.append(receipt)
    counts = operations.record_receipts(gateway.name, receipts, now)
    db.session.commit()
    report.delivered, report.failed = counts["delivered"], counts["failed"]
    return report
