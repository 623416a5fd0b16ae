"""Friendly error pages in the user's language."""

import logging
from urllib.parse import urlsplit

from flask import Flask, g, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from portal.extensions import db, login_manager

log = logging.getLogger(__name__)

MESSAGES = {
    400: (
        _l("Bad request"),
        _l("The request could not be understood. Please go back and try again."),
    ),
    403: (_l("Not allowed"), _l("You do not have permission to see this page.")),
    404: (_l("Not found"), _l("This page does not exist, or it has been moved.")),
    405: (_l("Not allowed"), _l("This action is not possible here.")),
    409: (
        _l("Changed meanwhile"),
        _l("Someone else changed this record meanwhile. Please look at it again."),
    ),
    413: (_l("Too large"), _l("What you sent is too large. Please send a smaller file.")),
    429: (_l("Too many attempts"), _l("Too many attempts. Please wait a minute and try again.")),
    500: (
        _l("Something went wrong"),
        _l("An unexpected error occurred. Nothing was saved. Please try again."),
    ),
    503: (_l("Busy"), _l("The system is busy. Nothing was saved. Please try again in a moment.")),
}
CONFLICT_MESSAGE = MESSAGES[409][1]
# SQLSTATE classes of a lost race: unique and foreign-key violations.
RACE_SQLSTATES = {"23505", "23503"}
CSRF_MESSAGE = _l(
    "This form has expired or was not sent from this site. Please reload the page and try again."
)


def same_site_referrer() -> str | None:
    """Where the user came from, if that is a page of ours (the "look again" link)."""
    referrer = request.referrer
    if referrer and urlsplit(referrer).netloc == request.host:
        return referrer
    return None


def render_error(code: int, message=None):
    """Render the error page for ``code``; a plain page when even that fails."""
    title, default_message = MESSAGES.get(code, MESSAGES[500])
    message = message or default_message
    if request.accept_mimetypes.best == "application/json":
        return {"error": str(title), "message": str(message)}, code
    try:
        page = render_template(
            "errors/error.html",
            code=code,
            title=title,
            message=message,
            back_url=same_site_referrer(),
        )
    except Exception:  # the page's own layout failed (database gone): never an empty 500
        log.exception("error page failed")
        page = f"<!doctype html><title>{escape(title)}</title><p>{escape(message)}</p>"
    return page, code


def handle_http_error(error: HTTPException):
    return render_error(error.code or 500)


def handle_csrf_error(error: CSRFError):
    return render_error(400, CSRF_MESSAGE)


def _rollback() -> None:
    """Forget the failed transaction; a connection that is gone cannot even roll back."""
    try:
        db.session.rollback()
    except DBAPIError:
        db.session.invalidate()


def _as_visitor() -> None:
    """Render the next page without asking the database who is logged in."""
    if "_login_user" not in g:
        g._login_user = login_manager.anonymous_user()


def database_unavailable(error: Exception) -> bool:
    """True when ``error`` says the database is busy or out of reach, not that we erred."""
    if isinstance(error, InterfaceError | PoolTimeout):
        return True
    if not isinstance(error, OperationalError):
        return False
    if getattr(error, "connection_invalidated", False):
        return True
    if db.engine.dialect.name == "sqlite":
        text = str(error.orig).lower()
        return "locked" in text or "busy" in text
    return True  # PostgreSQL: connection lost, server shutting down, deadlock, serialization


def handle_database_error(error: DBAPIError):
    _rollback()
    _as_visitor()
    if database_unavailable(error):
        log.warning("database unavailable: %s", error)
        return render_error(503)
    log.exception("database error")
    return render_error(500)


def is_race(error: IntegrityError) -> bool:
    """A unique or foreign-key violation: another request won, the input was fine."""
    code = getattr(error.orig, "sqlstate", None)
    if code is not None:
        return code in RACE_SQLSTATES
    text = str(error.orig)
    return "UNIQUE constraint failed" in text or "FOREIGN KEY constraint failed" in text


def handle_integrity_error(error: IntegrityError):
    if not is_race(error):
        return handle_database_error(error)
    _rollback()
    log.warning("lost a race: %s", error.orig)
    return render_error(409)


def handle_stale_data(error: StaleDataError):
    _rollback()
    log.warning("optimistic lock: %s", error)
    return render_error(409)


def handle_unexpected(error: Exception):
    _rollback()
    log.exception("unhandled error")
    return render_error(500)


def init_app(app: Flask) -> None:
    """Register the handlers."""
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(DBAPIError, handle_database_error)
    app.register_error_handler(PoolTimeout, handle_database_error)
    app.register_error_handler(IntegrityError, handle_integrity_error)
    app.register_error_handler(StaleDataError, handle_stale_data)
    app.register_error_handler(Exception, handle_unexpected)
