"""Paging for rows that are not one ORM entity: multi-column selects and computed lists."""

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
