"""Routes of the evidence feature for the route x role matrix (tests/test_access_matrix.py)."""

from tests.routes import Route

ROUTES: list[Route] = []
