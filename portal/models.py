"""Import every feature's models, so metadata, migrations and relationships see them all."""

import importlib

FEATURES_WITH_MODELS = (
    "accounts",
    "audit",
    "branches",
    "borrowers",
    "loans",
    "training",
    "visits",
    "services",
    "complaints",
    "care",
    "tiers",
    "networking",
)

for _feature in FEATURES_WITH_MODELS:
    importlib.import_module(f"portal.{_feature}.models")
