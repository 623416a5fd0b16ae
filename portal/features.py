"""The portal's features: one package each, in the order their blueprints register.

Every feature package has a ``views.py`` with a Blueprint ``bp``; those that store
something have a ``models.py``. This list is the only one: the app factory registers
the blueprints from it, portal/models.py imports the models from it, and the visit
pack's worker processes preload from it.
"""

import importlib.util

FEATURES = (
    "core",
    "accounts",
    "branches",
    "audit",
    "borrowers",
    "loans",
    "training",
    "visits",
    "services",
    "complaints",
    "care",
    "tiers",
    "networking",
    "reports",
)


def model_modules() -> list[str]:
    """The ``models`` modules of the features that have one."""
    names = (f"portal.{feature}.models" for feature in FEATURES)
    return [name for name in names if importlib.util.find_spec(name) is not None]


def view_modules() -> list[str]:
    """Every feature's ``views`` module."""
    return [f"portal.{feature}.views" for feature in FEATURES]
