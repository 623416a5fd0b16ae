"""Paging: of one ORM entity, of multi-column rows, of lists computed in Python.

The page number comes from the request: the ``page`` query argument of a GET (checked
once in portal/core/inputs.py), or the ``page`` field of a posted search (a search
holding a phone or ID number is posted, never put in a URL, and its paging buttons
post it again).
"""

from flask import current_app, request
from flask_sqlalchemy.pagination import Pagination, SelectPagination

from portal.extensions import db


class RowsPagination(SelectPagination):
    """Like ``db.paginate``, but the items are whole rows of a multi-column select."""

    def _query_items(self) -> list:
        select = self._query_args["select"].limit(self.per_page).offset(self._query_offset)
        return list(self._query_args["session"].execute(select).all())


class ListPagination(Pagination):
    """A page of a list computed in Python (e.g. borrowers whose suggested tier differs)."""

    def _query_items(self) -> list:
        return self._query_args["items"][self._query_offset : self._query_offset + self.per_page]

    def _query_count(self) -> int:
        return len(self._query_args["items"])


def paginate_rows(select, per_page: int) -> RowsPagination:
    """Page through ``select``'s rows; the page number comes from the request."""
    return RowsPagination(select=select, session=db.session, per_page=per_page)


def paginate_list(items: list, per_page: int) -> ListPagination:
    """Page through a list; the page number comes from the request."""
    return ListPagination(items=items, per_page=per_page)


def posted_page() -> int:
    """The page a paging button of a posted search asks for (1 when it asks nonsense)."""
    value = request.form.get("page", "")
    return int(value) if value.isdigit() and len(value) < 10 else 1


def paginate(select, per_page: int):
    """``db.paginate`` of ``select``, whether the search came by GET or was posted."""
    if request.method == "POST":
        return db.paginate(select, page=posted_page(), per_page=per_page)
    return db.paginate(select, per_page=per_page)


def per_page() -> int:
    """Rows on a page of a list (``PER_PAGE``)."""
    return current_app.config["PER_PAGE"]
