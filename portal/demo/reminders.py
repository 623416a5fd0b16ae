"""Demo reminders and notices: a networking event to come with its guests' answers, the
officers' reminders of this morning, the red warnings past their deadline escalated,
and the texts of all this as the outbox's delivery would leave them (docs/care.md).

Everything is created only when missing, so ``flask demo load`` can run again.
"""

from datetime import date, timedelta

import sqlalchemy as sa

from portal.accounts.models import User
from portal.borrowers.models import Borrower
from portal.care import operations as care
from portal.care.gateways import LogGateway, SendResult
from portal.care.models import OutboxMessage, OutboxStatus
from portal.database import utcnow
from portal.extensions import db
from portal.networking import operations as networking
from portal.networking.models import Invitation, NetworkingEvent, Reply
from portal.reminders.operations import escalate_warnings, morning_visits

COMING_EVENT_TITLE = "泗阳冬季产销对接会"
# Invited to the coming event, by login number, with their answers (None: not yet);
# borrower1 has not answered, so the demo login can.
COMING_GUESTS = {1: None, 3: Reply.COMING, 5: Reply.COMING, 7: Reply.NOT_COMING, 9: None}


def _seed_coming_event(borrowers: dict[int, Borrower], head: User, today: date) -> None:
    """An event two weeks ahead: its guests are told, and some have answered."""
    title = sa.select(NetworkingEvent.id).where(NetworkingEvent.title == COMING_EVENT_TITLE)
    if db.session.scalar(title) is not None:
        return
    event = networking.create_event(
        head.branch_id,
        head,
        title=COMING_EVENT_TITLE,
        held_on=today + timedelta(days=14),
        place="众兴镇农技推广站会议室",
        description="年前备货：饲料、禽蛋和蔬菜的买卖双方见面洽谈。",
    )
    db.session.flush()
    networking.invite(event, [borrowers[n].id for n in COMING_GUESTS], head)
    invitations = {
        invitation.borrower_id: invitation
        for invitation in db.session.scalars(
            sa.select(Invitation).where(Invitation.event_id == event.id)
        )
    }
    for number, answer in COMING_GUESTS.items():
        if answer is not None:
            borrower = borrowers[number]
            networking.reply(invitations[borrower.id], answer, borrower.user, today)


def _deliver_texts() -> None:
    """The notices' and reminders' texts as the delivery run leaves them: sent."""
    gateway = LogGateway()
    waiting = db.session.scalars(
        sa.select(OutboxMessage).where(
            OutboxMessage.once_key.is_not(None), OutboxMessage.status == OutboxStatus.PENDING
        )
    )
    for message in waiting:
        message.gateway = gateway.name
        care.record_result(message, SendResult(True), utcnow(), max_attempts=1,
                           retry_base_seconds=300)  # fmt: skip


def seed_reminders(borrowers: list[Borrower], today: date | None = None) -> None:
    """A coming event with answers, this morning's reminders, late warnings escalated."""
    from portal.core.calendar import local_today

    today = today or local_today()
    numbered = {index + 1: borrower for index, borrower in enumerate(borrowers)}
    head = db.session.scalar(sa.select(User).where(User.username == "head1"))
    _seed_coming_event(numbered, head, today)
    morning_visits(today)
    escalate_warnings()
    _deliver_texts()
    db.session.flush()
