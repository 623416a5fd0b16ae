"""PDF benchmark: a visit report, the monthly branch report and a 300-visit pack.

On the demo company scaled to one branch of 5,000 borrowers (``flask demo generate``;
as for the web benchmark, generated afresh whenever the generator or the migrations
changed, and analysed before measuring), in one run:

- the floor: WeasyPrint printing one line with the same font and stylesheets (median of 20),
  and what parsing the font face and stylesheets costs (done once per process);
- a visit report, data and PDF (median of 20 different visits);
- the monthly branch report of the last complete month, data and PDF: the first in the
  process, and the median of 3 more;
- a pack of 300 of that month's visit reports, built in parallel (worker start included).

Prints each figure with its ratio to the floor and writes bench/results/pdf.json.

    python bench/pdf.py [--borrowers 5000] [--months 24] [--locale zh]

With ``--pack-job``, instead: the whole visit pack of branch G01's last complete month
rendered by the queue's worker (docs/jobs.md: budget 2,300 visits in 4 minutes on two
cores), from the moment the job is queued to the moment its file is stored, with a
real ``flask jobs worker`` process beside the web service (gunicorn); one user's pages
(officer home, borrower, visit form, compliance, service queue) are timed before the job
and over and over while it runs (budget: p95 no worse than 2x). The load average before
and after is printed (the machine may be shared). Writes bench/results/pdf-pack-job.json.
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT / "bench"))

from web import database_url, ensure_data  # noqa: E402 - the web benchmark's data set-up

FLOOR_HTML = "<!doctype html><html><body><p>贷后跟踪调查表 one line</p></body></html>"
PACK_SIZE = 300
TARGETS = {  # docs/product.md, "Scale and speed budgets"
    "visit_report_median_s": 0.25,
    "branch_report_s": 3.0,
    "visit_pack_300_s": 30.0,
}


def timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def median_of(count: int, action) -> float:
    return statistics.median(timed(action) for _ in range(count))


def stylesheet_parse(app) -> float:
    """What the cached renderer saves each render: the font face and our stylesheets, parsed."""
    from portal.reports.rendering import PdfRenderer

    static = Path(app.static_folder)
    return median_of(5, lambda: PdfRenderer(static).base_stylesheets)


def measure(app, locale: str) -> dict:
    """The four figures, inside one app; the renderer is warmed up first, as in a worker."""
    from flask_babel import force_locale

    from portal.core.calendar import current_month
    from portal.extensions import db
    from portal.reports import data, monthly, pack, queries
    from portal.reports.rendering import render_report, renderer

    # A GET context: reads start deferred on SQLite, as they do in the web app.
    with app.test_request_context(method="GET"), force_locale(locale):
        branch = queries.branch_by_code("G01")
        month = current_month().shift(-1)
        visits = queries.month_visits(branch.id, month)
        printing = data.printing(None)
        renderer().render_html(FLOOR_HTML)  # fonts and stylesheets, once per process

        floor = median_of(20, lambda: renderer().render_html(FLOOR_HTML))
        parse = stylesheet_parse(app)
        ids = iter([visit.id for visit in visits][:20])
        visit = median_of(20, lambda: render_report(data.visit_report(next(ids)), printing))

        def branch_report():
            render_report(monthly.branch_month_report(branch, month), printing)

        # The first print in a process is what a head waits for after a restart; later
        # ones may find the compliance feature's cached closed months.
        report = timed(branch_report)
        report_warm = median_of(3, branch_report)
        part = pack.Part(1, visits[:PACK_SIZE])
        cover = data.pack_cover(branch, month, part, 1)
        db.session.commit()  # the workers read on their own connections
        workers = pack.worker_count()
        visit_pack = timed(lambda: pack.build(cover, part.visit_ids, printing, locale, workers))
    return {
        "floor_median_s": floor,
        "stylesheet_parse_s": parse,
        "visit_report_median_s": visit,
        "branch_report_s": report,
        "branch_report_warm_median_s": report_warm,
        "visit_pack_300_s": visit_pack,
        "month": str(month),
        "visits_in_month": len(visits),
        "workers": workers,
    }


def print_figures(figures: dict) -> None:
    floor = figures["floor_median_s"]
    print(f"\nPDF reports, branch G01, {figures['month']} ({figures['visits_in_month']} visits)")
    print(f"{'':28}{'seconds':>10}{'x floor':>10}{'target':>10}")
    for key in ("floor_median_s", *TARGETS):
        target = TARGETS.get(key)
        verdict = "" if target is None else ("  ok" if figures[key] <= target else "  OVER")
        print(
            f"{key:28}{figures[key]:>10.3f}{figures[key] / floor:>10.1f}"
            f"{(f'{target:.2f}' if target else '-'):>10}{verdict}"
        )
    print(f"branch report again, median of 3: {figures['branch_report_warm_median_s']:.3f} s")
    print(f"(pack built by {figures['workers']} worker processes, their start included)")
    print(
        f"Fonts and stylesheets are parsed once per process: {figures['stylesheet_parse_s']:.3f} s "
        "that a render would otherwise pay each time."
    )


PACK_JOB_BUDGET_S = 240.0  # 2,300 visits by the worker, docs/product.md
PAGES_SLOWDOWN_BUDGET = 2.0  # one user's page p95 while the pack renders, vs without
# The pages one user keeps using while the month's pack renders (docs/jobs.md).
BUSY_PAGES = ("officer home", "borrower detail", "visit form", "branch compliance", "service queue")
NORMAL_REQUESTS = 60  # per page, before the job is queued


def pack_job(url: str, env: dict, locale: str) -> dict:
    """Queue the month's whole pack as a job for the real worker beside the web service,
    time it from queued to stored; one user's pages are timed before and while it runs."""
    import tempfile

    import sqlalchemy as sa
    from web import address, gunicorn, pages, pick_targets, sessions_for, summarise, timed_get

    from portal import create_app
    from portal.accounts.models import Role, User
    from portal.core.calendar import current_month
    from portal.extensions import db
    from portal.jobs.models import Job, JobKind, JobStatus
    from portal.jobs.tasks import queue_job
    from portal.reports import queries

    queue = Path(tempfile.mkdtemp()) / "queue.sqlite3"
    env = env | {
        "JOBS_QUEUE_URL": f"sqlite:///{queue}",
        "QUERY_COUNT_HEADER": "1",
        "LOGIN_RATE_LIMIT": "10000 per minute",
    }
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "JOBS_QUEUE_URL": env["JOBS_QUEUE_URL"]}
        | {"JOBS_IMMEDIATE": False}
    )
    targets = pick_targets(url)
    workers = (os.cpu_count() or 1) * 2
    with gunicorn(env, workers) as base:  # the web service and the queue's worker
        sessions = sessions_for(base, targets)
        plan = [
            (name, who, address(base, path))
            for name, who, path in pages(targets)
            if name in BUSY_PAGES
        ]
        for _name, who, page in plan:
            for _ in range(3 * workers):  # every web worker has seen every page
                timed_get(sessions[who], page)
        normal = {
            name: summarise([timed_get(sessions[who], page) for _ in range(NORMAL_REQUESTS)])
            for name, who, page in plan
        }
        with app.test_request_context(method="POST"):
            branch = queries.branch_by_code("G01")
            month = current_month().shift(-1)
            visits = len(queries.month_visits(branch.id, month))
            admin = db.session.scalar(sa.select(User).where(User.role == Role.ADMIN).limit(1))
            job = Job(
                kind=JobKind.VISIT_PACK,
                requested_by=admin,
                branch_id=branch.id,
                month=str(month),
                locale=locale,
                internal=True,
                fingerprint="bench",
            )
            db.session.add(job)
            db.session.commit()
            job_id = job.id
        load_before = os.getloadavg()
        started = time.perf_counter()
        with app.app_context():
            queue_job(job_id)
        during: dict[str, list] = {name: [] for name, _, _ in plan}
        # One user goes on using the pages; between two rounds the job's row is read as
        # the status page reads it (a GET: SQLite's write lock is never taken).
        with app.test_request_context(method="GET"):
            while True:
                db.session.expire_all()
                status, error, size = db.session.execute(
                    sa.select(Job.status, Job.error, Job.file_size).where(Job.id == job_id)
                ).one()
                db.session.commit()
                if status in (JobStatus.DONE, JobStatus.FAILED):
                    break
                for name, who, page in plan:
                    during[name].append(timed_get(sessions[who], page))
        seconds = time.perf_counter() - started
        load_after = os.getloadavg()
    if status != JobStatus.DONE:
        raise SystemExit(f"the job failed: {error}")
    busy = {}
    for name in normal:
        if not during[name]:
            continue
        row = summarise(during[name])
        row["normal_p95_ms"] = normal[name]["p95_ms"]
        row["ratio_p95"] = round(row["p95_ms"] / normal[name]["p95_ms"], 2)
        busy[name] = row
    return {
        "month": str(month),
        "visits": visits,
        "pack_job_s": seconds,
        "visits_per_s": visits / seconds,
        "file_bytes": size,
        "budget_s_for_2300": PACK_JOB_BUDGET_S,
        "projected_2300_s": seconds / visits * 2300 if visits else None,
        "pages_while_rendering": busy,
        "pages_budget_ratio": PAGES_SLOWDOWN_BUDGET,
        "web_workers": workers,
        "cores": os.cpu_count(),
        "load_before": load_before,
        "load_after": load_after,
    }


