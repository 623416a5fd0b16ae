"""Forms shared by every page."""

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, Length, Regexp, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from portal.core.i18n import LANGUAGE_NAMES, date_text


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


# PostgreSQL's ``integer``: every id column and every number a form stores fits in it.
INT_MAX = 2**31 - 1
FIRST_DATE = date(1900, 1, 1)
LAST_DATE = date(2100, 12, 31)


def bounded_int(value) -> int:
    """``value`` as an int a database column can hold; ValueError otherwise."""
    number = int(value)
    if not -INT_MAX <= number <= INT_MAX:
        raise ValueError(value)
    return number


def id_number(value) -> int:
    """``value`` as a row id (1 to INT_MAX); ValueError otherwise."""
    number = bounded_int(value)
    if number < 1:
        raise ValueError(value)
    return number


def optional_id(value) -> int | None:
    """A row id from a query string or filter, or None when the value is not one."""
    try:
        return id_number(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


class BoundedIntegerField(IntegerField):
    """An IntegerField that refuses numbers no column can hold, with a clear message."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is not None and not -INT_MAX <= self.data <= INT_MAX:
            self.data = None
            raise ValueError(_l("This number is too large."))


def sane_date(form, field) -> None:
    """Refuse dates outside the years anybody alive or any loan can have."""
    if field.data and not FIRST_DATE <= field.data <= LAST_DATE:
        raise ValidationError(
            _l(
                "Enter a date between %(first)s and %(last)s.",
                first=date_text(FIRST_DATE),
                last=date_text(LAST_DATE),
            )
        )


class SaneDateField(DateField):
    """A DateField within FIRST_DATE and LAST_DATE, whatever its other validators say."""

    def pre_validate(self, form) -> None:
        sane_date(form, self)


class MultiCheckboxField(SelectMultipleField):
    """Several choices as checkboxes (templates/_forms.html renders them inline by this name)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def code_field(max_length: int = 40) -> StringField:
    """A record's code as the admin types it: small letters, digits and underscores."""
    return StringField(
        _l("Code"),
        validators=[
            DataRequired(),
            Length(max=max_length),
            Regexp(
                r"^[a-z][a-z0-9_]+$",
                message=_l("Use small letters, digits and underscores, starting with a letter."),
            ),
        ],
        filters=[lambda value: value.strip().lower() if value else value],
    )
