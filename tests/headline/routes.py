"""Every route of the headline feature, with who may reach it (tests/test_access_matrix.py)."""

from tests.routes import ADMIN, MANAGERS, Route

ROUTES = [
    Route("headline.company", "GET", "/headline/company", ADMIN),
    Route("headline.company", "GET", "/headline/company?from=2026-01&to=2026-06", ADMIN),
    Route("headline.branch", "GET", "/headline/branch", MANAGERS),
    Route("headline.branch", "GET", "/headline/branch?branch={branch.id}", MANAGERS),
    Route("headline.branch", "GET", "/headline/branch?branch={other_branch.id}", ADMIN),
]
