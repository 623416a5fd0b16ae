"""The task queue: one Huey instance, its storage chosen by ``JOBS_QUEUE_URL``.

On one machine the queue is a SQLite file beside the database (``instance/queue.sqlite3``
by default): no server to run. Several app machines share one Redis
(``JOBS_QUEUE_URL=redis://…`` or ``REDIS_URL``). The test app runs tasks at once, in the
caller (Huey's immediate mode, in memory); the worker tests run real consumers.

Tasks are registered on the one module-level ``huey``; each app keeps its own storage
(``bind``), so a process that builds several apps (the test suite) queues each app's
work in that app's queue. A task runs inside the app that queued it (immediate mode)
or the worker's app (``flask jobs worker``).
"""

import logging
import os
import socket
import threading
from contextlib import contextmanager
from urllib.parse import urlsplit

from flask import Flask, current_app, has_app_context
from huey import Huey
from huey.storage import MemoryStorage, RedisStorage, SqliteStorage

log = logging.getLogger(__name__)

huey = Huey(
    "portal", results=False, utc=True, immediate_use_memory=False, storage_class=MemoryStorage
)
_worker_app: Flask | None = None


def _storage(url: str):
    parts = urlsplit(url)
    if parts.scheme in {"redis", "rediss", "unix"}:
        return RedisStorage("portal", url=url)
    if parts.scheme == "sqlite":
        path = url.removeprefix("sqlite:///")
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        return SqliteStorage("portal", filename=path)
    if parts.scheme == "memory":
        return MemoryStorage("portal")
    raise ValueError(f"JOBS_QUEUE_URL must be sqlite:///PATH, redis://… or memory://, not {url!r}")


def init_app(app: Flask) -> None:
    """Remember the app's queue settings; the storage is opened on first use."""
    immediate = app.config.get("JOBS_IMMEDIATE", app.testing)
    app.extensions["jobs_queue"] = {"immediate": bool(immediate), "storage": None}


def bind(app: Flask) -> Huey:
    """Point ``huey`` at ``app``'s queue (opened once per app) and return it."""
    state = app.extensions["jobs_queue"]
    if state["storage"] is None:
        url = "memory://" if state["immediate"] else app.config["JOBS_QUEUE_URL"]
        state["storage"] = _storage(url)
    huey.storage = state["storage"]
    huey._immediate = state["immediate"]
    return huey


def enqueue(task, *args) -> None:
    """Queue ``task(*args)`` in the current app's queue (run at once in immediate mode)."""
    bind(current_app._get_current_object())
    task(*args)


@contextmanager
def task_app_context():
    """The app a task runs in: the caller's (immediate mode) or the worker's."""
    app = current_app._get_current_object() if has_app_context() else _worker_app
    if app is None:
        raise RuntimeError("no app for the task: start the worker with `flask jobs worker`")
    with app.app_context():
        yield app


def worker_name() -> str:
    """This process as the heartbeat and the jobs name it: host and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"


class Heartbeat(threading.Thread):
    """Writes the worker's sign of life every ``JOBS_HEARTBEAT_SECONDS``."""

    def __init__(self, app: Flask):
        super().__init__(name="portal-heartbeat", daemon=True)
        self.app, self.stopped = app, threading.Event()
        self.interval = float(app.config["JOBS_HEARTBEAT_SECONDS"])

    def run(self) -> None:
        from portal.jobs import operations

        while not self.stopped.is_set():
            try:
                with self.app.app_context():
                    operations.beat(worker_name())
            except Exception:  # the database may be away a moment: try again next beat
                log.exception("worker heartbeat not written")
            self.stopped.wait(self.interval)

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=5)
        with self.app.app_context():
            from portal.jobs import operations

            operations.forget_beat(worker_name())


def consumer(app: Flask, workers: int | None = None, periodic: bool = True):
    """A Huey consumer for ``app``'s queue: ``workers`` threads and the scheduler."""
    global _worker_app
    _worker_app = app
    import portal.jobs.tasks  # noqa: F401 - registers the tasks and the schedule

    bind(app)
    if huey.immediate:
        raise RuntimeError("the worker needs a queue: this app runs its tasks immediately")
    return huey.create_consumer(
        workers=workers or int(app.config["JOBS_WORKERS"]),
        worker_type="thread",
        periodic=periodic,
        check_worker_health=True,
    )
