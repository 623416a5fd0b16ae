"""Portfolio quality benchmark at the web benchmark's 100,000 borrowers.

On the company bench/web.py generates (afresh whenever the generator or the migrations
changed; schedules and repayments as portal/demo/generate.py makes them), in the process:

- company PAR on last month's last day: ``quality`` for the company and
  ``quality_by_branch`` (what the admin's company page computes), budget ≤ 1 s;
- the head's branch page ``/portfolio?month=<last month>`` and the admin's company page,
  rendered whole through the app (the test client: no network, one process), budget for
  the branch page p95 ≤ 100 ms (docs/portfolio.md);
- the headline pages (company for the admin, branch for the head) over the last 12 months.

Each figure is the minimum, median, p95 and maximum of ``--runs`` runs after one warm-up.

    python bench/portfolio.py [--database sqlite|postgresql|both] [--borrowers 100000]
                              [--months 24] [--runs 20]
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from web import DATA, PASSWORD, database_url, ensure_data  # noqa: E402 - the web benchmark's data

BUDGETS_MS = {"company PAR": 1000, "branch portfolio page": 100}


def _stats(samples: list[float]) -> dict:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "runs": len(ordered),
        "min_ms": round(ordered[0], 1),
        "median_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(p95, 1),
        "max_ms": round(ordered[-1], 1),
    }


def _time(step, runs: int) -> dict:
    step()  # warm-up: the first run pays the caches of a new connection
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        step()
        samples.append((time.perf_counter() - start) * 1000)
    return _stats(samples)


def _people(url: str) -> tuple[str, str]:
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        head = connection.scalar(
            sa.text(
                "SELECT h.username FROM users h WHERE h.role = 'head' AND h.branch_id = "
                "(SELECT branch_id FROM loans GROUP BY branch_id ORDER BY COUNT(*) DESC LIMIT 1)"
                " ORDER BY h.id LIMIT 1"
            )
        )
        admin = connection.scalar(
            sa.text("SELECT username FROM users WHERE role = 'admin' ORDER BY id LIMIT 1")
        )
    engine.dispose()
    return head, admin


def _bench_admin() -> str:
    """The generated company has no admin: one is added for the company pages."""
    from flask import current_app

    from portal.accounts.models import Role, User
    from portal.accounts.passwords import hash_password
    from portal.extensions import db

    db.session.add(
        User(
            username="bench-admin",
            display_name="bench-admin",
            role=Role.ADMIN,
            password_hash=hash_password(current_app.config["DEMO_PASSWORD"]),
        )
    )
    db.session.commit()
    return "bench-admin"


def _client(app, username: str):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    response = client.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf_token": token}
    )
    if response.status_code != 302:
        raise SystemExit(f"could not log in as {username}")
    return client


def _page(client, path: str):
    def get():
        response = client.get(path)
        if response.status_code != 200:
            raise SystemExit(f"{path}: {response.status_code}")

    return get


def run(kind: str, args) -> dict:
    url = database_url(kind, args.borrowers)
    DATA.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "FLASK_APP": "wsgi.py",
        "PORTAL_ENV": "development",
        "JOBS_QUEUE_URL": f"sqlite:///{DATA / f'queue-{kind}.sqlite3'}",
    }
    data = ensure_data(kind, url, env, args.borrowers, args.months)
    head, admin = _people(url)
    os.environ.update(
        DATABASE_URL=url, PORTAL_ENV="development", LOGIN_RATE_LIMIT="10000 per minute"
    )
    from portal import create_app
    from portal.core.calendar import current_month, local_today
    from portal.portfolio.quality import quality, quality_by_branch

    app = create_app()
    with app.app_context():
        admin = admin or _bench_admin()
        last = current_month().shift(-1)
        day = min(last.last_day, local_today())

        def company_par():
            quality(day)
            quality_by_branch(day)

        results = {"company PAR": _time(company_par, args.runs)}
        figures = quality(day)
    month = str(last)
    head_client, admin_client = _client(app, head), _client(app, admin)
    pages = {
        "branch portfolio page": (head_client, f"/portfolio?month={month}"),
        "company portfolio page": (admin_client, f"/portfolio?month={month}"),
        "branch headline (12 months)": (head_client, "/headline/branch"),
        "company headline (12 months)": (admin_client, "/headline/company"),
    }
    for name, (client, path) in pages.items():
        results[name] = _time(_page(client, path), args.runs)
    par30 = "—" if figures.par30_ratio is None else f"{figures.par30_ratio:.2%}"
    print(
        f"\n[{kind}] {args.borrowers:,} borrowers, month-end {day}: "
        f"{figures.loans:,} loans outstanding, PAR30 {par30}"
    )
    print(f"{'':34} {'min':>8} {'median':>8} {'p95':>8} {'max':>8}  budget")
    for name, row in results.items():
        budget = BUDGETS_MS.get(name)
        mark = (
            "" if budget is None else (f"≤ {budget} ms " + ("ok" if _within(name, row) else "OVER"))
        )
        print(
            f"{name:34} {row['min_ms']:>8} {row['median_ms']:>8} {row['p95_ms']:>8} "
            f"{row['max_ms']:>8}  {mark}"
        )
    return {"data": data, "month_end": str(day), "loans": figures.loans, "results": results}


def _within(name: str, row: dict) -> bool:
    budget = BUDGETS_MS.get(name)
    # Company PAR: every run within the second; the branch page: its p95.
    return budget is None or (row["max_ms"] if name == "company PAR" else row["p95_ms"]) <= budget


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--borrowers", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    report = {kind: run(kind, args) for kind in kinds}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "portfolio.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    over = [
        f"{kind}: {name}"
        for kind, result in report.items()
        for name, row in result["results"].items()
        if not _within(name, row)
    ]
    print("Over budget: " + ", ".join(over) if over else "\nWithin budget.")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
