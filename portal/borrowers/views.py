"""Routes of the borrowers feature."""

from flask import (
    Blueprint,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from portal.access import get_visible_or_404, or_404, require, roles_required, staff_required
from portal.accounts.models import Role
from portal.accounts.resets import needs_the_borrower
from portal.accounts.views import send_borrower_reset_code
from portal.borrowers import identity, operations, queries
from portal.borrowers.forms import (
    ActivationForm,
    ConsentDecisionForm,
    EditForm,
    FilterForm,
    IdentityForm,
    OnboardingForm,
    ReassignForm,
)
from portal.borrowers.masking import mask_phone, mask_resident_id
from portal.borrowers.models import (
    BIRTHDAY_CALENDAR_LABELS,
    BUSINESS_TYPE_LABELS,
    SEX_LABELS,
    TIER_LABELS,
    Borrower,
)
from portal.core import exports
from portal.core.actions import Refused, done, refused_on, writes
from portal.core.forms import ConfirmForm
from portal.core.paging import paginate
from portal.extensions import db, limiter
from portal.privacy import consents as register
from portal.privacy import paper
from portal.privacy.models import CONSENT_METHOD_LABELS, OPTIONAL_PURPOSES, PURPOSE_LABELS
from portal.privacy.texts import CONSENT_TEXTS, TEXT_VERSION, WITHOUT_CONSENT

bp = Blueprint("borrowers", __name__)

REASSIGN_PAGE_SIZE = 100


@bp.context_processor
def _labels() -> dict:
    return {
        "BUSINESS_TYPE_LABELS": BUSINESS_TYPE_LABELS,
        "BIRTHDAY_CALENDAR_LABELS": BIRTHDAY_CALENDAR_LABELS,
        "SEX_LABELS": SEX_LABELS,
        "TIER_LABELS": TIER_LABELS,
        "PURPOSE_LABELS": PURPOSE_LABELS,
        "CONSENT_TEXTS": CONSENT_TEXTS,
        "CONSENT_TEXT_VERSION": TEXT_VERSION,
    }


def _officers_to_choose():
    """Heads and admins pick an officer; an officer's lists need no officer filter."""
    return None if current_user.role == Role.OFFICER else queries.officers_for(current_user)


def _search_redirect(filters: FilterForm, endpoint: str):
    """A redirect that keeps phone and ID numbers out of URLs, or None to answer here.

    A posted search without a number goes to its GET address, so Back, bookmarks and
    paging links work; one with a number is answered to the POST and paged by buttons
    that post it again. A number in a GET address (typed by hand, an old bookmark) is
    dropped from it.
    """
    if request.method == "POST":
        return None if filters.holds_number() else redirect(url_for(endpoint, **filters.args()))
    if filters.holds_number():
        return redirect(url_for(endpoint, **filters.args()))
    return None


def _listing(filters: FilterForm, per_page: int):
    """One page of the borrowers the filters find."""
    stmt = queries.search(current_user, filters.wanted())
    return paginate(stmt, per_page)


@bp.route("/borrowers/", methods=["GET", "POST"])
@staff_required
def index():
    form = FilterForm(request.values, officers=_officers_to_choose())
    if (elsewhere := _search_redirect(form, "borrowers.index")) is not None:
        return elsewhere
    return render_template(
        "borrowers/index.html",
        form=form,
        page=_listing(form, current_app.config["PER_PAGE"]),
        too_short=queries.is_short_number(form.wanted().text),
    )


def _export_columns() -> list[exports.Column]:
    """The list page's columns, numbers masked as there."""
    columns = [
        (_("Full name"), lambda b: b.full_name),
        (_("Resident ID number"), lambda b: mask_resident_id(b.resident_id)),
        (_("Mobile number"), lambda b: mask_phone(b.mobile)),
        (_("Village"), lambda b: b.village),
        (_("Loan officer"), lambda b: b.officer.display_name),
        (_("Tier"), lambda b: TIER_LABELS[b.tier]),
    ]
    if current_user.role == Role.ADMIN:
        columns.append((_("Branch"), lambda b: b.branch.code))
    return columns


# Posted (the search form's own fields) when the search holds a number: see index().
@bp.route("/borrowers/export.<any(csv, xlsx):fmt>", methods=["GET", "POST"])
@staff_required
@writes
def export(fmt: str):
    """Every borrower the list's filters find, as the list shows them."""
    form = FilterForm(request.values, officers=_officers_to_choose())
    stmt = exports.limited(queries.search(current_user, form.wanted()))
    # The audit names the filters, never a searched number.
    return exports.export_response(
        "borrowers", _export_columns(), db.session.scalars(stmt), fmt, form.args()
    )


@bp.route("/borrowers/new", methods=["GET", "POST"])
@staff_required
@writes
def onboard():
    form = OnboardingForm(user=current_user, officers=_officers_to_choose())
    if form.validate_on_submit():
        try:
            borrower, code = operations.onboard(
                form.profile(),
                officer=form.officer or current_user,
                by=current_user,
                consents=form.consents(),
                photo=form.photo,
            )
        except Refused as refusal:
            refused_on(form, refusal)
        else:
            flash(_("%(name)s is registered.", name=borrower.full_name), "success")
            return render_template("borrowers/activation_code.html", borrower=borrower, code=code)
    return render_template("borrowers/onboard.html", form=form)


def _detail(borrower: Borrower, reveal: bool = False):
    return render_template(
        "borrowers/detail.html",
        borrower=borrower,
        reveal=reveal,
        history=queries.assignment_history(borrower),
        has_photo=queries.has_id_photo(borrower),
        consents=register.current(borrower.id),
    )


@bp.get("/borrowers/<int:borrower_id>")
@staff_required
def detail(borrower_id: int):
    return _detail(get_visible_or_404(Borrower, borrower_id))


@bp.post("/borrowers/<int:borrower_id>/reveal")
@staff_required
@writes
def reveal(borrower_id: int):
    borrower = get_visible_or_404(Borrower, borrower_id)
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for("borrowers.detail", borrower_id=borrower.id))
    operations.record_sensitive_view(borrower)
    return _detail(borrower, reveal=True)


