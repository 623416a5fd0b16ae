"""Extension objects, created unbound and initialised by the app factory."""

import logging

from flask.logging import default_handler
from flask_babel import Babel
from flask_bootstrap import Bootstrap5
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from portal.database import Model, render_migration_type

db = SQLAlchemy(model_class=Model)
migrate = Migrate(render_as_batch=True, compare_type=True, render_item=render_migration_type)
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
bootstrap = Bootstrap5()
# When the shared counter store (Redis) cannot be reached, every worker counts on its
# own in memory and checks back now and then, rather than answering every login with
# a 500. /healthz then reports the store as unreachable.
limiter = Limiter(key_func=get_remote_address, default_limits=[], in_memory_fallback_enabled=True)
# Flask-Limiter warns on its own logger ("falling back to in-memory storage"), which
# has only a NullHandler: send it where the app's warnings go (gunicorn's error log).
logging.getLogger("flask-limiter").addHandler(default_handler)
