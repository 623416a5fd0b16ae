"""Writes on service requests and group sessions. They flush and audit; the view commits.

The lifecycle lives in ``TRANSITIONS``: every status change goes through ``_step``,
which refuses an illegal one, records the event and the audit entry.
"""

from collections.abc import Iterable
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.accounts.models import Role, User
from portal.audit.operations import record
from portal.borrowers.models import Borrower
from portal.core.actions import Refused
from portal.core.calendar import deadline_after, local_today
from portal.core.i18n import date_text
from portal.database import utcnow
from portal.extensions import db
from portal.notices.operations import notify
from portal.privacy import consents
from portal.privacy.models import Purpose
from portal.services.models import (
    OPEN_STATUSES,
    RequestSource,
    ServiceEvent,
    ServiceKind,
    ServiceRequest,
    ServiceSession,
    ServiceStatus,
)

S = ServiceStatus
TRANSITIONS = {
    S.SUBMITTED: {S.ACCEPTED, S.DECLINED},
    S.ACCEPTED: {S.ACCEPTED, S.COMPLETED, S.DECLINED},
    S.COMPLETED: {S.RATED},
    S.RATED: set(),
    S.DECLINED: set(),
}
REFUSALS = {
    S.ACCEPTED: _l("Only a new or accepted request can be assigned."),
    S.DECLINED: _l("Only a new or accepted request can be declined."),
    S.COMPLETED: _l("Only an accepted request can be marked completed."),
    S.RATED: _l("Only a completed request can be rated, and only once."),
}
ASSIGNEE_ROLES = (Role.HEAD, Role.OFFICER)


class ServiceError(Refused):
    """A refused step; its message is translated and shown to the user."""


RATING_WITHOUT_CONSENT = _l(
    "You have not agreed to satisfaction surveys, so no rating is asked. You can give "
    "this consent on your privacy page, or on paper with your loan officer."
)


def _step(
    request: ServiceRequest, to: ServiceStatus, action: str, actor: User | None, note: str = ""
) -> ServiceEvent:
    if to not in TRANSITIONS[request.status]:
        raise ServiceError(str(REFUSALS[to]))
    event = ServiceEvent(
        request=request,
        action=action,
        from_status=request.status,
        to_status=to,
        actor_id=actor.id if actor else None,
        note=note,
    )
    db.session.add(event)
    request.status = to
    record(f"service_request.{action}", request, f"{request.kind_code}: {note}"[:2000])
    return event


def submit_request(
    borrower: Borrower,
    kind: ServiceKind,
    description: str,
    preferred_time: str = "",
    actor: User | None = None,
    now: datetime | None = None,
    token: str | None = None,
) -> ServiceRequest:
    """A borrower asks for a service in the portal; ``token`` is the form's once-only token."""
    request = _new_request(borrower, kind, description.strip(), now, actor)
    request.preferred_time = preferred_time.strip()
    request.idempotency_token = token
    _first_event(request, "submitted", actor)
    return request


def request_by_token(token: str) -> ServiceRequest | None:
    """The request already sent from the form carrying ``token``, if any."""
    return db.session.scalar(
        sa.select(ServiceRequest).where(ServiceRequest.idempotency_token == token)
    )


def _new_request(
    borrower: Borrower, kind: ServiceKind, description: str, now, actor
) -> ServiceRequest:
    now = now or utcnow()
    request = ServiceRequest(
        borrower=borrower,
        branch_id=borrower.branch_id,
        kind=kind,
        kind_code=kind.code,
        description=description,
        submitted_at=now,
        respond_by=deadline_after(now, kind.response_days),
        created_by_id=actor.id if actor else None,
    )
    db.session.add(request)
    return request


def _first_event(request: ServiceRequest, action: str, actor: User | None) -> None:
    db.session.add(
        ServiceEvent(
            request=request,
            action=action,
            to_status=S.SUBMITTED,
            actor_id=actor.id if actor else None,
            happened_at=request.submitted_at,
        )
    )
    record(f"service_request.{action}", request, f"{request.kind_code} for {request.borrower}")


def assignable_staff(branch_id: int) -> list[User]:
    """Active officers and heads of ``branch_id``, the people a request can go to."""
    return db.session.scalars(
        sa.select(User)
        .where(User.branch_id == branch_id, User.role.in_(ASSIGNEE_ROLES), User.active)
        .order_by(User.role, User.display_name)
    ).all()


