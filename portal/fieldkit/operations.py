"""Writes of the field kit: save the day plan, receive an outbox entry once, handle a held one.

They flush and audit; the view's transaction (portal/core/actions.py) commits.
"""

import json
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime

from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from portal.accounts.models import User
from portal.audit.operations import record
from portal.borrowers.models import Borrower
from portal.core.actions import Refused
from portal.core.once import save_once
from portal.database import utcnow
from portal.extensions import db
from portal.fieldkit import queries
from portal.fieldkit.entries import Entry, hash_matches
from portal.fieldkit.models import DayPlan, FieldEntry, HoldReason, Outcome, PlannedBorrower
from portal.loans.models import Loan
from portal.visits.compliance import CLOCK_SKEW, RECORDING_WINDOW, visit_time_problem
from portal.visits.forms import VisitForm, consented_purposes
from portal.visits.operations import VisitRefusedError, active_loan, sign_visit


class FieldKitRefused(Refused):
    """The field kit's "no": a translatable ``message``, maybe about one ``field``."""


# --- The day plan ----------------------------------------------------------------------


def save_plan(officer: User, day: date, borrowers: list[Borrower], now: datetime | None = None):
    """Store the officer's plan for ``day``; planning the day again replaces its borrowers.

    The first ``created_at`` stays: the tablet's signing times are bounded by it.
    """
    now = now or utcnow()
    if not borrowers:
        raise FieldKitRefused(_l("Choose at least one borrower to visit."), field="borrower_ids")
    plan = queries.plan_of(officer.id, day)
    replanned = plan is not None
    if plan is None:
        starts_at, ends_at = queries.day_bounds(day)
        plan = DayPlan(
            officer_id=officer.id,
            branch_id=officer.branch_id,
            day=day,
            starts_at=starts_at,
            ends_at=ends_at,
            created_at=now,
        )
        db.session.add(plan)
    else:
        plan.replanned_at = now
        plan.stops.clear()
        db.session.flush()
    loans = queries.active_loans(b.id for b in borrowers)
    for position, borrower in enumerate(borrowers):
        loan = loans.get(borrower.id)
        plan.stops.append(
            PlannedBorrower(
                borrower_id=borrower.id, position=position, loan_id=loan.id if loan else None
            )
        )
    db.session.flush()
    ids = ",".join(str(b.id) for b in borrowers)
    record("fieldkit.replan" if replanned else "fieldkit.plan", plan, f"day={day} borrowers={ids}")
    return plan


# --- Receiving an outbox entry ------------------------------------------------------------

NOT_A_NUMBER = _l("The entry does not name a borrower.")
FIELDS_MISSING = _l("The entry carries no form answers.")


@dataclass
class Verdict:
    """What to do with an entry: hold it (``reason``) or sign it."""

    reason: HoldReason | None = None
    errors: dict = field(default_factory=dict)
    borrower: Borrower | None = None
    loan: Loan | None = None
    form: VisitForm | None = None


def _form_of(entry: Entry, borrower: Borrower) -> VisitForm:
    """The online visit form, fed with the entry's fields (the request's CSRF header was checked).

    As online, it follows the borrower's consents at the moment the entry arrives: a
    photo without the consent to photos holds the entry with the reason beside it.
    """
    data = MultiDict([(name, value) for name, values in entry.fields.items() for value in values])
    data.setlist("idempotency_token", [entry.client_id])
    return VisitForm(formdata=data, meta={"csrf": False}, consented=consented_purposes(borrower.id))


def _form_errors(form: VisitForm) -> dict[str, list[str]]:
    return {name: [str(message) for message in messages] for name, messages in form.errors.items()}


def _time_plausible(entry: Entry, plan: DayPlan | None, now: datetime) -> bool:
    """The tablet's signing time: not beyond a small skew into the future, not before the
    plan was made, within the recording window."""
    signed_at = entry.signed_at
    if signed_at is None:
        return False
    if signed_at > now + CLOCK_SKEW or signed_at < now - RECORDING_WINDOW:
        return False
    return plan is None or signed_at >= plan.created_at - CLOCK_SKEW


