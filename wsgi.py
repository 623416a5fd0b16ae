"""Entry point for ``gunicorn wsgi:app``."""

import gc

from portal import create_app
from portal.core.templating import compile_templates

app = create_app()
# Before its first request each worker compiles every template, then sets what it has
# built so far (the app, its templates, the mappers: objects that live as long as the
# worker) apart from the garbage collector. Otherwise a full collection walks them all
# during some user's request: 0.1-0.15 s on the first views (docs/performance.md).
compile_templates(app)
gc.collect()
gc.freeze()
