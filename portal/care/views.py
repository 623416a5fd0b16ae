"""Care pages: the branch head's outbox, the strategic list, the admin's occasions and wording."""

from datetime import timedelta

from flask import Blueprint, abort, current_app, jsonify, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from portal.access import get_visible_or_404, or_404, roles_required, staff_required
from portal.accounts.models import Role
from portal.care import operations, queries, receipts, sending
from portal.care.forms import CALENDAR_LABELS, OccasionForm, OutboxFilterForm, TemplateForm
from portal.care.greetings import render
from portal.care.models import LOCALES, OUTBOX_STATUS_LABELS, Occasion, OutboxMessage
from portal.core.actions import attempt, current_actor, done, writes
from portal.core.calendar import local_today
from portal.core.forms import ConfirmForm
from portal.database import utcnow
from portal.extensions import csrf, db, limiter

bp = Blueprint("care", __name__, url_prefix="/care")

OUTBOX_TABS = ("today", "recent", "failures")
RECENT_DAYS = 30
SAMPLE = {
    "zh": ("王小明", "泗阳众兴网点", "陈志强"),
    "en": ("Wang Xiaoming", "Siyang branch", "Chen Zhiqiang"),
}


def _outbox_branch(form: OutboxFilterForm) -> int | None:
    return form.branch_id if current_user.role == Role.ADMIN else current_user.branch_id


def _outbox_span(show: str, today) -> dict:
    if show == "failures":
        return {"failures": True}
    if show == "recent":
        return {"since": today - timedelta(days=RECENT_DAYS), "until": today}
    return {"since": today, "until": today}


@bp.get("/outbox")
@roles_required(Role.HEAD, Role.ADMIN)
def outbox():
    form = OutboxFilterForm(request.args)
    show = request.args.get("show") if request.args.get("show") in OUTBOX_TABS else "today"
    today, branch_id = local_today(), _outbox_branch(form)
    stmt = queries.outbox_statement(branch_id, **_outbox_span(show, today))
    page = db.paginate(stmt, per_page=current_app.config["PER_PAGE"])
    return render_template(
        "care/outbox.html",
        page=page,
        form=form,
        show=show,
        today=today,
        counts=queries.outbox_counts(branch_id, today),
        labels=OUTBOX_STATUS_LABELS,
        names=queries.catalogue_by_code(),
        confirm_form=ConfirmForm(),
    )


@bp.post("/outbox/<int:message_id>/resend")
@roles_required(Role.HEAD, Role.ADMIN)
@writes
def resend(message_id: int):
    message = get_visible_or_404(OutboxMessage, message_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    return attempt(
        lambda: sending.resend(message),
        _("The greeting was sent."),
        url_for("care.outbox", show="failures"),
    )


def _receipt_limit() -> str:
    return current_app.config["SMS_RECEIPT_RATE_LIMIT"]


@bp.post("/sms/receipts/<provider>/<token>")
@csrf.exempt
@limiter.limit(_receipt_limit)
@writes
def sms_receipt(provider: str, token: str):
    """A provider's delivery receipts (docs/sms.md): no login, the token in the address."""
    if provider not in receipts.PARSERS or not receipts.token_matches(token):
        abort(404)
    try:
        pushed = receipts.parse(provider, request.get_json(silent=True, force=True))
    except receipts.ReceiptError as error:
        return jsonify(receipts.answer(provider, str(error))), 400
    operations.record_receipts(provider, pushed, utcnow())
    return jsonify(receipts.answer(provider))


@bp.get("/strategic")
@staff_required
def strategic():
    page = db.paginate(
        queries.strategic_statement(current_user), per_page=current_app.config["PER_PAGE"]
    )
    upcoming = queries.upcoming_holidays(local_today(), count=3)
    return render_template("care/strategic.html", page=page, upcoming=upcoming)


@bp.get("/occasions")
@roles_required(Role.ADMIN)
def occasions():
    today = local_today()
    entries = [(entry, entry.next_date(today)) for entry in queries.catalogue()]
    return render_template("care/occasions.html", entries=entries, calendars=CALENDAR_LABELS)


@bp.route("/occasions/new", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
@writes
def occasion_create():
    form = OccasionForm()
    if form.validate_on_submit():
        occasion = operations.create_occasion(**form.values())
        return done(_("Occasion %(name)s saved.", name=occasion.name_zh), url_for("care.occasions"))
    return render_template("care/occasion_form.html", form=form, occasion=None)


@bp.route("/occasions/<int:occasion_id>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
@writes
def occasion_edit(occasion_id: int):
    occasion = or_404(db.session.get(Occasion, occasion_id))
    form = OccasionForm(obj=occasion, editing=occasion)
    if form.validate_on_submit():
        operations.update_occasion(occasion, **form.values())
        return done(_("Occasion %(name)s saved.", name=occasion.name_zh), url_for("care.occasions"))
    return render_template("care/occasion_form.html", form=form, occasion=occasion)


@bp.get("/templates")
@roles_required(Role.ADMIN)
def templates():
    saved = queries.template_bodies()
    rows = [
        (entry, {loc: (queries.template_body(entry.code, loc, saved), (entry.code, loc) in saved)
                 for loc in LOCALES})
        for entry in queries.catalogue()
    ]  # fmt: skip
    return render_template("care/templates.html", rows=rows)


def _entry_or_404(code: str, locale: str):
    """The occasion ``code`` of the catalogue, in one of the greeting languages."""
    return or_404(queries.catalogue_by_code().get(code) if locale in LOCALES else None)


def _sample_values(entry, locale: str) -> dict[str, str]:
    name, branch, officer = SAMPLE[locale]
    return {"name": name, "branch": branch, "officer": officer, "occasion": entry.name(locale)}


def _preview(body: str, entry, locale: str) -> str:
    return render(body, _sample_values(entry, locale))


@bp.route("/templates/<code>/<locale>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
@writes
def template_edit(code: str, locale: str):
    entry = _entry_or_404(code, locale)
    form = TemplateForm(body=queries.template_body(code, locale))
    if form.validate_on_submit():
        operations.save_template(code, locale, form.body.data.strip(), current_actor())
        return done(_("The greeting text was saved."), url_for("care.templates"))
    preview = None if form.errors else _preview(form.body.data, entry, locale)
    return render_template(
        "care/template_form.html",
        form=form,
        entry=entry,
        locale=locale,
        preview=preview,
        sample=_sample_values(entry, locale),
        ui_locale=str(get_locale()),
    )
