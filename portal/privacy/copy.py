"""A copy of a borrower's data (PIPL Art. 45): built once here, printed twice.

``data_copy(borrower)`` returns one plain dict (strings, numbers, booleans, lists, no
ORM object): the JSON download is that dict as it is, the PDF prints the same dict
section by section (``SECTIONS``), so both hold the same records.

It is the borrower's own copy, so nothing is masked (the full resident ID, mobile and
guarantor's phone). It holds what the portal keeps about them that they may see; the
company's own judgements are left out, by the rule every borrower's page keeps
(``User.can_see_internal_assessments``): the tier and its history, visit risk levels
and signals, the officer's observations, red warnings, committee notes and deciders,
write-offs, the evidence checks of visits. Other people appear only as the borrower
already sees them (their officer's name) or not at all: in an introduction at a
networking event, the other borrower is not named.

Times are ISO 8601 on the company's clock (with its offset); amounts are strings with
two decimals, so no reader rounds them.
"""

import re
from datetime import date, datetime
from decimal import Decimal
from enum import Enum

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from portal.borrowers.models import (
    BIRTHDAY_CALENDAR_LABELS,
    BUSINESS_TYPE_LABELS,
    SEX_LABELS,
    Borrower,
)
from portal.care.models import OUTBOX_STATUS_LABELS, OutboxMessage
from portal.complaints.models import (
    CATEGORY_LABELS,
    EVENT_LABELS,
    SEVERITY_LABELS,
    STATUS_LABELS,
    Complaint,
)
from portal.core.calendar import company_tz
from portal.core.i18n import date_text, datetime_text
from portal.database import utcnow
from portal.extensions import db
from portal.loans.models import (
    LOAN_STATUS_LABELS,
    REPAYMENT_METHOD_LABELS,
    REPAYMENT_STATUS_LABELS,
    Loan,
    LoanEvent,
)
from portal.networking.models import (
    OUTCOME_LABELS,
    REPLY_LABELS,
    Introduction,
    Invitation,
    ProfileEntry,
    month_list,
)
from portal.notices.models import Notice, NoticeChannel
from portal.notices.queries import shown
from portal.privacy import queries
from portal.privacy.corrections import PROFILE_FIELD_LABELS, field_label
from portal.privacy.models import (
    CONSENT_METHOD_LABELS,
    PURPOSE_LABELS,
    Consent,
    IdentityCorrection,
)
from portal.services.models import (
    REQUEST_SOURCE_LABELS,
    SERVICE_EVENT_LABELS,
    SERVICE_STATUS_LABELS,
    ServiceRequest,
)
from portal.services.queries import kind_names
from portal.training.queries import borrower_signoffs
from portal.visits.models import PHOTO_KINDS, Visit
from portal.visits.questions import QUESTIONS

FORMAT = "portal-data-copy/1"

# Loan steps that are the company's judgement alone (as on the loan page).
INTERNAL_LOAN_EVENTS = frozenset({"write_off"})
# The visit's answers a borrower sees: the declared questions but the company's own.
SHOWN_QUESTIONS = tuple(q for q in QUESTIONS if not q.internal)

# The PDF's sections, in order: the dict's key and the heading.
SECTIONS = (
    ("account", _l("Portal account")),
    ("profile", _l("Profile")),
    ("consents", _l("Consents")),
    ("consent_history", _l("History of consents")),
    ("correction_requests", _l("Requests to correct your record")),
    ("identity_corrections", _l("Corrections made to your identity")),
    ("loans", _l("Loans")),
    ("training_signoffs", _l("Integrity training")),
    ("visits", _l("Follow-up visits")),
    ("service_requests", _l("Personalized services")),
    ("complaints", _l("Complaints")),
    ("greetings", _l("Messages sent to your phone")),
    ("networking_profile", _l("Business profile for networking")),
    ("invitations", _l("Invitations to networking events")),
    ("introductions", _l("Introductions at networking events")),
    ("notices", _l("Notices")),
    ("notice_settings", _l("How you want to hear of things")),
)


