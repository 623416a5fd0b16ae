"""Writes on branches."""

from portal.audit.operations import record
from portal.branches.models import Branch
from portal.extensions import db

EDITABLE = ("code", "name", "region", "address", "phone", "active")


def create_branch(**values) -> Branch:
    """Add a branch."""
    branch = Branch(**{key: values[key] for key in EDITABLE if key in values})
    db.session.add(branch)
    record("branch.create", branch, f"{branch.code} {branch.name}")
    return branch


def update_branch(branch: Branch, **values) -> None:
    """Change a branch's details."""
    for key in EDITABLE:
        if key in values:
            setattr(branch, key, values[key])
    record("branch.update", branch, f"{branch.code} {branch.name} active={branch.active}")
