"""The top menu, grouped by the user's jobs; safe redirects after login and language changes."""

from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import url_for
from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class MenuGroup:
    """One drop-down of the top menu: its label and the partials that fill it.

    A group without a label is shown as plain links. Each partial decides which of its
    entries the user may see, so a group left empty is not shown at all.
    """

    label: object
    partials: tuple[str, ...]


# A dozen flat links do not fit a screen: staff see one group per job (an officer does not
# see "Results": none of its entries are theirs).
STAFF_MENU = (
    MenuGroup(
        _l("Borrowers"),
        ("borrowers/_nav.html", "loans/_nav.html", "imports/_nav.html", "tiers/_nav.html"),
    ),
    MenuGroup(_l("Results"), ("headline/_nav.html", "portfolio/_nav.html")),
    MenuGroup(
        _l("Visits"),
        ("visits/_nav.html", "evidence/_nav.html", "fieldkit/_nav.html", "reports/_nav.html"),
    ),
    MenuGroup(_l("Services"), ("services/_nav.html", "complaints/_nav.html", "privacy/_nav.html")),
    MenuGroup(_l("Care & networking"), ("care/_nav.html", "networking/_nav.html")),
    MenuGroup(_l("Admin"), ("training/_nav.html", "_nav_admin.html")),
)
# A borrower has a handful of their own pages: plain links read best on a phone.
BORROWER_MENU = (
    MenuGroup(None, tuple(partial for group in STAFF_MENU for partial in group.partials)),
)


def menu_for(user) -> tuple[MenuGroup, ...]:
    """The groups of the top menu for ``user``."""
    return STAFF_MENU if user.is_staff else BORROWER_MENU


def safe_next(target: str | None, default_endpoint: str = "core.home") -> str:
    """``target`` when it is a path on this site, otherwise the default page."""
    if target:
        parts = urlsplit(target)
        same_site = not parts.scheme and not parts.netloc
        # "//evil" and "/\\evil" are read as other hosts by browsers.
        if same_site and target.startswith("/") and not target.startswith(("//", "/\\")):
            return target
    return url_for(default_endpoint)
