"""Every route, walked with numbers no database holds, NUL bytes and conflicts: never a 500.

Generated from the app's URL map, so a new route is walked without anybody listing it.
"""

import re

import pytest
from werkzeug.routing import IntegerConverter

from tests.routes import ROLES

HUGE = "9" * 23
NUMBER_ARGS = ("page", "borrower", "branch", "officer", "tag", "kind", "month", "year")
VALUES = (HUGE, "-1", "abc")
# Walked as one logged-in user: logging out would turn every later answer into a redirect.
SKIPPED = {"accounts.logout"}
PLACEHOLDER = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


def _rules(app, methods):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.endswith("static") or rule.endpoint in SKIPPED:
            continue
        if not rule.methods & methods:
            continue
        yield rule


def _path(rule, number: str) -> str:
    def fill(match):
        return number if match.group(1) == "int" else "x"

    return PLACEHOLDER.sub(fill, rule.rule)


def _queries():
    """Each odd page number, then every other number argument odd at once."""
    others = [name for name in NUMBER_ARGS if name != "page"]
    yield from ({"page": value} for value in VALUES)
    yield from (dict.fromkeys(others, value) for value in VALUES)


def _request(client, rule, path: str, query: dict, token: str) -> int:
    if "GET" in rule.methods:
        return client.get(path, query_string=query).status_code
    data = {**query, "borrower_ids": next(iter(query.values())), "csrf_token": token}
    return client.post(path, data=data).status_code


def _walk(client, app):
    """Status of every request that answered 500."""
    failures = []
    token = client.csrf_token("/account")
    for rule in _rules(app, {"GET", "POST"}):
        has_int = any(isinstance(c, IntegerConverter) for c in rule._converters.values())
        numbers = (HUGE,) if has_int else ("1",)
        for number in numbers:
            path = _path(rule, number)
            for query in _queries():
                try:
                    status = _request(client, rule, path, query, token)
                except Exception as error:  # the test client re-raises what no handler took
                    status = repr(error)
                if not isinstance(status, int) or status >= 500:
                    failures.append((rule.rule, query, status))
    return failures


@pytest.mark.parametrize("role", ROLES)
def test_no_route_answers_500_to_impossible_numbers(client, app, world, role):
    assert client.login(getattr(world, role).name).status_code == 302
    assert _walk(client, app) == []


def test_an_id_larger_than_any_column_is_not_found(client, world):
    client.login(world.admin.name)
    assert client.get(f"/borrowers/{HUGE}").status_code == 404
    assert client.get(f"/borrowers/?page={HUGE}").status_code == 404


def test_a_nul_byte_is_refused_with_a_message_and_nothing_is_stored(client, world, app):
    client.login(world.officer.name)
    response = client.submit("/account", {"locale": "en\x00"}, page="/account")
    assert response.status_code == 400
    assert "NUL" in response.get_data(as_text=True)
    response = client.get("/borrowers/?q=a%00b")
    assert response.status_code == 400