# --- plain values ---------------------------------------------------------------------


def _plain(value):
    """A value as JSON holds it."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.astimezone(company_tz()).isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_plain(v) for v in value]
        return sorted(items) if isinstance(value, set | frozenset) else items
    return str(value)


def _row(obj, *names: str, **extra) -> dict:
    """``names`` read from ``obj``, then ``extra``, as plain values."""
    values = {name: getattr(obj, name) for name in names} | extra
    return {key: _plain(value) for key, value in values.items()}


def _name(user) -> str | None:
    return user.display_name if user is not None else None


# --- the sections ---------------------------------------------------------------------


def _account(borrower: Borrower) -> dict | None:
    user = borrower.user
    if user is None:
        return None
    return _row(user, "username", "display_name", "locale", "created_at", "last_login_at")


def _profile(borrower: Borrower) -> dict:
    return _row(
        borrower,
        *PROFILE_FIELD_LABELS,  # every field of the record, as the requests name them
        "consent_at",
        "created_at",
        branch=borrower.branch.name,
        loan_officer=_name(borrower.officer),
    )


def _consents(borrower_id: int) -> list[dict]:
    rows = db.session.scalars(
        sa.select(Consent).where(Consent.borrower_id == borrower_id).order_by(Consent.purpose)
    )
    return [_row(c, "purpose", "given", "decided_at", "method", "text_version") for c in rows]


def _consent_history(borrower_id: int) -> list[dict]:
    return [
        _row(
            event,
            "purpose",
            "given",
            "decided_at",
            "method",
            "text_version",
            decided_by=_name(event.decided_by),
        )
        for event in queries.consent_history(borrower_id)
    ]


def _corrections(borrower_id: int) -> list[dict]:
    return [
        _row(c, "field", "note", "status", "requested_at", "due_on", "answered_at", "answer")
        for c in queries.borrower_corrections(borrower_id)
    ]


def _identity_corrections(borrower_id: int) -> list[dict]:
    rows = db.session.scalars(
        sa.select(IdentityCorrection)
        .where(IdentityCorrection.borrower_id == borrower_id)
        .order_by(IdentityCorrection.corrected_at, IdentityCorrection.id)
    )
    return [_row(c, "field", "old_value", "new_value", "reason", "corrected_at") for c in rows]


def _loans(borrower_id: int) -> list[dict]:
    loans = db.session.scalars(
        sa.select(Loan)
        .where(Loan.borrower_id == borrower_id)
        .options(selectinload(Loan.instalments), selectinload(Loan.repayments))
        .order_by(Loan.applied_on, Loan.id)
    ).all()
    events = db.session.scalars(
        sa.select(LoanEvent)
        .where(LoanEvent.loan_id.in_([loan.id for loan in loans]))
        .order_by(LoanEvent.happened_at, LoanEvent.id)
    ).all()
    return [
        _row(
            loan,
            "contract_number",
            "status",
            "amount_requested",
            "term_months_requested",
            "purpose",
            "annual_rate_percent",
            "applied_on",
            "decision_date",
            "approved_amount",
            "approved_term_months",
            "repayment_method",
            "contract_signed_on",
            "disbursed_on",
            "closed_on",
            "repayment_status",
            "overdue_days",
            "outstanding_balance",
            loan_number=loan.id,
            instalments=[
                _row(i, "number", "due_on", "principal", "interest", "balance_after", "settled_on")
                for i in loan.instalments
            ],
            repayments=[
                _row(r, "paid_on", "amount", "principal", "interest") for r in loan.repayments
            ],
            history=[
                _row(e, "happened_at", "action", "from_status", "to_status", details=e.details)
                for e in events
                if e.loan_id == loan.id and e.action not in INTERNAL_LOAN_EVENTS
            ],
        )
        for loan in loans
    ]


def _signoffs(borrower_id: int) -> list[dict]:
    return [
        _row(
            s,
            "signed_at",
            "score_percent",
            "passed",
            "content_hash",
            material_version=s.material.version,
            loan_officer=_name(s.officer),
            answers=s.answers,
        )
        for s in sorted(borrower_signoffs(borrower_id), key=lambda s: (s.signed_at, s.id))
    ]


def _visits(borrower_id: int) -> list[dict]:
    visits = db.session.scalars(
        sa.select(Visit)
        .where(Visit.borrower_id == borrower_id)
        .options(selectinload(Visit.photos), selectinload(Visit.officer), selectinload(Visit.loan))
        .order_by(Visit.visited_at, Visit.id)
    ).all()
    return [
        _row(
            visit,
            "visited_at",
            "place",
            "latitude",
            "longitude",
            "accuracy_m",
            "place_note",
            "signed_at",
            "content_hash",
            visit_number=visit.id,
            amends_visit_number=visit.amends_id,
            loan=visit.loan.contract_number or visit.loan_id,
            loan_officer=_name(visit.officer),
            **{q.name: getattr(visit, q.name) for q in SHOWN_QUESTIONS},
            photos=[_row(p, "position", "kind", "taken_at") for p in visit.photos],
        )
        for visit in visits
    ]


def _service_requests(borrower_id: int) -> list[dict]:
    names = kind_names()
    requests = db.session.scalars(
        sa.select(ServiceRequest)
        .where(ServiceRequest.borrower_id == borrower_id)
        .options(selectinload(ServiceRequest.events), selectinload(ServiceRequest.assignee))
        .order_by(ServiceRequest.submitted_at, ServiceRequest.id)
    ).all()
    return [
        _row(
            r,
            "description",
            "preferred_time",
            "source",
            "status",
            "submitted_at",
            "planned_on",
            "partner_name",
            "partner_contact",
            "completed_at",
            "completion_notes",
            "rating",
            "rating_comment",
            "declined_at",
            "decline_reason",
            service=names.get(r.kind_code, r.kind_code),
            assigned_to=_name(r.assignee),
            history=[
                _row(e, "happened_at", "action", "to_status", "note", by=_name(e.actor))
                for e in r.events
            ],
        )
        for r in requests
    ]


def _complaints(borrower_id: int) -> list[dict]:
    complaints = db.session.scalars(
        sa.select(Complaint)
        .where(Complaint.borrower_id == borrower_id)
        .options(selectinload(Complaint.events))
        .order_by(Complaint.filed_at, Complaint.id)
    ).all()
    return [
        _row(
            c,
            "subject",
            "description",
            "category",
            "severity",
            "status",
            "filed_at",
            "resolution",
            "resolved_at",
            "closed_at",
            history=[
                _row(e, "happened_at", "action", "note", by=_name(e.actor))
                for e in c.events
                if e.action in ("filed", "escalated", "resolved", "reopened", "closed")
            ],
        )
        for c in complaints
    ]


def _greetings(borrower_id: int) -> list[dict]:
    rows = db.session.scalars(
        sa.select(OutboxMessage)
        .where(OutboxMessage.borrower_id == borrower_id)
        .order_by(OutboxMessage.due_on, OutboxMessage.id)
    )
    return [
        _row(m, "occasion_code", "due_on", "body", "status", "mobile", "sent_at", "delivered_at")
        for m in rows
    ]


def _networking_profile(borrower_id: int, locale: str) -> list[dict]:
    rows = db.session.scalars(
        sa.select(ProfileEntry)
        .where(ProfileEntry.borrower_id == borrower_id)
        .order_by(ProfileEntry.side, ProfileEntry.id)
    )
    return [
        _row(
            e,
            "side",
            "quantity",
            "unit",
            "per_month",
            "price",
            tag=e.label(locale),
            months=month_list(e.months),
        )
        for e in rows
    ]


def _invitations(borrower_id: int) -> list[dict]:
    rows = db.session.scalars(
        sa.select(Invitation)
        .where(Invitation.borrower_id == borrower_id)
        .options(selectinload(Invitation.event))
        .order_by(Invitation.invited_at, Invitation.id)
    )
    return [
        _row(
            i,
            "invited_at",
            "reply",
            "replied_at",
            "attended",
            event=i.event.title,
            held_on=i.event.held_on,
            place=i.event.place,
        )
        for i in rows
    ]


def _introductions(borrower_id: int) -> list[dict]:
    """The borrower's introductions; the other borrower is not named (not theirs)."""
    rows = db.session.scalars(
        sa.select(Introduction)
        .where(
            sa.or_(Introduction.supplier_id == borrower_id, Introduction.buyer_id == borrower_id)
        )
        .options(selectinload(Introduction.event))
        .order_by(Introduction.created_at, Introduction.id)
    )
    return [
        _row(
            i,
            "topic",
            "outcome",
            "deal_amount",
            event=i.event.title,
            held_on=i.event.held_on,
            role="supplier" if i.supplier_id == borrower_id else "buyer",
        )
        for i in rows
    ]


