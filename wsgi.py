"""Entry point for ``gunicorn wsgi:app``."""

from portal import create_app
from portal.core.templating import compile_templates

app = create_app()
# Each worker compiles every template before its first request (docs/performance.md).
compile_templates(app)
