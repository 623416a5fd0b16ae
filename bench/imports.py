"""Repayment import benchmark: a lending system's export of 100,000 repayments, read,
previewed and applied in one transaction, then applied again (which changes nothing).

Against a scratch copy of the web benchmark's generated company (bench/web.py: by
default 100,000 borrowers over 24 months, generated afresh whenever the generator or the
migrations changed), so the generated company stays as generated. The file pays the
active loans' next instalments in turn (those fallen due first, dated their due day,
then early ones dated today), each with the balance our schedule leaves after it, until
``--rows`` rows; as a CSV of about 6 MB, what the upload page and ``flask imports
repayments`` read.

Measured in the process, on the copy: reading the file, the preview (every row checked,
nothing written), the apply (checked again under lock, every payment through
``lifecycle.add_repayments``, the commit with its tier and compliance hooks), and the
same file applied again. Budget (docs/imports.md): reading and applying 100,000 rows
within 60 s, on SQLite and on PostgreSQL.

    python bench/imports.py [--database sqlite|postgresql|both] [--borrowers 100000]
                            [--months 24] [--rows 100000] [--data-url URL]
"""

import argparse
import csv
import io
import json
import os
import sys
import time
from collections import defaultdict
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from evidence import drop_scratch, scratch  # noqa: E402 - the evidence benchmark's copies
from web import DATA, database_url, ensure_data  # noqa: E402 - the web benchmark's data

BUDGET_S = 60.0
ZONE = ZoneInfo(os.environ.get("PORTAL_TIMEZONE", "Asia/Shanghai"))
HEADER = ["合同编号", "还款日期", "还款金额", "交易流水号", "贷款余额"]


def today() -> date:
    return datetime.now(ZONE).date()


# --- the data ---------------------------------------------------------------


def repayments_file(url: str, wanted: int) -> tuple[bytes, dict]:
    """A CSV paying the active loans' next instalments in turn, with our balances."""
    from portal.loans.repayments import Due, allocate, standing

    engine = sa.create_engine(url)
    with engine.connect() as connection:
        loans = connection.execute(
            sa.text(
                "SELECT id, contract_number FROM loans WHERE status = 'active'"
                " AND contract_number IS NOT NULL ORDER BY id"
            )
        ).all()
        schedules, stored = defaultdict(list), defaultdict(list)
        for loan_id, number, due_on, principal, interest in connection.execute(
            sa.text(
                "SELECT i.loan_id, i.number, i.due_on, i.principal, i.interest"
                " FROM loan_instalments i JOIN loans l ON l.id = i.loan_id"
                " WHERE l.status = 'active' ORDER BY i.loan_id, i.number"
            )
        ):
            schedules[loan_id].append(
                Due(number, _day(due_on), _money(principal), _money(interest))
            )
        for loan_id, paid_on, amount in connection.execute(
            sa.text(
                "SELECT r.loan_id, r.paid_on, r.amount FROM repayments r"
                " JOIN loans l ON l.id = r.loan_id WHERE l.status = 'active'"
                " ORDER BY r.loan_id, r.paid_on, r.id"
            )
        ):
            stored[loan_id].append((_day(paid_on), _money(amount)))
    engine.dispose()
    day = today()
    queues = {}
    for loan_id, number in loans:
        if not schedules[loan_id]:
            continue
        now = standing(schedules[loan_id], stored[loan_id], date.max)
        last = max((paid_on for paid_on, _amount in stored[loan_id]), default=date.min)
        queues[loan_id] = (
            number,
            [
                (max(p.due.due_on if p.due.due_on <= day else day, last), p.owed)
                for p in now.instalments
                if p.owed > 0
            ],
        )
    rows, new = [], defaultdict(list)
    turn = 0
    while len(rows) < wanted and any(len(q[1]) > turn for q in queues.values()):
        for loan_id, (number, payments) in queues.items():
            if turn >= len(payments) or len(rows) >= wanted:
                continue
            paid_on, amount = payments[turn]
            new[loan_id].append((paid_on, amount))
            rows.append((loan_id, turn, number, paid_on, amount, f"CORE{len(rows) + 1:09d}"))
        turn += 1
    balances = _balances(schedules, stored, new, allocate)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    for loan_id, turn, number, paid_on, amount, reference in rows:
        balance = balances[(loan_id, turn)]
        writer.writerow([number, paid_on.isoformat(), f"{amount:.2f}", reference, f"{balance:.2f}"])
    content = "\ufeff".encode() + out.getvalue().encode("utf-8")
    shape = {"rows": len(rows), "loans": len(new), "bytes": len(content)}
    return content, shape


def _balances(schedules, stored, new, allocate) -> dict:
    """Our principal left after each new payment: {(loan id, its index): balance}, the
    payments split in date order, a day's stored ones first (lifecycle.reallocate)."""
    after = {}
    for loan_id, payments in new.items():
        ordered = sorted(
            [(p, False, i, a) for i, (p, a) in enumerate(stored[loan_id])]
            + [(p, True, i, a) for i, (p, a) in enumerate(payments)]
        )
        splits = allocate(schedules[loan_id], [(p, a) for p, _n, _i, a in ordered]).splits
        left = sum((d.principal for d in schedules[loan_id]), Decimal(0))
        for (_paid_on, is_new, index, _amount), (principal, _interest) in zip(
            ordered, splits, strict=True
        ):
            left -= principal
            if is_new:
                after[(loan_id, index)] = left
    return after


