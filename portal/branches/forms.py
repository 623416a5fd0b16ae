"""The branch form."""

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from portal.branches.models import Branch
from portal.core.forms import choices
from portal.extensions import db


def branch_choices(first_label=None, *, with_closed: bool = False) -> list:
    """Branches for a select box, by code, as (id, "code name").

    ``first_label`` adds an empty first choice ("All branches" in a filter, "— none —"
    for an optional field). Closed branches are offered only to filters
    (``with_closed``): old records still belong to them, new ones may not.
    """
    stmt = sa.select(Branch).order_by(Branch.code)
    if not with_closed:
        stmt = stmt.where(Branch.active)
    options = [(branch.id, str(branch)) for branch in db.session.scalars(stmt)]
    return choices(([("", first_label)] if first_label is not None else []) + options)


class BranchForm(FlaskForm):
    """Create or edit a branch."""

    code = StringField(
        _l("Code"),
        validators=[
            DataRequired(),
            Length(max=16),
            Regexp(r"^[A-Z0-9-]+$", message=_l("Use capital letters, digits and dashes.")),
        ],
        filters=[lambda value: value.strip().upper() if value else value],
    )
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    region = StringField(_l("Region"), validators=[Optional(), Length(max=100)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=200)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=32)])
    active = BooleanField(_l("Active"), default=True)
    submit = SubmitField(_l("Save"))

    def __init__(self, *args, editing: Branch | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.editing = editing

    def validate_code(self, field):
        stmt = sa.select(Branch.id).where(Branch.code == field.data)
        if self.editing is not None:
            stmt = stmt.where(Branch.id != self.editing.id)
        if db.session.scalar(stmt) is not None:
            raise ValidationError(_l("Another branch already has this code."))
