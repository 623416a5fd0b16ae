"""Login, the user's own account, and the admin's staff pages."""

import sqlalchemy as sa
from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from portal.access import or_404, roles_required
from portal.accounts import operations, resets, throttle
from portal.accounts.forms import ChangePasswordForm, LoginForm, PreferencesForm, StaffForm
from portal.accounts.models import STAFF_ROLES, Role, User
from portal.accounts.passwords import verify_password
from portal.borrowers.masking import mask_phone
from portal.core.actions import attempt, done, writes
from portal.core.forms import ConfirmForm
from portal.core.navigation import safe_next
from portal.extensions import db, limiter

bp = Blueprint("accounts", __name__)


def _limit(setting: str):
    return lambda: current_app.config[setting]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    _limit("LOGIN_RATE_LIMIT"), methods=["POST"], key_func=throttle.per_username_and_address
)
@limiter.limit(
    _limit("LOGIN_ADDRESS_RATE_LIMIT"),
    methods=["POST"],
    key_func=throttle.per_address,
    deduct_when=throttle.login_failed,
)
@limiter.limit(
    _limit("LOGIN_USERNAME_RATE_LIMIT"),
    methods=["POST"],
    key_func=throttle.per_username,
    deduct_when=throttle.login_failed,
    exempt_when=throttle.known_device,
)
@writes
def login():
    if current_user.is_authenticated:
        return redirect(url_for("core.home"))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user = operations.authenticate(form.username.data, form.password.data)
        if user is None:
            # Answered normally, so the audit entry of the failed attempt is kept.
            flash(_("Wrong username or password."), "danger")
            return render_template("accounts/login.html", form=form), 200
        locale = user.locale
        notices = resets.notices_since(user, user.last_login_at)
        session.clear()  # a fresh session (and CSRF token) for every login
        operations.start_session(user)
        login_user(user)
        session["locale"] = locale
        for notice in notices:
            flash(notice, "warning")
        response = redirect(safe_next(form.next.data))
        throttle.remember_device(response, user)
        return response
    return render_template("accounts/login.html", form=form)


@bp.post("/logout")
@login_required
@writes
def logout():
    if ConfirmForm().validate_on_submit():
        operations.end_session(current_user.session_token)
        logout_user()
        session.clear()
        flash(_("You have logged out."), "info")
    return redirect(url_for("accounts.login"))


@bp.route("/account", methods=["GET", "POST"])
@login_required
@writes
def preferences():
    form = PreferencesForm(obj=current_user)
    if form.validate_on_submit():
        operations.set_locale(current_user, form.locale.data)
        session["locale"] = form.locale.data
        return done(_("Your settings were saved."), url_for("accounts.preferences"))
    return render_template("accounts/preferences.html", form=form)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
@writes
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if not verify_password(current_user.password_hash, form.current_password.data):
            form.current_password.errors.append(_("The current password is not correct."))
        else:
            operations.change_password(current_user, form.new_password.data)
            return done(_("Your password was changed."), url_for("core.home"))
    return render_template("accounts/change_password.html", form=form)


@bp.get("/admin/users")
@roles_required(Role.ADMIN)
def staff_list():
    query = request.args.get("q", "").strip()
    stmt = sa.select(User).where(User.role.in_(STAFF_ROLES)).order_by(User.username)
    if query:
        like = f"%{query}%"
        stmt = stmt.where(sa.or_(User.username.ilike(like), User.display_name.ilike(like)))
    page = db.paginate(stmt, per_page=current_app.config["PER_PAGE"])
    return render_template("accounts/staff_list.html", page=page, query=query)


@bp.route("/admin/users/new", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
@writes
def staff_create():
    form = StaffForm()
    if form.validate_on_submit():
        user = operations.create_user(
            username=form.username.data,
            display_name=form.display_name.data,
            role=Role(form.role.data),
            password=form.password.data,
            branch_id=form.branch,
            must_change_password=True,
        )
        return done(
            _("Account %(name)s created.", name=user.username), url_for("accounts.staff_list")
        )
    return render_template("accounts/staff_form.html", form=form, user=None)


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
@writes
def staff_edit(user_id: int):
    user = or_404(operations.find_staff(user_id))
    form = StaffForm(obj=user, editing=user)
    if request.method == "GET":
        form.branch_id.data = str(user.branch_id or "")
    if form.validate_on_submit():
        operations.update_staff(
            user,
            display_name=form.display_name.data,
            role=Role(form.role.data),
            branch_id=form.branch,
        )
        return done(
            _("Account %(name)s saved.", name=user.username), url_for("accounts.staff_list")
        )
    return render_template(
        "accounts/staff_form.html", form=form, user=user, confirm_form=ConfirmForm()
    )


@bp.post("/admin/users/<int:user_id>/active")
@roles_required(Role.ADMIN)
@writes
def staff_toggle_active(user_id: int):
    user = or_404(operations.find_staff(user_id))
    back = url_for("accounts.staff_edit", user_id=user.id)
    if not ConfirmForm().validate_on_submit():
        return redirect(back)
    enable = not user.active
    return attempt(
        lambda: operations.set_active(user, enable, by=current_user),
        _("Account enabled.") if enable else _("Account disabled."),
        back,
    )


@bp.post("/admin/users/<int:user_id>/reset-password")
@roles_required(Role.ADMIN)
@writes
def staff_reset_password(user_id: int):
    user = or_404(operations.find_staff(user_id))
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for("accounts.staff_edit", user_id=user.id))
    temporary = operations.reset_password(user)
    return render_template("accounts/temporary_password.html", user=user, temporary=temporary)


def send_borrower_reset_code(borrower):
    """Staff asked for a new code for a borrower who chose a password: text it, never show it.

    Called by borrowers.issue_activation_code once its confirmation form is valid.
    """
    return attempt(
        lambda: resets.text_reset_code(borrower, by=current_user),
        _(
            "A new password code was texted to the borrower's phone %(phone)s. It is not shown to staff; it works once, within %(minutes)d minutes.",
            phone=mask_phone(borrower.mobile),
            minutes=resets.RESET_CODE_LIFETIME.seconds // 60,
        ),
        url_for("borrowers.detail", borrower_id=borrower.id),
    )
