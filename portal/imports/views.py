"""Routes of the repayment import: the upload, its preview and apply; the lending system's push."""

from flask import Blueprint, abort, current_app, jsonify, render_template, request, url_for
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user

from portal.access import get_visible_or_404, roles_required
from portal.accounts.models import Role
from portal.core import exports
from portal.core.actions import Refused, done, refused_on, writes
from portal.core.forms import ConfirmForm
from portal.database import utcnow
from portal.extensions import csrf, db, limiter
from portal.imports import operations, reading
from portal.imports.checks import Preview, Scope, check
from portal.imports.forms import UploadForm
from portal.imports.models import RepaymentUpload
from portal.imports.reading import FIELD_LABELS

bp = Blueprint("imports", __name__)
IMPORTERS = (Role.HEAD, Role.ADMIN)
SHOWN_ROWS = 1000  # rows a preview page lists; the download has them all


@bp.route("/imports/repayments", methods=["GET", "POST"])
@roles_required(*IMPORTERS)
@writes
def upload():
    form = UploadForm()
    if form.validate_on_submit():
        try:
            stored = operations.store_upload(form.content(), form.filename(), current_user)
        except Refused as refusal:
            refused_on(form, refusal)
        else:
            return done(
                _("The file was read: check the preview, then import it."),
                url_for("imports.preview", upload_id=stored.id),
                "info",
            )
    return render_template("imports/upload.html", form=form, labels=FIELD_LABELS)


@bp.get("/imports/repayments/<int:upload_id>")
@roles_required(*IMPORTERS)
def preview(upload_id: int):
    upload = get_visible_or_404(RepaymentUpload, upload_id)
    checked = operations.preview_upload(upload, current_user) if upload.content else None
    return render_template(
        "imports/preview.html",
        upload=upload,
        preview=checked,
        shown=_shown_rows(checked) if checked else [],
        shown_limit=SHOWN_ROWS,
        form=ConfirmForm(),
    )


def _shown_rows(checked: Preview) -> list:
    """The rows with problems first, then the others, in file order, up to the limit."""
    return (checked.with_problems + [row for row in checked.rows if not row.problems])[:SHOWN_ROWS]


@bp.post("/imports/repayments/<int:upload_id>/apply")
@roles_required(*IMPORTERS)
@writes
def apply(upload_id: int):
    upload = get_visible_or_404(RepaymentUpload, upload_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    checked = operations.apply_upload(upload, current_user)
    return done(applied_message(checked), url_for("imports.preview", upload_id=upload.id))


def applied_message(checked: Preview) -> str:
    """What an apply did, in words."""
    imported, skipped = len(checked.ready), len(checked.skipped)
    if not imported:
        return _("Nothing new: every row was imported before.")
    message = ngettext("%(num)d payment imported.", "%(num)d payments imported.", imported)
    if skipped:
        message += " " + ngettext(
            "%(num)d row imported before was skipped.",
            "%(num)d rows imported before were skipped.",
            skipped,
        )
    return message


@bp.get("/imports/repayments/<int:upload_id>/preview.<any(csv, xlsx):fmt>")
@roles_required(*IMPORTERS)
@writes
def download(upload_id: int, fmt: str):
    """Every row of the preview with its problems, for a file too long to read on screen."""
    upload = get_visible_or_404(RepaymentUpload, upload_id)
    if not upload.content:
        return done(_("This file was imported already."), url_for("imports.upload"), "info")
    checked = operations.preview_upload(upload, current_user)
    return exports.export_response(
        "repayment-import", _download_columns(), checked.rows, fmt, {"sha256": upload.digest}
    )


def _download_columns() -> list[exports.Column]:
    return [
        (_("Row"), lambda row: row.line),
        (_("Contract"), lambda row: row.contract_number),
        (_("Paid on"), lambda row: row.paid_on),
        (_("Amount"), lambda row: row.amount),
        (_("Reference"), lambda row: row.reference),
        (_("Balance in the file"), lambda row: row.balance),
        (_("Balance by our schedule"), lambda row: row.our_balance),
        (_("Problems"), lambda row: " ".join(str(p.message) for p in row.problems)),
        (_("Imported before"), lambda row: _("yes") if row.already_imported else ""),
    ]


# --- the lending system's push --------------------------------------------------


def _api_limit() -> str:
    return current_app.config.get("IMPORTS_API_RATE_LIMIT", "60 per minute")


def _bearer() -> str:
    scheme, _space, secret = request.headers.get("Authorization", "").partition(" ")
    return secret.strip() if scheme.lower() == "bearer" else ""


@bp.post("/api/repayments")
@csrf.exempt
@limiter.limit(_api_limit)
@writes
def api_repayments():
    """Repayments pushed by the lending system: applied (200) or every row's problems (422)."""
    token = operations.token_for(_bearer())
    if token is None:
        return _unauthorized()
    locale = request.accept_languages.best_match(current_app.config["LANGUAGES"]) or "zh"
    with force_locale(locale):
        return _api_answer(token, request.args.get("dry_run") in ("1", "true"))


def _api_answer(token, dry_run: bool):
    scope = Scope(token.branch_id)
    try:
        rows = reading.read_pushed(request.get_json(silent=True))
        if dry_run:
            checked = check(rows, scope)
            return jsonify(_rows_answer(checked, applied=False)), 200 if checked.applicable else 422
        checked = operations.apply(rows, scope, None, channel="api", token=token)
    except operations.RowsRefused as refusal:
        db.session.rollback()
        return jsonify(_rows_answer(refusal.preview, applied=False)), 422
    except Refused as refusal:
        db.session.rollback()
        return jsonify({"applied": False, "error": str(refusal)}), 400
    token.last_used_at = utcnow()
    return jsonify(_rows_answer(checked, applied=True)), 200


def _unauthorized():
    response = jsonify({"error": "a valid import key is required (Authorization: Bearer …)"})
    response.status_code = 401
    response.headers["WWW-Authenticate"] = 'Bearer realm="repayments"'
    return response


def _rows_answer(checked: Preview, applied: bool) -> dict:
    return {
        "applied": applied,
        "imported": len(checked.ready) if applied else 0,
        "skipped": len(checked.skipped),
        "problems": len(checked.with_problems),
        "rows": [_row_answer(row) for row in checked.rows],
    }


def _row_answer(row: reading.ImportRow) -> dict:
    if row.problems:
        status = "problem"
    elif row.already_imported:
        status = "skipped"
    else:
        status = "ok"
    return {
        "row": row.line,
        "reference": row.reference,
        "status": status,
        "problems": [{"code": p.code, "message": str(p.message)} for p in row.problems],
        "balance": None if row.our_balance is None else f"{row.our_balance:.2f}",
    }
