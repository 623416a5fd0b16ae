"""Links between templates are visible: every include names a template that exists."""

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
INCLUDE = re.compile(r"{%-?\s*(?:include|extends|import|from)\s+\"([^\"]+)\"")


def _templates():
    return sorted(TEMPLATES.rglob("*.html"))


def test_no_include_hides_a_missing_template():
    hiding = [str(path) for path in _templates() if "ignore missing" in path.read_text()]
    assert hiding == []


def test_every_named_template_exists():
    missing = [
        (str(path.relative_to(TEMPLATES)), name)
        for path in _templates()
        for name in INCLUDE.findall(path.read_text())
        if not (TEMPLATES / name).is_file()
    ]
    assert missing == []


def test_every_template_compiles_up_front_as_a_worker_starts(app):
    from portal.core.templating import compile_templates

    compiled = compile_templates(app)
    assert compiled > 100
    # Jinja's cache holds them all: none is compiled again on a first view.
    assert app.jinja_env.cache is None or app.jinja_env.cache.capacity >= compiled


def test_a_worker_starts_with_its_templates_compiled_and_its_objects_set_apart(tmp_path):
    """What gunicorn imports (wsgi.py): no first request compiles or collects them."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    probe = "import gc, wsgi; print(gc.get_freeze_count(), len(wsgi.app.jinja_env.cache))"
    # Its own instance folder: nothing written into the checkout's (a development key).
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'probe.sqlite3'}",
        "PORTAL_INSTANCE_PATH": str(tmp_path / "instance"),
    }
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=root, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    frozen, compiled = map(int, result.stdout.split())
    assert frozen > 100_000 and compiled > 100
