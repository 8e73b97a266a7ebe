"""``validate`` steps on real databases: every check type, its outcome, counts and samples.

Each backend gets the same two tables, made through SQLAlchemy so that the quoted column
``Order Date`` and the types are each backend's own; the checks then run through ``ordo.run``
as a user's manifest runs them.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    URL,
    Column,
    Date,
    DateTime,
    Engine,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    insert,
)

import ordo
from ordo.errors import ManifestInvalid
from ordo.events import RunStatus, StepFailed, StepSucceeded
from tests.support.events import EventRecorder
from tests.support.runs import make, query, run

NOW = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def _tables(engine: Engine) -> None:
    meta = MetaData()
    customers = Table(
        "customers", meta, Column("id", Integer, primary_key=True, autoincrement=False)
    )
    orders = Table(
        "orders",
        meta,
        Column("id", Integer),
        Column("customer_id", Integer),
        Column("status", String(20)),
        Column("amount", Numeric(10, 2)),
        Column("Order Date", Date),
        Column("updated_at", DateTime),
    )
    meta.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(customers), [{"id": 1}, {"id": 2}])
        conn.execute(
            insert(orders),
            [
                _order(1, 1, "new", "10.50", dt.date(2024, 1, 1), NOW - dt.timedelta(days=3)),
                _order(2, 3, "bogus", "-5.00", None, NOW - dt.timedelta(hours=1)),
                _order(2, None, "new", "7.25", dt.date(2024, 1, 2), None),
                _order(4, 2, None, "99.99", dt.date(2024, 1, 3), NOW - dt.timedelta(days=1)),
            ],
        )
    engine.dispose()


def _order(*values: Any) -> dict[str, Any]:
    names = ("id", "customer_id", "status", "amount", "Order Date", "updated_at")
    row = dict(zip(names, values, strict=True))
    row["amount"] = Decimal(row["amount"])
    return row


CHECKS = """\
name: checks
steps:
  - name: audit
    type: validate
    checks:
      - {type: row_count, table: orders, min: 1, max: 10}
      - {type: row_count, name: two customers per order, table: orders, equal_to: customers}
      - {type: not_null, table: orders, column: Order Date}
      - {type: not_null, table: orders, columns: [id, amount]}
      - {type: unique, table: orders, column: id}
      - {type: unique, table: orders, columns: [id, customer_id]}
      - {type: accepted_values, table: orders, column: status, values: [new, done]}
      - type: relationships
        table: orders
        column: customer_id
        to: customers
        field: id
      - {type: range, table: orders, column: amount, min: 0, max: 100}
      - {type: range, name: dates, table: orders, column: Order Date, min: 2024-01-01}
      - {type: freshness, name: fresh, table: orders, column: updated_at, max_age: 2h}
      - {type: freshness, name: stale, table: orders, column: updated_at, max_age: 30m}
      - {type: expression, table: orders, expression: "amount < 100"}
      - {type: sql, name: big ids, sql: "SELECT id FROM orders WHERE id > 1;"}
      - {type: not_null, name: mostly, table: orders, column: status, mostly: 0.7}
      - {type: not_null, name: too few, table: orders, column: status, mostly: 0.8}
      - {type: not_null, name: where, table: orders, column: status, where: "id < 4"}
      - {type: unique, name: warn only, table: orders, column: id, warn_if: "> 0", error_if: "> 2"}
      - {type: not_null, name: no such table, table: ordrs, column: id}
      - {type: not_null, name: no such column, table: orders, column: amout}