def print_pack_job(figures: dict) -> None:
    print(
        f"\nVisit pack of G01, {figures['month']}: {figures['visits']} visits rendered by the "
        f"worker in {figures['pack_job_s']:.1f} s ({figures['visits_per_s']:.1f} visits/s); "
        f"2,300 visits: {figures['projected_2300_s']:.0f} s, budget {PACK_JOB_BUDGET_S:.0f} s"
    )
    print(f"\nOne user's pages while it renders ({figures['web_workers']} web workers beside it)")
    print(
        f"{'page':22} {'normal p95':>11} {'during p50':>11} {'during p95':>11} {'ratio':>6} {'n':>4}"
    )
    for name, row in figures["pages_while_rendering"].items():
        verdict = (
            "ok" if row["ratio_p95"] <= PAGES_SLOWDOWN_BUDGET and not row["errors"] else "OVER"
        )
        print(
            f"{name:22} {row['normal_p95_ms']:>11.1f} {row['p50_ms']:>11.1f} "
            f"{row['p95_ms']:>11.1f} {row['ratio_p95']:>6.2f} {row['requests']:>4}  {verdict}"
        )
    print(f"load average before {figures['load_before']}, after {figures['load_after']}")


def pack_job_within_budget(figures: dict) -> bool:
    pages_ok = all(
        row["ratio_p95"] <= PAGES_SLOWDOWN_BUDGET and not row["errors"]
        for row in figures["pages_while_rendering"].values()
    )
    return (figures["projected_2300_s"] or 0) <= PACK_JOB_BUDGET_S and pages_ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--borrowers", type=int, default=5000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--locale", choices=["zh", "en"], default="zh")
    parser.add_argument(
        "--pack-job", action="store_true", help="the whole month's pack rendered by the worker"
    )
    args = parser.parse_args()

    url = database_url("sqlite", args.borrowers)
    env = os.environ | {"DATABASE_URL": url, "FLASK_APP": "wsgi.py", "PORTAL_ENV": "development"}
    data = ensure_data("sqlite", url, env, args.borrowers, args.months)
    if args.pack_job:
        figures = pack_job(url, env, args.locale) | {"data": data}
        print_pack_job(figures)
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "pdf-pack-job.json").write_text(json.dumps(figures, indent=2) + "\n")
        return 0 if pack_job_within_budget(figures) else 1

    from portal import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    figures = measure(app, args.locale) | {"data": data}
    print_figures(figures)
    print(
        f"Data generated {data['generated_at']} ({data['age']} ago) by the current code; "
        f"statistics present before this run: {'yes' if data['statistics_before_run'] else 'NO'} "
        "(ANALYZE run before measuring)."
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "pdf.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(f"Wrote {RESULTS / 'pdf.json'}")
    return 0 if all(figures[key] <= target for key, target in TARGETS.items()) else 1


if __name__ == "__main__":
    sys.exit(main())
