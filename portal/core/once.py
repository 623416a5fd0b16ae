"""Once-only form tokens: a form that creates a record stores it once, however often it
is posted (a double tap, a resend after a lost answer, two requests at the same moment).

The page carries a fresh random token in a hidden field (``OnceTokenField``); the record
keeps it in a unique column; ``save_once`` looks it up before saving and lets the unique
constraint settle two posts that arrive together. Used by the visit form and by the
borrower's service requests.
"""

import re
import secrets
from collections.abc import Callable
from typing import TypeVar

from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from wtforms import HiddenField
from wtforms.validators import ValidationError

from portal.extensions import db

T = TypeVar("T")
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
OUT_OF_DATE = _l("This form is out of date. Reload the page and try again.")


def new_token() -> str:
    """A token for a form about to be shown."""
    return secrets.token_urlsafe(24)


def once_token(form, field) -> None:
    """Validator: the value is a token this app could have issued."""
    if not TOKEN_PATTERN.match(field.data or ""):
        raise ValidationError(OUT_OF_DATE)


class OnceTokenField(HiddenField):
    """The hidden once-only token of a form."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, [once_token, *(validators or [])], **kwargs)

    def issue(self) -> None:
        """Before the form is shown: keep a valid token (a resent form must match), else a new one."""
        if not self.data or self.errors:
            self.data = new_token()


def save_once(token: str, find: Callable[[str], T | None], save: Callable[[], T]) -> tuple[T, bool]:
    """Run ``save``, unless the form carrying ``token`` was saved already.

    Returns the record and whether this call stored it. ``find`` looks a record up by
    its token. When two posts race past the look-up, the unique column refuses the
    second: its savepoint is rolled back and it is answered with the first one's
    record. Refusals of ``save`` propagate; the view's transaction (portal/core/
    actions.py) commits what this call stored.
    """
    found = find(token)
    if found is not None:
        return found, False
    try:
        with db.session.begin_nested():
            record = save()
    except IntegrityError:
        found = find(token)
        if found is None:
            raise
        return found, False
    return record, True
