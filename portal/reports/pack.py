"""The visit pack: every signed visit report of a branch and month as one PDF, in parallel.

The web asks for it as a job (portal/reports/jobs.py): the worker renders the whole
month and reports its progress chunk by chunk; ``flask reports visit-pack`` calls
``build`` directly.

Worker processes each make their own app and renderer once (the pool's initializer:
fonts, stylesheets) and lay out chunks of visits; every chunk is one PDF with one
font subset, and the chunks are joined in order with pypdf.

Workers come from a fork server, not from a fork of the caller: a fork would copy
the caller's open database connections and threads (gunicorn, the development
server). The fork server imports the app's modules and WeasyPrint once, so later
packs start their workers quickly. As with any multiprocessing start method but
``fork``, a script calling ``build`` must guard its main code with
``if __name__ == "__main__"`` (the flask, gunicorn and pytest entry points do).
"""

import gc
import math
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from io import BytesIO

from flask import Flask, current_app
from flask_babel import force_locale
from pypdf import PdfReader, PdfWriter

from portal.extensions import db
from portal.features import view_modules
from portal.reports import data
from portal.reports.rendering import render_report, render_reports, renderer

# Below this many visits, starting worker processes costs more than it saves.
IN_PROCESS_BELOW = 24
CHUNK_MAX = 25
# What a worker's app needs to reach the same database with the same calendar.
WORKER_SETTINGS = (
    "SQLALCHEMY_DATABASE_URI",
    "SECRET_KEY",
    "PORTAL_ENV",
    "PORTAL_TIMEZONE",
    "BABEL_DEFAULT_LOCALE",
    "PASSWORD_HASH_PROFILE",
    "TESTING",
)

# Imported once by the fork server, so each worker only builds its app.
PRELOAD = [__name__, "weasyprint", *view_modules()]

_worker_app: Flask | None = None


@dataclass(frozen=True)
class Part:
    """The visits a pack prints: its number and its visits (id, time); the whole month."""

    number: int
    visits: list

    @property
    def visit_ids(self) -> list[int]:
        return [visit.id for visit in self.visits]


def whole_month(visits: list) -> Part:
    """The month's visits as the one part of the pack (the worker renders it whole)."""
    return Part(1, visits)


def worker_count() -> int:
    """The cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def _chunks(ids: list[int], workers: int) -> list[list[int]]:
    # Several chunks per worker even out slow and fast visits; few enough to keep
    # one font subset per chunk from bloating the file.
    size = max(1, min(CHUNK_MAX, math.ceil(len(ids) / (workers * 4))))
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def _init_worker(settings: dict) -> None:
    global _worker_app
    from portal import create_app

    _worker_app = create_app(settings)
    with _worker_app.app_context():
        renderer().prepare()
    # The app, WeasyPrint and the parsed styles live as long as the worker: kept out of
    # the collector's reach, they are not walked again each time layout's many boxes
    # trigger a full collection (about a tenth of a chunk's time).
    gc.collect()
    gc.freeze()


def _render_chunk(visit_ids: list[int], locale: str, printing: data.Printing) -> bytes:
    # A GET context: on SQLite these reads then start deferred instead of taking the
    # write lock (portal.database), so workers never queue behind each other or a writer.
    with _worker_app.test_request_context(method="GET"), force_locale(locale):
        reports = data.visit_reports(visit_ids)
        db.session.remove()  # plain data now; hold no snapshot while laying out
        return render_reports(reports, printing)


def _process_pool(workers: int):
    settings = {
        key: current_app.config[key] for key in WORKER_SETTINGS if key in current_app.config
    }
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_init_worker,
        initargs=(settings,),
    )


def _merge(pdfs: list[bytes], title: str) -> bytes:
    writer = PdfWriter()
    for pdf in pdfs:
        writer.append(PdfReader(BytesIO(pdf)))
    writer.add_metadata({"/Title": title})
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def build(
    cover: data.PackCover,
    visit_ids: list[int],
    printing: data.Printing,
    locale: str,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> bytes:
    """The cover and every visit's report, in the order of ``visit_ids``, as one PDF.

    Needs an app context. The visits must be committed, and the caller must hold no
    write lock (end its transaction first): the workers read on their own connections.
    ``progress(n)`` is told how many visits are laid out each time a chunk is done.
    """
    workers = workers or worker_count()
    progress = progress or (lambda _done: None)
    title = f"{cover.title} · {cover.branch_name} · {cover.month}"
    if len(visit_ids) < IN_PROCESS_BELOW or workers < 2:
        pieces = [render_report(cover, printing)]
        if visit_ids:
            pieces.append(render_reports(data.visit_reports(visit_ids), printing))
        progress(len(visit_ids))
        return _merge(pieces, title)
    with _process_pool(workers) as pool:
        futures = {
            pool.submit(_render_chunk, chunk, locale, printing): len(chunk)
            for chunk in _chunks(visit_ids, workers)
        }
        # The cover is laid out here while the workers start up.
        pieces = [render_report(cover, printing)]
        done = 0
        for future in as_completed(futures):
            done += futures[future]
            progress(done)
        pieces += [future.result() for future in futures]
    return _merge(pieces, title)
