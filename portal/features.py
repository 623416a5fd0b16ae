"""The portal's features: one package each, in the order their blueprints register.

A feature package with pages has a ``views.py`` with a Blueprint ``bp`` (notices have
none: their page is in the services menu); those that store something have a
``models.py``. This list is the only one: the app factory registers the blueprints
from it, portal/models.py imports the models from it, and the visit pack's worker
processes preload from it.
"""

import importlib.util

FEATURES = (
    "core",
    "accounts",
    "branches",
    "audit",
    "borrowers",
    "loans",
    "imports",
    "portfolio",
    "headline",
    "training",
    "visits",
    "fieldkit",
    "evidence",
    "offline",
    "notices",
    "services",
    "complaints",
    "care",
    "tiers",
    "networking",
    "reports",
    "jobs",
    "reminders",
    "privacy",
    "retention",
)


def _existing(module: str) -> list[str]:
    """``portal.<feature>.<module>`` of the features that have one."""
    names = (f"portal.{feature}.{module}" for feature in FEATURES)
    return [name for name in names if importlib.util.find_spec(name) is not None]


def model_modules() -> list[str]:
    """The ``models`` modules of the features that have one."""
    return _existing("models")


def view_modules() -> list[str]:
    """The ``views`` modules of the features that have pages."""
    return _existing("views")