@bp.get("/borrowers/<int:borrower_id>/id-photo")
@staff_required
@writes
def id_photo(borrower_id: int):
    borrower = get_visible_or_404(Borrower, borrower_id)
    photo = or_404(queries.id_photo(borrower))
    operations.record_photo_view(borrower)
    response = make_response(photo.content)
    response.headers["Content-Type"] = photo.media_type
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Disposition"] = "inline"
    return response


@bp.route("/borrowers/<int:borrower_id>/edit", methods=["GET", "POST"])
@staff_required
@writes
def edit(borrower_id: int):
    borrower = get_visible_or_404(Borrower, borrower_id)
    form = EditForm(obj=borrower, user=current_user, borrower=borrower)
    if form.validate_on_submit():
        try:
            operations.update_profile(borrower, form.expected_version, form.profile())
        except operations.EditConflictError as conflict:
            refused_on(form, conflict)
            return _edit_conflict(borrower_id, form)
        return done(
            _("The changes were saved."), url_for("borrowers.detail", borrower_id=borrower.id)
        )
    return render_template(
        "borrowers/edit.html",
        form=form,
        borrower=borrower,
        current=None,
        conflict_fields=operations.EDITABLE_FIELDS,
    )


def _edit_conflict(borrower_id: int, form: EditForm):
    """Keep what was typed, show what the other person saved, and arm the form to overwrite it."""
    borrower = get_visible_or_404(Borrower, borrower_id)
    form.version.data = borrower.version
    return render_template(
        "borrowers/edit.html",
        form=form,
        borrower=borrower,
        current=borrower,
        conflict_fields=operations.EDITABLE_FIELDS,
    ), 409


