"""Import every feature's models, so metadata, migrations and relationships see them all."""

import importlib

from portal.features import model_modules

for _module in model_modules():
    importlib.import_module(_module)