def judge(entry: Entry, officer: User, now: datetime) -> Verdict:
    """Whether the entry can become a visit as the online form would sign it, or why not."""
    if not hash_matches(entry.payload):
        return Verdict(HoldReason.HASH_MISMATCH)
    borrower = db.session.get(Borrower, entry.borrower_id) if entry.borrower_id else None
    if borrower is None:
        return Verdict(HoldReason.INVALID, {"borrower_id": [str(NOT_A_NUMBER)]})
    if not borrower.visible_to(officer):
        return Verdict(HoldReason.REASSIGNED, borrower=borrower)
    plan = queries.plan_for_entry(officer.id, entry.plan_id)
    loan = active_loan(borrower)
    planned = queries.planned_loan_id(plan, borrower.id)
    if loan is None or (planned is not None and loan.id != planned):
        return Verdict(HoldReason.LOAN_CLOSED, borrower=borrower, loan=loan)
    if entry.fields is None:
        return Verdict(HoldReason.INVALID, {"fields": [str(FIELDS_MISSING)]}, borrower, loan)
    form = _form_of(entry, borrower)
    if not form.validate():
        errors = _form_errors(form)
        visited_at = form.visited_at.data
        too_old = (
            visited_at is not None
            and visit_time_problem(visited_at.astimezone(UTC), now) == "too_old"
        )
        reason = HoldReason.WINDOW_PASSED if too_old and set(errors) == {"visited_at"} else None
        return Verdict(reason or HoldReason.INVALID, errors, borrower, loan)
    if not _time_plausible(entry, plan, now):
        return Verdict(HoldReason.TIME, borrower=borrower, loan=loan)
    return Verdict(borrower=borrower, loan=loan, form=form)


def _hold(entry: Entry, officer: User, verdict: Verdict, now: datetime) -> FieldEntry:
    borrower = verdict.borrower
    held = FieldEntry(
        officer_id=officer.id,
        client_id=entry.client_id,
        received_at=now,
        outcome=Outcome.HELD,
        reason=verdict.reason,
        errors=json.dumps(verdict.errors, ensure_ascii=False) if verdict.errors else "",
        payload=entry.text,
        borrower_id=borrower.id if borrower else None,
        # The head of the borrower's branch decides; without a borrower, the officer's head.
        branch_id=borrower.branch_id if borrower else officer.branch_id,
        handled_note="",
    )
    db.session.add(held)
    db.session.flush()
    record(
        "fieldkit.hold",
        held,
        f"client_id={entry.client_id} borrower={held.borrower_id} reason={verdict.reason}",
    )
    return held


def _sign(entry: Entry, officer: User, verdict: Verdict, now: datetime) -> FieldEntry:
    form = verdict.form
    try:
        with db.session.begin_nested():
            visit = sign_visit(
                verdict.borrower,
                verdict.loan,
                officer,
                form.answers(),
                form.signature_png,
                entry.client_id,
                recorded_at=entry.signed_at,
                evidence=replace(form.evidence(), signed_at_device=entry.signed_at),
            )
    except VisitRefusedError:
        # The visit time does not fit the tablet's signing time (signed before the visit).
        return _hold(entry, officer, Verdict(HoldReason.TIME, borrower=verdict.borrower), now)
    stored = FieldEntry(
        officer_id=officer.id,
        client_id=entry.client_id,
        received_at=now,
        outcome=Outcome.STORED,
        visit_id=visit.id,
        borrower_id=visit.borrower_id,
        branch_id=visit.branch_id,
        errors="",
        payload="",
        handled_note="",
    )
    db.session.add(stored)
    db.session.flush()
    record("fieldkit.receive", stored, f"client_id={entry.client_id} visit={visit.id}")
    return stored


def receive(entry: Entry, officer: User, now: datetime | None = None) -> tuple[FieldEntry, bool]:
    """Store one outbox entry as a visit or as a held entry, once per (officer, client id).

    Returns the received entry and whether this call stored it. A repeat, or the loser
    of two posts racing each other (the unique constraint settles it in a savepoint),
    finds the first one's row.
    """
    now = now or utcnow()

    def save() -> FieldEntry:
        verdict = judge(entry, officer, now)
        if verdict.reason is not None:
            return _hold(entry, officer, verdict, now)
        return _sign(entry, officer, verdict, now)

    return save_once(
        entry.client_id, lambda client_id: queries.entry_of(officer.id, client_id), save
    )


# --- The head's queue ------------------------------------------------------------------


def handle(held: FieldEntry, user: User, note: str) -> None:
    """The head records what was done about a held entry; it leaves the queue unchanged otherwise."""
    if not held.is_open:
        raise FieldKitRefused(_l("This entry was already handled."))
    held.handled_at = utcnow()
    held.handled_by_id = user.id
    held.handled_note = note
    record("fieldkit.handle", held, f"client_id={held.client_id}: {note}")
