"""The table layer (``ordo.data.tables``) on SQLite, DuckDB, PostgreSQL and MariaDB."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal

import pytest
from sqlalchemy import Engine

from ordo.data.tables import Mode, Target, insert_rows, prepare_table, table_sql
from ordo.data.types import Column, ColumnType, TypeKind
from ordo.db.dialects import Dialect, NamePart
from ordo.errors import PermanentError

BIGINT = ColumnType(TypeKind.INTEGER)
TEXT = ColumnType(TypeKind.TEXT)
COLUMNS = [
    Column("id", BIGINT),
    Column("group", TEXT),  # a reserved word
    Column("Order Date", ColumnType(TypeKind.DATE)),
    Column("ÄÖ", ColumnType(TypeKind.DECIMAL, precision=12, scale=3)),
    Column("ok", ColumnType(TypeKind.BOOLEAN)),
    Column("at", ColumnType(TypeKind.TIMESTAMP)),  # reserved in DuckDB
    Column("at_zone", ColumnType(TypeKind.TIMESTAMPTZ)),
]
UTC = dt.UTC
ROWS: list[Sequence[object]] = [
    (1, "a", dt.date(2024, 1, 31), Decimal("1.250"), True, dt.datetime(2024, 1, 31, 12, 30),
     dt.datetime(2024, 1, 31, 11, 0, tzinfo=UTC)),
    (2, "", None, Decimal("-0.001"), False, None, None),
    (3, None, dt.date(1999, 12, 31), None, None, dt.datetime(1999, 12, 31, 23, 59, 59, 5), None),
]  # fmt: skip
TARGET = Target("seed_t")


def load(
    engine: Engine,
    dialect: Dialect,
    rows: Iterable[Sequence[object]],
    *,
    columns: Sequence[Column] = COLUMNS,
    mode: Mode = "replace",
    cascade: bool = False,
) -> int:
    with engine.begin() as conn:
        prepare_table(conn, dialect, TARGET, columns, mode, cascade=cascade)
        return insert_rows(conn, dialect, TARGET, columns, rows)


def table_rows(
    engine: Engine, dialect: Dialect, target: Target = TARGET, columns: str = "*"
) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        sql = f"SELECT {columns} FROM {table_sql(dialect, target)} ORDER BY 1"
        result = dialect.execute(conn, sql)
    return result.rows or []


def test_replace_creates_and_fills_with_values_as_given(
    engine: Engine, dialect: Dialect, backend: str
) -> None:
    assert load(engine, dialect, ROWS) == 3
    # DuckDB's Python client needs pytz to hand out a TIMESTAMPTZ: read it as text there
    names = [dialect.quote_part(NamePart(column.name, quoted=True)) for column in COLUMNS]
    if backend == "duckdb":
        names[-1] = f"CAST({names[-1]} AS VARCHAR)"
    rows = table_rows(engine, dialect, columns=", ".join(names))
    assert [row[0] for row in rows] == [1, 2, 3]
    assert rows[1][1] == ""  # an empty string is not NULL
    assert rows[2][1] is None
    if backend != "sqlite":  # SQLite keeps dates as text and decimals as numbers
        assert rows[0][2] == dt.date(2024, 1, 31)
        assert rows[0][3] == Decimal("1.250")
        assert rows[1][3] == Decimal("-0.001")
        assert rows[2][5] == dt.datetime(1999, 12, 31, 23, 59, 59, 5)
    assert [row[4] if row[4] is None else bool(row[4]) for row in rows] == [True, False, None]
    zoned = rows[0][6]
    if isinstance(zoned, dt.datetime):
        as_utc = zoned.astimezone(UTC) if zoned.tzinfo else zoned.replace(tzinfo=UTC)
        assert as_utc == dt.datetime(2024, 1, 31, 11, 0, tzinfo=UTC)
    else:
        assert str(zoned).startswith("2024-01-31 11:00:00")


def test_replace_empties_a_table_with_the_same_columns(engine: Engine, dialect: Dialect) -> None:
    load(engine, dialect, ROWS)
    with engine.begin() as conn:
        dialect.execute(conn, f"CREATE VIEW seed_v AS SELECT id FROM {table_sql(dialect, TARGET)}")
    load(engine, dialect, ROWS[:1])  # the view does not stop it: the table stays
    assert [row[0] for row in table_rows(engine, dialect, columns="id")] == [1]


def test_replace_remakes_a_table_whose_columns_changed(engine: Engine, dialect: Dialect) -> None:
    load(engine, dialect, ROWS)
    changed = [Column("id", TEXT), Column("name", TEXT)]
    assert load(engine, dialect, [("007", "x")], columns=changed) == 1
    assert table_rows(engine, dialect) == [("007", "x")]


def test_replace_refuses_to_drop_a_table_a_foreign_key_needs(
    engine: Engine, dialect: Dialect, backend: str
) -> None:
    columns = [Column("id", BIGINT)]
    with engine.begin() as conn:
        dialect.execute(conn, "CREATE TABLE seed_t (id BIGINT PRIMARY KEY)")
        dialect.execute(conn, "CREATE TABLE seed_child (pid BIGINT REFERENCES seed_t (id))")
    with pytest.raises(PermanentError, match="table seed_child depends on it") as caught:
        load(engine, dialect, [(1,)], columns=[Column("id", TEXT)])
    assert "cascade: true" in (caught.value.hint or "")
    assert table_rows(engine, dialect) == []
    assert columns  # the table is still there, with its column


def test_cascade_allows_the_drop(engine: Engine, dialect: Dialect, backend: str) -> None:
    with engine.begin() as conn:
        dialect.execute(conn, "CREATE TABLE seed_t (id BIGINT PRIMARY KEY)")
        dialect.execute(conn, "CREATE VIEW seed_v AS SELECT id FROM seed_t")
    assert load(engine, dialect, [("a",)], columns=[Column("id", TEXT)], cascade=True) == 1
    assert table_rows(engine, dialect) == [("a",)]


def test_append_adds_and_refuses_other_columns(engine: Engine, dialect: Dialect) -> None:
    load(engine, dialect, ROWS[:1], mode="append")  # created when missing
    load(engine, dialect, ROWS[1:], mode="append")
    assert [row[0] for row in table_rows(engine, dialect, columns="id")] == [1, 2, 3]
    with pytest.raises(PermanentError, match=r"has the columns \(id, group"):
        load(engine, dialect, [(1,)], columns=[Column("id", BIGINT)], mode="append")


def test_truncate_empties_and_refuses_a_missing_table(engine: Engine, dialect: Dialect) -> None:
    with pytest.raises(PermanentError, match="table seed_t does not exist"):
        load(engine, dialect, ROWS, mode="truncate")
    load(engine, dialect, ROWS)
    assert load(engine, dialect, ROWS[:2], mode="truncate") == 2
    assert [row[0] for row in table_rows(engine, dialect, columns="id")] == [1, 2]


def test_a_failed_load_leaves_the_table_as_it_was(
    engine: Engine, dialect: Dialect, backend: str
) -> None:
    load(engine, dialect, ROWS)
    with pytest.raises(Exception):  # noqa: B017, PT011 - the driver's own error
        load(engine, dialect, [(4, "x", None, None, None, None, None, "one too many")])
    assert [row[0] for row in table_rows(engine, dialect, columns="id")] == [1, 2, 3]


def test_many_rows_in_batches(engine: Engine, dialect: Dialect) -> None:
    columns = [Column("id", BIGINT), Column("name", TEXT)]
    rows = ((i, f"n{i}") for i in range(25_001))  # a generator, over two batches
    assert load(engine, dialect, rows, columns=columns) == 25_001
    with engine.connect() as conn:
        count = dialect.execute(conn, f"SELECT count(*) FROM {table_sql(dialect, TARGET)}")
    assert count.rows == [(25_001,)]


def test_a_schema_is_used(engine: Engine, dialect: Dialect, backend: str) -> None:
    schema = {"sqlite": "main", "duckdb": "main"}.get(backend)
    if schema is None:
        with engine.connect() as conn:
            current = "SELECT DATABASE()" if backend == "mariadb" else "SELECT current_schema()"
            schema = str(dialect.execute(conn, current).rows[0][0])  # type: ignore[index]
    target = Target("in_schema", schema)
    with engine.begin() as conn:
        prepare_table(conn, dialect, target, COLUMNS[:2], "replace")
        insert_rows(conn, dialect, target, COLUMNS[:2], [(1, "x")])
    assert table_rows(engine, dialect, target) == [(1, "x")]
