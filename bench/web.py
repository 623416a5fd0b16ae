"""Web benchmark: p50/p95 latency and queries per request of the main pages.

Serves the app with gunicorn on loopback against a large generated database and
measures each page one user at a time, then with CONCURRENCY users at once (a
bounded thread pool). Writes bench/results/web.json and prints a table with each
page's ratio to the floor (the login page and /healthz).

    python bench/web.py --database sqlite --borrowers 100000 --months 24
"""

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import requests
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DATA = ROOT / "bench" / "data"
PASSWORD = "portal-demo"
CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
FLOOR = ("login page", "healthz")


def database_url(kind: str, borrowers: int) -> str:
    if kind == "sqlite":
        DATA.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{DATA / f'bench-{borrowers}.sqlite3'}"
    base = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432")
    return f"{base}/portal_bench_{borrowers}"


def flask(env: dict, *args: str) -> None:
    subprocess.run([str(ROOT / ".venv/bin/flask"), *args], cwd=ROOT, env=env, check=True)


def borrower_count(url: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(sa.text("SELECT COUNT(*) FROM borrowers")).scalar()
    except sa.exc.SQLAlchemyError:
        return 0
    finally:
        engine.dispose()


def ensure_postgres_database(url: str) -> None:
    parsed = sa.make_url(url)
    admin = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.execute(
            sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": parsed.database}
        ).scalar()
        if not exists:
            connection.exec_driver_sql(f'CREATE DATABASE "{parsed.database}"')
    admin.dispose()


def ensure_data(kind: str, url: str, env: dict, borrowers: int, months: int) -> None:
    """Generate the large database once; later runs reuse it."""
    if kind == "postgresql":
        ensure_postgres_database(url)
    flask(env, "db", "upgrade")
    if borrower_count(url) >= borrowers:
        print(f"[{kind}] reusing {url}")
        return
    print(f"[{kind}] generating {borrowers} borrowers x {months} months …", flush=True)
    started = time.perf_counter()
    flask(env, "demo", "generate", "--borrowers", str(borrowers), "--months", str(months))
    print(f"[{kind}] generated in {time.perf_counter() - started:.0f} s", flush=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def gunicorn(env: dict, workers: int):
    port = free_port()
    process = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "wsgi:app",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if requests.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except requests.RequestException:  # not listening yet, or still importing
                time.sleep(0.2)
        else:
            raise RuntimeError("gunicorn did not start")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def login(base: str, username: str) -> requests.Session:
    session = requests.Session()
    token = CSRF.search(session.get(base + "/login").text).group(1)
    response = session.post(
        base + "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": token},
        allow_redirects=False,
    )
    if response.status_code != 302:
        raise RuntimeError(f"login as {username} failed: {response.status_code}")
    return session


def pick_targets(url: str) -> dict:
    """A busy officer, their branch head, one of their borrowers, and search terms."""
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        officer_id, officer = connection.execute(
            sa.text(
                "SELECT u.id, u.username FROM users u JOIN borrowers b ON b.officer_id = u.id "
                "GROUP BY u.id, u.username ORDER BY COUNT(*) DESC LIMIT 1"
            )
        ).one()
        borrower = connection.execute(
            sa.text(
                "SELECT b.id, b.name_initials, b.mobile_tail FROM borrowers b JOIN loans l "
                "ON l.borrower_id = b.id AND l.status = 'active' WHERE b.officer_id = :o "
                "ORDER BY b.id LIMIT 1"
            ),
            {"o": officer_id},
        ).one()
        head = connection.execute(
            sa.text(
                "SELECT h.username FROM users h JOIN users o ON o.branch_id = h.branch_id "
                "WHERE o.id = :o AND h.role = 'head' ORDER BY h.id LIMIT 1"
            ),
            {"o": officer_id},
        ).scalar()
    engine.dispose()
    return {
        "officer": officer,
        "head": head,
        "borrower_id": borrower.id,
        "initials": borrower.name_initials,
        "phone_tail": borrower.mobile_tail,
    }


def pages(t: dict) -> list[tuple[str, str, str]]:
    """(name, who, path) of every page measured."""
    return [
        ("login page", "anonymous", "/login"),
        ("healthz", "anonymous", "/healthz"),
        ("officer home", "officer", "/visits/month"),
        ("search by pinyin initials", "officer", f"/borrowers/?q={t['initials']}"),
        ("search by phone tail", "officer", f"/borrowers/?q={t['phone_tail']}"),
        ("borrower detail", "officer", f"/borrowers/{t['borrower_id']}"),
        ("visit form", "officer", f"/borrowers/{t['borrower_id']}/visits/new"),
        ("branch compliance", "head", "/visits/compliance"),
        ("service queue", "head", "/services/queue"),
        ("outbox", "head", "/care/outbox"),
    ]


def timed_get(session: requests.Session, url: str) -> tuple[float, int, int]:
    started = time.perf_counter()
    response = session.get(url, allow_redirects=False)
    elapsed = (time.perf_counter() - started) * 1000
    return elapsed, response.status_code, int(response.headers.get("X-Query-Count", -1))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def summarise(samples: list[tuple[float, int, int]]) -> dict:
    times = [s[0] for s in samples]
    bad = [s[1] for s in samples if s[1] != 200]
    return {
        "p50_ms": round(statistics.median(times), 2),
        "p95_ms": round(percentile(times, 0.95), 2),
        "queries": max(s[2] for s in samples),
        "requests": len(samples),
        "errors": len(bad),
    }


def sessions_for(base: str, targets: dict) -> dict:
    return {
        "anonymous": requests.Session(),
        "officer": login(base, targets["officer"]),
        "head": login(base, targets["head"]),
    }


def measure_serial(base: str, targets: dict, count: int, warmup: int) -> dict:
    sessions = sessions_for(base, targets)
    results = {}
    for name, who, path in pages(targets):
        for _ in range(warmup):
            # Steady state: every worker has connected, imported and filled its caches.
            timed_get(sessions[who], base + path)
        results[name] = summarise([timed_get(sessions[who], base + path) for _ in range(count)])
    return results


def measure_concurrent(base: str, targets: dict, users: int, count: int) -> dict:
    plan = pages(targets)
    user_sessions = [sessions_for(base, targets) for _ in range(users)]
    samples: dict[str, list] = {name: [] for name, _, _ in plan}

    def user(index: int) -> None:
        sessions = user_sessions[index]
        for round_ in range(count):
            name, who, path = plan[(index + round_) % len(plan)]
            samples[name].append(timed_get(sessions[who], base + path))

    with ThreadPoolExecutor(max_workers=users) as pool:
        list(pool.map(user, range(users)))
    return {name: summarise(values) for name, values in samples.items() if values}


def print_table(title: str, results: dict) -> None:
    floor = statistics.median([results[name]["p50_ms"] for name in FLOOR if name in results])
    print(f"\n{title}")
    print(f"{'page':28} {'p50 ms':>8} {'p95 ms':>8} {'×floor':>7} {'queries':>8} {'errors':>7}")
    for name, row in results.items():
        print(
            f"{name:28} {row['p50_ms']:8.1f} {row['p95_ms']:8.1f} "
            f"{row['p50_ms'] / floor:7.1f} {row['queries']:8d} {row['errors']:7d}"
        )


def run(kind: str, args) -> dict:
    url = database_url(kind, args.borrowers)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "QUERY_COUNT_HEADER": "1",
        "FLASK_APP": "wsgi.py",
        "LOGIN_RATE_LIMIT": "10000 per minute",
        "PORTAL_ENV": "development",
    }
    ensure_data(kind, url, env, args.borrowers, args.months)
    targets = pick_targets(url)
    with gunicorn(env, args.workers) as base:
        serial = measure_serial(base, targets, args.requests, warmup=3 * args.workers)
        print_table(f"[{kind}] one user, {args.requests} requests per page", serial)
        concurrent = measure_concurrent(base, targets, args.concurrency, args.rounds)
        print_table(f"[{kind}] {args.concurrency} concurrent users", concurrent)
    return {"serial": serial, f"concurrent_{args.concurrency}": concurrent}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--borrowers", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=30, help="requests per concurrent user")
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) * 2)
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    report = {
        "borrowers": args.borrowers,
        "months": args.months,
        "workers": args.workers,
        "cpu_count": os.cpu_count(),
        "databases": {},
    }
    for kind in kinds:
        report["databases"][kind] = run(kind, args)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "web.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    print(f"\nwritten {RESULTS / 'web.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