"""

EXPECTED = {
    "row_count(orders)": ("pass", None, 4),
    "two customers per order": ("fail", None, 4),
    "not_null(orders.Order Date)": ("fail", 1, 4),
    "not_null(orders: id, amount)": ("pass", 0, 4),
    "unique(orders.id)": ("fail", 2, 4),
    "unique(orders: id, customer_id)": ("pass", 0, 4),
    "accepted_values(orders.status)": ("fail", 1, 4),
    "relationships(orders.customer_id -> customers.id)": ("fail", 1, 4),
    "range(orders.amount)": ("fail", 1, 4),
    "dates": ("pass", 0, 4),
    "fresh": ("pass", None, None),
    "stale": ("fail", None, None),
    "expression(orders: amount < 100)": ("pass", 0, 4),
    "big ids": ("fail", 3, None),
    "mostly": ("pass", 1, 4),
    "too few": ("fail", 1, 4),
    "where": ("pass", 0, 3),
    "warn only": ("warn", 2, 4),
    "no such table": ("error", None, None),
    "no such column": ("error", None, None),
}


def test_every_check_type_finds_what_the_data_holds(
    tmp_path: Path, db_url: URL, engine: Engine, backend: str
) -> None:
    _tables(engine)
    recorder = EventRecorder()

    result = run(make(tmp_path, db_url, CHECKS), recorder)

    assert result.status == RunStatus.FAILED
    [failed] = recorder.of(StepFailed)
    found = {c["name"]: c for c in failed.details["checks"]}
    seen = {
        name: (c["outcome"], c.get("failing_rows"), c.get("total_rows"))
        for name, c in found.items()
    }
    assert seen == EXPECTED, found
    assert failed.details["failed"] == 9
    assert failed.details["errored"] == 2
    # the failing rows come with the finding: here the one order with an unknown customer
    [orphan] = found["relationships(orders.customer_id -> customers.id)"]["sample"]
    assert (orphan["id"], orphan["customer_id"], orphan["status"]) == (2, 3, "bogus")
    # exact, as stored, never a float (SQLite's NUMERIC affinity stores -5.00 as an integer)
    assert orphan["amount"] == (-5 if backend == "sqlite" else "-5.00")
    [dupe] = found["unique(orders.id)"]["sample"]
    assert (dupe["id"], dupe["duplicate_rows"]) == (2, 2)
    assert len(found["big ids"]["sample"]) == 3
    assert "did you mean 'orders'?" in found["no such table"]["message"]
    assert "did you mean 'amount'?" in found["no such column"]["message"]
    assert failed.error.startswith("11 checks failed: two customers per order: 4 rows, but")


def test_samples_are_cut_to_their_size(tmp_path: Path, db_url: URL, engine: Engine) -> None:
    _tables(engine)
    manifest = """\
    name: sample
    steps:
      - name: audit
        type: validate
        checks:
          - {type: sql, sql: "SELECT * FROM orders", sample: 2, severity: warn}
          - {type: sql, name: none, sql: "SELECT * FROM orders", sample: 0, severity: warn}
    """
    recorder = EventRecorder()

    result = run(make(tmp_path, db_url, manifest), recorder)

    assert result.status == RunStatus.SUCCESS
    [done] = recorder.of(StepSucceeded)
    first, second = done.details["checks"]
    assert (first["outcome"], first["failing_rows"], len(first["sample"])) == ("fail", 4, 2)
    assert "sample" not in second
    assert len(done.warnings) == 2


def test_a_failing_check_rolls_its_group_back(tmp_path: Path, db_url: URL, engine: Engine) -> None:
    """Write, audit, publish: the load and its checks share a transaction; a check at
    severity error that fails undoes the load, so the bad rows are never committed."""
    _tables(engine)
    manifest = """\
    name: wap
    steps:
      - name: load
        sql: INSERT INTO customers (id) VALUES (3), (4)
        transaction_group: publish
      - name: audit
        type: validate
        transaction_group: publish
        checks:
          - {type: row_count, table: customers, min: 4}
          - {type: row_count, name: at most 3, table: customers, max: 3}
    """
    recorder = EventRecorder()

    result = run(make(tmp_path, db_url, manifest), recorder)

    assert result.status == RunStatus.FAILED
    assert query(engine, "SELECT COUNT(*) FROM customers") == [(2,)]  # the load undone
    [failed] = recorder.of(StepFailed)
    assert [c["outcome"] for c in failed.details["checks"]] == ["pass", "fail"]


def test_checks_see_the_groups_uncommitted_rows_and_a_pass_commits_them(
    tmp_path: Path, db_url: URL, engine: Engine
) -> None:
    _tables(engine)
    manifest = """\
    name: wap
    steps:
      - name: load
        sql: INSERT INTO customers (id) VALUES (3), (4)
        transaction_group: publish
      - name: audit
        type: validate
        transaction_group: publish
        checks:
          - {type: row_count, table: customers, min: 4, max: 4}
    """

    result = run(make(tmp_path, db_url, manifest))

    assert result.status == RunStatus.SUCCESS
    assert query(engine, "SELECT COUNT(*) FROM customers") == [(4,)]


def test_warnings_let_the_run_go_on_and_fail_on_warn_fails_it(
    tmp_path: Path, db_url: URL, engine: Engine
) -> None:
    _tables(engine)
    manifest = """\
    name: warn
    steps:
      - name: audit
        type: validate
        checks:
          - {type: accepted_values, table: orders, column: status, values: [new], severity: warn}
          - {type: not_null, table: orders, column: status, severity: info}
      - name: after
        sql: UPDATE customers SET id = id
    """
    root = make(tmp_path, db_url, manifest)
    recorder = EventRecorder()

    result = run(root, recorder)

    assert result.status == RunStatus.SUCCESS
    audit = next(e for e in recorder.of(StepSucceeded) if e.step == "audit")
    assert len(audit.warnings) == 1  # the info check is told, not warned about
    assert "accepted_values(orders.status)" in audit.warnings[0]
    assert audit.notify  # a warning is news

    strict = EventRecorder()
    # a fresh copy of the manifest: the run above marked both steps done
    failed_run = run(make(tmp_path / "again", db_url, manifest), strict, fail_on="warn")
    assert failed_run.status == RunStatus.FAILED
    [failed] = strict.of(StepFailed)
    assert failed.step == "audit"
    assert "--fail-on warn" in failed.error
    assert failed.details["warned"] == 0
    assert failed.details["failed"] == 2


def test_a_check_whose_sql_fails_is_an_error_and_the_others_still_run(
    tmp_path: Path, db_url: URL, engine: Engine, dialect: Any
) -> None:
    """A savepoint around each check keeps one check's SQL error from ending the transaction;
    DuckDB has none, so there the checks after it are reported as not run."""
    _tables(engine)
    manifest = """\
    name: broken
    steps:
      - name: audit
        type: validate
        checks:
          - {type: expression, name: typo, table: orders, expression: "amount <<>> 1",
             severity: warn}
          - {type: row_count, name: after, table: orders, min: 1}
    """
    recorder = EventRecorder()

    result = run(make(tmp_path, db_url, manifest), recorder)

    if dialect.supports_savepoints:  # an error at severity warn only warns
        assert result.status == RunStatus.SUCCESS
        [done] = recorder.of(StepSucceeded)
        typo, after = done.details["checks"]
        assert (typo["outcome"], after["outcome"]) == ("error", "pass")
        assert done.warnings[0].startswith("typo: ")
    else:  # the transaction is gone: the step cannot end well
        assert result.status == RunStatus.FAILED
        [failed] = recorder.of(StepFailed)
        typo, after = failed.details["checks"]
        assert typo["outcome"] == "error"
        assert after["outcome"] == "error"
        assert "not run" in after["message"]


def test_a_check_may_read_another_connection(tmp_path: Path, db_url: URL, engine: Engine) -> None:
    """``connection:`` on a check: it reads there, in a transaction of its own, and its
    finding stands beside the others in the step's order."""
    _tables(engine)
    side = tmp_path / "side.sqlite"
    with sqlite3.connect(side) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER)")
        conn.execute("INSERT INTO customers VALUES (1), (1)")
    manifest = """\
    name: two
    steps:
      - name: audit
        type: validate
        checks:
          - {type: row_count, table: customers, min: 2, max: 2}
          - {type: unique, name: side ids, table: customers, column: id, connection: side}
          - {type: row_count, name: side rows, table: customers, equal_to: customers,
             connection: side}
    """
    root = make(tmp_path, db_url, manifest)
    env = root / "config" / ".env"
    env.write_text(
        env.read_text() + f"DEVELOPMENT_GLOBAL_SIDE_CONNECTION_STRING=sqlite:///{side}\n"
    )
    recorder = EventRecorder()

    result = run(root, recorder)

    assert result.status == RunStatus.FAILED
    [failed] = recorder.of(StepFailed)
    found = [(c["name"], c["outcome"]) for c in failed.details["checks"]]
    assert found == [
        ("row_count(customers)", "pass"),
        ("side ids", "fail"),
        ("side rows", "pass"),
    ]


def test_a_check_on_an_unknown_connection_is_refused_at_plan_time(tmp_path: Path) -> None:
    manifest = """\
    name: two
    steps:
      - name: audit
        type: validate
        checks:
          - {type: row_count, table: customers, min: 1, connection: nowhere}
    """
    root = make(tmp_path, URL.create("sqlite", database=str(tmp_path / "x.db")), manifest)

    with pytest.raises(ManifestInvalid) as caught:
        ordo.plan(project=root, environ={})

    assert "a check's connection 'nowhere'" in str(caught.value.problems[0])
