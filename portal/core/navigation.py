"""Safe redirects after login and language changes."""

from urllib.parse import urlsplit

from flask import url_for


def safe_next(target: str | None, default_endpoint: str = "core.home") -> str:
    """``target`` when it is a path on this site, otherwise the default page."""
    if target:
        parts = urlsplit(target)
        same_site = not parts.scheme and not parts.netloc
        # "//evil" and "/\\evil" are read as other hosts by browsers.
        if same_site and target.startswith("/") and not target.startswith(("//", "/\\")):
            return target
    return url_for(default_endpoint)
