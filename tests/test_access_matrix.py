"""Every route of the app, walked with every role and without login.

Each feature lists its routes in ``tests/<feature>/routes.py`` (``ROUTES``, a list of
``Route``; optionally ``objects(app, world) -> dict`` for extra ids its paths need).
A route missing from every list fails the first test, so no route can be added
without saying who may reach it. Several rows may name one endpoint, e.g. the same
page for one's own borrower and for another branch's (object-level checks).
"""

import importlib
from pathlib import Path

import pytest

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
        assert response.status_code in (200, 302)
    elif role is None:
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")
    elif role in route.allowed:
        assert response.status_code in route.ok_statuses, response.status_code
    else:
        assert response.status_code == route.denied_status, response.status_code
