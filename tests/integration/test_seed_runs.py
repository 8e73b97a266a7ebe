"""``type: seed`` steps run through ``ordo.run`` on SQLite, DuckDB, PostgreSQL and MariaDB."""

from __future__ import annotations

import datetime as dt
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import URL, Engine

from ordo.db.engines import EngineRegistry
from ordo.runner.result import RunResult
from tests.support.runs import execute, make, query, run

VALUES_CSV = (
    'id,zip,amount,ok,day,"Order Date",at_zone,group,ÄÖ,note\n'
    "1,00123,1.250,true,2024-01-31,2024-01-31T12:30:00,2024-01-31T12:30:00+02:00,a,ü,x\n"
    '2,00001,-0.5,FALSE,1999-12-31,1999-12-31 23:59:59,1999-12-31 23:59:59Z,,"",\n'
)


def seed_project(tmp_path: Path, url: URL, manifest: str, files: dict[str, str]) -> Path:
    root = make(tmp_path, url, manifest)
    (root / "seeds").mkdir()
    for name, text in files.items():
        (root / "seeds" / name).write_text(text, encoding="utf-8")
    return root


def run_again(root: Path, manifest: str) -> RunResult:
    """Run ``manifest`` (written afresh: a run marks its done steps disabled)."""
    (root / "queue" / "manifest.yaml").write_text(textwrap.dedent(manifest))
    return run(root)


def test_values_load_exactly_as_written(
    tmp_path: Path, db_url: URL, engine: Engine, backend: str
) -> None:
    manifest = """
        name: seeds
        steps:
          - name: values
            file: vals.csv
            empty_string: keep
            null_values: ["\\\\N"]
    """
    root = seed_project(
        tmp_path, db_url, manifest, {"vals.csv": VALUES_CSV.replace(",\n", ",\\N\n")}
    )
    result = run(root)
    assert result.status == "success", [s.error for s in result.steps]
    zone = "CAST(at_zone AS VARCHAR)" if backend == "duckdb" else "at_zone"
    quote = "`" if backend == "mariadb" else '"'
    quoted = [f"{quote}{name}{quote}" for name in ("Order Date", "group", "ÄÖ")]
    names = f"id, zip, amount, ok, day, {quoted[0]}, {zone}, {quoted[1]}, {quoted[2]}, note"
    rows = query(engine, f"SELECT {names} FROM vals ORDER BY id")
    first, second = rows
    assert first[1] == "00123"
    assert second[1] == "00001"
    assert first[7] == "a"
    assert second[7] == ""
    assert second[9] is None  # the NULL marker
    assert first[8] == "ü"
    if backend == "sqlite":
        return  # no decimal, date or boolean types: stored by affinity
    assert first[2] == Decimal("1.250")
    assert second[2] == Decimal("-0.500")
    assert bool(first[3]) is True
    assert bool(second[3]) is False
    assert first[4] == dt.date(2024, 1, 31)
    assert first[5] == dt.datetime(2024, 1, 31, 12, 30)
    if backend in ("postgresql",):
        assert first[6] == dt.datetime(2024, 1, 31, 10, 30, tzinfo=dt.UTC)
    elif backend == "mariadb":  # DATETIME has no zone: stored as UTC
        assert first[6] == dt.datetime(2024, 1, 31, 10, 30)


def test_empty_fields_are_null_by_default(tmp_path: Path, db_url: URL, engine: Engine) -> None:
    manifest = """
        name: seeds
        steps:
          - name: nulls
            file: n.csv
    """
    root = seed_project(tmp_path, db_url, manifest, {"n.csv": 'id,name\n1,\n2,""\n3,x\n'})
    assert run(root).status == "success"
    assert query(engine, "SELECT id, name FROM n ORDER BY id") == [(1, None), (2, None), (3, "x")]


