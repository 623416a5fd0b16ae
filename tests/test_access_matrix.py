"""Every route of the app, walked with every role and without login.

Each feature lists its routes in ``tests/<feature>/routes.py`` (``ROUTES``, a list of
``Route``; optionally ``objects(app, world) -> dict`` for extra ids its paths need).
A route missing from every list fails the first test, so no route can be added
without saying who may reach it. Several rows may name one endpoint, e.g. the same
page for one's own borrower and for another branch's (object-level checks).

The "reassigned" scenario walks the same table again after the head has moved the
World's own borrower from ``officer`` to a new officer: every row the officer may
reach that names a record is about that borrower, so the former officer must now be
refused and the new officer let in (unless the record is in ``NOT_THE_BORROWERS``).
"""

import importlib
import re
from pathlib import Path

import pytest

from portal.accounts.models import Role, User
from portal.borrowers.models import Borrower
from portal.borrowers.operations import reassign
from portal.branches.models import Branch
from portal.extensions import db
from tests.factories import make_user, user_ref
from tests.routes import ADMIN, EVERYONE, PUBLIC, ROLES, Route

ROUTES: list[Route] = [
    Route("core.home", "GET", "/", EVERYONE),
    Route("core.healthz", "GET", "/healthz", PUBLIC),
    Route("core.set_language", "POST", "/language", PUBLIC),
    Route("accounts.login", "GET", "/login", PUBLIC),
    Route("accounts.logout", "POST", "/logout", EVERYONE),
    Route("accounts.preferences", "GET", "/account", EVERYONE),
    Route("accounts.change_password", "GET", "/account/password", EVERYONE),
    Route("accounts.staff_list", "GET", "/admin/users", ADMIN),
    Route("accounts.staff_create", "GET", "/admin/users/new", ADMIN),
    Route("accounts.staff_edit", "GET", "/admin/users/{officer.id}", ADMIN),
    Route("accounts.staff_toggle_active", "POST", "/admin/users/{other_officer.id}/active", ADMIN),
    Route(
        "accounts.staff_reset_password",
        "POST",
        "/admin/users/{other_officer.id}/reset-password",
        ADMIN,
    ),
    Route("branches.index", "GET", "/admin/branches/", ADMIN),
    Route("branches.create", "GET", "/admin/branches/new", ADMIN),
    Route("branches.edit", "GET", "/admin/branches/{branch.id}", ADMIN),
    Route("audit.index", "GET", "/admin/audit/", ADMIN),
]
UNGUARDED = {"static", "bootstrap.static"}
FEATURE_MODULES = [
    importlib.import_module(f"tests.{path.parent.name}.routes")
    for path in sorted(Path(__file__).parent.glob("*/routes.py"))
]
ALL_ROUTES = ROUTES + [route for module in FEATURE_MODULES for route in module.ROUTES]


def test_every_route_is_in_the_matrix(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()} - UNGUARDED
    listed = {route.endpoint for route in ALL_ROUTES}
    assert endpoints - listed == set(), "add these routes to a ROUTES list"
    assert listed - endpoints == set(), "these routes no longer exist"


@pytest.fixture
def ids(app, world) -> dict:
    """The World's records plus whatever each feature adds for its paths."""
    values = dict(world.__dict__)
    for module in FEATURE_MODULES:
        if hasattr(module, "objects"):
            values |= module.objects(app, world)
    return values


def _call(client, route: Route, ids: dict):
    path = route.path.format(**ids)
    if route.method == "GET":
        return client.get(path)
    return client.submit(path, route.data, page="/login" if route.allowed is PUBLIC else "/account")


CASES = [(route, role) for route in ALL_ROUTES for role in (None, *ROLES)]


@pytest.mark.parametrize(
    ("route", "role"), CASES, ids=[f"{r.endpoint}:{r.path}-{role}" for r, role in CASES]
)
def test_route_answers_by_role(client, ids, route, role):
    if role:
        assert client.login(ids[role].name).status_code == 302
    response = _call(client, route, ids)
    if route.allowed is PUBLIC:
        assert response.status_code in route.ok_statuses
    elif role is None:
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")
    elif role in route.allowed:
        assert response.status_code in route.ok_statuses, response.status_code
    else:
        assert response.status_code == route.denied_status, response.status_code


# Records of the branch or of their organizer, not of one borrower: moving the World's
# own borrower to another officer does not change who reaches them.
NOT_THE_BORROWERS = frozenset({"own_session", "own_event"})
_RECORD = re.compile(r"\{(\w+)")


def follows_the_borrower(route: Route) -> bool:
    """Whether reaching ``route`` depends on looking after the World's own borrower."""
    records = set(_RECORD.findall(route.path))
    return bool(records - NOT_THE_BORROWERS)


@pytest.fixture
def reassigned_ids(app, ids) -> dict:
    """``ids`` after the head moved the own borrower from ``officer`` to ``successor``."""
    with app.app_context():
        successor = make_user("successor", Role.OFFICER, db.session.get(Branch, ids["branch"].id))
        borrower = db.session.get(Borrower, ids["own_borrower"].id)
        head = db.session.get(User, ids["head"].id)
        assert reassign([borrower], successor, "片区调整", by=head) == 1
        db.session.commit()
        return ids | {"successor": user_ref(successor)}


# The former officer on every row they could reach; the new officer on the rows that
# follow the borrower (what else they reach is not about this borrower).
REASSIGNED_CASES = [
    (route, who)
    for route in ALL_ROUTES
    if route.allowed and "officer" in route.allowed
    for who in (("officer", "successor") if follows_the_borrower(route) else ("officer",))
]


@pytest.mark.parametrize(
    ("route", "who"),
    REASSIGNED_CASES,
    ids=[f"{r.endpoint}:{r.method}:{r.path}-reassigned-{who}" for r, who in REASSIGNED_CASES],
)
def test_a_reassigned_borrower_is_reached_by_the_new_officer_only(
    client, reassigned_ids, route, who
):
    assert client.login(reassigned_ids[who].name).status_code == 302
    response = _call(client, route, reassigned_ids)
    if who == "officer" and follows_the_borrower(route):
        assert response.status_code == route.denied_status, response.status_code
    else:
        assert response.status_code in route.ok_statuses, response.status_code


def test_the_reassigned_scenario_walks_every_kind_of_record_of_the_borrower():
    walked = {
        name
        for route, who in REASSIGNED_CASES
        if who == "successor"
        for name in _RECORD.findall(route.path)
    }
    kinds = {"own_borrower", "own_loan", "own_visit", "own_signoff", "own_request"}
    assert kinds | {"assigned_request", "own_complaint", "report_visit"} <= walked
