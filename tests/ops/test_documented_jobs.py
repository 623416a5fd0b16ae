"""The jobs run as the guides write them, with the production settings (docs/deploy.md, 7).

The cron lines and systemd units are read from README.md, docs/care.md and
docs/deploy.md and run as cron and systemd would: in a temporary copy of the guide's
layout (``/srv/portal/app`` is a link to this checkout, ``/etc/portal/env`` names a
scratch SQLite database), with cron's bare environment. A command that missed the
production settings would fall back to the development database in instance/: the
environment points that fallback at a folder that must stay empty.
"""

import re
import shlex
import sqlite3
import subprocess
from pathlib import Path

import pytest

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
    """Each service unit of docs/care.md: its WorkingDirectory and ExecStart."""
    units = {}
    for block in _blocks((ROOT / "docs/care.md").read_text(), "ini"):
        name = block.splitlines()[0].lstrip("# ").strip()
        settings = dict(
            line.split("=", 1) for line in block.splitlines() if re.match(r"^\w+=", line)
        )
        if name.endswith(".service"):
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
        f"DATABASE_URL=sqlite:///{database}\n"
        "PORTAL_TIMEZONE=Asia/Shanghai\n"
    )
    fallback = root / "instance-fallback"

    def localize(text: str) -> str:
        for path in ("/srv/portal", "/var/log/portal", "/etc/portal"):
            text = text.replace(path, f"{root}{path}")
        return text

    def run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess:
        # cron's and systemd's environment: nothing of ours, not even the virtualenv.
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(root / "srv/portal"),
            "SHELL": "/bin/sh",
            "LOGNAME": "portal",
            "PORTAL_ENV_FILE": str(root / "etc/portal/env"),  # stands in for /etc/portal/env
            "PORTAL_INSTANCE_PATH": str(fallback),  # where a fallback would write
        }
        return subprocess.run(
            argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
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
def test_every_guide_documents_both_care_jobs(guide):
    commands = " ".join(cron_commands(guide))
    assert "portal-job care send-due" in commands and "portal-job care retry" in commands


def test_the_wrapper_reads_the_web_services_environment_file():
    deploy = (ROOT / "docs/deploy.md").read_text()
    assert f"EnvironmentFile={ENV_FILE}" in deploy
    assert f"${{PORTAL_ENV_FILE:-{ENV_FILE}}}" in (ROOT / "scripts/portal-job").read_text()


@pytest.mark.parametrize("guide", GUIDES)
def test_the_documented_cron_lines_send_greetings_with_the_production_database(
    layout, guide, instance_before
):
    for command in cron_commands(guide):
        if "care send-due" not in command:
            continue
        before = _actions(layout["database"]).count("care.send_due")
        done = layout["cron"](command)
        assert done.returncode == 0, done.stdout + done.stderr
        assert _actions(layout["database"]).count("care.send_due") == before + 1
    log = (layout["root"] / "var/log/portal/care.log").read_text()
    assert "Greetings: 0 queued, 0 sent, 0 failed." in log
    _no_development_files(layout, instance_before)


def test_the_documented_retry_line_runs(layout, instance_before):
    [command] = [c for c in cron_commands("docs/deploy.md") if "care retry" in c]
    log = layout["root"] / "var/log/portal/care.log"
    lines = log.read_text().count("\n") if log.exists() else 0
    done = layout["cron"](command)
    assert done.returncode == 0, done.stdout + done.stderr
    assert log.read_text().count("\n") == lines + 1
    _no_development_files(layout, instance_before)


def test_the_documented_tier_refresh_line_runs(layout, instance_before):
    [command] = [c for c in cron_commands("docs/deploy.md") if "tiers refresh" in c]
    done = layout["cron"](command)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Tier suggestions:" in (layout["root"] / "var/log/portal/tiers.log").read_text()
    _no_development_files(layout, instance_before)


def test_the_documented_backup_line_copies_the_production_database(layout, instance_before):
    [command] = [c for c in cron_commands("docs/deploy.md") if "db backup" in c]
    done = layout["cron"](command)
    assert done.returncode == 0, done.stdout + done.stderr
    [backup] = (layout["root"] / "srv/portal/backups").glob("portal-*.dump")
    with sqlite3.connect(backup) as copy:
        assert copy.execute("SELECT count(*) FROM audit_entries").fetchone()[0] >= 1
    _no_development_files(layout, instance_before)


@pytest.mark.parametrize("unit", ["portal-care.service", "portal-care-retry.service"])
def test_the_documented_systemd_units_run(layout, unit, instance_before):
    directory, exec_start = unit_commands()[unit]
    before = _actions(layout["database"])
    done = layout["run"](
        shlex.split(layout["localize"](exec_start)), Path(layout["localize"](directory))
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("Greetings:")
    if "send-due" in exec_start:
        assert len(_actions(layout["database"])) == len(before) + 1
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