def test_several_null_markers(tmp_path: Path, db_url: URL, engine: Engine) -> None:
    """Markers the bulk loaders cannot take at once go through ``insert_rows``."""
    manifest = """
        name: seeds
        steps:
          - name: nulls
            file: n.csv
            null_values: ["", NA, "-"]
    """
    text = "id,v,d\n1,NA,2024-01-01\n2,-,-\n3,4,\n"
    root = seed_project(tmp_path, db_url, manifest, {"n.csv": text})
    assert run(root).status == "success"
    rows = query(engine, "SELECT id, v, d FROM n ORDER BY id")
    assert [row[:2] for row in rows] == [(1, None), (2, None), (3, 4)]
    assert rows[1][2] is None
    assert rows[2][2] is None


MODES = """
    name: seeds
    steps:
      - name: load
        file: t.csv
        mode: {mode}
"""


def test_modes(tmp_path: Path, db_url: URL, engine: Engine) -> None:
    root = seed_project(tmp_path, db_url, MODES.format(mode="truncate"), {"t.csv": "id\n1\n2\n"})
    failed = run(root)
    assert failed.status == "failed"
    assert "table t does not exist" in str(failed.steps[0].error)

    assert run_again(root, MODES.format(mode="replace")).status == "success"
    assert run_again(root, MODES.format(mode="replace")).status == "success"
    assert query(engine, "SELECT id FROM t ORDER BY id") == [(1,), (2,)]  # not four
    assert run_again(root, MODES.format(mode="append")).status == "success"
    assert query(engine, "SELECT count(*) FROM t") == [(4,)]
    assert run_again(root, MODES.format(mode="truncate")).status == "success"
    assert query(engine, "SELECT count(*) FROM t") == [(2,)]


def test_replace_remakes_a_table_whose_header_or_types_changed(
    tmp_path: Path, db_url: URL, engine: Engine
) -> None:
    root = seed_project(tmp_path, db_url, MODES.format(mode="replace"), {"t.csv": "id\n1\n"})
    assert run(root).status == "success"
    (root / "seeds" / "t.csv").write_text("id,name\n007,x\n")
    assert run_again(root, MODES.format(mode="replace")).status == "success"
    assert query(engine, "SELECT id, name FROM t") == [("007", "x")]
    (root / "seeds" / "t.csv").write_text("other\n1\n")
    failed = run_again(root, MODES.format(mode="append"))
    assert failed.status == "failed"
    assert "has the columns (id, name), but the data has (other)" in str(failed.steps[0].error)


PARENT_CHILD = """
    name: seeds
    steps:
      - name: tables
        sql: |
          CREATE TABLE parent (id BIGINT PRIMARY KEY, name {text});
          CREATE TABLE child (id BIGINT, pid BIGINT REFERENCES parent (id))
        split_statements: true
      - name: seeds
        type: seed
        files: "*.csv"
{dependencies}
"""
TEXT_TYPE = {"sqlite": "TEXT", "duckdb": "VARCHAR", "postgresql": "text", "mariadb": "longtext"}


@pytest.mark.parametrize("declared", [True, False])
def test_parents_load_first_from_the_map_or_the_foreign_keys(
    tmp_path: Path, db_url: URL, engine: Engine, backend: str, declared: bool
) -> None:
    dependencies = "        dependencies: {child: [parent]}" if declared else ""
    manifest = PARENT_CHILD.format(text=TEXT_TYPE[backend], dependencies=dependencies)
    files = {"child.csv": "id,pid\n10,1\n", "parent.csv": "id,name\n1,p\n"}
    root = seed_project(tmp_path, db_url, manifest, files)
    result = run(root)  # child.csv comes first by name; its foreign key would refuse it
    assert result.status == "success", [s.error for s in result.steps]
    if backend == "duckdb":
        return  # DuckDB refuses to delete a parent row whose child row went in the same
        # transaction (its documented foreign key limitation): reloading needs two steps
    # again: the tables are emptied children first, so the parent's rows can go
    again = manifest.replace("- name: tables", "- name: tables\n        enabled: false", 1)
    again_result = run_again(root, again)
    assert again_result.status == "success", again_result.error
    assert query(engine, "SELECT id, pid FROM child") == [(10, 1)]


