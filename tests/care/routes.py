"""Care routes for the route x role matrix."""

from datetime import date

from portal.care.models import Occasion, OutboxMessage, OutboxStatus
from portal.extensions import db
from tests.factories import Ref
from tests.routes import ADMIN, MANAGERS, PUBLIC, STAFF, Route

ROUTES = [
    Route("care.outbox", "GET", "/care/outbox", MANAGERS),
    Route("care.resend", "POST", "/care/outbox/{own_message.id}/resend", MANAGERS),
    Route("care.resend", "POST", "/care/outbox/{foreign_message.id}/resend", ADMIN),
    Route("care.strategic", "GET", "/care/strategic", STAFF),
    Route("care.occasions", "GET", "/care/occasions", ADMIN),
    Route("care.occasion_create", "GET", "/care/occasions/new", ADMIN),
    Route("care.occasion_edit", "GET", "/care/occasions/{occasion.id}", ADMIN),
    Route("care.templates", "GET", "/care/templates", ADMIN),
    Route("care.template_edit", "GET", "/care/templates/birthday/zh", ADMIN),
    Route("care.template_edit", "GET", "/care/templates/{occasion.name}/en", ADMIN),
    # The providers' delivery receipts: no login, the shared token in the address is the
    # credential; without it (here: none is configured) the address does not exist.
    # tests/care/test_sms_providers.py posts receipts with the token.
    Route(
        "care.sms_receipt",
        "POST",
        "/care/sms/receipts/aliyun/not-the-token",
        PUBLIC,
        ok_statuses=(404,),
    ),
    Route(
        "care.sms_receipt",
        "POST",
        "/care/sms/receipts/tencent/not-the-token",
        PUBLIC,
        ok_statuses=(404,),
    ),
]


def _message(borrower_id: int, branch_id: int) -> OutboxMessage:
    message = OutboxMessage(
        borrower_id=borrower_id,
        branch_id=branch_id,
        occasion_code="birthday",
        year=2026,
        due_on=date(2026, 11, 1),
        locale="zh",
        body="生日快乐",
        status=OutboxStatus.FAILED,
    )
    db.session.add(message)
    return message


def objects(app, world) -> dict:
    """A failed greeting in each branch and an admin occasion."""
    with app.app_context():
        own = _message(world.own_borrower.id, world.branch.id)
        foreign = _message(world.foreign_borrower.id, world.other_branch.id)
        occasion = Occasion(code="laba", calendar="lunar", month=12, day=8, name_zh="腊八节",
                            name_en="Laba Festival")  # fmt: skip
        db.session.add(occasion)
        db.session.commit()
        return {
            "own_message": Ref(own.id, "own"),
            "foreign_message": Ref(foreign.id, "foreign"),
            "occasion": Ref(occasion.id, occasion.code),
        }