def _notices(borrower_id: int) -> list[dict]:
    notices = db.session.scalars(
        sa.select(Notice)
        .where(Notice.borrower_id == borrower_id)
        .order_by(Notice.created_at, Notice.id)
    ).all()
    texts = shown(notices, kind_names())
    return [
        _row(n, "created_at", "event", "read_at", text=text.text)
        for n, text in zip(notices, texts, strict=True)
    ]


def _notice_settings(borrower_id: int) -> list[dict]:
    rows = db.session.scalars(
        sa.select(NoticeChannel)
        .where(NoticeChannel.borrower_id == borrower_id)
        .order_by(NoticeChannel.topic)
    )
    return [_row(c, "topic", "portal", "sms", "updated_at") for c in rows]


def data_copy(borrower: Borrower, locale: str = "zh") -> dict:
    """Every record of ``borrower`` they may see, as one plain dict (JSON-ready)."""
    borrower_id = borrower.id
    return {
        "format": FORMAT,
        "generated_at": _plain(utcnow()),
        "borrower_number": borrower_id,
        "account": _account(borrower),
        "profile": _profile(borrower),
        "consents": _consents(borrower_id),
        "consent_history": _consent_history(borrower_id),
        "correction_requests": _corrections(borrower_id),
        "identity_corrections": _identity_corrections(borrower_id),
        "loans": _loans(borrower_id),
        "training_signoffs": _signoffs(borrower_id),
        "visits": _visits(borrower_id),
        "service_requests": _service_requests(borrower_id),
        "complaints": _complaints(borrower_id),
        "greetings": _greetings(borrower_id),
        "networking_profile": _networking_profile(borrower_id, locale),
        "invitations": _invitations(borrower_id),
        "introductions": _introductions(borrower_id),
        "notices": _notices(borrower_id),
        "notice_settings": _notice_settings(borrower_id),
    }


