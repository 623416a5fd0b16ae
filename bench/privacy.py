"""Encryption at rest at the web benchmark's 100,000 borrowers.

On the company bench/web.py generates (afresh whenever the generator or the migrations
changed), in the process:

- the migration that encrypts the numbers (``0024_encryption_at_rest``), timed on a copy
  of the generated company taken back to the revision before it (the downgrade decrypts),
  budget ≤ 120 s;
- an officer's borrower search by the last four characters of an ID number and of a
  mobile number (posted, as the page does: numbers never go into URLs) and a borrower's
  page, rendered whole through the app (the test client: one process, no network), each
  the minimum, median, p95 and maximum of ``--runs`` runs after one warm-up. The budget
  is the p95 measured before the numbers were encrypted, plus 10 % (docs/performance.md).

    python bench/privacy.py [--database sqlite|postgresql|both] [--borrowers 100000]
                            [--months 24] [--runs 40] [--pages-only] [--url URL]

``--url`` measures the pages on that database as it is (no generation, no migration).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from portfolio import _client, _stats  # noqa: E402 - the portfolio benchmark's helpers
from web import DATA, database_url, ensure_data  # noqa: E402 - the web benchmark's data

BEFORE = "0023_consents_and_holds"
MIGRATION_BUDGET_S = 120
# p95 before issue 19 (the code of 122ff7a on the same generated company, measured by this
# script's --url; docs/performance.md, "Issue 19"), per database; the budget adds 10 %.
PAGE_P95_BEFORE_MS = {
    "sqlite": {"search by ID tail": 6.8, "search by phone tail": 6.8, "borrower detail": 9.7},
    "postgresql": {
        "search by ID tail": 12.5,
        "search by phone tail": 11.6,
        "borrower detail": 16.6,
    },
}


def _targets(url: str) -> dict:
    """The busiest officer and one of their borrowers with an active loan."""
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        officer_id, officer = connection.execute(
            sa.text(
                "SELECT u.id, u.username FROM users u JOIN borrowers b ON b.officer_id = u.id "
                "GROUP BY u.id, u.username ORDER BY COUNT(*) DESC, u.id LIMIT 1"
            )
        ).one()
        borrower = connection.execute(
            sa.text(
                "SELECT b.id, b.resident_id_tail, b.mobile_tail FROM borrowers b JOIN loans l "
                "ON l.borrower_id = b.id AND l.status = 'active' WHERE b.officer_id = :o "
                "ORDER BY b.id LIMIT 1"
            ),
            {"o": officer_id},
        ).one()
    engine.dispose()
    return {"officer": officer, "borrower": borrower}


def _copy(kind: str, url: str) -> str:
    """A copy of the generated company to migrate (the original stays as generated)."""
    if kind == "sqlite":
        source = Path(sa.make_url(url).database)
        target = DATA / "privacy-migration.sqlite3"
        shutil.copyfile(source, target)
        return f"sqlite:///{target}"
    parsed = sa.make_url(url)
    copy = f"{parsed.database}_privacy_migration"
    admin = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{copy}"'))
        connection.execute(sa.text(f'CREATE DATABASE "{copy}" TEMPLATE "{parsed.database}"'))
    admin.dispose()
    return parsed.set(database=copy).render_as_string(hide_password=False)


def _drop_copy(kind: str, url: str) -> None:
    parsed = sa.make_url(url)
    if kind == "sqlite":
        Path(parsed.database).unlink(missing_ok=True)
        return
    admin = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{parsed.database}"'))
    admin.dispose()


def _flask(env: dict, *args: str) -> float:
    started = time.perf_counter()
    subprocess.run([str(ROOT / ".venv/bin/flask"), *args], cwd=ROOT, env=env, check=True)
    return time.perf_counter() - started


def migration(kind: str, url: str, env: dict) -> dict:
    """The encrypting migration's time on a decrypted copy of the company."""
    copy = _copy(kind, url)
    copy_env = {**env, "DATABASE_URL": copy}
    try:
        down = _flask(copy_env, "db", "downgrade", BEFORE)
        up = _flask(copy_env, "db", "upgrade")
    finally:
        _drop_copy(kind, copy)
    print(
        f"[{kind}] downgrade to {BEFORE} (decrypting) {down:.1f} s; upgrade (encrypting) {up:.1f} s"
    )
    return {"downgrade_s": round(down, 1), "upgrade_s": round(up, 1)}


def pages(kind: str, url: str, runs: int) -> dict:
    targets = _targets(url)
    os.environ.update(DATABASE_URL=url, PORTAL_ENV="development")
    from portal import create_app

    app = create_app()
    client = _client(app, targets["officer"])
    page = client.get("/borrowers/").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    borrower = targets["borrower"]

    def search(tail: str):
        def post():
            response = client.post("/borrowers/", data={"q": tail, "csrf_token": token})
            if response.status_code != 200 or f"/borrowers/{borrower.id}" not in response.text:
                raise SystemExit(f"search by {tail}: {response.status_code}, borrower not found")

        return post

    def detail():
        response = client.get(f"/borrowers/{borrower.id}")
        if response.status_code != 200:
            raise SystemExit(f"borrower page: {response.status_code}")

    steps = {
        "search by ID tail": search(borrower.resident_id_tail),
        "search by phone tail": search(borrower.mobile_tail),
        "borrower detail": detail,
    }
    results = {}
    for name, step in steps.items():
        step()  # warm-up
        samples = []
        for _ in range(runs):
            started = time.perf_counter()
            step()
            samples.append((time.perf_counter() - started) * 1000)
        results[name] = _stats(samples)
    return results


def _report(kind: str, results: dict, migrated: dict | None) -> list[str]:
    over = []
    print(f"\n[{kind}] {'':28} {'min':>8} {'median':>8} {'p95':>8} {'max':>8}  budget (p95)")
    for name, row in results.items():
        before = PAGE_P95_BEFORE_MS[kind][name]
        budget = round(before * 1.1, 1)
        ok = not before or row["p95_ms"] <= budget
        mark = f"≤ {budget} ms " + ("ok" if ok else "OVER") if before else ""
        print(
            f"[{kind}] {name:28} {row['min_ms']:>8} {row['median_ms']:>8} {row['p95_ms']:>8} "
            f"{row['max_ms']:>8}  {mark}"
        )
        if not ok:
            over.append(f"{kind}: {name}")
    if migrated is not None:
        ok = migrated["upgrade_s"] <= MIGRATION_BUDGET_S
        print(
            f"[{kind}] encrypting migration {migrated['upgrade_s']} s  ≤ {MIGRATION_BUDGET_S} s "
            + ("ok" if ok else "OVER")
        )
        if not ok:
            over.append(f"{kind}: migration")
    return over


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--borrowers", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--pages-only", action="store_true", help="skip the migration")
    parser.add_argument("--url", help="measure the pages on this database as it is")
    args = parser.parse_args()
    if args.url:
        kind = "sqlite" if args.url.startswith("sqlite") else "postgresql"
        _report(kind, pages(kind, args.url, args.runs), None)
        return 0
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    report, over = {}, []
    for kind in kinds:
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
        migrated = None if args.pages_only else migration(kind, url, env)
        results = pages(kind, url, args.runs)
        over += _report(kind, results, migrated)
        report[kind] = {"data": data, "migration": migrated, "pages": results}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "privacy.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    print("Over budget: " + ", ".join(over) if over else "\nWithin budget.")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
