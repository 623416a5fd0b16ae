"""Load benchmark: a morning's realistic mix, many staff at once, think time zero.

Against gunicorn (``--workers``, default two per core, and the queue's worker beside it,
as bench/web.py) serving a scratch copy of the web benchmark's generated company
(100,000 borrowers, generated afresh whenever the generator or the migrations changed,
``ANALYZE`` run before measuring): the visits submitted during the run go to the copy,
so the generated company stays as generated.

- ``--officers`` users (default 16), each logged in as a different officer of branch
  G01, go round: the month page, a search by pinyin initials, one of their borrowers'
  pages, the visit form, and every fourth round the form submitted (filled in and
  signed, no photos: a new signed visit, its chain and flags);
- ``--heads`` users (default 4), each the head of another branch: the branch
  compliance page, the service queue, a borrower of the branch, and every fourth round a
  visit report PDF.

Every user sends its next request as soon as the last one answered, for ``--seconds``
(default 60). Then the same users ask ``/healthz`` only, for ``--floor-seconds``: the
floor, measured in the same run on the same server. Printed: requests per second of
the mix and of the floor, p50 and p95 of each page with its ratio to the floor's p50,
and the errors (any answer but the expected one). Writes bench/results/load.json.

Budget (docs/performance.md, "Load"): with 20 users on the 2-core machine, at least
55 requests/s, no error, p95 of the mix at most 700 ms.

    python bench/load.py [--database sqlite|postgresql|both] [--seconds 60]
"""

import argparse
import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path

import requests
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT / "bench"))

from evidence import drop_scratch, scratch, visit_data  # noqa: E402 - the evidence benchmark's
from web import DATA, database_url, ensure_data, gunicorn, login, percentile  # noqa: E402

BRANCH = "G01"
BUDGET_RPS = 55.0
BUDGET_P95_MS = 700.0
SUBMIT_EVERY = 4  # rounds


def staff(url: str, officers: int, heads: int) -> dict:
    """Officers of G01 with their borrowers (active loans), heads of other branches with
    a borrower and some visits of their branch."""
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        officer_rows = connection.execute(
            sa.text(
                "SELECT u.id, u.username FROM users u JOIN branches b ON b.id = u.branch_id "
                "WHERE b.code = :code AND u.role = 'officer' ORDER BY u.id LIMIT :n"
            ),
            {"code": BRANCH, "n": officers},
        ).all()
        people = []
        for officer_id, username in officer_rows:
            borrowers = (
                connection.execute(
                    sa.text(
                        "SELECT b.id, b.name_initials FROM borrowers b JOIN loans l "
                        "ON l.borrower_id = b.id AND l.status = 'active' "
                        "WHERE b.officer_id = :o ORDER BY b.id LIMIT 60"
                    ),
                    {"o": officer_id},
                )
                .tuples()
                .all()
            )
            people.append({"role": "officer", "username": username, "borrowers": borrowers})
        head_rows = connection.execute(
            sa.text(
                "SELECT u.username, u.branch_id FROM users u JOIN branches b "
                "ON b.id = u.branch_id WHERE u.role = 'head' AND b.code <> :code "
                "ORDER BY b.code, u.id LIMIT :n"
            ),
            {"code": BRANCH, "n": heads},
        ).all()
        for username, branch_id in head_rows:
            borrowers = (
                connection.execute(
                    sa.text(
                        "SELECT id, name_initials FROM borrowers WHERE branch_id = :b "
                        "ORDER BY id LIMIT 60"
                    ),
                    {"b": branch_id},
                )
                .tuples()
                .all()
            )
            visits = (
                connection.execute(
                    sa.text(
                        "SELECT id FROM visits WHERE branch_id = :b ORDER BY visited_at DESC "
                        "LIMIT 60"
                    ),
                    {"b": branch_id},
                )
                .scalars()
                .all()
            )
            people.append(
                {"role": "head", "username": username, "borrowers": borrowers, "visits": visits}
            )
    engine.dispose()
    return {"people": people}


