"""Routes of the privacy feature: the borrower's consents, data copy and correction
requests (phone pages), and the staff's list of correction requests."""

import json

from flask import Blueprint, Response, abort, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from portal.access import get_visible_or_404, or_404, roles_required, staff_required
from portal.accounts.models import Role
from portal.borrowers.queries import own_profile
from portal.core.actions import Refused, attempt, current_actor, done, refused_on, writes
from portal.core.calendar import local_today
from portal.core.i18n import date_text
from portal.core.paging import paginate_rows, per_page
from portal.extensions import db
from portal.privacy import consents, copy, operations, queries
from portal.privacy.corrections import ANSWER_DAYS, field_label
from portal.privacy.forms import AnswerForm, ConsentForm, CorrectionForm
from portal.privacy.models import (
    CONSENT_METHOD_LABELS,
    OPTIONAL_PURPOSES,
    PURPOSE_LABELS,
    CorrectionRequest,
    CorrectionStatus,
    Purpose,
)
from portal.privacy.texts import CONSENT_TEXTS, WITHOUT_CONSENT
from portal.reports.data import printing
from portal.reports.rendering import renderer

bp = Blueprint("privacy", __name__)

_actor = current_actor


# The borrower's pages --------------------------------------------------------------------


def _own_borrower():
    return or_404(own_profile(current_user))


def _render_mine(borrower, correction_form: CorrectionForm | None = None):
    current = consents.current(borrower.id)
    purposes = [
        {
            "purpose": purpose,
            "label": PURPOSE_LABELS[purpose],
            "text": CONSENT_TEXTS.get(purpose),
            "without": WITHOUT_CONSENT.get(purpose),
            "optional": purpose in OPTIONAL_PURPOSES,
            "consent": current.get(purpose),
            "method": CONSENT_METHOD_LABELS[current[purpose].method]
            if purpose in current
            else None,
        }
        for purpose in Purpose
    ]
    return render_template(
        "privacy/mine.html",
        borrower=borrower,
        purposes=purposes,
        consent_form=ConsentForm(formdata=None),
        correction_form=correction_form or CorrectionForm(formdata=None),
        corrections=queries.borrower_corrections(borrower.id),
        answer_days=ANSWER_DAYS,
        field_label=field_label,
    )


@bp.get("/me/privacy")
@roles_required(Role.BORROWER)
def mine():
    return _render_mine(_own_borrower())


def _purpose_or_404(value: str) -> Purpose:
    try:
        return Purpose(value)
    except ValueError:
        abort(404)


@bp.post("/me/privacy/consents/<purpose>")
@roles_required(Role.BORROWER)
@writes
def decide(purpose: str):
    """Give or withdraw one optional consent: takes effect with this request's commit."""
    borrower = _own_borrower()
    chosen = _purpose_or_404(purpose)
    form = ConsentForm()
    target = url_for("privacy.mine") + "#consents"
    if not form.validate_on_submit():
        return done(_("Please try again: the form had expired."), target, "warning")
    give = form.give.data == "1"
    label = PURPOSE_LABELS[chosen]
    message = (
        _("You gave your consent: %(purpose)s.", purpose=label)
        if give
        else _("You withdrew your consent: %(purpose)s. It takes effect now.", purpose=label)
    )
    return attempt(lambda: operations.decide_own(borrower, chosen, give, _actor()), message, target)


@bp.post("/me/privacy/corrections")
@roles_required(Role.BORROWER)
@writes
def request_correction():
    borrower = _own_borrower()
    form = CorrectionForm()
    if not form.validate_on_submit():
        return _render_mine(borrower, form)
    try:
        correction = operations.request_correction(
            borrower, form.field.data, form.note.data, _actor()
        )
    except Refused as refusal:
        refused_on(form, refusal)
        return _render_mine(borrower, form)
    return done(
        _(
            "Your request was sent to your loan officer. You will have an answer by %(date)s.",
            date=date_text(correction.due_on),
        ),
        url_for("privacy.mine") + "#corrections",
    )


def _download(body: bytes, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _file_name(borrower, extension: str) -> str:
    return f"my-data-{borrower.id}.{extension}"


@bp.get("/me/privacy/copy.json")
@roles_required(Role.BORROWER)
@writes
def copy_json():
    """The borrower's data as one JSON file (audited)."""
    borrower = _own_borrower()
    data = copy.data_copy(borrower, str(get_locale() or "zh"))
    operations.record_copy(borrower, "json", _actor())
    body = json.dumps(data, ensure_ascii=False, indent=2).encode()
    return _download(body, "application/json", _file_name(borrower, "json"))


@bp.get("/me/privacy/copy.pdf")
@roles_required(Role.BORROWER)
@writes
def copy_pdf():
    """The same data, printed (audited)."""
    borrower = _own_borrower()
    data = copy.data_copy(borrower, str(get_locale() or "zh"))
    html = render_template(
        "privacy/copy_pdf.html",
        data=data,
        sections=copy.SECTIONS,
        label=copy.label,
        value_text=copy.value_text,
        printing=printing(current_user),
    )
    # The layout takes seconds: no read snapshot is held open meanwhile (as the
    # reports do, portal/reports/rendering.py ``render_detached``).
    db.session.rollback()
    pdf = renderer().render_html(html)
    operations.record_copy(borrower, "pdf", _actor())
    return _download(pdf, "application/pdf", _file_name(borrower, "pdf"))


# The staff's pages ----------------------------------------------------------------------


def _status_filter() -> str:
    status = request.args.get("status", "open")
    return status if status in queries.STATUS_FILTERS else "open"


@bp.get("/privacy/corrections")
@staff_required
def corrections():
    status = _status_filter()
    page = paginate_rows(queries.staff_list(current_user, status), per_page())
    return render_template(
        "privacy/corrections.html",
        page=page,
        status=status,
        field_label=field_label,
        answer_days=ANSWER_DAYS,
    )


def _render_correction(correction: CorrectionRequest, form: AnswerForm | None = None):
    overdue = correction.status == CorrectionStatus.OPEN and correction.due_on < local_today()
    return render_template(
        "privacy/correction.html",
        correction=correction,
        form=form or AnswerForm(formdata=None),
        field_label=field_label,
        overdue=overdue,
    )


@bp.get("/privacy/corrections/<int:correction_id>")
@staff_required
def correction(correction_id: int):
    return _render_correction(get_visible_or_404(CorrectionRequest, correction_id))


@bp.post("/privacy/corrections/<int:correction_id>/answer")
@staff_required
@writes
def answer(correction_id: int):
    correction = get_visible_or_404(CorrectionRequest, correction_id)
    form = AnswerForm()
    if not form.validate_on_submit():
        return _render_correction(correction, form)
    return attempt(
        lambda: operations.answer_correction(
            correction, form.outcome.data == "done", form.answer.data, _actor()
        ),
        _("The answer was sent to the borrower."),
        url_for("privacy.correction", correction_id=correction_id),
    )
