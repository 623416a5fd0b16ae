"""Factories for tests; they use the same operations as the app."""

from dataclasses import dataclass

import factory

from portal.accounts.models import Role, User
from portal.accounts.operations import create_user
from portal.branches.models import Branch
from portal.extensions import db

PASSWORD = "portal-demo"


class BranchFactory(factory.alchemy.SQLAlchemyModelFactory):
    class Meta:
        model = Branch
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "flush"

    code = factory.Sequence(lambda n: f"B{n:03d}")
    name = factory.Sequence(lambda n: f"测试网点{n}")
    region = "江苏宿迁"


def make_user(username: str, role: Role, branch: Branch | None = None, **kwargs) -> User:
    """An account with the demo password."""
    user = create_user(
        username=username,
        display_name=kwargs.pop("display_name", username),
        role=role,
        branch_id=branch.id if branch else None,
        password=kwargs.pop("password", PASSWORD),
        **kwargs,
    )
    db.session.flush()
    return user


@dataclass(frozen=True)
class Ref:
    """A record's id and name, usable after its session has closed."""

    id: int
    name: str


@dataclass(frozen=True)
class World:
    """Ids of the cast most tests need; load the records inside an app context."""

    branch: Ref
    other_branch: Ref
    admin: Ref
    head: Ref
    officer: Ref
    other_head: Ref
    other_officer: Ref
    borrower: Ref


def user_ref(user: User) -> Ref:
    return Ref(user.id, user.username)


def build_world() -> World:
    """Create the cast and return their ids."""
    branch, other = BranchFactory(), BranchFactory()
    users = {
        "admin": make_user("admin", Role.ADMIN),
        "head": make_user("head", Role.HEAD, branch),
        "officer": make_user("officer", Role.OFFICER, branch),
        "other_head": make_user("otherhead", Role.HEAD, other),
        "other_officer": make_user("otherofficer", Role.OFFICER, other),
        "borrower": make_user("borrower", Role.BORROWER, branch),
    }
    return World(
        branch=Ref(branch.id, branch.code),
        other_branch=Ref(other.id, other.code),
        **{key: user_ref(user) for key, user in users.items()},
    )
