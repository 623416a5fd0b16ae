"""Security headers on every response."""

from flask import Flask, Response

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def add_security_headers(response: Response) -> Response:
    """Strict headers; same-origin referrers keep Flask-WTF's HTTPS referrer check working."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(self)")
    if response.mimetype == "text/html":
        # Pages show personal data: never keep them in shared caches.
        headers.setdefault("Cache-Control", "no-store")
    return response


def add_hsts(response: Response) -> Response:
    """Tell browsers to stay on HTTPS once they have seen it."""
    response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


def init_app(app: Flask) -> None:
    """Register the header hooks."""
    app.after_request(add_security_headers)
    if app.config["SESSION_COOKIE_SECURE"]:
        app.after_request(add_hsts)