# --- the PDF's words ------------------------------------------------------------------

# The heading of each key the dict uses; a key without one is printed as it is.
FIELD_LABELS = {
    "username": _l("Username"),
    "display_name": _l("Name shown in the portal"),
    "locale": _l("Language"),
    "created_at": _l("Created"),
    "last_login_at": _l("Last login"),
    **PROFILE_FIELD_LABELS,
    "consent_at": _l("Consent to processing given"),
    "branch": _l("Branch"),
    "loan_officer": _l("Loan officer"),
    "purpose": _l("Purpose"),
    "given": _l("Given"),
    "decided_at": _l("Decided"),
    "method": _l("How"),
    "text_version": _l("Text version"),
    "decided_by": _l("Recorded by"),
    "field": _l("Field"),
    "note": _l("Note"),
    "status": _l("Status"),
    "requested_at": _l("Requested"),
    "due_on": _l("Answer by"),
    "answered_at": _l("Answered"),
    "answer": _l("Answer"),
    "loan_number": _l("Loan no."),
    "contract_number": _l("Contract number"),
    "amount_requested": _l("Amount applied for"),
    "term_months_requested": _l("Term (months)"),
    "annual_rate_percent": _l("Annual interest rate (%)"),
    "applied_on": _l("Applied on"),
    "decision_date": _l("Decided on"),
    "approved_amount": _l("Approved amount"),
    "approved_term_months": _l("Approved term (months)"),
    "repayment_method": _l("Repayment method"),
    "contract_signed_on": _l("Contract signed on"),
    "disbursed_on": _l("Disbursed on"),
    "closed_on": _l("Closed on"),
    "repayment_status": _l("Repayment"),
    "overdue_days": _l("Days overdue"),
    "outstanding_balance": _l("Outstanding balance"),
    "instalments": _l("Repayment schedule"),
    "number": _l("No."),
    "principal": _l("Principal"),
    "interest": _l("Interest"),
    "balance_after": _l("Principal left after"),
    "settled_on": _l("Paid in full on"),
    "repayments": _l("Payments"),
    "paid_on": _l("Paid on"),
    "amount": _l("Amount"),
    "history": _l("History"),
    "happened_at": _l("When"),
    "action": _l("Step"),
    "from_status": _l("From"),
    "to_status": _l("To"),
    "details": _l("Details"),
    "signed_at": _l("Signed"),
    "score_percent": _l("Score (%)"),
    "passed": _l("Passed"),
    "content_hash": _l("Content hash (SHA-256)"),
    "material_version": _l("Material version"),
    "answers": _l("Answers"),
    "visit_number": _l("Visit no."),
    "amends_visit_number": _l("Amends visit no."),
    "visited_at": _l("Visit date and time"),
    "place": _l("Place"),
    "latitude": _l("Latitude"),
    "longitude": _l("Longitude"),
    "accuracy_m": _l("Accuracy (m)"),
    "place_note": _l("Why the visit was not at the borrower's site"),
    "loan": _l("Loan"),
    "photos": _l("Photos"),
    "position": _l("No."),
    "kind": _l("What it shows"),
    "taken_at": _l("Taken"),
    "service": _l("Service"),
    "description": _l("Description"),
    "preferred_time": _l("Preferred time"),
    "source": _l("Source"),
    "submitted_at": _l("Requested"),
    "planned_on": _l("Planned for"),
    "partner_name": _l("Partner"),
    "partner_contact": _l("Partner's contact"),
    "completed_at": _l("Completed"),
    "completion_notes": _l("Completion notes"),
    "rating": _l("Rating"),
    "rating_comment": _l("Comment"),
    "declined_at": _l("Declined"),
    "decline_reason": _l("Reason"),
    "assigned_to": _l("Handled by"),
    "by": _l("By"),
    "subject": _l("Subject"),
    "category": _l("Category"),
    "severity": _l("Severity"),
    "filed_at": _l("Filed"),
    "resolution": _l("Our answer"),
    "resolved_at": _l("Answered"),
    "closed_at": _l("Closed"),
    "occasion_code": _l("Occasion"),
    "body": _l("Text"),
    "sent_at": _l("Sent"),
    "delivered_at": _l("Delivered"),
    "side": _l("Offer or need"),
    "tag": _l("What"),
    "quantity": _l("Quantity"),
    "unit": _l("Unit"),
    "per_month": _l("Per month"),
    "price": _l("Price"),
    "months": _l("Months"),
    "invited_at": _l("Invited"),
    "reply": _l("Reply"),
    "replied_at": _l("Replied"),
    "attended": _l("Attended"),
    "event": _l("Event"),
    "held_on": _l("Held on"),
    "topic": _l("Topic"),
    "outcome": _l("Outcome"),
    "deal_amount": _l("Deal amount"),
    "role": _l("Your side"),
    "read_at": _l("Read"),
    "text": _l("Text"),
    "portal": _l("In the portal"),
    "sms": _l("By SMS"),
    "updated_at": _l("Changed"),
    "old_value": _l("Before"),
    "new_value": _l("After"),
    "reason": _l("Reason"),
    "corrected_at": _l("Corrected"),
    **{q.name: q.heading for q in SHOWN_QUESTIONS},
}

