"""Flask-Login wiring: the cookie carries a server-side session token."""

from flask import Flask, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal.accounts.operations import load_session_user
from portal.extensions import login_manager

# Endpoints a user who must change their password may still reach.
OPEN_WHILE_CHANGING = {"accounts.change_password", "accounts.logout", "static", "core.healthz"}


def force_password_change():
    """Send users with a temporary password to the change form first."""
    if (
        current_user.is_authenticated
        and current_user.must_change_password
        and request.endpoint not in OPEN_WHILE_CHANGING
    ):
        return redirect(url_for("accounts.change_password"))
    return None


def init_app(app: Flask) -> None:
    """Register the loader and the password-change gate."""
    login_manager.user_loader(load_session_user)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"
    # Our own server-side sessions replace Flask-Login's fingerprinting.
    login_manager.session_protection = None
    app.before_request(force_password_change)
