"""The audit search form."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Length, Optional

from portal.borrowers.masking import holds_number
from portal.core.forms import SaneDateField


class AuditSearchForm(FlaskForm):
    """Filters for the audit log; the page posts it (CSRFProtect checks the token)."""

    class Meta:
        csrf = False

    actor = StringField(_l("User"), validators=[Optional(), Length(max=64)])
    action = StringField(_l("Action"), validators=[Optional(), Length(max=64)])
    object_type = StringField(_l("Record type"), validators=[Optional(), Length(max=64)])
    object_id = StringField(_l("Record id"), validators=[Optional(), Length(max=64)])
    since = SaneDateField(_l("From"), validators=[Optional()])
    until = SaneDateField(_l("To"), validators=[Optional()])

    def args(self) -> dict:
        """The valid filters for a GET address, less a user name that holds a number."""
        values = {
            name: (self[name].data or "").strip()
            for name in ("actor", "action", "object_type", "object_id")
        }
        if holds_number(values["actor"]):
            del values["actor"]
        for name in ("since", "until"):
            if self[name].data and not self[name].errors:
                values[name] = self[name].data.isoformat()
        return {name: value for name, value in values.items() if value}
