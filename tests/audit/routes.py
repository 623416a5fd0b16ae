"""Routes of the audit log for the access matrix (the GET row is in tests/test_access_matrix.py)."""

from tests.routes import ADMIN, Route

ROUTES = [
    # The search form is posted: a borrower's login (a mobile number) is answered to the
    # POST, any other search redirected to its GET address.
    Route("audit.index", "POST", "/admin/audit/", ADMIN, data={"actor": "13905271234"}),
    Route("audit.index", "POST", "/admin/audit/", ADMIN, data={"action": "auth.login"}),
]