def _check_assignee(request: ServiceRequest, assignee: User) -> None:
    if not (
        assignee.active
        and assignee.role in ASSIGNEE_ROLES
        and assignee.branch_id == request.branch_id
    ):
        raise ServiceError(_("Choose a staff member of this branch."))


def assign(
    request: ServiceRequest,
    assignee: User,
    planned_on: date,
    actor: User | None,
    note: str = "",
    partner_name: str = "",
    partner_contact: str = "",
) -> None:
    """Accept the request (or reassign it) to ``assignee`` for ``planned_on``.

    ``partner_name`` and ``partner_contact`` name an outside partner who delivers the
    service (a lawyer); the assignee is the staff member who arranges it.
    """
    _check_assignee(request, assignee)
    action = "assigned" if request.status == S.SUBMITTED else "reassigned"
    partner = " · ".join(part for part in (partner_name, partner_contact) if part)
    details = " · ".join(part for part in (partner, note) if part)
    _step(request, S.ACCEPTED, action, actor, _assignment_note(assignee, planned_on, details))
    request.assignee_id = assignee.id
    request.planned_on = planned_on
    request.partner_name = partner_name
    request.partner_contact = partner_contact
    request.accepted_at = request.accepted_at or utcnow()
    notify(
        request.borrower_id,
        "service.accepted",
        request,
        kind=request.kind_code,
        assignee=assignee.display_name,
        date=planned_on,
    )


def _assignment_note(assignee: User, planned_on: date, note: str) -> str:
    return f"{assignee.display_name} · {planned_on.isoformat()}" + (f" · {note}" if note else "")


def decline(request: ServiceRequest, reason: str, actor: User | None) -> None:
    """Decline with a reason the borrower reads."""
    _step(request, S.DECLINED, "declined", actor, reason.strip())
    request.decline_reason = reason.strip()
    request.declined_at = utcnow()
    if request.session_id is not None:
        request.session_id, request.attended = None, None
    notify(request.borrower_id, "service.declined", request, kind=request.kind_code, reason=reason)


def completion_too_early(request: ServiceRequest) -> str | None:
    """Why the request cannot be marked completed yet: its planned day is still to come."""
    if request.planned_on is None or request.planned_on <= local_today():
        return None
    return _(
        "This request is planned for %(date)s: it can be marked completed from that day on.",
        date=date_text(request.planned_on),
    )


def complete(request: ServiceRequest, notes: str, actor: User | None) -> None:
    """The service was delivered (on its planned day or later: the borrower is asked to rate it)."""
    if request.status == S.ACCEPTED and (why := completion_too_early(request)):
        raise ServiceError(why)
    _step(request, S.COMPLETED, "completed", actor, notes.strip())
    request.completion_notes = notes.strip()
    request.completed_at = utcnow()
    notify(request.borrower_id, "service.completed", request, kind=request.kind_code)


def rate(request: ServiceRequest, rating: int, comment: str, actor: User | None) -> None:
    """The borrower's 1–5 rating of a completed service: a survey, taken only with the
    borrower's consent to surveys, asked of the register now."""
    if not consents.given(request.borrower_id, Purpose.SURVEYS):
        raise ServiceError(RATING_WITHOUT_CONSENT)
    if rating not in range(1, 6):
        raise ServiceError(_("Choose a rating from 1 to 5."))
    _step(request, S.RATED, "rated", actor, f"{rating}/5 {comment.strip()}".strip())
    request.rating = rating
    request.rating_comment = comment.strip()
    request.rated_at = utcnow()


# A borrower moved to another officer ---------------------------------------------------


def hand_over_requests(
    borrower: Borrower, former_officer_id: int, new_officer: User, actor: User | None
) -> int:
    """Give the new officer the open requests the former officer had of this borrower.

    Requests in a group session stay with its organizer, who runs the class, and
    requests the head gave to somebody else stay with them. Returns how many moved.
    """
    moving = db.session.scalars(
        sa.select(ServiceRequest).where(
            ServiceRequest.borrower_id == borrower.id,
            ServiceRequest.assignee_id == former_officer_id,
            ServiceRequest.status == S.ACCEPTED,
            ServiceRequest.session_id.is_(None),
        )
    ).all()
    for request in moving:
        note = _assignment_note(new_officer, request.planned_on, "") if request.planned_on else ""
        _step(request, S.ACCEPTED, "reassigned", actor, note)
        request.assignee_id = new_officer.id
        notify(
            request.borrower_id,
            "service.handed_over",
            request,
            kind=request.kind_code,
            assignee=new_officer.display_name,
        )
    return len(moving)


