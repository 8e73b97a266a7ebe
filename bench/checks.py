"""Checks on a million-row table: ``ordo check`` against the same queries typed into psql.

A PostgreSQL table of ``--rows`` orders with a customers table beside it; one validate step
asks six things of it (row count, not null, unique, accepted values, a range, a
relationship), all passing but one that fails on a few rows, so a sample is fetched too. The
``ordo check`` command runs as a whole process (start-up, planning, catalog lookups,
savepoints, the rolled-back transaction), output to a pipe. Two references run in the same
rounds, alternating, each a fresh ``psql -c`` process as ``ordo`` is: the same queries that
ordo sends (its counting queries and the failing check's sample; the goal, under 1.2x, is on
this one), and the six questions as a user would type them as plain counts (fewer answers:
no totals, so no shares; shown beside it). Prints medians [min-max] and the ratios.

    uv run python bench/checks.py [--rows 1000000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
from pathlib import Path

from _process import PG_URL, ordo_command, postgres_schema, spread, timed, write_project

GOAL = 1.2

SETUP = """
CREATE TABLE customers AS SELECT g AS id FROM generate_series(1, 10000) g;
ALTER TABLE customers ADD PRIMARY KEY (id);
CREATE TABLE orders AS
SELECT g AS id, (g % 10000) + 1 AS customer_id,
       (ARRAY['new', 'paid', 'sent'])[g % 3 + 1] AS status,
       ((g % 1000) * 1.25)::numeric(10, 2) AS amount
FROM generate_series(1, {rows}) g;
UPDATE orders SET status = 'lost' WHERE id % 250000 = 0;
ANALYZE customers; ANALYZE orders;
"""

CHECKS = """\
name: bench
steps:
  - name: audit
    type: validate
    checks:
      - {type: row_count, table: orders, min: 1}
      - {type: not_null, table: orders, columns: [id, status]}
      - {type: unique, table: orders, column: id}
      - {type: accepted_values, table: orders, column: status, values: [new, paid, sent],
         severity: warn}
      - {type: range, table: orders, column: amount, min: 0, max: 10000}
      - {type: relationships, table: orders, column: customer_id, to: customers, field: id}
"""

# The six questions as a user types them by hand: plain counts, one per question.
BY_HAND = (
    "SELECT COUNT(*) FROM orders; "
    "SELECT COUNT(*) FROM orders WHERE id IS NULL OR status IS NULL; "
    "SELECT COUNT(*) FROM (SELECT id FROM orders GROUP BY id HAVING COUNT(*) > 1) d; "
    "SELECT COUNT(*) FROM orders WHERE status NOT IN ('new', 'paid', 'sent'); "
    "SELECT * FROM orders WHERE status NOT IN ('new', 'paid', 'sent') LIMIT 5; "
    "SELECT COUNT(*) FROM orders WHERE amount < 0 OR amount > 10000; "
    "SELECT COUNT(*) FROM orders o LEFT JOIN customers c ON c.id = o.customer_id "
    "WHERE o.customer_id IS NOT NULL AND c.id IS NULL;"
)


def ordos_queries() -> str:
    """The SQL that ``ordo check`` sends for CHECKS, built by ordo's own query builder."""
    import yaml
    from pydantic import TypeAdapter

    from ordo.checks.model import Check
    from ordo.checks.queries import Names, compile_check
    from ordo.db.dialects import dialect_for

    dialect = dialect_for("postgresql")
    columns = {c: f'"{c}"' for c in ("id", "status", "amount", "customer_id")}
    names = Names(table='"orders"', columns=columns, other='"customers"', field='"id"')
    queries = []
    for raw in yaml.safe_load(CHECKS)["steps"][0]["checks"]:
        check = TypeAdapter(Check).validate_python(raw)
        query = compile_check(check, names, dialect)
        queries.append(query.counts)
        if check.type == "accepted_values" and query.failing_rows:  # the one that fails
            queries.append(dialect.limit_rows(query.failing_rows, check.sample))
    return "; ".join(queries) + ";"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    psql = shutil.which("psql")
    if psql is None:
        raise SystemExit("psql is not installed: it is the reference")
    tmp = Path(tempfile.mkdtemp(prefix="ordo-bench-"))
    try:
        with postgres_schema() as url:
            schema = url.rsplit("%3D", 1)[1]
            libpq = PG_URL.replace("+psycopg", "")
            env = {"PGOPTIONS": f"-csearch_path={schema}"}
            timed(
                [psql, "-q", "-v", "ON_ERROR_STOP=1", libpq, "-c", SETUP.format(rows=args.rows)],
                env=env,
            )
            root = tmp / "project"
            write_project(root, 0, url)
            (root / "queue" / "manifest.yaml").write_text(CHECKS)
            ordo_argv = [ordo_command(), "check", "--project", str(root)]
            same_argv = [psql, "-q", "-At", libpq, "-c", ordos_queries()]
            hand_argv = [psql, "-q", "-At", libpq, "-c", BY_HAND]
            ordo: list[float] = []
            same: list[float] = []
            hand: list[float] = []
            for _ in range(args.repeat + 1):  # the first round warms caches and is dropped
                same.append(timed(same_argv, env=env))
                ordo.append(timed(ordo_argv))
                hand.append(timed(hand_argv, env=env))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    ordo, same, hand = ordo[1:], same[1:], hand[1:]
    ratio = statistics.median(ordo) / statistics.median(same)
    plain = statistics.median(ordo) / statistics.median(hand)
    print(
        f"postgresql {args.rows} rows, 6 checks, whole process: ordo check {spread(ordo)} s  "
        f"psql, the same queries {spread(same)} s  ratio {ratio:.2f}x "
        f"(goal <{GOAL:g}x: {'met' if ratio < GOAL else 'NOT met'})  "
        f"psql, plain counts typed by hand {spread(hand)} s  ratio {plain:.2f}x"
    )


if __name__ == "__main__":
    main()
