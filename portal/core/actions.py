"""The end of a view that changes something: one operation, one commit, one message."""

from collections.abc import Callable

from flask import abort, flash, redirect
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from portal.accounts.models import User
from portal.core.errors import CONFLICT_MESSAGE
from portal.extensions import db


def current_actor() -> User:
    """The logged-in user as a model object (operations record who acted)."""
    return current_user._get_current_object()


def apply_step(
    step: Callable[[], object],
    message: str,
    target: str,
    refused: type[Exception] | tuple[type[Exception], ...] = (),
):
    """Run ``step``, commit and flash ``message``; a refusal or a lost race is explained."""
    try:
        step()
        db.session.commit()
    except refused as error:
        db.session.rollback()
        flash(str(error), "danger")
    except StaleDataError:
        db.session.rollback()
        flash(CONFLICT_MESSAGE, "warning")
    else:
        flash(message, "success")
    return redirect(target)


def or_404(value):
    """``value``, or a 404 when there is none."""
    if value is None:
        abort(404)
    return value
