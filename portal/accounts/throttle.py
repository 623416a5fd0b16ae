"""How fast logins may be tried, without letting a stranger lock anyone out.

Three Flask-Limiter buckets guard ``POST /login`` (settings in README, "Configuration"):

- ``LOGIN_RATE_LIMIT`` per username *and* address: every attempt counts; past it, that
  address waits even with the right password. This is what stops guessing.
- ``LOGIN_ADDRESS_RATE_LIMIT`` per address: failed attempts on any usernames, against
  trying one password on many accounts.
- ``LOGIN_USERNAME_RATE_LIMIT`` per username alone: failed attempts from anywhere, a
  slower limit against guessing spread over many addresses. It does not apply to a
  browser in which this user logged in before (a signed "device" cookie), so the
  owner still gets in while strangers keep the bucket full.
"""

from datetime import timedelta

from flask import Response, current_app, request
from flask_limiter.util import get_remote_address
from itsdangerous import BadSignature, URLSafeTimedSerializer

from portal.accounts.models import User
from portal.accounts.operations import find_user, mobile_like, normalize_username
from portal.core.crypto import blind_index

DEVICE_COOKIE = "portal_device"
DEVICE_LIFETIME = timedelta(days=180)
DEVICE_MAX_USERS = 8  # a shared office tablet remembers its last few users


def per_username_and_address() -> str:
    """Bucket key of one username tried from one address."""
    return f"login:{_bucket_name()}@{get_remote_address()}"


def per_address() -> str:
    """Bucket key of one address, whatever the username."""
    return f"login-from:{get_remote_address()}"


def per_username() -> str:
    """Bucket key of one username, whatever the address."""
    return f"login-as:{_bucket_name()}"


def login_failed(response: Response) -> bool:
    """Only attempts that did not log in count against the failure buckets."""
    return response.status_code != 302


def known_device() -> bool:
    """Whether this browser carries proof that the named user logged in with it before."""
    if request.method != "POST":
        return False
    remembered = _device_user_ids()
    if not remembered:
        return False
    user = find_user(_username())
    return user is not None and user.id in remembered


def remember_device(response: Response, user: User) -> None:
    """After a successful login, mark this browser as one ``user`` uses."""
    ids = [user.id] + [i for i in _device_user_ids() if i != user.id]
    response.set_cookie(
        DEVICE_COOKIE,
        _serializer().dumps(ids[:DEVICE_MAX_USERS]),
        max_age=int(DEVICE_LIFETIME.total_seconds()),
        path="/login",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Lax",
    )


def _username() -> str:
    return normalize_username(request.form.get("username", ""))[:64]


def _bucket_name() -> str:
    """The typed name as the counters' store keeps it: keyed-hashed, since borrowers type
    their mobile number and the store (Redis) is no place for one in clear."""
    return blind_index(mobile_like(_username()) or _username())[:32]


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="portal.login-device")


def _device_user_ids() -> list[int]:
    token = request.cookies.get(DEVICE_COOKIE)
    if not token:
        return []
    try:
        ids = _serializer().loads(token, max_age=int(DEVICE_LIFETIME.total_seconds()))
    except BadSignature:
        return []
    return [i for i in ids if isinstance(i, int)] if isinstance(ids, list) else []
