"""Forms of the care feature: occasions, greeting templates, the outbox filter."""

from calendar import monthrange
from dataclasses import dataclass
from math import ceil

import sqlalchemy as sa
from flask_babel import get_translations
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from portal.branches.forms import branch_choices
from portal.care.greetings import PLACEHOLDER_LIST, TemplateError, check_template
from portal.care.models import BIRTHDAY, Occasion
from portal.care.occasions import BUILT_IN_BY_CODE, SOLAR_TERM_LABELS, SOLAR_TERMS
from portal.core.forms import choices, code_field, optional_id
from portal.extensions import db

CALENDAR_LABELS = {
    "gregorian": _l("Gregorian date"),
    "lunar": _l("Lunar date"),
    "solar_term": _l("Solar term"),
}


class OccasionForm(FlaskForm):
    """The admin adds or edits an occasion; dates are rules, never typed-in days."""

    code = code_field()
    name_zh = StringField(_l("Name in Chinese"), validators=[DataRequired(), Length(max=50)])
    name_en = StringField(_l("Name in English"), validators=[DataRequired(), Length(max=80)])
    calendar = SelectField(
        _l("Calendar"), choices=choices(CALENDAR_LABELS.items()), validators=[DataRequired()]
    )
    month = IntegerField(
        _l("Month"),
        validators=[Optional(), NumberRange(1, 12, message=_l("The month must be 1 to 12."))],
    )
    day = IntegerField(
        _l("Day"),
        validators=[Optional(), NumberRange(1, 31, message=_l("The day must be 1 to 31."))],
    )
    term_name = SelectField(
        _l("Solar term"),
        choices=choices([("", "—")] + [(t, SOLAR_TERM_LABELS[t]) for t in SOLAR_TERMS]),
    )
    active = BooleanField(_l("Send greetings for this occasion"), default=True)
    submit = SubmitField(_l("Save"))

    def __init__(self, *args, editing: Occasion | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if editing is not None:
            del self.code  # greetings already sent refer to it

    def validate_code(self, field):
        if field.data == BIRTHDAY or field.data in BUILT_IN_BY_CODE:
            raise ValidationError(_l("This code belongs to a built-in occasion."))
        if db.session.scalar(sa.select(Occasion.id).where(Occasion.code == field.data)):
            raise ValidationError(_l("Another occasion already has this code."))

    def validate(self, extra_validators=None) -> bool:
        """The per-field checks, then the ones that depend on the chosen calendar."""
        valid = super().validate(extra_validators)
        problems = self._calendar_problems()
        for field, message in problems:
            field.errors.append(message)
        return valid and not problems

    def _calendar_problems(self) -> list:
        # Done here, not in validate_<field>: Optional() would skip those for empty fields.
        calendar, month, day = self.calendar.data, self.month.data, self.day.data
        if calendar == "solar_term":
            return [] if self.term_name.data else [(self.term_name, _l("Choose the solar term."))]
        if calendar not in ("gregorian", "lunar") or self.month.errors or self.day.errors:
            return []
        problems = []
        if month is None:
            problems.append((self.month, _l("Give the month.")))
        if day is None:
            problems.append((self.day, _l("Give the day.")))
        elif calendar == "lunar" and day > 30:
            problems.append((self.day, _l("A lunar month has at most 30 days.")))
        # 2000 is a leap year, so 29 February is accepted (greeted on the 28th otherwise).
        elif calendar == "gregorian" and month and day > monthrange(2000, month)[1]:
            problems.append((self.day, _l("This day does not exist in that month.")))
        return problems

    def values(self) -> dict:
        """The fields the operations take; fields the calendar does not use are cleared."""
        dated = self.calendar.data in ("gregorian", "lunar")
        return {
            "code": self.code.data if "code" in self else None,
            "calendar": self.calendar.data,
            "month": self.month.data if dated else None,
            "day": self.day.data if dated else None,
            "term_name": self.term_name.data if self.calendar.data == "solar_term" else None,
            "name_zh": self.name_zh.data.strip(),
            "name_en": self.name_en.data.strip(),
            "active": self.active.data,
        }


# What an SMS holds in UCS-2 (any Chinese text): 70 characters alone, 67 per part once
# it is split, because each part carries the header that joins them again.
SMS_SINGLE = 70
SMS_PART = 67


def sms_length(text: str) -> int:
    """Characters as the gateway counts them (UTF-16 units, as JavaScript's length does)."""
    return len(text.encode("utf-16-le")) // 2


def sms_parts(length: int) -> int:
    """How many SMS a text of ``length`` characters is sent as."""
    if length <= SMS_SINGLE:
        return 1 if length else 0
    return ceil(length / SMS_PART)


@dataclass(frozen=True)
class SmsCost:
    """The length of a greeting and the SMS parts it costs; ``filled``: placeholders filled in."""

    length: int
    parts: int
    filled: bool


def plural_patterns(singular: str, plural: str) -> dict[str, str]:
    """The translated forms, "%(num)d" left in, for the counter script (zh and en: one/other)."""
    translations = get_translations()
    return {
        "one": translations.ngettext(singular, plural, 1),
        "other": translations.ngettext(singular, plural, 2),
    }


class TemplateForm(FlaskForm):
    """The wording of one occasion's greeting in one language."""

    body = TextAreaField(
        _l("Greeting text"),
        validators=[DataRequired(), Length(max=1000)],
        description=_l("Placeholders: %(list)s", list=PLACEHOLDER_LIST),
        render_kw={"rows": 5},
    )
    submit = SubmitField(_l("Save"))

    sms_single, sms_part = SMS_SINGLE, SMS_PART

    def sms_patterns(self) -> dict[str, dict[str, str]]:
        """The counter script's wording, by what it counts."""
        return {
            "length": plural_patterns("%(num)d character", "%(num)d characters"),
            "parts": plural_patterns("%(num)d SMS part", "%(num)d SMS parts"),
        }

    def sms_cost(self, filled: str | None) -> SmsCost:
        """The cost of ``filled`` (the preview, sample values in), else of the text as typed."""
        text = filled if filled is not None else (self.body.data or "")
        length = sms_length(text.strip())
        return SmsCost(length, sms_parts(length), filled is not None)

    def validate_body(self, field):
        try:
            check_template(field.data)
        except TemplateError as error:
            raise ValidationError(str(error)) from error


class OutboxFilterForm(FlaskForm):
    """The admin picks a branch; a GET form, so no CSRF token."""

    class Meta:
        csrf = False

    branch = SelectField(_l("Branch"), validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.branch.choices = branch_choices(_l("All branches"), with_closed=True)

    @property
    def branch_id(self) -> int | None:
        return optional_id(self.branch.data)
