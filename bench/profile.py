"""CPU profile of a page request: the realistic mix's pages, in the process, no server.

Builds a scratch SQLite database with the demo data (`flask demo load`: two branches,
their staff, 40 borrowers), logs in through Flask's test client as an officer and as
their branch head, warms every page, then asks each page ``--requests`` times (round
after round over the pages) and prints per page the median wall time and the median
CPU time of the process (``time.process_time``) and the SQL statements it ran. With
``--profile`` the rounds run again under cProfile and the functions with most
cumulative and most own time are printed, with ``--sample`` a statistical profile
(cProfile's cost per call inflates code made of many small calls). Writes
bench/results/profile.json.

``--against CHECKOUT`` compares with another checkout of the portal (e.g. a
``git worktree`` of the commit before a change): both run side by side, in turns of a
few rounds each, so that a machine shared with other work weighs on both alike.

The pages: the officer's month page (``/``), a search by pinyin initials, a borrower's
page and the visit form; the head's branch compliance page and the service queue.

    python bench/profile.py [--requests 40] [--language zh|en] [--profile] [--sample]
    python bench/profile.py --against ../portal-before [--requests 60]
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
# This file is named like the standard library's `profile`, which cProfile imports: the
# folder it was started from must not come first on the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import cProfile  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import pstats  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402

CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
PASSWORD = "portal-demo"
OFFICER, HEAD = "officer1", "head1"
BATCH = 5  # rounds each checkout runs in its turn (--against)


def build_app(folder: Path):
    """The app on a scratch SQLite database in ``folder``, migrated and loaded with the demo."""
    from flask_migrate import upgrade

    from portal import create_app
    from portal.demo.loader import load_demo
    from portal.extensions import db

    app = create_app(
        {
            "SECRET_KEY": "bench-profile",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'profile.sqlite3'}",
            "JOBS_QUEUE_URL": f"sqlite:///{folder / 'queue.sqlite3'}",
            "UPLOAD_FOLDER": str(folder / "uploads"),
            "PASSWORD_HASH_PROFILE": "fast",
            "DEMO_PASSWORD": PASSWORD,
            "RATELIMIT_STORAGE_URI": "memory://",
            "QUERY_COUNT_HEADER": True,
        }
    )
    with app.app_context():
        upgrade()
        load_demo()
        db.session.commit()
    return app


def targets(app) -> dict:
    """One of the officer's borrowers with an active loan: its id and its initials."""
    import sqlalchemy as sa

    from portal.extensions import db

    with app.app_context():
        row = db.session.execute(
            sa.text(
                "SELECT b.id, b.name_initials FROM borrowers b JOIN users u ON u.id = "
                "b.officer_id JOIN loans l ON l.borrower_id = b.id AND l.status = 'active' "
                "WHERE u.username = :officer ORDER BY b.id LIMIT 1"
            ),
            {"officer": OFFICER},
        ).one()
    return {"borrower_id": row.id, "initials": row.name_initials}


def pages(t: dict) -> list[tuple[str, str, str]]:
    """(name, who, path) of every page measured."""
    return [
        ("officer home (month)", OFFICER, "/"),
        ("search by pinyin initials", OFFICER, f"/borrowers/?q={t['initials']}"),
        ("borrower detail", OFFICER, f"/borrowers/{t['borrower_id']}"),
        ("visit form", OFFICER, f"/borrowers/{t['borrower_id']}/visits/new"),
        ("branch compliance", HEAD, "/visits/compliance"),
        ("service queue", HEAD, "/services/queue"),
    ]


def login(app, username: str, language: str):
    client = app.test_client()
    token = CSRF.search(client.get("/login").get_data(as_text=True)).group(1)
    response = client.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf_token": token}
    )
    if response.status_code != 302:
        raise RuntimeError(f"login as {username} failed: {response.status_code}")
    token = CSRF.search(client.get("/account").get_data(as_text=True)).group(1)
    response = client.post(
        "/language", data={"locale": language, "next": "/account", "csrf_token": token}
    )
    if response.status_code != 302:
        raise RuntimeError(f"language {language} for {username} refused")
    return client


