"""The vocabulary of the route x role matrix (tests/test_access_matrix.py)."""

from dataclasses import dataclass, field

ROLES = ("admin", "head", "officer", "borrower")
EVERYONE = frozenset(ROLES)
STAFF = frozenset({"admin", "head", "officer"})
MANAGERS = frozenset({"admin", "head"})
ADMIN = frozenset({"admin"})
PUBLIC = None  # reachable without logging in


@dataclass(frozen=True)
class Route:
    """One request and the roles allowed to make it.

    ``path`` is formatted with the World's records (``{own_borrower.id}``) and the
    feature's ``objects``. Allowed roles must get one of ``ok_statuses``; the others
    ``denied_status``. ``data`` is posted with a valid CSRF token.
    """

    endpoint: str
    method: str
    path: str
    allowed: frozenset | None
    data: dict = field(default_factory=dict, hash=False)
    ok_statuses: tuple = (200, 302)
    denied_status: int = 403
