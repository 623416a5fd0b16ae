"""Statements every page runs (the menu's counts), built once and run with parameters.

Building a SELECT and computing the key SQLAlchemy caches its compiled SQL under costs
several times what SQLite takes to answer a small COUNT. A statement built once keeps
its key: a page then pays for running it only. Such a statement is built by a function
decorated ``functools.cache`` whose arguments are what changes its shape (the user's
role), with everything else as bound parameters.
"""

import sqlalchemy as sa

from portal.accounts.models import Role, User


class UserParameters:
    """Stands for the user in a statement built once per role.

    The WHERE clauses written for a user (``visible_filter(user)`` and the like) read
    its ``role``, ``id`` and ``branch_id``: given this instead, they come out with the
    id and the branch as bound parameters, which ``user_parameters(user)`` fills in.
    """

    def __init__(self, role: Role):
        self.role = role
        self.id = sa.bindparam("user_id")
        self.branch_id = sa.bindparam("branch_id")


def user_parameters(user: User) -> dict:
    """The values of a ``UserParameters``' parameters for ``user``."""
    return {"user_id": user.id, "branch_id": user.branch_id}
