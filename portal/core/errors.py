"""Friendly error pages in the user's language."""

import logging

from flask import Flask, g, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
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
    413: (_l("Too large"), _l("What you sent is too large. Please send a smaller file.")),
    429: (_l("Too many attempts"), _l("Too many attempts. Please wait a minute and try again.")),
    500: (
        _l("Something went wrong"),
        _l("An unexpected error occurred. Nothing was saved. Please try again."),
    ),
    503: (_l("Busy"), _l("The system is busy. Nothing was saved. Please try again in a moment.")),
}
CSRF_MESSAGE = _l(
    "This form has expired or was not sent from this site. Please reload the page and try again."
)


def render_error(code: int, message=None):
    """Render the error page for ``code``."""
    title, default_message = MESSAGES.get(code, MESSAGES[500])
    wants_json = request.accept_mimetypes.best == "application/json"
    if wants_json:
        return {"error": str(title), "message": str(message or default_message)}, code
    return render_template(
        "errors/error.html", code=code, title=title, message=message or default_message
    ), code


def handle_http_error(error: HTTPException):
    return render_error(error.code or 500)


def handle_csrf_error(error: CSRFError):
    return render_error(400, CSRF_MESSAGE)


def handle_operational_error(error: OperationalError):
    db.session.rollback()
    # The page must render without the database: show it as to a visitor.
    if "_login_user" not in g:
        g._login_user = login_manager.anonymous_user()
    if "locked" in str(error.orig).lower() or "busy" in str(error.orig).lower():
        log.warning("database busy: %s", error.orig)
        return render_error(503)
    log.exception("database error")
    return render_error(500)


def handle_unexpected(error: Exception):
    db.session.rollback()
    log.exception("unhandled error")
    return render_error(500)


def init_app(app: Flask) -> None:
    """Register the handlers."""
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(OperationalError, handle_operational_error)
    app.register_error_handler(Exception, handle_unexpected)
