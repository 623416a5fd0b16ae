"""Authorization, asked the same way by every view.

Role gates sit on the view (``@roles_required``); object gates on the model
(``obj.visible_to(user)``), loaded through ``get_visible_or_404``.
"""

from collections.abc import Callable
from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from portal.accounts.models import STAFF_ROLES, Role
from portal.extensions import db


def require(condition: bool) -> None:
    """Answer 403 unless ``condition`` holds."""
    if not condition:
        abort(403)


def roles_required(*roles: Role) -> Callable:
    """Let only logged-in users holding one of ``roles`` reach the view."""

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(*args, **kwargs):
            require(current_user.role in roles)
            return view(*args, **kwargs)

        wrapped.allowed_roles = frozenset(roles)
        return wrapped

    return decorator


def staff_required(view: Callable) -> Callable:
    """Any staff role."""
    return roles_required(*STAFF_ROLES)(view)


def or_404(value):
    """``value``, or a 404 when there is none: how a missing thing is spelled."""
    if value is None:
        abort(404)
    return value


def get_visible_or_404(model, object_id):
    """Load ``model`` by id: 404 when missing, then 403 unless visible to the user."""
    obj = or_404(db.session.get(model, object_id))
    require(obj.visible_to(current_user))
    return obj
