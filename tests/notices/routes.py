"""Routes of notices (the channels a borrower chose) for the route x role matrix."""

from tests.routes import ADMIN, STAFF, Route

BORROWER = frozenset({"borrower"})
OWN, FOREIGN = "{own_borrower.id}", "{foreign_borrower.id}"
ROUTES = [
    Route("notices.my_channels", "GET", "/me/notices/channels", BORROWER),
    Route("notices.my_channels", "POST", "/me/notices/channels", BORROWER),
    Route("notices.borrower_channels", "GET", f"/borrowers/{OWN}/notice-channels", STAFF),
    Route("notices.borrower_channels", "POST", f"/borrowers/{OWN}/notice-channels", STAFF),
    Route("notices.borrower_channels", "GET", f"/borrowers/{FOREIGN}/notice-channels", ADMIN),
    Route("notices.borrower_channels", "POST", f"/borrowers/{FOREIGN}/notice-channels", ADMIN),
]
