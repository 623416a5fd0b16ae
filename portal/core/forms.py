"""Forms shared by every page."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectChoice, SelectField, SubmitField
from wtforms.validators import DataRequired

from portal.core.i18n import LANGUAGE_NAMES


def choices(pairs) -> list[SelectChoice]:
    """Select options from (value, label) pairs."""
    return [SelectChoice(str(value), label) for value, label in pairs]


class LanguageForm(FlaskForm):
    """The language switch in the page header."""

    locale = SelectField(
        _l("Language"), choices=choices(LANGUAGE_NAMES.items()), validators=[DataRequired()]
    )
    next = HiddenField()
    submit = SubmitField(_l("Switch"))


class ConfirmForm(FlaskForm):
    """A button that only needs a CSRF token (disable, reset, logout…)."""

    submit = SubmitField(_l("Confirm"))
