"""The borrower's choice of channels per topic of notices."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SubmitField

from portal.notices import channels


class ChannelsForm(FlaskForm):
    """An "in the portal" and a "by SMS" box per topic (``<topic>_portal``, ``<topic>_sms``).

    The portal box of a topic that is not optional is shown ticked and disabled, and
    stays on whatever is posted.
    """

    services_portal = BooleanField(_l("In the portal"))
    services_sms = BooleanField(_l("By SMS"))
    complaints_portal = BooleanField(_l("In the portal"))
    complaints_sms = BooleanField(_l("By SMS"))
    events_portal = BooleanField(_l("In the portal"))
    events_sms = BooleanField(_l("By SMS"))
    sessions_portal = BooleanField(_l("In the portal"))
    sessions_sms = BooleanField(_l("By SMS"))
    submit = SubmitField(_l("Save"))

    @staticmethod
    def data_of(current: dict[str, channels.Choice]) -> dict:
        """The form's data for the saved choices."""
        data = {}
        for topic, choice in current.items():
            data[f"{topic}_portal"], data[f"{topic}_sms"] = choice.portal, choice.sms
        return data

    def wanted(self) -> dict[str, channels.Choice]:
        """The posted choices, a required portal channel kept on."""
        return {
            topic: channels.Choice(
                portal=bool(self[f"{topic}_portal"].data) or topic not in channels.OPTIONAL,
                sms=bool(self[f"{topic}_sms"].data),
            )
            for topic in channels.TOPICS
        }
