"""Reading query plans of both databases for one weakness: a big table read once per row.

``capture`` records the SELECTs an engine runs; ``problems`` asks the database for the
plan of one of them (SQLite ``EXPLAIN QUERY PLAN``, PostgreSQL ``EXPLAIN (FORMAT
JSON)``, never executing it) and names every step that reads visits, loans or
borrowers by a full or range scan, or by an index prefix matching a large share of
the table, where that step runs once per row of something else:

- SQLite: inside a ``CORRELATED … SUBQUERY``, or as an inner loop of a join;
- PostgreSQL: inside a correlated (not hashed) SubPlan or on the inner side of a
  Nested Loop; and a whole big table read to answer an EXISTS/NOT EXISTS (the inner
  side of a semi or anti join), which is that weakness in its set-based form.

PostgreSQL plans are read with sequential scans discouraged (``enable_seqscan``
off, for the EXPLAIN only): on a test's few hundred rows a sequential scan is the
cheapest plan and says nothing; what matters is whether an index can answer the
per-row question at all, and a sequential scan that remains means none can.
"""

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import sqlalchemy as sa

BIG_TABLES = ("visits", "loans", "borrowers")
# An index prefix that matches more than this share of a table, per row, is a range
# scan by another name (a branch's loans for each of its borrowers).
LARGE_SHARE = 0.02
SMALL_ROWS = 20


@dataclass(frozen=True)
class Statement:
    sql: str
    params: object


@dataclass(frozen=True)
class Problem:
    sql: str
    step: str
    why: str

    def __str__(self) -> str:
        return f"{self.why}: {self.step}\n    in: {' '.join(self.sql.split())[:600]}"


@contextmanager
def capture(engine: sa.Engine) -> Iterator[list[Statement]]:
    """Every single-row SELECT the engine runs inside the block, in order."""
    statements: list[Statement] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if not executemany and statement.lstrip().upper().startswith(("SELECT", "WITH")):
            statements.append(Statement(statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def problems(connection: sa.Connection, statement: Statement) -> list[Problem]:
    """The weak steps of one statement's plan."""
    if connection.dialect.name == "postgresql":
        return _postgres_problems(connection, statement)
    return _sqlite_problems(connection, statement)


def _big_table_aliases(sql: str) -> dict[str, str]:
    """{name or alias in the plan: big table} for the tables of ``sql``."""
    names = {table: table for table in BIG_TABLES}
    for table in BIG_TABLES:
        for alias in re.findall(rf'\b{table}\s+AS\s+"?(\w+)"?', sql, flags=re.IGNORECASE):
            names[alias] = table
    return names


# --- SQLite ------------------------------------------------------------------------------

_LOOP = re.compile(r"^(SCAN|SEARCH) (\S+)")
_USING_INDEX = re.compile(r"USING (?:COVERING )?INDEX (\S+) \((.*)\)")
_EQUALITY = re.compile(r"^\w+=\?$")


def _sqlite_stats(connection: sa.Connection) -> dict[str, list[int]]:
    try:
        rows = connection.exec_driver_sql("SELECT idx, stat FROM sqlite_stat1").all()
    except sa.exc.OperationalError:  # never analysed
        return {}
    return {idx: [int(n) for n in stat.split()[:8] if n.isdigit()] for idx, stat in rows if idx}


def _sqlite_partial_indexes(connection: sa.Connection) -> set[str]:
    rows = connection.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
    ).all()
    return {name for name, sql in rows if " WHERE " in sql.upper()}


def _sqlite_problems(connection: sa.Connection, statement: Statement) -> list[Problem]:
    rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement.sql, statement.params).all()
    children: dict[int, list[tuple[int, str]]] = {}
    for node_id, parent, _unused, detail in rows:
        children.setdefault(parent, []).append((node_id, detail))
    aliases = _big_table_aliases(statement.sql)
    stats = _sqlite_stats(connection)
    partial = _sqlite_partial_indexes(connection)
    found: list[Problem] = []

    def walk(parent: int, repeated: bool) -> None:
        loops = 0
        for node_id, detail in children.get(parent, []):
            is_loop = bool(_LOOP.match(detail)) or detail.startswith("MULTI-INDEX OR")
            per_row = repeated or (is_loop and loops > 0)
            loops += is_loop
            if detail.startswith("CORRELATED "):
                walk(node_id, True)
                continue
            match = _LOOP.match(detail)
            if match and per_row and match.group(2) in aliases:
                why = _sqlite_weakness(detail, stats, partial)
                if why:
                    found.append(Problem(statement.sql, detail, why))
            walk(node_id, per_row if detail.startswith("MULTI-INDEX OR") else repeated)

    walk(0, False)
    return found