def on_borrower_reassigned(borrower: Borrower, *, former_officer_id: int, by: User) -> None:
    """Receiver of ``borrowers.operations.borrower_reassigned`` (connected in portal/__init__.py).

    Sent inside the reassignment's transaction: the open work follows the borrower, so the
    former officer keeps nothing to act on.
    """
    # By id: the loaded ``borrower.officer`` may still be the former officer until expired.
    new_officer = db.session.get(User, borrower.officer_id)
    hand_over_requests(borrower, former_officer_id, new_officer, by)


# Group sessions ----------------------------------------------------------------------


def create_session(
    *,
    branch_id: int,
    kind: ServiceKind,
    title: str,
    held_on: date,
    place: str,
    trainer: str,
    organizer: User,
    actor: User | None,
    partner_name: str = "",
    partner_contact: str = "",
) -> ServiceSession:
    """Plan a group session of ``branch_id``, run by ``organizer`` (with an outside partner)."""
    if not (
        organizer.active and organizer.role in ASSIGNEE_ROLES and organizer.branch_id == branch_id
    ):
        raise ServiceError(_("Choose a staff member of this branch."))
    session = ServiceSession(
        branch_id=branch_id,
        kind_code=kind.code,
        title=title.strip(),
        held_on=held_on,
        place=place.strip(),
        trainer=trainer.strip(),
        organizer_id=organizer.id,
        partner_name=partner_name,
        partner_contact=partner_contact,
        created_by_id=actor.id if actor else None,
    )
    db.session.add(session)
    partner = f" {partner_name}" if partner_name else ""
    record("service_session.create", session, f"{session.title} {held_on.isoformat()}{partner}")
    return session


def _check_open(session: ServiceSession) -> None:
    if session.completed:
        raise ServiceError(_("This group session is already completed."))


def session_too_early(session: ServiceSession) -> str | None:
    """Why attendance and completion must wait: the session's day is still to come."""
    if session.held_on <= local_today():
        return None
    return _(
        "This session is on %(date)s: attendance and completion can be recorded from that day on.",
        date=date_text(session.held_on),
    )


def _check_held(session: ServiceSession) -> None:
    _check_open(session)
    if why := session_too_early(session):
        raise ServiceError(why)


def session_candidates(session: ServiceSession) -> list[ServiceRequest]:
    """Open requests of the session's branch and kind that are in no open session."""
    return db.session.scalars(
        sa.select(ServiceRequest)
        .join(ServiceRequest.borrower)
        .where(
            ServiceRequest.branch_id == session.branch_id,
            ServiceRequest.kind_code == session.kind_code,
            ServiceRequest.status.in_(OPEN_STATUSES),
            ServiceRequest.session_id.is_(None),
        )
        .order_by(ServiceRequest.submitted_at)
        .options(sa.orm.contains_eager(ServiceRequest.borrower))
    ).all()


def add_to_session(
    session: ServiceSession, requests: Iterable[ServiceRequest], actor: User | None
) -> int:
    """Schedule ``requests`` into the session; each is accepted for its organizer and date."""
    _check_open(session)
    added = 0
    for request in requests:
        if (
            request.branch_id != session.branch_id
            or request.kind_code != session.kind_code
            or request.status not in OPEN_STATUSES
        ):
            raise ServiceError(
                _("Only open requests of this branch and kind can join the session.")
            )
        _step(request, S.ACCEPTED, "scheduled", actor, f"{session.title} · {session.held_on}")
        request.session_id, request.attended = session.id, None
        request.assignee_id, request.planned_on = session.organizer_id, session.held_on
        request.accepted_at = request.accepted_at or utcnow()
        notify(
            request.borrower_id,
            "service.scheduled",
            request,
            kind=request.kind_code,
            title=session.title,
            date=session.held_on,
            place=session.place,
        )
        added += 1
    return added


def session_requests(session: ServiceSession) -> list[ServiceRequest]:
    """The requests served by ``session``, with their borrowers."""
    return db.session.scalars(
        sa.select(ServiceRequest)
        .join(ServiceRequest.borrower)
        .where(ServiceRequest.session_id == session.id)
        .order_by(Borrower.full_name, ServiceRequest.id)
        .options(sa.orm.contains_eager(ServiceRequest.borrower))
    ).all()


