"""Routes of the portfolio feature for the access matrix."""

from tests.routes import MANAGERS, Route

ROUTES = [
    Route("portfolio.page", "GET", "/portfolio", MANAGERS),
    Route("portfolio.page", "GET", "/portfolio?month=2026-06", MANAGERS),
    Route("portfolio.page", "GET", "/portfolio?month=2026-06&branch={other_branch.id}", MANAGERS),
    Route("portfolio.late_export", "GET", "/portfolio/late.csv", MANAGERS),
    Route("portfolio.late_export", "GET", "/portfolio/late.xlsx?month=2026-06", MANAGERS),
]
