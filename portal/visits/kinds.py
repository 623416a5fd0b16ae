"""The kinds of question on the follow-up form, and what each kind means everywhere.

A kind knows, for any question of that kind (portal/visits/questions.py): the form
field that asks it, the column that keeps it, the value the operation takes from the
form, the value stored, the form data to prefill an amendment with, the text a page
or a PDF prints, and a value the demo data can draw. So a new question of an existing
kind is one line of the declaration.
"""

import random
from abc import ABC, abstractmethod
from enum import StrEnum

import sqlalchemy as sa
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import mapped_column
from wtforms import RadioField, StringField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, Optional, ValidationError

from portal.core.forms import MultiCheckboxField, choices
from portal.database import enum_type

NOTHING = "—"
# The operation's answers have no default for a required question of these kinds.
REQUIRED = object()


def listing(items) -> str:
    """Items joined the way the reader's language lists them."""
    separator = "、" if str(get_locale()).startswith("zh") else ", "
    return separator.join(str(item) for item in items)


def clean_text(text: str | None) -> str:
    """Typed text as signed: tablets send \\r\\n, and the hash must not depend on the keyboard."""
    return (text or "").replace("\r\n", "\n").strip()


def _only_from(values: set[str], message):
    def check(form, field):
        if any(value not in values for value in field.data or []):
            raise ValidationError(message)

    return check


def _required_with(other: str, value: str, message):
    """Validator: this text is needed when the checklist ``other`` has ``value`` ticked."""

    def check(form, field):
        if value in (form[other].data or []) and not field.data:
            raise ValidationError(message)

    return check


class Kind(ABC):
    """How one kind of question is asked, kept, signed and printed.

    Every kind says how it is asked (``field``), stored (``column``) and invented for
    the demo (``sample``); the rest has defaults a kind may override.
    """

    widget = "field"  # the form template renders the field with render_field

    @abstractmethod
    def field(self, question):
        """The form field that asks ``question``."""

    @abstractmethod
    def column(self, question):
        """The visits column that keeps the answer."""

    def default(self, question):
        """The operation's default when the caller leaves the answer out."""
        return None if question.nullable else REQUIRED

    def from_form(self, data):
        return data

    def stored(self, value):
        return value

    def to_form(self, value):
        return value

    def text(self, question, value) -> str:
        return NOTHING if value in (None, "") else str(value)

    @abstractmethod
    def sample(self, question, rng: random.Random):
        """A plausible answer for the demo data."""


class Choice(Kind):
    """One of a list of options (radio buttons), stored as the option's code."""

    def __init__(self, options: type[StrEnum], labels: dict):
        self.options, self.labels = options, labels

    def field(self, question):
        values = [str(value) for value in self.labels]
        first = InputRequired(question.message) if question.required else Optional()
        return RadioField(
            question.label,
            choices=choices(self.labels.items()),
            validate_choice=False,
            validators=[first, AnyOf(values, message=question.message)],
        )

    def column(self, question):
        return mapped_column(enum_type(self.options, 16), nullable=question.nullable)

    def from_form(self, data):
        return self.options(data) if data else None

    def stored(self, value):
        return None if value is None else self.options(value)

    def to_form(self, value):
        return None if value is None else str(value)

    def text(self, question, value) -> str:
        return NOTHING if value is None else str(self.labels[self.options(value)])

    def sample(self, question, rng):
        return rng.choice(list(self.options))


class Rating(Choice):
    """A mark from 1 to ``top`` (radio buttons), stored as a number."""

    def __init__(self, labels: dict[str, str]):
        self.labels = labels
        self.top = len(labels)

    def column(self, question):
        return mapped_column(sa.Integer, nullable=question.nullable)

    def from_form(self, data):
        return int(data) if data else None

    def stored(self, value):
        return value

    def text(self, question, value) -> str:
        return str(question.empty_text) if value is None else f"{value} / {self.top}"

    def sample(self, question, rng):
        return rng.randint(1, self.top)


class Checklist(Kind):
    """Any number of options (checkboxes), stored as their codes in the declared order."""

    widget = "checklist"

    def __init__(self, options: type[StrEnum], labels: dict):
        self.options, self.labels = options, labels

    def field(self, question):
        return MultiCheckboxField(
            question.label,
            choices=choices(self.labels.items()),
            validate_choice=False,
            validators=[_only_from({str(value) for value in self.labels}, question.message)],
        )

    def column(self, question):
        return mapped_column(sa.JSON, default=list, nullable=question.nullable)

    def default(self, question):
        return frozenset()

    def from_form(self, data):
        return frozenset(self.options(code) for code in data or [])

    def stored(self, value):
        return [option.value for option in self.options if option in (value or ())]

    def to_form(self, value):
        return list(value or [])

    def text(self, question, value) -> str:
        shown = listing(self.labels[self.options(code)] for code in value or [])
        return shown or str(question.empty_text)

    def sample(self, question, rng):
        return frozenset()


class Text(Kind):
    """Free text up to ``max_length`` characters, on one line or several."""

    def __init__(self, max_length: int, multiline: bool = False):
        self.max_length, self.multiline = max_length, multiline

    def field(self, question):
        validators = [DataRequired(question.message)] if question.required else [Optional()]
        if question.required_with:
            validators = [_required_with(*question.required_with, question.message)]
        validators.append(
            Length(
                max=self.max_length,
                message=_l("Keep this under %(max)d characters.", max=self.max_length),
            )
        )
        field_class = TextAreaField if self.multiline else StringField
        return field_class(question.label, validators=validators, filters=[clean_text])

    def column(self, question):
        type_ = sa.Text if self.multiline else sa.String(self.max_length)
        return mapped_column(type_, default="", nullable=question.nullable)

    def default(self, question):
        return REQUIRED if question.required and not question.nullable else ""

    def from_form(self, data):
        return data or ""

    def to_form(self, value):
        return value or ""

    def sample(self, question, rng):
        return ""
