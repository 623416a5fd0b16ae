"""The legal hold's forms."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired, Length


class HoldForm(FlaskForm):
    """Place a legal hold on a borrower: the reason is required."""

    reason = StringField(
        _l("Reason (the dispute or the lawsuit)"),
        validators=[DataRequired(message=_l("Give the reason for the hold.")), Length(max=500)],
    )
    submit = SubmitField(_l("Place the hold"))


class LiftForm(FlaskForm):
    """Lift the hold in place."""

    submit = SubmitField(_l("Lift the hold"))