def record_attendance(session: ServiceSession, attended_ids: set[int]) -> None:
    """Who came: one tick per request (one borrower each), from the session's day on."""
    _check_held(session)
    for request in session_requests(session):
        request.attended = request.id in attended_ids
    record("service_session.attendance", session, f"attended: {sorted(attended_ids)}")


def complete_session(session: ServiceSession, actor: User | None) -> int:
    """Close the session on its day or later: attended requests are completed, the others
    wait for another date."""
    _check_held(session)
    requests = session_requests(session)
    if not any(request.attended for request in requests):
        raise ServiceError(_("Record who attended before completing the session."))
    note = f"{session.title} · {session.held_on.isoformat()}"
    for request in requests:
        if request.attended:
            complete(request, note, actor)
        else:
            _step(request, S.ACCEPTED, "absent", actor, note)
            request.session_id, request.attended = None, None
    session.completed_at = utcnow()
    record("service_session.complete", session, note)
    return sum(1 for request in requests if request.status == S.COMPLETED)


# The catalogue --------------------------------------------------------------------------

# docs/services.md's six kinds plus "other", with the codes of the visit form's checklist.
DEFAULT_KINDS = [
    ("wealth_management", "理财咨询", "Wealth-management advice", 5),
    ("financial_training", "财务培训", "Financial training", 10),
    ("computer_training", "计算机培训", "Computer training", 10),
    ("technique_training", "种养殖技术培训", "Planting / breeding technique training", 7),
    ("marketing_training", "市场营销培训", "Marketing training", 10),
    ("legal_services", "法律服务", "Legal services", 3),
    ("other", "其他服务", "Other service", 5),
]


def ensure_catalogue() -> None:
    """Create the default kinds that are missing; never overwrites the admin's edits."""
    existing = set(db.session.scalars(sa.select(ServiceKind.code)))
    for position, (code, name_zh, name_en, days) in enumerate(DEFAULT_KINDS, start=1):
        if code not in existing:
            kind = ServiceKind(
                code=code, name_zh=name_zh, name_en=name_en, response_days=days, position=position
            )
            db.session.add(kind)
            record("service_kind.create", kind, code)
    db.session.flush()


def save_kind(kind: ServiceKind | None, **values) -> ServiceKind:
    """Create (``kind`` None) or edit a kind of service."""
    if kind is None:
        kind = ServiceKind(code=values.pop("code"))
        db.session.add(kind)
        action = "service_kind.create"
    else:
        values.pop("code", None)
        action = "service_kind.update"
    for key, value in values.items():
        setattr(kind, key, value.strip() if isinstance(value, str) else value)
    record(action, kind, f"{kind.code}: {kind.name_zh} / {kind.name_en}, {kind.response_days} d")
    return kind


# From the visit form ------------------------------------------------------------------


def open_requests_from_visit(visit) -> list[ServiceRequest]:
    """One request per need ticked on a signed visit; an amendment adds only new needs.

    Requests are keyed by (original visit, kind): the unique constraint on
    ``source_visit_root_id, kind_code`` backs up the check made here.
    """
    root_id = visit.amends_id or visit.id
    taken = set(
        db.session.scalars(
            sa.select(ServiceRequest.kind_code).where(
                ServiceRequest.source_visit_root_id == root_id
            )
        )
    )
    kinds = {kind.code: kind for kind in db.session.scalars(sa.select(ServiceKind))}
    opened = []
    for code in visit.services_needed or []:
        kind = kinds.get(code) or kinds.get("other")
        if kind is None or kind.code in taken:
            continue
        taken.add(kind.code)
        opened.append(_request_from_visit(visit, kind, root_id))
    return opened


def _request_from_visit(visit, kind: ServiceKind, root_id: int) -> ServiceRequest:
    borrower = db.session.get(Borrower, visit.borrower_id)
    details = visit.services_other if kind.code == "other" else ""
    request = _new_request(borrower, kind, details, visit.signed_at, visit.officer)
    request.source = RequestSource.VISIT
    request.source_visit_id = visit.id
    request.source_visit_root_id = root_id
    _first_event(request, "opened_from_visit", visit.officer)
    notify(borrower.id, "service.opened_from_visit", request, kind=kind.code)
    return request


def on_visit_signed(visit, **_extra) -> None:
    """Receiver of ``visits.operations.visit_signed`` (connected in portal/__init__.py).

    Sent for every signed visit (amendments too) inside its transaction; the needs ticked
    on it become requests in the same commit.
    """
    open_requests_from_visit(visit)