def _money(value) -> Decimal:
    """A stored amount to the fen (SQLite hands raw queries back floats)."""
    return Decimal(str(value)).quantize(Decimal("0.01"))


def _day(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


# --- measuring --------------------------------------------------------------


def measure(url: str, content: bytes) -> dict:
    """Read, preview, apply and apply again, in the process, on ``url``: the seconds each
    took (and this process's CPU seconds: on a shared machine, what the import itself
    cost)."""
    from flask_babel import force_locale

    from portal import create_app
    from portal.extensions import db
    from portal.imports import checks, operations, reading

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    figures = {}
    with app.app_context(), force_locale("en"):
        with timed(figures, "read"):
            rows = reading.read_file(content, "bench.csv")
        with timed(figures, "preview"):
            preview = checks.check(rows, checks.Scope(None))
            db.session.rollback()
        problems = preview.with_problems
        if problems:
            for row in problems[:10]:
                print(f"  row {row.line}: {'; '.join(str(p.message) for p in row.problems)}")
            raise SystemExit(f"{len(problems)} rows with problems: the file does not fit the data")
        for name in ("apply", "apply_again"):
            with timed(figures, name):
                rows = reading.read_file(content, "bench.csv")
                preview = operations.apply(
                    rows,
                    checks.Scope(None),
                    None,
                    channel="command",
                    digest=operations.digest_of(content),
                )
                db.session.commit()
            figures[f"{name}_imported"] = len(preview.ready)
    return figures


@contextmanager
def timed(figures: dict, name: str):
    """Put the wall and CPU seconds of the block in ``figures`` as ``name_s``, ``name_cpu_s``."""
    wall, cpu = time.perf_counter(), time.process_time()
    yield
    figures[f"{name}_s"] = round(time.perf_counter() - wall, 2)
    figures[f"{name}_cpu_s"] = round(time.process_time() - cpu, 2)


def run(kind: str, args) -> dict:
    if args.data_url:
        url, data = args.data_url, {"url": args.data_url, "generated": "elsewhere"}
    else:
        url = database_url(kind, args.borrowers)
        DATA.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "FLASK_APP": "wsgi.py",
            "PORTAL_ENV": "development",
            "JOBS_QUEUE_URL": f"sqlite:///{DATA / f'queue-imports-{kind}.sqlite3'}",
        }
        data = ensure_data(kind, url, env, args.borrowers, args.months)
    copy = scratch(kind, url, "imports")
    try:
        content, shape = repayments_file(copy, args.rows)
        print(
            f"[{kind}] file: {shape['rows']} rows on {shape['loans']} loans, "
            f"{shape['bytes'] / 2**20:.1f} MB",
            flush=True,
        )
        figures = measure(copy, content)
    finally:
        drop_scratch(kind, copy)
    report(kind, figures)
    return {"data": data, "file": shape, "figures": figures}


def report(kind: str, figures: dict) -> None:
    total = figures["apply_s"]
    verdict = "ok" if total <= BUDGET_S else "OVER"
    print(f"\n[{kind}] load average now {os.getloadavg()[0]:.1f}")
    print(f"  {'':34} {'s':>7} {'cpu s':>7}")
    for label, name, extra in (
        ("read the file", "read", ""),
        ("preview (nothing written)", "preview", ""),
        (
            "read + check + apply + commit",
            "apply",
            f"  {figures['apply_imported']} payments; budget {BUDGET_S:.0f} s: {verdict}",
        ),
        (
            "the same file again",
            "apply_again",
            f"  {figures['apply_again_imported']} payments; budget {BUDGET_S:.0f} s",
        ),
    ):
        print(f"  {label:34} {figures[name + '_s']:7.1f} {figures[name + '_cpu_s']:7.1f}{extra}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--borrowers", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument(
        "--data-url",
        help="a generated company already there (a copy is imported into), instead of the"
        " web benchmark's",
    )
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    if args.data_url:
        kinds = ["postgresql" if args.data_url.startswith("postgresql") else "sqlite"]
    results = {
        "borrowers": args.borrowers,
        "months": args.months,
        "rows": args.rows,
        "cpu_count": os.cpu_count(),
        "load_before": os.getloadavg(),
        "databases": {kind: run(kind, args) for kind in kinds},
        "load_after": os.getloadavg(),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "imports.json").write_text(
        json.dumps(results, indent=2, ensure_ascii=False, default=str)
    )
    print(f"\nwritten {RESULTS / 'imports.json'}")
    # The second import of the file must change nothing, and cost no more than the first.
    over = [
        kind
        for kind, result in results["databases"].items()
        if max(result["figures"]["apply_s"], result["figures"]["apply_again_s"]) > BUDGET_S
        or result["figures"]["apply_again_imported"]
    ]
    print("Over budget: " + ", ".join(over) if over else "Every figure within budget.")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
