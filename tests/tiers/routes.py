"""Tier routes for the route x role matrix."""

from tests.routes import ADMIN, MANAGERS, STAFF, Route

ROUTES = [
    Route("tiers.index", "GET", "/tiers/", STAFF),
    Route("tiers.borrower", "GET", "/tiers/borrowers/{own_borrower.id}", STAFF),
    Route("tiers.borrower", "GET", "/tiers/borrowers/{foreign_borrower.id}", ADMIN),
    Route("tiers.decide", "POST", "/tiers/borrowers/{own_borrower.id}", MANAGERS),
    Route("tiers.decide", "POST", "/tiers/borrowers/{foreign_borrower.id}", ADMIN),
    Route("tiers.review", "GET", "/tiers/review/yearly", MANAGERS),
    Route("tiers.review", "GET", "/tiers/review/half-yearly", MANAGERS),
    Route("tiers.confirm_many", "POST", "/tiers/review/yearly/confirm", MANAGERS),
    Route("tiers.confirm_many", "POST", "/tiers/review/half-yearly/confirm", MANAGERS),
]
