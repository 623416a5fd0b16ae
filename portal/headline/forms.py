"""The period picker of the headline pages: a first and a last month (a GET form)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field
from wtforms.validators import ValidationError
from wtforms.widgets import MonthInput

from portal.core.calendar import Month
from portal.headline.queries import LONGEST, Period


class MonthField(Field):
    """A calendar month typed as ``2026-01`` (what ``<input type=month>`` sends).

    Left out or left empty, it keeps its default; anything else that is not a month is
    refused with a message, and the text typed is shown again.
    """

    widget = MonthInput()

    def process_formdata(self, valuelist):
        text = valuelist[0].strip() if valuelist else ""
        if not text:
            return
        try:
            self.data = Month.parse(text)
        except ValueError:
            self.data = None
            raise ValueError(_l("Enter a month as year and month, for example 2026-01.")) from None

    def _value(self) -> str:
        if self.data is None and self.raw_data:
            return self.raw_data[0][:20]
        return str(self.data) if self.data else ""


class PeriodForm(FlaskForm):
    """From one month to another, both included, up to this month."""

    class Meta:
        csrf = False

    first = MonthField(_l("From month"), name="from")
    last = MonthField(_l("To month"), name="to")

    def __init__(self, formdata, today, **kwargs):
        default = Period.default(today)
        super().__init__(formdata, data={"first": default.first, "last": default.last}, **kwargs)
        self.today = today

    def validate_last(self, field):
        first, last = self.first.data, field.data
        if first is None or last is None:
            return
        if last > Month.containing(self.today):
            raise ValidationError(_l("The period cannot end after this month."))
        if last < first:
            raise ValidationError(_l("The last month must not be before the first."))
        if (last.year - first.year) * 12 + last.month - first.month >= LONGEST:
            raise ValidationError(_l("Choose a period of at most ten years."))

    def period(self) -> Period:
        """The period chosen (call after a successful ``validate``)."""
        return Period(self.first.data, self.last.data, self.today)
