"""What the visit form captures beside the answers: its times and the position's status.

(docs/visit-evidence.md)

The tablet's clock says when the form was opened and when the borrower signed
(static/js/visit-evidence.js); the server says when it served the form, through a
token it signs when it renders the online form (``opened_token``). Nothing here ever
refuses a visit: a value that cannot be trusted is stored as unknown (None).
"""

from datetime import UTC, datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadData, URLSafeTimedSerializer

from portal.database import utcnow

# How long a served form's opening time stays good: as long as the form's draft lives
# on the tablet (static/js/draft.js keeps a draft 72 hours), so a reloaded draft keeps
# the first opening. An older token is ignored: the server's opening time is unknown.
OPENED_TOKEN_MAX_AGE = timedelta(hours=72)
# A tablet time further than this from the server's clock is not a clock running
# wrong by a few minutes or hours but garbage (a reset tablet, a typed value): unknown.
# A week of the recording window plus the draft's three days fit well inside it.
DEVICE_TIME_BOUND = timedelta(days=31)
# What static/js/geolocation.js reports of the position: a fix, or why there is none;
# "not_asked" when the officer never pressed the button.
FIX = "fix"
NO_FIX_STATUSES = ("denied", "unavailable", "timeout", "unsupported", "not_asked")
LOCATION_STATUSES = (FIX, *NO_FIX_STATUSES)
# A visit without a position, in words: why the tablet gave none.
NO_FIX_LABELS = {
    "denied": _l("Not recorded: the tablet was refused the permission"),
    "unavailable": _l("Not recorded: the tablet found no position"),
    "timeout": _l("Not recorded: locating took too long"),
    "unsupported": _l("Not recorded: the tablet cannot locate"),
    "not_asked": _l("Not recorded: not asked for"),
}


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="portal.visits.opened")


def issue_opened_token(subject: str) -> str:
    """A token saying "the server served the form ``subject`` now" (signed, timestamped).

    ``subject`` names the user and the form (see ``opened_subject``), so a token served
    for one form proves nothing about another.
    """
    return _serializer().dumps(subject)


def opened_at_server(token: str | None, subject: str | None) -> datetime | None:
    """When the server served the form, from its token; None when the token is missing,
    forged, for another form or user, or older than ``OPENED_TOKEN_MAX_AGE``."""
    if not token or not subject or len(token) > 500:
        return None
    try:
        served_for, issued_at = _serializer().loads(
            token, max_age=int(OPENED_TOKEN_MAX_AGE.total_seconds()), return_timestamp=True
        )
    except BadData:
        return None
    if served_for != subject:
        return None
    return issued_at.astimezone(UTC).replace(microsecond=0)


def opened_subject(user_id: int, form_key: str) -> str:
    """What an opening token is bound to: the user and the form (its draft key)."""
    return f"{user_id}:{form_key}"


def device_time(text: str | None, now: datetime | None = None) -> datetime | None:
    """A tablet time ("2026-11-26T03:12:40Z", ISO 8601 with a zone) in whole UTC seconds,
    or None when it is missing, unreadable or further than ``DEVICE_TIME_BOUND`` from now."""
    if not text or len(text) > 40:
        return None
    text = text.strip()
    try:
        moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        return None
    if moment.tzinfo is None:  # a time without its zone says nothing certain
        return None
    moment = moment.astimezone(UTC).replace(microsecond=0)
    now = now or utcnow()
    if abs(moment - now) > DEVICE_TIME_BOUND:
        return None
    return moment


def location_status(reported: str | None, has_fix: bool) -> str | None:
    """The position status as stored: "fix" when the form carries a position, else what
    the tablet reported when it is one of ``NO_FIX_STATUSES``, else unknown (None)."""
    if has_fix:
        return FIX
    return reported if reported in NO_FIX_STATUSES else None