# Codes printed in words: by the key they are stored under, within a section.
_COMMON_VALUES = {
    "sex": SEX_LABELS,
    "business_type": BUSINESS_TYPE_LABELS,
    "birthday_calendar": BIRTHDAY_CALENDAR_LABELS,
    "purpose": PURPOSE_LABELS,
    "method": CONSENT_METHOD_LABELS,
    "repayment_method": REPAYMENT_METHOD_LABELS,
    "repayment_status": REPAYMENT_STATUS_LABELS,
    "source": REQUEST_SOURCE_LABELS,
    "category": CATEGORY_LABELS,
    "severity": SEVERITY_LABELS,
    "reply": REPLY_LABELS,
    "outcome": OUTCOME_LABELS,
    "kind": PHOTO_KINDS,
    "role": {"supplier": _l("You offer"), "buyer": _l("You need")},
    "side": {"offer": _l("Offer"), "need": _l("Need")},
}
_SECTION_VALUES = {
    "loans": {
        "status": LOAN_STATUS_LABELS,
        "from_status": LOAN_STATUS_LABELS,
        "to_status": LOAN_STATUS_LABELS,
    },
    "service_requests": {
        "status": SERVICE_STATUS_LABELS,
        "to_status": SERVICE_STATUS_LABELS,
        "action": SERVICE_EVENT_LABELS,
    },
    "complaints": {"status": STATUS_LABELS, "action": EVENT_LABELS},
    "greetings": {"status": OUTBOX_STATUS_LABELS},
}


