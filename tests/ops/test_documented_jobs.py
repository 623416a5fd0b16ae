"""The jobs run as the guides write them, with the production settings (docs/deploy.md, 7).

The queue's worker (greetings, retries, the tier refresh: docs/jobs.md) is a systemd
service and the backup a cron line. Both are read from docs/deploy.md and run as
systemd and cron would: in a temporary copy of the guide's
layout (``/srv/portal/app`` is a link to this checkout, ``/etc/portal/env`` names a
scratch SQLite database), with cron's bare environment. A command that missed the
production settings would fall back to the development database in instance/: the
environment points that fallback at a folder that must stay empty.
"""

import re
import secrets
import shlex
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]
GUIDES = ("README.md", "docs/care.md", "docs/deploy.md")
ENV_FILE = "/etc/portal/env"


def _blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.S)


def cron_commands(guide: str) -> list[str]:
    """The command of every cron entry in ``guide`` (``/etc/cron.d`` lines, user field too)."""
    commands = []
    for block in _blocks((ROOT / guide).read_text(), "cron"):
        for line in block.splitlines():
            line = line.strip()
            if not line or line.startswith("#") or re.match(r"^[A-Z_]+=", line):
                continue
            fields = line.split(None, 6)
            command = fields[6] if fields[5] == "portal" else " ".join(fields[5:])
            commands.append(command)
    return commands


def unit_commands() -> dict[str, tuple[str, str]]:
    """Each service unit of docs/deploy.md: its WorkingDirectory and ExecStart."""
    units = {}
    for block in _blocks((ROOT / "docs/deploy.md").read_text(), "ini"):
        name = block.splitlines()[0].lstrip("# ").strip()
        settings = dict(
            line.split("=", 1) for line in block.splitlines() if re.match(r"^\w+=", line)
        )
        if name.endswith(".service") and "ExecStart" in settings and "WorkingDirectory" in settings:
            assert "EnvironmentFile" not in settings or settings["EnvironmentFile"] == ENV_FILE
            units[name] = (settings.get("WorkingDirectory", "/"), settings["ExecStart"])
    return units