class Recorder:
    """(page, milliseconds, ok) of every request, from every user's thread, and what the
    failed ones answered."""

    def __init__(self):
        self.samples: list[tuple[str, float, bool]] = []
        self.failures: dict[str, int] = {}
        self.lock = threading.Lock()

    def timed(self, page: str, send, expect=(200,)) -> requests.Response | None:
        started = time.perf_counter()
        try:
            response = send()
            response.content  # noqa: B018 - the whole answer, as a browser reads it
            ok = response.status_code in expect
        except requests.RequestException:
            response, ok = None, False
        elapsed = (time.perf_counter() - started) * 1000
        with self.lock:
            self.samples.append((page, elapsed, ok))
            if not ok:
                answer = f"{page}: {response.status_code if response is not None else 'no answer'}"
                self.failures[answer] = self.failures.get(answer, 0) + 1
        return response


def officer_round(session, base: str, person: dict, record: Recorder, round_: int) -> None:
    borrower_id, initials = person["borrowers"][round_ % len(person["borrowers"])]
    record.timed("officer home", lambda: session.get(f"{base}/visits/month"))
    record.timed("search by initials", lambda: session.get(f"{base}/borrowers/?q={initials}"))
    record.timed("borrower page", lambda: session.get(f"{base}/borrowers/{borrower_id}"))
    form_url = f"{base}/borrowers/{borrower_id}/visits/new"
    page = record.timed("visit form", lambda: session.get(form_url))
    if round_ % SUBMIT_EVERY == SUBMIT_EVERY - 1 and page is not None and page.ok:
        data = visit_data(page.text, seed=round_)
        record.timed(
            "visit submitted",
            lambda: session.post(form_url, data=data, allow_redirects=False),
            expect=(302,),
        )


def head_round(session, base: str, person: dict, record: Recorder, round_: int) -> None:
    borrower_id, _ = person["borrowers"][round_ % len(person["borrowers"])]
    record.timed("branch compliance", lambda: session.get(f"{base}/visits/compliance"))
    record.timed("service queue", lambda: session.get(f"{base}/services/queue"))
    record.timed("borrower page (head)", lambda: session.get(f"{base}/borrowers/{borrower_id}"))
    if round_ % SUBMIT_EVERY == SUBMIT_EVERY - 1 and person["visits"]:
        visit_id = person["visits"][round_ % len(person["visits"])]
        record.timed(
            "visit report PDF", lambda: session.get(f"{base}/visits/{visit_id}/report.pdf")
        )


def run_users(sessions: list, step, seconds: float) -> tuple[Recorder, float]:
    """Every user does ``step(session, person, record, round)`` until the time is up."""
    record = Recorder()
    deadline = time.perf_counter() + seconds

    def user(session, person):
        round_ = 0
        while time.perf_counter() < deadline:
            step(session, person, record, round_)
            round_ += 1

    threads = [threading.Thread(target=user, args=pair) for pair in sessions]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return record, time.perf_counter() - started


def summary(record: Recorder, seconds: float, floor_p50: float | None = None) -> dict:
    pages: dict[str, list[tuple[float, bool]]] = {}
    for page, elapsed, ok in record.samples:
        pages.setdefault(page, []).append((elapsed, ok))
    times = [elapsed for _, elapsed, _ in record.samples]
    result = {
        "requests": len(times),
        "seconds": round(seconds, 1),
        "requests_per_s": round(len(times) / seconds, 1),
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(percentile(times, 0.95), 1),
        "errors": sum(1 for *_, ok in record.samples if not ok),
        "failures": dict(record.failures),
        "pages": {},
    }
    for page, rows in sorted(pages.items()):
        values = [elapsed for elapsed, _ in rows]
        row = {
            "requests": len(values),
            "p50_ms": round(statistics.median(values), 1),
            "p95_ms": round(percentile(values, 0.95), 1),
            "errors": sum(1 for _, ok in rows if not ok),
        }
        if floor_p50:
            row["p50_x_floor"] = round(row["p50_ms"] / floor_p50, 1)
        result["pages"][page] = row
    return result