def label(key: str) -> str:
    """The heading of ``key`` in the reader's language."""
    text = FIELD_LABELS.get(key)
    return str(text) if text is not None else key


CORRECTION_STATUS_LABELS = {
    "open": _l("Waiting for an answer"),
    "done": _l("Corrected"),
    "declined": _l("Not corrected"),
}
# The visit's answers, printed as the visit page prints them.
_QUESTIONS = {q.name: q for q in SHOWN_QUESTIONS}


def _answer_text(key: str, value) -> str:
    question = _QUESTIONS[key]
    try:
        return str(question.kind.text(question, value))
    except (KeyError, ValueError, TypeError):  # a code no longer declared
        return str(value)


# A time as ``_plain`` writes it: printed to the minute, without the offset.
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d")
_DAY = re.compile(r"\d{4}-\d\d-\d\d")


def value_text(section: str, key: str, value) -> str:
    """A stored value as the PDF prints it."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, str) and _TIME.fullmatch(value):
        return datetime_text(datetime.fromisoformat(value))
    if isinstance(value, str) and _DAY.fullmatch(value):
        return date_text(date.fromisoformat(value))
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if section in ("correction_requests", "identity_corrections") and key == "field":
        return field_label(value)
    if section == "correction_requests" and key == "status":
        return str(CORRECTION_STATUS_LABELS.get(value, value))
    if section == "visits" and key in _QUESTIONS:
        return _answer_text(key, value)
    if isinstance(value, list):
        return ", ".join(value_text(section, key, item) for item in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {v}" for k, v in value.items())
    labels = _SECTION_VALUES.get(section, {}).get(key) or _COMMON_VALUES.get(key)
    if labels:
        for code, text in labels.items():
            if str(getattr(code, "value", code)) == str(value):
                return str(text)
    return str(value)