@bp.route("/borrowers/<int:borrower_id>/activation-code", methods=["GET", "POST"])
@staff_required
@writes
def issue_activation_code(borrower_id: int):
    borrower = get_visible_or_404(Borrower, borrower_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        if needs_the_borrower(borrower):
            # A code shown to staff would let them take over the account (issue 11).
            return send_borrower_reset_code(borrower)
        try:
            code = operations.issue_activation_code(borrower, by=current_user)
        except Refused as refusal:
            refused_on(form, refusal)
            return redirect(url_for("borrowers.detail", borrower_id=borrower_id))
        return render_template("borrowers/activation_code.html", borrower=borrower, code=code)
    return render_template(
        "borrowers/activation_code.html", borrower=borrower, code=None, form=form
    )


def _activation_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _mobile_key() -> str:
    # A second bucket per number slows guessing one borrower's code from many addresses.
    return "activate:" + "".join(ch for ch in request.form.get("mobile", "") if ch.isdigit())


@bp.route("/activate", methods=["GET", "POST"])
@limiter.limit(_activation_limit, methods=["POST"])
@limiter.limit(_activation_limit, methods=["POST"], key_func=_mobile_key)
@writes
def activate():
    form = ActivationForm()
    if form.validate_on_submit():
        try:
            operations.activate(form.normalized_mobile(), form.code.data, form.new_password.data)
        except Refused as refusal:
            refused_on(form, refusal)
            return render_template("borrowers/activate.html", form=form)
        return done(
            _("Your password is set. You can log in with your mobile number now."),
            url_for("accounts.login"),
        )
    return render_template("borrowers/activate.html", form=form)


@bp.route("/borrowers/reassign", methods=["GET", "POST"])
@roles_required(Role.HEAD, Role.ADMIN)
@writes
def reassign():
    officers = queries.officers_for(current_user)
    # The filters come from the address, the filter form (``search``) or, carried along
    # in hidden fields, the reassignment form, so a search by number survives its errors.
    filters = FilterForm(request.values, officers=officers)
    if request.method == "GET" or "search" in request.form:
        if (elsewhere := _search_redirect(filters, "borrowers.reassign")) is not None:
            return elsewhere
        form = ReassignForm(formdata=None, officers=officers)
    else:
        form = ReassignForm(officers=officers)
        if form.validate_on_submit():
            chosen = queries.visible_by_ids(current_user, form.borrower_ids.data)
            require(len(chosen) == len(set(form.borrower_ids.data)))
            try:
                moved = operations.reassign(chosen, form.officer, form.reason.data, by=current_user)
            except Refused as refusal:
                refused_on(form, refusal)
            else:
                return done(
                    _("Borrowers moved to %(name)s: %(count)s.", name=form.officer, count=moved),
                    url_for("borrowers.reassign", **filters.args()),
                )
    page = _listing(filters, REASSIGN_PAGE_SIZE)
    return render_template("borrowers/reassign.html", form=form, filters=filters, page=page)


@bp.get("/me")
@roles_required(Role.BORROWER)
def me():
    borrower = or_404(queries.own_profile(current_user))
    return render_template(
        "borrowers/me.html", borrower=borrower, consents=register.current(borrower.id)
    )


# --- consents by purpose, decided on paper (issue 19) ----------------------------------


def _consents_page(borrower: Borrower, form: ConsentDecisionForm):
    return render_template(
        "borrowers/consents.html",
        borrower=borrower,
        form=form,
        consents=register.current(borrower.id),
        history=paper.history(borrower.id),
        optional=OPTIONAL_PURPOSES,
        method_labels=CONSENT_METHOD_LABELS,
        without=WITHOUT_CONSENT,
        loan_not_here=paper.LOAN_NOT_HERE,
    )


@bp.route("/borrowers/<int:borrower_id>/consents", methods=["GET", "POST"])
@staff_required
@writes
def consents(borrower_id: int):
    """The borrower's consents by purpose and their history; staff record a paper decision."""
    borrower = get_visible_or_404(Borrower, borrower_id)
    require(borrower.can_manage(current_user))
    form = ConsentDecisionForm()
    if form.validate_on_submit():
        purpose, give = form.chosen_purpose, form.give
        try:
            paper.record_on_paper(borrower, purpose, give, current_user)
        except Refused as refusal:
            refused_on(form, refusal)
        else:
            message = (
                _(
                    "The consent to %(purpose)s is recorded as given on paper.",
                    purpose=PURPOSE_LABELS[purpose],
                )
                if give
                else _(
                    "The consent to %(purpose)s is recorded as withdrawn on paper.",
                    purpose=PURPOSE_LABELS[purpose],
                )
            )
            return done(message, url_for("borrowers.consents", borrower_id=borrower.id))
    return _consents_page(borrower, form)


@bp.route("/borrowers/<int:borrower_id>/identity", methods=["GET", "POST"])
@roles_required(Role.HEAD, Role.ADMIN)
@writes
def identity_correction(borrower_id: int):
    """The head of the borrower's branch (or the admin) corrects name, ID, birth date, sex."""
    borrower = get_visible_or_404(Borrower, borrower_id)
    require(identity.may_correct(borrower, current_user))
    form = IdentityForm(obj=borrower, user=current_user, borrower=borrower)
    if form.validate_on_submit():
        try:
            identity.correct(
                borrower, form.expected_version, form.wanted(), form.reason.data, current_user
            )
        except Refused as refusal:
            refused_on(form, refusal)
        else:
            return done(
                _("The correction was saved; the old values are kept."),
                url_for("borrowers.detail", borrower_id=borrower.id),
            )
    return render_template(
        "borrowers/identity.html",
        form=form,
        borrower=borrower,
        corrections=identity.corrections_of(borrower),
    )
