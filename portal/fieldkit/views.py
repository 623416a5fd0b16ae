"""Routes of the field kit's server side: the day plan, the kit, received entries, held entries.

The JSON routes are the contract with the tablet (docs/field-kit.md); they answer
JSON whatever happens inside them, and the request's CSRF header is checked by
CSRFProtect like any other POST.
"""

import base64
import binascii
import json

import sqlalchemy as sa
from flask import (
    Blueprint,
    current_app,
    jsonify,
    make_response,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from portal.access import get_visible_or_404, or_404, roles_required
from portal.accounts.models import Role
from portal.borrowers import queries as borrower_queries
from portal.borrowers.models import Borrower
from portal.borrowers.operations import record_photo_view
from portal.core.actions import Refused, attempt, current_actor, done, refused_on, writes
from portal.core.calendar import local_today
from portal.database import utcnow
from portal.extensions import db
from portal.fieldkit import operations, queries
from portal.fieldkit.entries import MAX_BODY_BYTES, NotAnEntry, read_entry
from portal.fieldkit.forms import HandleForm, PlanForm
from portal.fieldkit.models import FieldEntry, Outcome, hold_reason_label
from portal.visits.risk import LEVEL_LABELS

bp = Blueprint("fieldkit", __name__)

MAX_STATUS_IDS = 200
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _json(data: dict, status: int = 200):
    response = jsonify(data)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def _field_page() -> str | None:
    """The tablet's "prepare for the field" page (/field), once it exists."""
    for rule in current_app.url_map.iter_rules():
        if rule.rule == "/field" and "GET" in rule.methods:
            return "/field"
    return None


# --- The day plan ----------------------------------------------------------------------


def _plan_page(form: PlanForm, offer: queries.PlanOffer, plan, checked: set[int]):
    return render_template(
        "fieldkit/plan.html",
        form=form,
        offer=offer,
        plan=plan,
        checked=checked,
        today=local_today(),
        field_page=_field_page(),
        levels=LEVEL_LABELS,
    )


@bp.route("/field/plan", methods=["GET", "POST"])
@roles_required(Role.OFFICER)
@writes
def plan():
    today = local_today()
    offer = queries.plan_offer(current_user.id)
    existing = queries.plan_of(current_user.id, today)
    form = PlanForm(offered=offer.borrower_ids)
    if form.validate_on_submit():
        chosen = form.chosen()
        by_id = {
            b.id: b for b in db.session.scalars(sa.select(Borrower).where(Borrower.id.in_(chosen)))
        }
        try:
            operations.save_plan(current_actor(), today, [by_id[i] for i in chosen])
        except Refused as refusal:
            refused_on(form, refusal)
        else:
            return done(
                ngettext(
                    "Today's plan was saved: %(num)d borrower.",
                    "Today's plan was saved: %(num)d borrowers.",
                    len(chosen),
                ),
                url_for("fieldkit.plan"),
            )
    if request.method == "POST":
        checked = set(form.borrower_ids.data or []) if not form.borrower_ids.errors else set()
    elif existing is not None:
        checked = {stop.borrower_id for stop in existing.stops}
    else:
        checked = set(offer.suggested())
    return _plan_page(form, offer, existing, checked)


# --- The kit ---------------------------------------------------------------------------


@bp.get("/field/token")
@roles_required(Role.OFFICER)
def token():
    return _json({"csrf_token": generate_csrf()})


@bp.get("/field/kit")
@roles_required(Role.OFFICER)
def kit():
    plan = queries.plan_of(current_user.id, local_today())
    data = queries.kit(
        current_actor(),
        plan,
        lambda borrower_id: url_for("fieldkit.id_photo", borrower_id=borrower_id),
        utcnow(),
    )
    return _json(data)


@bp.get("/field/kit/borrowers/<int:borrower_id>/id-photo")
@roles_required(Role.OFFICER)
@writes
def id_photo(borrower_id: int):
    # The same rule as the borrower page: whoever sees the borrower sees the photo (logged).
    borrower = get_visible_or_404(Borrower, borrower_id)
    photo = or_404(borrower_queries.id_photo(borrower))
    record_photo_view(borrower)
    response = make_response(photo.content)
    response.headers["Content-Type"] = photo.media_type
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- Received entries ------------------------------------------------------------------


def _error(message, status: int = 400):
    return _json({"outcome": "error", "message": str(message)}, status)


def _answer(entry: FieldEntry, first_time: bool) -> dict:
    """What the tablet is told about a received entry (the same for every repeat)."""
    if entry.outcome == Outcome.STORED:
        message = (
            _("The visit was signed and saved.")
            if first_time
            else _("This visit was already saved.")
        )
        return {
            "outcome": "stored",
            "client_id": entry.client_id,
            "visit_id": entry.visit_id,
            "visit_url": url_for("visits.detail", visit_id=entry.visit_id),
            "message": message,
        }
    answer = {
        "outcome": "held",
        "client_id": entry.client_id,
        "reason": entry.reason.value,
        "message": _(
            "Kept for the branch head to decide: %(reason)s", reason=hold_reason_label(entry.reason)
        ),
    }
    if entry.errors:
        answer["errors"] = json.loads(entry.errors)
    return answer


@bp.post("/field/entries")
@roles_required(Role.OFFICER)
@writes
def entries():
    body = request.get_data(cache=False)
    if len(body) > MAX_BODY_BYTES:
        return _error(_("The entry is too large to be a visit."))
    try:
        entry = read_entry(json.loads(body))
    except (ValueError, NotAnEntry):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        return _error(_("This is not a visit from the field kit."))
    received, first_time = operations.receive(entry, current_actor())
    status = (201 if received.outcome == Outcome.STORED else 202) if first_time else 200
    return _json(_answer(received, first_time), status)


@bp.post("/field/entries/status")
@roles_required(Role.OFFICER)
def entry_status():
    body = request.get_json(silent=True)
    client_ids = body.get("client_ids") if isinstance(body, dict) else None
    if not isinstance(client_ids, list) or len(client_ids) > MAX_STATUS_IDS:
        return _error(_("Ask for at most %(max)d entries at a time.", max=MAX_STATUS_IDS))
    asked = [c for c in client_ids if isinstance(c, str) and len(c) <= 64]
    found = queries.entries_of(current_user.id, asked)
    answers = []
    for client_id in asked:
        entry = found.get(client_id)
        if entry is None:
            answers.append(
                {"client_id": client_id, "outcome": "unknown", "message": _("Not received yet.")}
            )
        else:
            answers.append(_answer(entry, first_time=False))
    return _json({"entries": answers})


# --- The head's queue ------------------------------------------------------------------


@bp.get("/field/held")
@roles_required(Role.HEAD, Role.ADMIN)
def held():
    open_only = request.args.get("show", "open") == "open"
    page = db.paginate(
        queries.held_list(current_user, open_only), per_page=current_app.config["PER_PAGE"]
    )
    return render_template(
        "fieldkit/held.html", page=page, open_only=open_only, reason_label=hold_reason_label
    )


def _received(entry: FieldEntry) -> dict:
    try:
        payload = json.loads(entry.payload)
    except ValueError:
        payload = {}
    return payload if isinstance(payload, dict) else {}


def _held_page(entry: FieldEntry, form: HandleForm | None = None):
    payload = _received(entry)
    fields = payload.get("fields") if isinstance(payload.get("fields"), dict) else {}
    return render_template(
        "fieldkit/held_detail.html",
        entry=entry,
        payload=payload,
        answers=queries.received_answers(fields),
        errors=json.loads(entry.errors) if entry.errors else {},
        borrower_visible=entry.borrower is not None and entry.borrower.visible_to(current_user),
        has_signature=_signature_png(fields) is not None,
        form=form or HandleForm(),
        reason_label=hold_reason_label,
    )


@bp.get("/field/held/<int:entry_id>")
@roles_required(Role.HEAD, Role.ADMIN)
def held_detail(entry_id: int):
    return _held_page(get_visible_or_404(FieldEntry, entry_id))


def _signature_png(fields) -> bytes | None:
    """The PNG bytes of the signature as received, when it is a PNG data URL."""
    values = fields.get("signature") if isinstance(fields, dict) else None
    text = values[0] if isinstance(values, list) and values else None
    prefix = "data:image/png;base64,"
    if not isinstance(text, str) or not text.startswith(prefix):
        return None
    try:
        png = base64.b64decode(text[len(prefix) :], validate=True)
    except (binascii.Error, ValueError):
        return None
    return png if png.startswith(PNG_MAGIC) else None


@bp.get("/field/held/<int:entry_id>/signature.png")
@roles_required(Role.HEAD, Role.ADMIN)
def held_signature(entry_id: int):
    entry = get_visible_or_404(FieldEntry, entry_id)
    payload = _received(entry)
    png = or_404(_signature_png(payload.get("fields")))
    response = make_response(png)
    response.mimetype = "image/png"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/field/held/<int:entry_id>/handle")
@roles_required(Role.HEAD, Role.ADMIN)
@writes
def handle(entry_id: int):
    entry = get_visible_or_404(FieldEntry, entry_id)
    form = HandleForm()
    if not form.validate_on_submit():
        return _held_page(entry, form)
    return attempt(
        lambda: operations.handle(entry, current_actor(), form.note.data),
        _("What was done was recorded; the entry left the queue."),
        url_for("fieldkit.held"),
    )