def run(kind: str, args) -> dict:
    url = database_url(kind, args.borrowers)
    DATA.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "FLASK_APP": "wsgi.py",
        "LOGIN_RATE_LIMIT": "10000 per minute",
        "PORTAL_ENV": "development",
        "JOBS_QUEUE_URL": f"sqlite:///{DATA / f'queue-load-{kind}.sqlite3'}",
    }
    data = ensure_data(kind, url, env, args.borrowers, args.months)
    people = staff(url, args.officers, args.heads)["people"]
    copy = scratch(kind, url, purpose="load")
    try:
        with gunicorn({**env, "DATABASE_URL": copy}, args.workers) as base:
            sessions = [(login(base, person["username"]), person) for person in people]

            def step(session, person, record, round_):
                mix = officer_round if person["role"] == "officer" else head_round
                mix(session, base, person, record, round_)

            # Warm-up: every gunicorn worker has served every page once or more.
            run_users(sessions, step, args.warmup_seconds)
            mix, mix_seconds = run_users(sessions, step, args.seconds)

            def floor_step(session, person, record, round_):
                record.timed("healthz", lambda: session.get(f"{base}/healthz"))

            floor, floor_seconds = run_users(sessions, floor_step, args.floor_seconds)
    finally:
        drop_scratch(kind, copy)
    floor_summary = summary(floor, floor_seconds)
    return {
        "data": data,
        "users": {"officers": args.officers, "heads": args.heads},
        "workers": args.workers,
        "load_average_after": os.getloadavg(),
        "mix": summary(mix, mix_seconds, floor_summary["p50_ms"]),
        "floor": floor_summary,
    }


def within_budget(result: dict) -> bool:
    mix = result["mix"]
    return (
        mix["requests_per_s"] >= BUDGET_RPS and not mix["errors"] and mix["p95_ms"] <= BUDGET_P95_MS
    )


def report(kind: str, result: dict) -> None:
    mix, floor = result["mix"], result["floor"]
    users = result["users"]["officers"] + result["users"]["heads"]
    print(
        f"\n[{kind}] {users} users, think time zero, {result['workers']} gunicorn workers: "
        f"{mix['requests_per_s']} requests/s (floor /healthz {floor['requests_per_s']}/s, "
        f"p50 {floor['p50_ms']} ms), p50 {mix['p50_ms']} ms, p95 {mix['p95_ms']} ms, "
        f"{mix['errors']} errors"
    )
    print(f"{'page':24} {'requests':>9} {'p50 ms':>8} {'p95 ms':>8} {'×floor':>7} {'errors':>7}")
    for page, row in mix["pages"].items():
        print(
            f"{page:24} {row['requests']:>9} {row['p50_ms']:>8.1f} {row['p95_ms']:>8.1f} "
            f"{row['p50_x_floor']:>7.1f} {row['errors']:>7}"
        )
    for answer, count in mix["failures"].items():
        print(f"  failed: {answer} ({count}×)")
    verdict = "within budget" if within_budget(result) else "OVER budget"
    print(
        f"[{kind}] {verdict}: ≥ {BUDGET_RPS:.0f} requests/s, no errors, p95 ≤ {BUDGET_P95_MS:.0f} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--borrowers", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--officers", type=int, default=16)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--warmup-seconds", type=float, default=10)
    parser.add_argument("--floor-seconds", type=float, default=15)
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) * 2)
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    results = {}
    for kind in kinds:
        results[kind] = run(kind, args)
        report(kind, results[kind])
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "load.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(f"\nwritten {RESULTS / 'load.json'}")
    return 0 if all(within_budget(result) for result in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
