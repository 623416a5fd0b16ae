"""Forms of the services feature."""

from datetime import timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from portal.accounts.models import User
from portal.core.calendar import local_today
from portal.core.forms import MultiCheckboxField, SaneDateField, choices
from portal.core.once import OnceTokenField
from portal.extensions import db
from portal.services.models import ServiceKind


def kind_choices(active_only: bool = True) -> list:
    """Kinds of service for a select box, in catalogue order."""
    stmt = sa.select(ServiceKind).order_by(ServiceKind.position, ServiceKind.code)
    if active_only:
        stmt = stmt.where(ServiceKind.active)
    return choices((kind.code, kind.name) for kind in db.session.scalars(stmt))


def staff_choices(staff: list[User]) -> list:
    """Staff members for a select box, with an empty first choice."""
    return choices(
        [("", _l("— choose —"))] + [(u.id, f"{u.display_name} ({u.role.label})") for u in staff]
    )


def offered_kind(form, field):
    """The chosen kind is one of the select's (active) kinds."""
    if field.data not in {choice.value for choice in field.choices}:
        raise ValidationError(_l("Choose a service."))


def from_the_list(form, field):
    """Every ticked id is one the page offered (a tampered id is refused, not ignored)."""
    offered = {choice.value for choice in field.choices}
    if any(value not in offered for value in field.data or []):
        raise ValidationError(_l("Tick only requests from the list."))


def not_in_the_past(form, field):
    """Dates of a plan are today or later (company time zone)."""
    if field.data and field.data < local_today():
        raise ValidationError(_l("Choose today or a later date."))


def within_a_year(form, field):
    if field.data and field.data > local_today() + timedelta(days=366):
        raise ValidationError(_l("Choose a date within the next year."))


