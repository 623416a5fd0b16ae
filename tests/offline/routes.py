"""Routes of the field kit on the tablet for the route x role matrix (tests/test_access_matrix.py)."""

from tests.routes import PUBLIC, Route

OFFICER = frozenset({"officer"})

ROUTES = [
    Route("offline.service_worker", "GET", "/sw.js", PUBLIC),
    Route("offline.field", "GET", "/field", OFFICER),
    Route("offline.visit", "GET", "/field/visit", OFFICER),
]
