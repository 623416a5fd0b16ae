"""``flask jobs worker``: the queue's worker (docs/jobs.md)."""

import logging
import os

import click
from flask import current_app
from flask.cli import with_appcontext


@click.group("jobs")
def jobs_cli():
    """The task queue."""


@jobs_cli.command("worker")
@click.option("--workers", type=click.IntRange(1), help="Threads; default JOBS_WORKERS.")
@click.option("--no-periodic", is_flag=True, help="Run queued jobs only, not the schedule.")
@with_appcontext
def worker_command(workers, no_periodic):
    """Run queued jobs and the periodic schedule until stopped (SIGINT or SIGTERM)."""
    from portal.jobs.queue import Heartbeat, consumer

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    app = current_app._get_current_object()
    # Background work: on a machine shared with the web service, a page a person waits
    # for comes first; the visit pack's render processes inherit the priority.
    os.nice(app.config["JOBS_NICENESS"])
    running = consumer(app, workers, periodic=not no_periodic)
    heartbeat = Heartbeat(app)
    heartbeat.start()
    click.echo(f"Worker started: queue {app.config['JOBS_QUEUE_URL'].split('@')[-1]}.")
    try:
        running.run()
    finally:
        heartbeat.stop()
    click.echo("Worker stopped.")
