"""Links to the portal from outside it: in a text message, built by a job or a request.

``PORTAL_URL`` (README, "Configuration") is where borrowers and staff reach the portal,
e.g. ``https://portal.example.cn``. Without it no link is written into a message: a
path alone is no use on a phone.
"""

from flask import current_app, has_request_context, url_for


def external_url(endpoint: str, **values) -> str:
    """The full address of a page for a message, or "" when ``PORTAL_URL`` is not set."""
    base = str(current_app.config.get("PORTAL_URL") or "").rstrip("/")
    if not base:
        return ""
    if has_request_context():
        path = url_for(endpoint, **values)
    else:
        # A job has no request: build the path as the site root would.
        with current_app.test_request_context("/"):
            path = url_for(endpoint, **values)
    return base + path