@pytest.mark.postgres
def test_a_foreign_key_cycle_fails_naming_it(tmp_path: Path, postgres_url: URL, pg: Engine) -> None:
    execute(
        pg,
        "CREATE TABLE a (id BIGINT PRIMARY KEY, b BIGINT)",
        "CREATE TABLE b (id BIGINT PRIMARY KEY, a BIGINT REFERENCES a (id))",
        "ALTER TABLE a ADD FOREIGN KEY (b) REFERENCES b (id)",
    )
    manifest = """
        name: seeds
        steps:
          - name: seeds
            type: seed
            files: "*.csv"
    """
    files = {"a.csv": "id,b\n1,\n", "b.csv": "id,a\n1,\n"}
    result = run(seed_project(tmp_path, postgres_url, manifest, files))
    assert result.status == "failed"
    assert "cannot be loaded in any order" in str(result.steps[0].error)
    assert "a -> b -> a" in str(result.steps[0].error)


@pytest.mark.postgres
def test_replace_names_a_view_that_needs_the_table(
    tmp_path: Path, postgres_url: URL, pg: Engine
) -> None:
    execute(pg, "CREATE TABLE t (id BIGINT)", "CREATE VIEW v AS SELECT id FROM t")
    root = seed_project(tmp_path, postgres_url, MODES.format(mode="replace"), {"t.csv": "id\nx\n"})
    failed = run(root)
    assert failed.status == "failed"
    assert "view v depends on it" in str(failed.steps[0].error)
    cascaded = MODES.format(mode="replace") + "        cascade: true\n"
    assert run_again(root, cascaded).status == "success"
    assert query(pg, "SELECT id FROM t") == [("x",)]


def test_a_dependency_cycle_is_a_plan_error(tmp_path: Path, db_url: URL) -> None:
    manifest = """
        name: seeds
        steps:
          - name: seeds
            type: seed
            files: "*.csv"
            dependencies: {a: b, b: [a]}
    """
    root = seed_project(tmp_path, db_url, manifest, {"a.csv": "x\n1\n", "b.csv": "x\n1\n"})
    with pytest.raises(Exception, match=r"a -> b -> a"):
        run(root)


# Two rows go the standard library's way; 100,000 (over a megabyte) pyarrow's, and on
# PostgreSQL binary COPY
@pytest.mark.parametrize("rows", [2, 100_000])
def test_a_failed_multi_file_seed_leaves_every_table_as_it_was(
    tmp_path: Path, db_url: URL, engine: Engine, backend: str, rows: int
) -> None:
    execute(
        engine,
        "CREATE TABLE a (x BIGINT, pad TEXT)",
        "INSERT INTO a VALUES (1, 'kept')",
        f"CREATE TABLE b (x BIGINT CHECK (x < {rows + 1}), pad TEXT)",
    )
    manifest = """
        name: seeds
        steps:
          - name: seeds
            type: seed
            files: "*.csv"
            mode: append
    """
    text = "x,pad\n" + "".join(f"{i},{'p' * 12}\n" for i in range(2, rows + 2))
    files = {"a.csv": text, "b.csv": text}  # b's last row breaks its CHECK
    root = seed_project(tmp_path, db_url, manifest, files)
    result = run(root)
    assert result.status == "failed"
    error = str(result.steps[0].error)
    assert "loading b.csv into b" in error
    assert "constraint" in error.lower(), error  # the CHECK, in each database's words
    assert query(engine, "SELECT x, pad FROM a") == [(1, "kept")]  # rolled back with b's
    assert query(engine, "SELECT count(*) FROM b") == [(0,)]


def test_a_schema(tmp_path: Path, db_url: URL, backend: str) -> None:
    schema = {"sqlite": "main", "duckdb": "main"}.get(backend)
    if schema is None:
        schema = db_url.database if backend == "mariadb" else None
    if schema is None:  # PostgreSQL: the test's schema is in the URL's search_path
        schema = str(db_url.query["options"]).split("=", 1)[1]
    manifest = f"""
        name: seeds
        steps:
          - name: seeds
            file: t.csv
            table: Renamed
            schema: {schema}
    """
    root = seed_project(tmp_path, db_url, manifest, {"t.csv": "id\n1\n"})
    assert run(root).status == "success"
    with EngineRegistry() as engines:
        rows = query(engines.get(db_url), "SELECT id FROM Renamed")
    assert rows == [(1,)]


