"""``table`` targets on SQLite, DuckDB, PostgreSQL and MariaDB: types, modes, merge, rollback."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import URL, create_engine, text

import ordo
from ordo.extractors import registered
from ordo.extractors.testing import RowsExtractor
from tests.support.project import database_env, make_project

ROWS = [
    {
        "id": 1,
        "zip": "00123",
        "amount": "12.50",
        "ratio": 0.25,
        "ok": True,
        "day": "2024-02-29",
        "at": "2024-03-01T10:30:00",
        "at_tz": "2024-03-01T10:30:00+02:00",
        "group": "",
        "Order Date": None,
    },
    {
        "id": 2,
        "zip": None,
        "amount": "-3.00",
        "ratio": None,
        "ok": False,
        "day": None,
        "at": None,
        "at_tz": None,
        "group": "g",
        "Order Date": "x",
    },
]
TYPES = (
    "{id: int, amount: 'decimal(10,2)', day: date, at: timestamp, at_tz: timestamptz, "
    "ratio: float, ok: bool}"
)


@pytest.fixture(autouse=True)
def rows_source() -> Iterator[None]:
    with registered("rows", RowsExtractor):
        yield


def project(tmp_path: Path, url: URL, steps: str) -> Path:
    return make_project(tmp_path / "p", f"steps:\n{steps}", env=database_env(url))


def load_step(name: str, rows: list[dict[str, Any]], target: str, **extra: str) -> str:
    import json

    more = "".join(f"\n    {k}: {v}" for k, v in extra.items())
    return (
        f"  - name: {name}\n    type: load\n"
        f"    source: {{type: rows, rows: {json.dumps(rows)}, column_types: {TYPES}, "
        f"batch_rows: 1}}\n    target: {target}{more}\n"
    )


def run(root: Path) -> ordo.RunResult:
    return ordo.run(project=root, environ={}, options=ordo.RunOptions(notify=False))


def fetch(url: URL, sql: str) -> list[tuple[Any, ...]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(sql)).all()]
    finally:
        engine.dispose()


def test_a_missing_table_is_created_from_the_arrow_types(tmp_path: Path, db_url: URL) -> None:
    from ordo.data.types import ColumnType, TypeKind
    from ordo.db.dialects import NamePart, dialect_for

    root = project(tmp_path, db_url, load_step("load", ROWS, "{type: table, table: Sales}"))
    result = run(root)
    assert result.status == "success", result.step("load").error
    assert result.step("load").rows == 2
    engine = create_engine(db_url)
    with engine.connect() as conn:
        dialect = dialect_for(conn)
        table = dialect.parse_table_name("Sales")
        found = dialect.table_columns(conn, table)
        assert found is not None
        expected = [
            ColumnType(TypeKind.INTEGER),
            ColumnType(TypeKind.TEXT),
            ColumnType(TypeKind.DECIMAL, precision=10, scale=2),
            ColumnType(TypeKind.FLOAT),
            ColumnType(TypeKind.BOOLEAN),
            ColumnType(TypeKind.DATE),
            ColumnType(TypeKind.TIMESTAMP),
            ColumnType(TypeKind.TIMESTAMPTZ),
            ColumnType(TypeKind.TEXT),
            ColumnType(TypeKind.TEXT),
        ]
        assert [name for name, _ in found] == list(ROWS[0])  # headers as written
        for (name, spelled), wanted in zip(found, expected, strict=True):
            assert dialect.same_column_type(spelled, wanted), (name, spelled, wanted)
        names = ", ".join(
            dialect.quote_part(NamePart(n, quoted=True)) for n in ROWS[0] if n != "at_tz"
        )
        sql = f"SELECT {names} FROM {dialect.quote_table(table)} ORDER BY 1"
        first, second = [tuple(r) for r in conn.execute(text(sql)).all()]
        zoned = conn.execute(
            text(f"SELECT COUNT(*) FROM {dialect.quote_table(table)} WHERE at_tz IS NOT NULL")
        ).scalar()
    engine.dispose()
    assert first[:2] == (1, "00123")  # leading zeros kept: text
    assert Decimal(str(first[2])) == Decimal("12.50")
    assert first[3] == pytest.approx(0.25)
    assert bool(first[4]) is True
    assert str(first[5]) == "2024-02-29"
    assert str(first[6]).replace("T", " ").startswith("2024-03-01 10:30:00")
    assert first[7:] == ("", None)  # an empty string is kept, not NULL
    assert second[1] is None
    assert Decimal(str(second[2])) == Decimal("-3.00")
    assert zoned == 1


def test_replace_then_append(tmp_path: Path, db_url: URL) -> None:
    steps = load_step("first", ROWS, "{type: table, table: t}") + load_step(
        "again", ROWS[:1], "{type: table, table: t, mode: append}"
    )
    root = project(tmp_path, db_url, steps)
    assert run(root).status == "success"
    assert fetch(db_url, "SELECT id FROM t ORDER BY id") == [(1,), (1,), (2,)]
    (root / "queue" / "manifest.yaml").write_text(
        "steps:\n" + load_step("replace", ROWS[1:], "{type: table, table: t}")
    )
    assert run(root).status == "success"
    assert fetch(db_url, "SELECT id FROM t ORDER BY id") == [(2,)]


def test_merge_updates_rows_whose_key_exists_and_inserts_the_others(
    tmp_path: Path, db_url: URL
) -> None:
    changed = [{**ROWS[1], "zip": "99999"}, {**ROWS[0], "id": 3, "zip": "00003"}]
    steps = load_step("first", ROWS, "{type: table, table: m, mode: merge, key: [id]}")
    steps += load_step("second", changed, "{type: table, table: m, mode: merge, key: [id]}")
    root = project(tmp_path, db_url, steps)
    result = run(root)
    assert result.status == "success", [s.error for s in result.steps]
    assert fetch(db_url, "SELECT id, zip FROM m ORDER BY id") == [
        (1, "00123"),
        (2, "99999"),
        (3, "00003"),
    ]


def test_merge_on_a_key_that_is_not_in_the_data_fails(tmp_path: Path, db_url: URL) -> None:
    root = project(
        tmp_path, db_url, load_step("m", ROWS, "{type: table, table: m, mode: merge, key: [nope]}")
    )
    result = run(root)
    assert result.status == "failed"
    assert "the key column nope is not in the data" in (result.step("m").error or "")


@pytest.mark.parametrize(
    "db_url",
    ["sqlite", "duckdb", pytest.param("postgresql", marks=pytest.mark.postgres)],
    indirect=True,
)
def test_a_load_that_fails_part_way_leaves_the_table_as_it_was(tmp_path: Path, db_url: URL) -> None:
    root = project(tmp_path, db_url, load_step("first", ROWS, "{type: table, table: t}"))
    assert run(root).status == "success"
    (root / "queue" / "manifest.yaml").write_text(
        "retry: {max_retries: 0}\nsteps:\n"
        + load_step("bad", ROWS, "{type: table, table: t}").replace(
            "batch_rows: 1}", "batch_rows: 1, fail_after: 1}"
        )
    )
    result = run(root)
    assert result.status == "failed"
    assert fetch(db_url, "SELECT id FROM t ORDER BY id") == [(1,), (2,)]


def test_a_load_shares_a_transaction_group_with_sql_steps(tmp_path: Path, sqlite_url: URL) -> None:
    steps = (
        load_step("load", ROWS, "{type: table, table: t}", transaction_group="g")
        + "  - name: count\n    sql: INSERT INTO t (id) SELECT 10 + COUNT(*) FROM t\n"
        "    transaction_group: g\n"
        "  - name: boom\n    sql: INSERT INTO missing VALUES (1)\n    transaction_group: g\n"
    )
    root = project(tmp_path, sqlite_url, steps)
    result = run(root)
    assert result.status == "failed"
    assert fetch(sqlite_url, "SELECT name FROM sqlite_master WHERE name = 't'") == []


@pytest.mark.parametrize(
    "db_url",
    ["duckdb", pytest.param("postgresql", marks=pytest.mark.postgres)],
    indirect=True,
)
def test_a_value_the_table_refuses_fails_in_one_line_and_changes_nothing(
    tmp_path: Path, db_url: URL
) -> None:
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (id INTEGER, zip INTEGER)"))
        conn.execute(text("INSERT INTO t VALUES (7, 7)"))
    engine.dispose()
    step = (
        "  - name: bad\n    type: load\n"
        "    source: {type: rows, rows: [{id: 8, zip: '1'}, {id: 9, zip: abc}], batch_rows: 1}\n"
        "    target: {type: table, table: t, mode: append}\n"
    )
    root = project(tmp_path, db_url, step)
    result = run(root)
    assert result.status == "failed"
    error = result.step("bad").error or ""
    assert "Traceback" not in error
    assert "\n" not in error
    assert "abc" in error  # the database's own words, naming the value
    assert fetch(db_url, "SELECT id, zip FROM t") == [(7, 7)]


def test_merge_on_a_text_key_of_two_columns(tmp_path: Path, db_url: URL) -> None:
    def step(name: str, rows: str) -> str:
        return (
            f"  - name: {name}\n    type: load\n"
            f"    source: {{type: rows, rows: {rows}}}\n"
            "    target: {type: table, table: k, mode: merge, key: [code, region]}\n"
        )

    steps = step("first", "[{code: '007', region: EU, n: 1}, {code: '007', region: US, n: 2}]")
    steps += step("second", "[{code: '007', region: US, n: 3}, {code: '8', region: EU, n: 4}]")
    root = project(tmp_path, db_url, steps)
    result = run(root)
    assert result.status == "success", [s.error for s in result.steps]
    assert fetch(db_url, "SELECT code, region, n FROM k ORDER BY n") == [
        ("007", "EU", 1),
        ("007", "US", 3),
        ("8", "EU", 4),
    ]


def test_nested_values_are_json(tmp_path: Path, db_url: URL) -> None:
    import json

    step = (
        "  - name: nested\n    type: load\n"
        "    source: {type: rows, rows: [{id: 1, tags: [a, b], meta: {k: 1}}, {id: 2}]}\n"
        "    target: {type: table, table: j}\n"
    )
    root = project(tmp_path, db_url, step)
    result = run(root)
    assert result.status == "success", result.step("nested").error
    cast = "CAST(tags AS CHAR)" if db_url.get_backend_name() == "mysql" else "CAST(tags AS TEXT)"
    got = fetch(db_url, f"SELECT id, {cast} FROM j ORDER BY id")
    assert json.loads(got[0][1]) == ["a", "b"]
    assert got[1] == (2, None)


def test_binary_values_load_byte_for_byte(tmp_path: Path, db_url: URL) -> None:
    """CSV cannot carry bytes: on PostgreSQL such a batch takes the prepared INSERT, and the
    other backends bind them as they are."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    root = project(
        tmp_path,
        db_url,
        "  - name: blobs\n    type: load\n"
        "    source: {type: parquet, path: blobs.parquet}\n"
        "    target: {type: table, table: blobs}\n",
    )
    blobs = [b'\x00\xff,\n"', b"", None]
    pq.write_table(
        pa.table({"id": [1, 2, 3], "payload": pa.array(blobs, pa.binary())}),
        root / "blobs.parquet",
    )
    result = run(root)
    assert result.status == "success", result.step("blobs").error
    found = fetch(db_url, "SELECT id, payload FROM blobs ORDER BY id")
    assert [(i, None if p is None else bytes(p)) for i, p in found] == list(
        zip([1, 2, 3], blobs, strict=True)
    )
