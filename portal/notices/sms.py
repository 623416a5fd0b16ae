"""The SMS of a borrower's notice: its text in the borrower's language, and whether it
may go at all (docs/care.md, "Notices and reminders").

Only the notices of ``SMS_TEXTS`` are texted; the others stay in the portal. A text
goes to the borrower's own mobile, in their portal language (Chinese without an
account), and never to a borrower whose portal account is switched off.
"""

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from portal.accounts.models import User
from portal.borrowers.models import Borrower
from portal.care.texts import Text, queue
from portal.core.calendar import local_today
from portal.core.i18n import date_text
from portal.core.links import external_url
from portal.extensions import db

# What the borrower reads on their phone, by notice; ``%(name)s`` is their name.
SMS_TEXTS = {
    "service.accepted": _l(
        "%(name)s, your request for %(kind)s was accepted: %(assignee)s will help you "
        "around %(date)s."
    ),
    "service.scheduled": _l(
        "%(name)s, your request for %(kind)s is part of the group session “%(title)s” on "
        "%(date)s, at %(place)s."
    ),
    "service.declined": _l("%(name)s, your request for %(kind)s was declined: %(reason)s"),
    "service.completed": _l(
        "%(name)s, your request for %(kind)s is completed. Please tell us how it went: "
        "rate it in the portal."
    ),
    "complaint.resolved": _l(
        "%(name)s, your complaint “%(subject)s” has an answer. Please read it in the portal "
        "and tell us if you are satisfied."
    ),
    "event.invited": _l(
        "%(name)s, you are invited to “%(title)s” on %(date)s, at %(place)s. Please answer "
        "in the portal whether you are coming."
    ),
    "session.tomorrow": _l(
        "%(name)s, a reminder: the group session “%(title)s” for your request for %(kind)s "
        "is tomorrow, %(date)s, at %(place)s."
    ),
}
# The same for a borrower without a portal account: they answer their loan officer.
SMS_TEXTS_WITHOUT_ACCOUNT = {
    "service.completed": _l(
        "%(name)s, your request for %(kind)s is completed. Please tell your loan officer "
        "how it went."
    ),
    "complaint.resolved": _l(
        "%(name)s, your complaint “%(subject)s” has an answer. Your loan officer will "
        "explain it to you."
    ),
    "event.invited": _l(
        "%(name)s, you are invited to “%(title)s” on %(date)s, at %(place)s. Please tell "
        "your loan officer whether you are coming."
    ),
}
# The page a texted notice links to (with PORTAL_URL set), by the notice's subject.
LINKS = {
    "service_request": ("services.my_request", "request_id"),
    "complaint": ("complaints.my_complaint", "complaint_id"),
    "invitation": ("networking.my_invitations", None),
}


@dataclass(frozen=True)
class Reader:
    """What a borrower's text needs to know about them."""

    borrower_id: int
    branch_id: int
    name: str
    mobile: str
    locale: str
    has_account: bool
    reachable: bool


def reader(borrower_id: int) -> Reader:
    """The borrower as a text's recipient (one query)."""
    row = db.session.execute(
        sa.select(
            Borrower.id,
            Borrower.branch_id,
            Borrower.full_name,
            Borrower.mobile,
            Borrower.user_id,
            User.active,
            User.locale,
        )
        .outerjoin(User, User.id == Borrower.user_id)
        .where(Borrower.id == borrower_id)
    ).one()
    has_account = row.user_id is not None
    return Reader(
        row.id,
        row.branch_id,
        row.full_name,
        row.mobile or "",
        (row.locale if has_account else None) or "zh",
        has_account,
        bool(row.mobile) and (not has_account or bool(row.active)),
    )


def _kind_name(code: str) -> str:
    from portal.services.models import ServiceKind  # services tell borrowers through here

    kind = db.session.get(ServiceKind, code)
    return kind.name if kind else code


def render(event: str, person: Reader, params: dict) -> tuple[str, dict]:
    """The text in the borrower's language, and the values it was filled with."""
    with force_locale(person.locale):
        values = {key: str(value) for key, value in params.items()}
        values["name"] = person.name
        if "kind" in params:
            values["kind"] = _kind_name(params["kind"])
        if isinstance(params.get("date"), date):
            values["date"] = date_text(params["date"])
        texts = SMS_TEXTS if person.has_account else SMS_TEXTS | SMS_TEXTS_WITHOUT_ACCOUNT
        body = str(texts[event]) % values
    return body, values


def link(event: str, subject_type: str, subject_id: int, person: Reader) -> str:
    """Where the text's reader answers or rates, when they have an account."""
    if not person.has_account or subject_type not in LINKS:
        return ""
    endpoint, argument = LINKS[subject_type]
    return external_url(endpoint, **({argument: subject_id} if argument else {}))


def text_borrower(
    borrower_id: int, event: str, subject_type: str, subject_id: int, key: str, params: dict
) -> int | None:
    """Queue the SMS of a notice once per ``key``; None when nothing was queued."""
    if event not in SMS_TEXTS:
        return None
    person = reader(borrower_id)
    if not person.reachable:
        return None
    body, values = render(event, person, params)
    values["link"] = address = link(event, subject_type, subject_id, person)
    if address:
        body = f"{body} {address}"
    return queue(
        Text(
            once_key=f"notice:{key}",
            occasion=event.replace(".", "_"),
            branch_id=person.branch_id,
            locale=person.locale,
            body=body,
            due_on=local_today(),
            borrower_id=borrower_id,
            values=values,
        )
    )
