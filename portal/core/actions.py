"""How a view that changes something ends: one transaction per request.

Every view that writes is decorated with ``@writes`` and never commits itself:

- the view returns → the transaction commits, then the response goes out;
- an operation raises ``Refused`` (each feature's refusals are subclasses) and the view
  does not catch it → everything is rolled back, the refusal's message is shown and the
  user goes back to the page they came from;
- a lost race (``StaleDataError``, a unique or foreign-key violation) or any other
  error → everything is rolled back and the error travels on to portal/core/errors.py
  (409 "someone else changed this", 503, 500).

A view says where a refusal leads in one of two ways, and catches refusals no other
way: ``attempt(step, message, target)`` runs the operation and goes to ``target`` with
either the success message or the refusal's; a view that shows its form again catches
the refusal and calls ``refused_on(form, refusal)`` (the message beside the field it
concerns). Both roll the attempt back first. Messages flashed by an attempt that did not commit are taken back, so "saved"
never appears for something that was not. ``done`` is the usual last line: a message
and a redirect (Post/Redirect/Get).
"""

from collections.abc import Callable
from functools import wraps

from flask import flash, redirect, request, session, url_for
from flask_login import current_user

from portal.accounts.models import User
from portal.core.errors import same_site_referrer
from portal.database import READ_METHODS, request_writes
from portal.extensions import db

FLASHES = "_flashes"


class Refused(Exception):  # noqa: N818 - an answer, not an error
    """An operation's "no": a message for the user, translated; nothing is written.

    ``field`` names the form field the refusal is about, when there is one.
    """

    def __init__(self, message, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return str(self.message)


def current_actor() -> User:
    """The logged-in user as a model object (operations record who acted)."""
    return current_user._get_current_object()


def _take_back(flashes: list | None) -> None:
    """Roll back, and forget the messages flashed since the view started."""
    db.session.rollback()
    if flashes:
        session[FLASHES] = flashes
    else:
        session.pop(FLASHES, None)


def writes(view: Callable) -> Callable:
    """Decorator of every view that changes data: the request is one transaction."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        flashes = list(session.get(FLASHES, []))
        if request.method in READ_METHODS:
            # A GET that writes (an export's audit row) takes SQLite's write lock up
            # front like any other write: the read begun by the login check ends here.
            request_writes()
            db.session.rollback()
        try:
            response = view(*args, **kwargs)
            db.session.commit()
        except Refused as refusal:
            _take_back(flashes)
            flash(str(refusal), "danger")
            return redirect(same_site_referrer() or url_for("core.home"))
        except BaseException:
            _take_back(flashes)
            raise
        return response

    wrapped.writes = True
    return wrapped


def settle() -> None:
    """Commit what this request has done so far: the one early commit a request may make.

    For a write that talks to another service inside a request (a code texted through
    the SMS gateway): the record is stored before the message leaves, no transaction
    (on SQLite, the write lock) is held while the gateway answers, and a failed
    delivery is recorded even though the request then ends in a refusal.
    """
    db.session.commit()


def refused_on(form, refusal: Refused) -> None:
    """Show ``refusal`` beside its field (or as a message); the attempt is rolled back.

    For a view that shows its form again after a refusal, instead of going back.
    """
    db.session.rollback()
    field = form._fields.get(refusal.field) if refusal.field else None
    if field is not None:
        field.errors = [*field.errors, str(refusal)]
    else:
        flash(str(refusal), "danger")


def attempt(step: Callable[[], object], message, target: str):
    """Run the operation ``step``, then go to ``target`` with ``message`` or the refusal."""
    try:
        step()
    except Refused as refusal:
        db.session.rollback()
        flash(str(refusal), "danger")
        return redirect(target)
    return done(message, target)


def done(message, target: str, category: str = "success"):
    """The end of a successful write: tell the user, and go to ``target``."""
    flash(message, category)
    return redirect(target)