class ServiceRequestForm(FlaskForm):
    """A borrower asks for a service."""

    idempotency_token = OnceTokenField()
    kind = SelectField(
        _l("Which service do you need?"),
        validators=[DataRequired(message=_l("Choose a service.")), offered_kind],
        validate_choice=False,
    )
    description = TextAreaField(
        _l("What do you need, in a few words?"),
        validators=[
            DataRequired(message=_l("Please describe what you need.")),
            Length(min=5, max=1000, message=_l("Write between 5 and 1000 characters.")),
        ],
        render_kw={"rows": 4},
    )
    preferred_time = StringField(
        _l("When suits you? (optional)"),
        validators=[Optional(), Length(max=100, message=_l("At most 100 characters."))],
        render_kw={"placeholder": _l("e.g. weekday mornings, after the harvest")},
    )
    submit = SubmitField(_l("Send request"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = choices([("", _l("— choose —"))]) + kind_choices()


class RatingForm(FlaskForm):
    """The borrower rates a completed service."""

    rating = RadioField(
        _l("How helpful was it? (1 = not at all, 5 = very)"),
        choices=choices((n, n) for n in range(1, 6)),
        validators=[InputRequired(message=_l("Choose a rating from 1 to 5."))],
    )
    comment = TextAreaField(
        _l("Comment (optional)"),
        validators=[Optional(), Length(max=1000, message=_l("At most 1000 characters."))],
        render_kw={"rows": 3},
    )
    submit = SubmitField(_l("Send rating"))


def partner_name_field():
    """The outside organisation that delivers a service (optional)."""
    return StringField(
        _l("Outside partner who delivers it (optional)"),
        validators=[Optional(), Length(max=100, message=_l("At most 100 characters."))],
        filters=[lambda value: value.strip() if value else value],
    )


def partner_contact_field():
    """Who to reach at the partner, and how (optional)."""
    return StringField(
        _l("Partner contact: person and telephone (optional)"),
        validators=[
            Optional(),
            Length(max=100, message=_l("At most 100 characters.")),
            check_partner_contact,
        ],
        filters=[lambda value: value.strip() if value else value],
    )


def check_partner_contact(form, field) -> None:
    """A contact belongs to a named partner."""
    if field.data and not form.partner_name.data:
        raise ValidationError(_l("Name the partner organisation of this contact."))


class AssignForm(FlaskForm):
    """The branch head accepts a request for a staff member and a date."""

    # validate_choice is off: validate_assignee_id gives the one clear message.
    assignee_id = SelectField(
        _l("Assign to"),
        validators=[DataRequired(message=_l("Choose who will help."))],
        validate_choice=False,
    )
    planned_on = SaneDateField(
        _l("Planned date"),
        validators=[
            InputRequired(message=_l("Enter a valid date.")),
            not_in_the_past,
            within_a_year,
        ],
    )
    partner_name = partner_name_field()
    partner_contact = partner_contact_field()
    note = StringField(
        _l("Note (optional)"),
        validators=[Optional(), Length(max=200, message=_l("At most 200 characters."))],
    )
    submit = SubmitField(_l("Assign"))

    def __init__(self, *args, staff: list[User], **kwargs):
        super().__init__(*args, **kwargs)
        self.assignee_id.choices = staff_choices(staff)
        self.staff = {str(user.id): user for user in staff}

    def validate_assignee_id(self, field):
        if field.data and field.data not in self.staff:
            raise ValidationError(_l("Choose a staff member of this branch."))

    @property
    def assignee(self) -> User | None:
        return self.staff.get(self.assignee_id.data)


class DeclineForm(FlaskForm):
    """Decline with a reason the borrower will read."""

    reason = TextAreaField(
        _l("Reason (the borrower will read it)"),
        validators=[
            DataRequired(message=_l("Give the reason for declining.")),
            Length(min=5, max=1000, message=_l("Write between 5 and 1000 characters.")),
        ],
        render_kw={"rows": 3},
    )
    submit = SubmitField(_l("Decline request"))


class CompleteForm(FlaskForm):
    """The assignee reports what was done."""

    notes = TextAreaField(
        _l("What was done"),
        validators=[
            DataRequired(message=_l("Describe what was done.")),
            Length(min=5, max=2000, message=_l("Write between 5 and 2000 characters.")),
        ],
        render_kw={"rows": 4},
    )
    submit = SubmitField(_l("Mark completed"))


class SessionForm(FlaskForm):
    """Plan a group session."""

    branch_id = SelectField(_l("Branch"), validators=[DataRequired(message=_l("Choose a branch."))])
    title = StringField(
        _l("Title"),
        validators=[
            DataRequired(message=_l("Enter a title.")),
            Length(max=200, message=_l("At most 200 characters.")),
        ],
    )
    kind = SelectField(
        _l("Service"),
        validators=[DataRequired(message=_l("Choose a service.")), offered_kind],
        validate_choice=False,
    )
    held_on = SaneDateField(
        _l("Date"),
        validators=[
            InputRequired(message=_l("Enter a valid date.")),
            not_in_the_past,
            within_a_year,
        ],
    )
    place = StringField(
        _l("Place"),
        validators=[
            DataRequired(message=_l("Enter the place.")),
            Length(max=200, message=_l("At most 200 characters.")),
        ],
    )
    trainer = StringField(
        _l("Trainer"),
        validators=[
            DataRequired(message=_l("Enter the trainer's name.")),
            Length(max=100, message=_l("At most 100 characters.")),
        ],
    )
    partner_name = partner_name_field()
    partner_contact = partner_contact_field()
    organizer_id = SelectField(
        _l("Organizer (staff)"),
        validators=[DataRequired(message=_l("Choose who will help."))],
        validate_choice=False,
    )
    submit = SubmitField(_l("Create session"))

    def __init__(self, *args, branches: list, staff: list[User], **kwargs):
        super().__init__(*args, **kwargs)
        if len(branches) == 1:
            # A head plans sessions of their own branch only: the branch is shown, not
            # chosen, and whatever a post says, the session is the head's branch's.
            self.branch_id.choices = branches
            self.branch_id.data = branches[0].value
            self.branch_id.render_kw = {"disabled": True}
        else:
            self.branch_id.choices = choices([("", _l("— choose —"))]) + branches
        self.kind.choices = choices([("", _l("— choose —"))]) + kind_choices()
        self.organizer_id.choices = staff_choices(staff)
        self.staff = {str(user.id): user for user in staff}

    def validate_organizer_id(self, field):
        organizer = self.staff.get(field.data)
        if organizer is None or str(organizer.branch_id) != self.branch_id.data:
            raise ValidationError(_l("Choose a staff member of this branch."))

    @property
    def organizer(self) -> User | None:
        return self.staff.get(self.organizer_id.data)


class AddRequestsForm(FlaskForm):
    """Pick open requests to serve in a session."""

    request_ids = MultiCheckboxField(
        _l("Open requests of this kind"),
        validators=[DataRequired(message=_l("Tick at least one request.")), from_the_list],
        validate_choice=False,
    )
    submit = SubmitField(_l("Add to session"))


class AttendanceForm(FlaskForm):
    """Who came to the session."""

    attended = MultiCheckboxField(_l("Attended"), validators=[from_the_list], validate_choice=False)
    submit = SubmitField(_l("Save attendance"))


class KindForm(FlaskForm):
    """The admin edits a kind of service."""

    code = StringField(
        _l("Code"),
        validators=[
            DataRequired(message=_l("Enter a code.")),
            Length(max=32, message=_l("At most 32 characters.")),
            Regexp(
                r"^[a-z][a-z0-9_]*$",
                message=_l(
                    "Use lower-case letters, digits and underscores, starting with a letter."
                ),
            ),
        ],
    )
    name_zh = StringField(
        _l("Name in Chinese"),
        validators=[
            DataRequired(message=_l("Enter the name in Chinese.")),
            Length(max=100, message=_l("At most 100 characters.")),
        ],
    )
    name_en = StringField(
        _l("Name in English"),
        validators=[
            DataRequired(message=_l("Enter the name in English.")),
            Length(max=100, message=_l("At most 100 characters.")),
        ],
    )
    response_days = IntegerField(
        _l("First response within (days)"),
        validators=[
            InputRequired(message=_l("Enter a whole number of days from 1 to 60.")),
            NumberRange(min=1, max=60, message=_l("Enter a whole number of days from 1 to 60.")),
        ],
    )
    position = IntegerField(
        _l("Order in lists"),
        default=100,
        validators=[
            InputRequired(message=_l("Enter a number from 0 to 999.")),
            NumberRange(min=0, max=999, message=_l("Enter a number from 0 to 999.")),
        ],
    )
    active = BooleanField(_l("Offered to borrowers"), default=True)
    submit = SubmitField(_l("Save"))

    def __init__(self, *args, editing: ServiceKind | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if editing is not None:
            del self.code  # the code links requests and visit forms; it never changes

    def validate_code(self, field):
        if db.session.get(ServiceKind, field.data) is not None:
            raise ValidationError(_l("This code is already used."))


class PeriodForm(FlaskForm):
    """From and to dates of a report (a GET form)."""

    class Meta:
        csrf = False

    start = SaneDateField(
        _l("From"), name="from", validators=[InputRequired(message=_l("Enter a valid date."))]
    )
    end = SaneDateField(
        _l("To"), name="to", validators=[InputRequired(message=_l("Enter a valid date."))]
    )

    def validate_end(self, field):
        if self.start.data and field.data and field.data < self.start.data:
            raise ValidationError(_l("The end date must not be before the start date."))
        if self.start.data and field.data and (field.data - self.start.data).days > 3660:
            raise ValidationError(_l("Choose a period of at most ten years."))