def ask(client, path: str) -> tuple[float, float, int]:
    """GET ``path``: wall ms, CPU ms of the process, SQL statements."""
    wall, cpu = time.perf_counter(), time.process_time()
    response = client.get(path)
    response.get_data()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    if response.status_code != 200:
        raise RuntimeError(f"{path} answered {response.status_code}")
    return wall * 1000, cpu * 1000, int(response.headers.get("X-Query-Count", -1))


def rounds(clients: dict, every: list, requests: int) -> dict:
    """Round after round over the pages: per page ``requests`` (wall, CPU, queries)."""
    samples = {name: [] for name, _, _ in every}
    for _ in range(requests):
        for name, who, path in every:
            samples[name].append(ask(clients[who], path))
    return samples


def medians(samples: dict) -> dict:
    return {
        name: {
            "wall_ms": statistics.median(s[0] for s in runs),
            "cpu_ms": statistics.median(s[1] for s in runs),
            "queries": runs[-1][2],
        }
        for name, runs in samples.items()
    }


def measure(clients: dict, every: list, requests: int) -> dict:
    """Per page the medians of ``requests`` asks."""
    return medians(rounds(clients, every, requests))


def serve(clients: dict, every: list) -> None:
    """``--serve``, for ``--against``: a batch of rounds for each number read, as JSON."""
    print("ready", flush=True)
    for line in sys.stdin:
        print(json.dumps(rounds(clients, every, int(line))), flush=True)


