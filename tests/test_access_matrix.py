"""Every route of the app, walked with every role and without login.

A route missing from ROUTES fails the first test, so no route can be added
without saying who may reach it.
"""

from dataclasses import dataclass

import pytest

from tests.factories import World

ROLES = ("admin", "head", "officer", "borrower")
EVERYONE = frozenset(ROLES)
ADMIN = frozenset({"admin"})
PUBLIC = None  # reachable without logging in


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # formatted with the World's ids
    allowed: frozenset | None


ROUTES: dict[str, Route] = {
    "core.home": Route("GET", "/", EVERYONE),
    "core.healthz": Route("GET", "/healthz", PUBLIC),
    "core.set_language": Route("POST", "/language", PUBLIC),
    "accounts.login": Route("GET", "/login", PUBLIC),
    "accounts.logout": Route("POST", "/logout", EVERYONE),
    "accounts.preferences": Route("GET", "/account", EVERYONE),
    "accounts.change_password": Route("GET", "/account/password", EVERYONE),
    "accounts.staff_list": Route("GET", "/admin/users", ADMIN),
    "accounts.staff_create": Route("GET", "/admin/users/new", ADMIN),
    "accounts.staff_edit": Route("GET", "/admin/users/{officer.id}", ADMIN),
    "accounts.staff_toggle_active": Route("POST", "/admin/users/{other_officer.id}/active", ADMIN),
    "accounts.staff_reset_password": Route(
        "POST", "/admin/users/{other_officer.id}/reset-password", ADMIN
    ),
    "branches.index": Route("GET", "/admin/branches/", ADMIN),
    "branches.create": Route("GET", "/admin/branches/new", ADMIN),
    "branches.edit": Route("GET", "/admin/branches/{branch.id}", ADMIN),
    "audit.index": Route("GET", "/admin/audit/", ADMIN),
}
UNGUARDED = {"static", "bootstrap.static"}


def test_every_route_is_in_the_matrix(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()} - UNGUARDED
    assert endpoints - ROUTES.keys() == set(), "add these routes to ROUTES"
    assert ROUTES.keys() - endpoints == set(), "these routes no longer exist"


def _call(client, route: Route, world: World):
    path = route.path.format(**world.__dict__)
    if route.method == "GET":
        return client.get(path)
    return client.submit(path, page="/login" if route.allowed is PUBLIC else "/account")


CASES = [(endpoint, role) for endpoint in ROUTES for role in (None, *ROLES)]


@pytest.mark.parametrize(("endpoint", "role"), CASES, ids=[f"{e}-{r}" for e, r in CASES])
def test_route_answers_by_role(client, world, endpoint, role):
    route = ROUTES[endpoint]
    if role:
        assert client.login(getattr(world, role).name).status_code == 302
    response = _call(client, route, world)
    if route.allowed is PUBLIC:
        assert response.status_code in (200, 302)
    elif role is None:
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")
    elif role in route.allowed:
        assert response.status_code in (200, 302), response.status_code
    else:
        assert response.status_code == 403