@pytest.fixture(scope="module")
def layout(tmp_path_factory):
    """The guide's folders in a temporary root, and how to run a command there."""
    root = tmp_path_factory.mktemp("machine")
    (root / "srv/portal").mkdir(parents=True)
    (root / "srv/portal/app").symlink_to(ROOT)
    (root / "srv/portal/backups").mkdir()
    (root / "var/log/portal").mkdir(parents=True)
    (root / "etc/portal").mkdir(parents=True)
    database = root / "prod.sqlite3"
    # As docs/deploy.md, section 3, writes it (SQLite stands in for PostgreSQL).
    (root / "etc/portal/env").write_text(
        "PORTAL_ENV=production\n"
        "# A comment on its own line, and a value with characters a shell would expand\n"
        "SECRET_KEY=not-$HOME-&-not-`id`\n"
        # The keys of the encryption at rest (docs/privacy.md), made as the guide says.
        f"PORTAL_DATA_KEYS={Fernet.generate_key().decode()}\n"
        f"PORTAL_INDEX_KEY={secrets.token_urlsafe(32)}\n"
        f"DATABASE_URL=sqlite:///{database}\n"
        "PORTAL_TIMEZONE=Asia/Shanghai\n"
        f"JOBS_QUEUE_URL=sqlite:///{root}/srv/portal/queue.sqlite3\n"
    )
    fallback = root / "instance-fallback"

    def localize(text: str) -> str:
        for path in ("/srv/portal", "/var/log/portal", "/etc/portal"):
            text = text.replace(path, f"{root}{path}")
        return text

    def environment() -> dict:
        # cron's and systemd's environment: nothing of ours, not even the virtualenv.
        return {
            "PATH": "/usr/bin:/bin",
            "HOME": str(root / "srv/portal"),
            "SHELL": "/bin/sh",
            "LOGNAME": "portal",
            "PORTAL_ENV_FILE": str(root / "etc/portal/env"),  # stands in for /etc/portal/env
            "PORTAL_INSTANCE_PATH": str(fallback),  # where a fallback would write
        }

    def run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess:
        return subprocess.run(
            argv,
            cwd=cwd,
            env=environment(),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    def cron(command: str) -> subprocess.CompletedProcess:
        # cron turns an unescaped % into a newline and "\%" into "%", then runs sh -c.
        assert not re.search(r"(?<!\\)%", command), command
        return run(["/bin/sh", "-c", localize(command.replace("\\%", "%"))], root / "srv/portal")

    migrated = run(
        [f"{root}/srv/portal/app/scripts/portal-job", "db", "upgrade"], root / "srv/portal"
    )
    assert migrated.returncode == 0, migrated.stderr[-2000:]
    return {
        "root": root,
        "database": database,
        "fallback": fallback,
        "localize": localize,
        "environment": environment,
        "run": run,
        "cron": cron,
    }


def _actions(database: Path) -> list[str]:
    with sqlite3.connect(database) as connection:
        return [row[0] for row in connection.execute("SELECT action FROM audit_entries")]


def _no_development_files(layout, before: set) -> None:
    assert not layout["fallback"].exists()
    assert set((ROOT / "instance").glob("*")) == before


@pytest.fixture
def instance_before():
    return set((ROOT / "instance").glob("*"))


@pytest.mark.parametrize("guide", GUIDES)
def test_no_guide_schedules_the_workers_jobs_with_cron(guide):
    commands = " ".join(cron_commands(guide))
    for job in ("care send-due", "care retry", "tiers refresh"):
        assert job not in commands, f"{guide}: {job} is the worker's (docs/jobs.md)"
    assert (
        "jobs worker" in (ROOT / guide).read_text() or "portal-worker" in (ROOT / guide).read_text()
    )


def test_the_wrapper_reads_the_web_services_environment_file():
    deploy = (ROOT / "docs/deploy.md").read_text()
    assert f"EnvironmentFile={ENV_FILE}" in deploy
    assert f"${{PORTAL_ENV_FILE:-{ENV_FILE}}}" in (ROOT / "scripts/portal-job").read_text()


def test_the_documented_backup_line_copies_the_production_database(layout, instance_before):
    [command] = [c for c in cron_commands("docs/deploy.md") if "db backup" in c]
    done = layout["cron"](command)
    assert done.returncode == 0, done.stdout + done.stderr
    [backup] = (layout["root"] / "srv/portal/backups").glob("portal-*.dump")
    with sqlite3.connect(backup) as copy:
        copied = copy.execute("SELECT version_num FROM alembic_version").fetchall()
    with sqlite3.connect(layout["database"]) as production:
        assert copied == production.execute("SELECT version_num FROM alembic_version").fetchall()
    _no_development_files(layout, instance_before)


def _beats(database: Path) -> list[str]:
    with sqlite3.connect(database) as connection:
        return [row[0] for row in connection.execute("SELECT name FROM worker_heartbeats")]


def test_the_documented_worker_unit_runs_and_stops(layout, instance_before):
    directory, exec_start = unit_commands()["portal-worker.service"]
    worker = subprocess.Popen(
        shlex.split(layout["localize"](exec_start)),
        cwd=Path(layout["localize"](directory)),
        env=layout["environment"](),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not _beats(layout["database"]) and worker.poll() is None:
            assert time.monotonic() < deadline, "no heartbeat from the worker"
            time.sleep(0.2)
        assert worker.poll() is None, worker.stdout.read()
    finally:
        worker.send_signal(signal.SIGTERM)  # systemctl stop
        output = worker.communicate(timeout=30)[0]  # TimeoutStopSec=30
    assert worker.returncode in (0, -signal.SIGTERM), output
    assert "Worker started" in output and "Worker stopped." in output
    assert _beats(layout["database"]) == []  # a clean stop leaves no stale heartbeat
    assert (layout["root"] / "srv/portal/queue.sqlite3").exists()
    _no_development_files(layout, instance_before)


def test_the_wrapper_refuses_to_run_without_the_production_settings(layout, tmp_path):
    (tmp_path / "env").write_text("SECRET_KEY=x\n")
    script = f"{layout['root']}/srv/portal/app/scripts/portal-job"
    done = layout["run"](
        ["/bin/sh", "-c", f"PORTAL_ENV_FILE={tmp_path / 'env'} {script} care send-due"], tmp_path
    )
    assert done.returncode == 78
    assert "PORTAL_ENV=production and DATABASE_URL" in done.stderr
    assert not layout["fallback"].exists()


def test_production_refuses_the_development_database(monkeypatch):
    from portal import create_app
    from portal.settings import ConfigurationError

    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(ConfigurationError, match="DATABASE_URL"):
        create_app({"SECRET_KEY": "x"})
