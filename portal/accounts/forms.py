"""Forms for logging in, the user's own account and staff administration."""

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length, Regexp, ValidationError

from portal.accounts.models import ROLE_LABELS, Role, User
from portal.accounts.operations import mobile_like, normalize_username
from portal.branches.forms import branch_choices
from portal.core.forms import choices
from portal.core.i18n import LANGUAGE_NAMES
from portal.extensions import db

PASSWORD_RULES = [
    DataRequired(),
    Length(min=10, max=128, message=_l("The password must have 10 to 128 characters.")),
]


class LoginForm(FlaskForm):
    """Username and password; borrowers log in with their mobile number."""

    username = StringField(
        _l("Username or mobile number"),
        validators=[DataRequired(), Length(max=64)],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=128)])
    next = HiddenField()
    submit = SubmitField(_l("Log in"))


class ChangePasswordForm(FlaskForm):
    """The user's own new password."""

    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    new_password = PasswordField(_l("New password"), validators=PASSWORD_RULES)
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[
            DataRequired(),
            EqualTo("new_password", message=_l("The two passwords differ.")),
        ],
    )
    submit = SubmitField(_l("Change password"))

    def validate_new_password(self, field):
        if field.data == self.current_password.data:
            raise ValidationError(_l("Choose a password different from the current one."))


class PreferencesForm(FlaskForm):
    """The user's language."""

    locale = SelectField(_l("Language"), choices=choices(LANGUAGE_NAMES.items()))
    submit = SubmitField(_l("Save"))


class StaffForm(FlaskForm):
    """An admin creates or edits a staff account."""

    username = StringField(
        _l("Username"),
        validators=[
            DataRequired(),
            Length(min=3, max=64),
            Regexp(
                r"^[A-Za-z0-9._-]+$", message=_l("Use letters, digits, dot, dash or underscore.")
            ),
        ],
    )
    display_name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=100)])
    role = SelectField(
        _l("Role"),
        choices=choices((r.value, ROLE_LABELS[r]) for r in (Role.ADMIN, Role.HEAD, Role.OFFICER)),
        validators=[DataRequired()],
    )
    branch_id = SelectField(_l("Branch"))
    password = PasswordField(_l("Initial password"), validators=PASSWORD_RULES)
    submit = SubmitField(_l("Save"))

    def __init__(self, *args, editing: User | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.editing = editing
        self.branch_id.choices = branch_choices(_l("— none —"))
        if editing is not None:
            # The username is fixed once created; the password has its own reset.
            del self.username
            del self.password

    def validate_username(self, field):
        if mobile_like(field.data):
            raise ValidationError(
                _l("A username cannot be a mobile number: borrowers log in with theirs.")
            )
        taken = db.session.scalar(
            sa.select(User.id).where(User.username == normalize_username(field.data))
        )
        if taken is not None:
            raise ValidationError(_l("This username is already taken."))

    def validate_branch_id(self, field):
        if self.role.data in (Role.HEAD, Role.OFFICER) and not field.data:
            raise ValidationError(_l("Branch heads and loan officers need a branch."))

    @property
    def branch(self) -> int | None:
        return int(self.branch_id.data) if self.branch_id.data else None