def compare(other: Path, args) -> dict:
    """This checkout and ``other`` in turn, ``BATCH`` rounds each: on a shared machine
    both feel the same load. Per page and checkout the medians."""
    options = ["--serve", "--language", args.language]
    for part in args.page or ():
        options += ["--page", part]
    sides = {
        name: subprocess.Popen(
            [sys.executable, str(root / "bench" / "profile.py"), *options],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        for name, root in (("other", other), ("this", ROOT))
    }
    samples = {name: {} for name in sides}
    try:
        for process in sides.values():
            if process.stdout.readline().strip() != "ready":
                raise RuntimeError("a checkout did not start (run it alone to see why)")
        for turn in range(-1, -(-args.requests // BATCH)):
            for name, process in sides.items():
                process.stdin.write(f"{args.warm if turn < 0 else BATCH}\n")
                process.stdin.flush()
                batch = json.loads(process.stdout.readline())
                for page, runs in batch.items():
                    if turn >= 0:  # the first turn warms
                        samples[name].setdefault(page, []).extend(runs)
    finally:
        for process in sides.values():
            process.stdin.close()
            process.wait(timeout=60)
    return {name: medians(found) for name, found in samples.items()}


def print_comparison(other: Path, results: dict) -> None:
    print(f"\nCPU ms per page, medians; other = {other}")
    print(f"{'page':<28} {'other':>8} {'this':>8} {'change':>8}")
    for page, row in results["this"].items():
        before, after = results["other"][page]["cpu_ms"], row["cpu_ms"]
        print(f"{page:<28} {before:>8.2f} {after:>8.2f} {100 * (after / before - 1):>+7.1f}%")
    before, after = (
        statistics.mean(row["cpu_ms"] for row in results[name].values())
        for name in ("other", "this")
    )
    print(f"{'mean':<28} {before:>8.2f} {after:>8.2f} {100 * (after / before - 1):>+7.1f}%")


def profile(clients: dict, every: list, requests: int, top: int, dump: str | None) -> str:
    """cProfile of ``requests`` rounds: the top functions by cumulative and by own time."""
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(requests):
        for _name, who, path in every:
            clients[who].get(path).get_data()
    profiler.disable()
    if dump:
        profiler.dump_stats(dump)
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    out.write(f"\n== cumulative time, {requests} rounds of {len(every)} pages ==\n")
    stats.sort_stats("cumulative").print_stats(top)
    out.write("\n== own time ==\n")
    stats.sort_stats("tottime").print_stats(top)
    return out.getvalue()


class Sampler:
    """A statistical profiler: the stack every ``interval`` s of the process's CPU time.

    cProfile's cost per call inflates code made of many small calls (Jinja's, Flask's
    proxies, gettext) several times over; sampling leaves the request as it is.
    """

    def __init__(self, interval: float = 0.0005):
        self.interval = interval
        self.own: Counter = Counter()
        self.inclusive: Counter = Counter()
        self.samples = 0

    def _take(self, _signum, frame) -> None:
        self.samples += 1
        seen = set()
        first = True
        while frame is not None:
            code = frame.f_code
            key = f"{Path(code.co_filename).name}:{code.co_firstlineno}({code.co_name})"
            if first:
                self.own[key] += 1
                first = False
            if key not in seen:
                seen.add(key)
                self.inclusive[key] += 1
            frame = frame.f_back

    def __enter__(self):
        signal.signal(signal.SIGPROF, self._take)
        signal.setitimer(signal.ITIMER_PROF, self.interval, self.interval)
        return self

    def __exit__(self, *_exc):
        signal.setitimer(signal.ITIMER_PROF, 0, 0)
        signal.signal(signal.SIGPROF, signal.SIG_DFL)

    def report(self, top: int) -> str:
        lines = [f"\n== sampled: {self.samples} samples, share of CPU time ==", "inclusive:"]
        for key, count in self.inclusive.most_common(top):
            lines.append(f"  {100 * count / self.samples:5.1f}%  {key}")
        lines.append("own:")
        for key, count in self.own.most_common(top):
            lines.append(f"  {100 * count / self.samples:5.1f}%  {key}")
        return "\n".join(lines)


def sample(clients: dict, every: list, requests: int, top: int) -> str:
    """The same rounds under the sampler."""
    with Sampler() as sampler:
        for _ in range(requests):
            for _name, who, path in every:
                clients[who].get(path).get_data()
    return sampler.report(top)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=40, help="per page (default 40)")
    parser.add_argument("--warm", type=int, default=5, help="rounds before measuring")
    parser.add_argument("--page", action="append", help="only the pages whose name has this")
    parser.add_argument("--language", choices=("zh", "en"), default="zh")
    parser.add_argument("--profile", action="store_true", help="also print a cProfile")
    parser.add_argument("--sample", action="store_true", help="also print a sampled profile")
    parser.add_argument("--top", type=int, default=30, help="functions printed per table")
    parser.add_argument("--dump", metavar="FILE", help="with --profile: the raw stats (pstats)")
    parser.add_argument(
        "--against", metavar="CHECKOUT", type=Path, help="alternate with another checkout"
    )
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.against:
        print_comparison(args.against, compare(args.against.resolve(), args))
        return 0

    folder = Path(tempfile.mkdtemp(prefix="portal-profile-"))
    try:
        started = time.perf_counter()
        app = build_app(folder)
        every = [
            page
            for page in pages(targets(app))
            if not args.page or any(part in page[0] for part in args.page)
        ]
        clients = {who: login(app, who, args.language) for who in (OFFICER, HEAD)}
        if args.serve:
            serve(clients, every)
            return 0
        print(f"demo data in {time.perf_counter() - started:.1f} s; language {args.language}")
        measure(clients, every, args.warm)
        results = measure(clients, every, args.requests)
        print(f"\n{'page':<28} {'CPU ms':>8} {'wall ms':>8} {'queries':>8}")
        for name, row in results.items():
            print(f"{name:<28} {row['cpu_ms']:>8.2f} {row['wall_ms']:>8.2f} {row['queries']:>8}")
        mean_cpu = statistics.mean(row["cpu_ms"] for row in results.values())
        print(f"{'mean of the medians':<28} {mean_cpu:>8.2f}")
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "profile.json").write_text(
            json.dumps(
                {"requests": args.requests, "language": args.language, "pages": results},
                indent=2,
            )
        )
        if args.profile:
            print(profile(clients, every, args.requests, args.top, args.dump))
        if args.sample:
            print(sample(clients, every, args.requests, args.top))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