def _sqlite_weakness(detail: str, stats: dict[str, list[int]], partial: set[str]) -> str | None:
    """Why this per-row step over a big table is slow, or None."""
    index = _USING_INDEX.search(detail) or re.search(r"USING (?:COVERING )?INDEX (\S+)$", detail)
    if index and index.group(1) in partial:
        return None  # a partial index holds the few rows it is for, not the table
    if detail.startswith("SCAN"):
        return "full scan per row"
    if "AUTOMATIC" in detail:
        return None  # built once per statement, then searched by equality
    if "PRIMARY KEY" in detail:
        return None if "rowid=?" in detail else "range scan per row"
    index = _USING_INDEX.search(detail)
    if not index:
        return None
    terms = index.group(2).split(" AND ")
    equal = sum(1 for term in terms if _EQUALITY.match(term))
    if not equal:
        return "range scan per row"
    stat = stats.get(index.group(1))
    if stat and len(stat) > equal:
        total, per_key = stat[0], stat[equal]
        if per_key > SMALL_ROWS and per_key > LARGE_SHARE * total:
            return f"index prefix matches ~{per_key} of {total} rows per row"
    return None


# --- PostgreSQL --------------------------------------------------------------------------

_SCANS = ("Seq Scan", "Index Scan", "Index Only Scan", "Bitmap Heap Scan")


def _postgres_partial_indexes(connection: sa.Connection) -> set[str]:
    return set(
        connection.exec_driver_sql(
            "SELECT indexrelid::regclass::text FROM pg_index WHERE indpred IS NOT NULL"
        ).scalars()
    )


def _postgres_sizes(connection: sa.Connection) -> dict[str, float]:
    rows = connection.execute(
        sa.text("SELECT relname, reltuples FROM pg_class WHERE relname IN :names").bindparams(
            sa.bindparam("names", expanding=True)
        ),
        {"names": list(BIG_TABLES)},
    ).all()
    return {name: float(tuples) for name, tuples in rows}


def _postgres_problems(connection: sa.Connection, statement: Statement) -> list[Problem]:
    connection.exec_driver_sql("SET LOCAL enable_seqscan = off")  # until the rollback
    raw = connection.exec_driver_sql(
        "EXPLAIN (FORMAT JSON) " + statement.sql, statement.params
    ).scalar()
    plan = raw if isinstance(raw, list) else json.loads(raw)
    text = json.dumps(plan)
    sizes = _postgres_sizes(connection)
    partial = _postgres_partial_indexes(connection)
    found: list[Problem] = []

    def label(node: dict) -> str:
        cond = node.get("Index Cond") or node.get("Recheck Cond") or node.get("Filter") or ""
        target = node.get("Relation Name", "")
        alias = node.get("Alias", "")
        index = node.get("Index Name", "")
        return f"{node['Node Type']} on {target} {alias} {index} {cond}".strip()

    def full_read(node: dict) -> bool:
        if node.get("Index Name") in partial:
            return False  # a partial index holds the few rows it is for, not the table
        if node["Node Type"] == "Seq Scan":
            return True
        return node["Node Type"].startswith("Index") and not node.get("Index Cond")

    def weakness(node: dict) -> str | None:
        if full_read(node):
            return "full scan per row"
        if node.get("Index Name") in partial:
            return None
        rows, total = node.get("Plan Rows", 0), sizes.get(node.get("Relation Name"), 0)
        if rows > SMALL_ROWS and rows > LARGE_SHARE * total:
            return f"index scan of ~{rows} of {total:.0f} rows per row"
        return None

    def whole_table_reads(node: dict) -> Iterator[dict]:
        """Full reads of big tables under ``node`` (not under another join)."""
        if full_read(node) and node.get("Relation Name") in BIG_TABLES:
            yield node
        if node["Node Type"] in ("Hash", "Sort", "Materialize", "Memoize"):
            for child in node.get("Plans", []):
                yield from whole_table_reads(child)

    def walk(node: dict, repeated: bool) -> None:
        if node["Node Type"] in _SCANS and node.get("Relation Name") in BIG_TABLES and repeated:
            why = weakness(node)
            if why:
                found.append(Problem(statement.sql, label(node), why))
        semi = node.get("Join Type") in ("Semi", "Anti")
        for child in node.get("Plans", []):
            relation = child.get("Parent Relationship")
            if semi and relation == "Inner" and node["Node Type"] != "Nested Loop":
                for read in whole_table_reads(child):
                    found.append(Problem(statement.sql, label(read), "whole table read for EXISTS"))
            name = child.get("Subplan Name", "")
            child_repeated = (
                repeated
                or (node["Node Type"] == "Nested Loop" and relation == "Inner")
                or (relation == "SubPlan" and f"hashed {name}" not in text)
            )
            if node["Node Type"] in ("Hash", "Materialize"):
                child_repeated = False  # built once, then probed or rescanned
            walk(child, child_repeated)

    walk(plan[0]["Plan"], False)
    return found