def test_a_seed_shares_a_transaction_group_with_sql_steps(
    tmp_path: Path, db_url: URL, engine: Engine
) -> None:
    manifest = """
        name: seeds
        steps:
          - name: made
            sql: CREATE TABLE made_first (x BIGINT)
            transaction_group: g
            allow_implicit_commit: true
          - name: seeds
            file: bad.csv
            column_types: {x: "bigint CHECK (x < 10)"}
            transaction_group: g
            allow_implicit_commit: true
    """
    root = seed_project(tmp_path, db_url, manifest, {"bad.csv": "x\n1\n50\n"})
    result = run(root)
    assert result.status == "failed"
    dialect_name = db_url.get_backend_name()
    tables = query(engine, "SELECT 1 FROM made_first") if dialect_name == "mysql" else None
    if dialect_name != "mysql":  # DDL is transactional: the group's table went with the seed
        with pytest.raises(Exception):  # noqa: B017, PT011 - no such table
            query(engine, "SELECT 1 FROM made_first")
    else:
        assert tables == []  # MariaDB committed the CREATE TABLE on its own


@pytest.mark.parametrize(
    ("data", "options", "quoted"),
    [
        (b'\xef\xbb\xbfid;name\r\n1;"a;b"\r\n2;caf\xc3\xa9\r\n', ["delimiter: ';'"], "a;b"),
        (
            b"id|name\n1|'a|b'\n2|caf\xe9\n",
            ["delimiter: '|'", 'quote: "\'"', "encoding: latin-1"],
            "a|b",
        ),
    ],
)
def test_dialects_of_csv(
    tmp_path: Path, db_url: URL, engine: Engine, data: bytes, options: list[str], quoted: str
) -> None:
    """A BOM, CRLF line ends and a delimiter inside quotes; another quote and encoding."""
    lines = "".join(f"\n    {option}" for option in options)
    manifest = f"name: seeds\nsteps:\n  - name: seeds\n    file: d.csv{lines}\n"
    root = seed_project(tmp_path, db_url, manifest, {})
    (root / "seeds" / "d.csv").write_bytes(data)
    result = run(root)
    assert result.status == "success", [s.error for s in result.steps]
    assert query(engine, "SELECT id, name FROM d ORDER BY id") == [(1, quoted), (2, "café")]


def test_a_large_seed_read_by_pyarrow_loads_as_written(
    tmp_path: Path, db_url: URL, engine: Engine, backend: str
) -> None:
    """Over a megabyte of text, pyarrow reads and types the file: the same table comes out,
    by every backend's load path (COPY, DuckDB's reader, prepared inserts)."""
    from ordo.data import arrow_seeds

    lines = ["id,zip,amount,ok,day,note"]
    for i in range(40_000):
        note = '"a, b"' if i % 7 == 0 else ("" if i % 5 == 0 else f"n{i}")
        lines.append(
            f"{i},{i % 1000:05d},{i % 300}.{i % 100:02d},{'true' if i % 2 else 'false'},"
            f"2024-{i % 12 + 1:02d}-{i % 28 + 1:02d},{note}"
        )
    text = "\n".join(lines) + "\n"
    assert len(text) > arrow_seeds.MIN_BODY
    manifest = """
        name: seeds
        steps:
          - name: big
            file: big.csv
    """
    root = seed_project(tmp_path, db_url, manifest, {"big.csv": text})
    result = run(root)
    assert result.status == "success", [s.error for s in result.steps]
    assert result.step("big").rows == 40_000
    rows = query(
        engine,
        "SELECT id, zip, amount, ok, day, note FROM big WHERE id IN (0, 7, 4999) ORDER BY id",
    )
    assert [r[1] for r in rows] == ["00000", "00007", "00999"]
    assert [r[5] for r in rows] == ["a, b", "a, b", "n4999"]
    if backend == "sqlite":
        return
    assert rows[2][2] == Decimal("199.99")
    assert bool(rows[2][3]) is True
    assert rows[2][4] == dt.date(2024, 8, 16)
