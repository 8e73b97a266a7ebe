"""The dialect contract without a server: every registered dialect passes the same checks.

Parametrized over the ``ordo.dialects`` entry points, not over a list kept here, so a new
backend (one module plus one entry point) is checked by this suite the moment it is
registered. Compiled SQL and the facts each dialect declares are covered for all six
backends; ``tests/integration/test_dialect_contract.py`` runs the live half on the four
backends with a server here.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import URL, text

from ordo.config.connections import ConnectionSettings
from ordo.db.dialects import (
    Dialect,
    ScriptSyntax,
    TableName,
    dialect_for,
    dialect_for_error,
    dialects,
    parse_table_name,
)
from ordo.db.statements import split_statements
from ordo.migrations.locks import _SESSION_LOCKS

CLASSES = dialects()
IDS = [cls.backend for cls in CLASSES]
# Each backend keeps its data in a file of its own, or on a server: the checks that only make
# sense for one of the two are run on those dialects only.
FILE_DIALECTS = [c.backend for c in CLASSES if c.migration_lock == "file"]
SERVER_DIALECTS = [c.backend for c in CLASSES if c.migration_lock != "file"]
SERVER = URL.create("generic", username="u", host="db.example", database="shop")


def _settings(url: URL, *, read_only: bool = False) -> ConnectionSettings:
    return ConnectionSettings(
        name="default", url=url, source="test", type="test", pool_size=3, max_overflow=2,
        timeout=7.5, read_only=read_only,
    )  # fmt: skip


def test_the_six_backends_are_registered() -> None:
    assert sorted(IDS) == ["duckdb", "mssql", "mysql", "oracle", "postgresql", "sqlite"]
    assert sorted(FILE_DIALECTS) == ["duckdb", "sqlite"]


@pytest.fixture(params=CLASSES, ids=IDS)
def cls(request: pytest.FixtureRequest) -> type[Dialect]:
    dialect_class: type[Dialect] = request.param
    return dialect_class


@pytest.fixture
def dialect(cls: type[Dialect]) -> Dialect:
    return dialect_for(cls.names[0])


# -- the registry -------------------------------------------------------------------------


def test_every_name_a_dialect_serves_finds_it_without_a_server(cls: type[Dialect]) -> None:
    assert cls.names, "a dialect serves at least one backend name"
    assert cls.names[0] == cls.backend
    for name in cls.names:
        made = dialect_for(name)
        assert type(made) is cls
        assert made.sa_dialect is not None
        assert type(dialect_for(f"{name.upper()}+somedriver")) is cls


def test_the_sqlalchemy_dialect_finds_the_same_class(dialect: Dialect) -> None:
    assert type(dialect_for(dialect.sa_dialect)) is type(dialect)


def test_errors_of_each_known_driver_find_their_dialect(cls: type[Dialect]) -> None:
    assert cls.driver_modules, "a dialect names the drivers whose errors it classifies"
    for module in cls.driver_modules:
        error_class = type("OperationalError", (Exception,), {"__module__": f"{module}.errors"})
        assert dialect_for_error(error_class("boom")) is cls


def test_unknown_names_and_drivers_are_refused() -> None:
    with pytest.raises(ValueError, match="no rules for the 'informix' database"):
        dialect_for("informix")
    assert dialect_for_error(ValueError("not a driver error")) is None


# -- names and literals -------------------------------------------------------------------


@pytest.mark.parametrize("written", ["st_sales", "ST_SALES", 'shop."Mixed Case"', "select"])
def test_table_names_are_always_quoted(dialect: Dialect, written: str) -> None:
    quoted = dialect.quote_table(parse_table_name(written))
    preparer = dialect.sa_dialect.identifier_preparer
    assert quoted.endswith(preparer.final_quote)
    assert quoted.startswith(preparer.initial_quote)
    assert dialect.quote_name(written) == quoted


def test_drop_statements_name_the_quoted_table(dialect: Dialect) -> None:
    table = TableName(parse_table_name("st_x").table)
    assert dialect.quote_table(table) in dialect.drop_table_sql(table)


@pytest.mark.parametrize(
    ("value", "expected"), [(None, "NULL"), (42, "42"), (-1.5, "-1.5")], ids=str
)
def test_numbers_and_null_are_literals_everywhere(
    dialect: Dialect, value: object, expected: str
) -> None:
    assert dialect.quote_literal(value) == expected


def test_quotes_in_strings_are_doubled(dialect: Dialect) -> None:
    assert dialect.quote_literal("it's").endswith("'it''s'")


def test_the_probe_query_compiles(dialect: Dialect) -> None:
    assert str(text(dialect.probe_query).compile(dialect=dialect.sa_dialect)).startswith("SELECT")


# -- scripts --------------------------------------------------------------------------------


def test_script_syntax_cuts_plain_statements(dialect: Dialect) -> None:
    assert isinstance(dialect.script_syntax, ScriptSyntax)
    script = "CREATE TABLE t (x INT);\nINSERT INTO t VALUES ('a;b');\n"
    pieces = [s.sql for s in split_statements(script, dialect.script_syntax)]
    if dialect.script_syntax.go_batches:
        assert pieces == [script.strip()]  # one batch, sent whole
    else:
        assert pieces == ["CREATE TABLE t (x INT)", "INSERT INTO t VALUES ('a;b')"]
    assert [s.sql for s in split_statements(script, dialect.name)] == pieces


# -- engines --------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", SERVER_DIALECTS)
def test_engine_options_size_the_pool_of_a_named_server_connection(backend: str) -> None:
    dialect = dialect_for(backend)
    assert dialect.database_file(URL.create(dialect.name, database="x.db")) is None
    options = dialect.engine_options(SERVER, _settings(SERVER), busy_timeout=1.0)
    assert options["pool_pre_ping"] is True
    assert (options["pool_size"], options["max_overflow"], options["pool_timeout"]) == (3, 2, 7.5)
    if dialect.connect_timeout_arg is not None:
        assert options["connect_args"][dialect.connect_timeout_arg] == 7
    bare = dialect.engine_options(SERVER, None, busy_timeout=1.0)
    assert "pool_size" not in bare


def test_the_migration_lock_is_one_ordo_implements(dialect: Dialect) -> None:
    assert dialect.migration_lock == "file" or dialect.migration_lock in _SESSION_LOCKS
    if dialect.migration_lock == "file":
        assert dialect.database_file(URL.create(dialect.name, database="x.db")) is not None


# -- where the database lives -------------------------------------------------------------


@pytest.mark.parametrize("backend", SERVER_DIALECTS)
def test_a_server_database_is_neither_a_file_nor_in_memory(backend: str) -> None:
    dialect = dialect_for(backend)
    assert dialect.database_file(SERVER) is None
    assert not dialect.is_in_memory(SERVER)
    assert not dialect.database_missing(SERVER)
    assert dialect.single_writer_lane(SERVER) is None
    assert not dialect.locks_out_other_processes(SERVER)


@pytest.mark.parametrize("backend", FILE_DIALECTS)
def test_a_file_database_knows_its_file(backend: str, tmp_path: Path) -> None:
    dialect = dialect_for(backend)
    path = tmp_path / "data.db"
    url = URL.create(dialect.name, database=str(path))
    assert dialect.database_file(url) == path
    assert not dialect.is_in_memory(url)
    assert dialect.database_missing(url)
    path.touch()
    assert not dialect.database_missing(url)
    for memory in (URL.create(dialect.name), URL.create(dialect.name, database=":memory:")):
        assert dialect.is_in_memory(memory)
        assert dialect.database_file(memory) is None
        assert not dialect.database_missing(memory)
        assert not dialect.locks_out_other_processes(memory)


@pytest.mark.parametrize("backend", FILE_DIALECTS)
def test_file_database_options_keep_in_memory_pools_alone(backend: str) -> None:
    dialect = dialect_for(backend)
    memory = URL.create(dialect.name, database=":memory:")
    assert "pool_size" not in dialect.engine_options(memory, _settings(memory), busy_timeout=1.0)
    file_url = URL.create(dialect.name, database="/tmp/x.db")
    options = dialect.engine_options(file_url, _settings(file_url), busy_timeout=1.0)
    assert options["pool_size"] == 3


def test_sqlite_uri_files_and_shared_memory() -> None:
    sqlite = dialect_for("sqlite")
    uri = URL.create("sqlite", database="file:/data/app.db?mode=rw")
    assert sqlite.database_file(uri) == Path("/data/app.db")
    shared = URL.create("sqlite", database="file::memory:?cache=shared")
    assert sqlite.is_in_memory(shared)
    assert sqlite.database_file(shared) is None
    lane = sqlite.single_writer_lane(URL.create("sqlite", database="/data/app.db"))
    assert lane == sqlite.single_writer_lane(URL.create("sqlite", database="/data/../data/app.db"))


def test_duckdb_remote_databases_are_no_files() -> None:
    duck = dialect_for("duckdb")
    remote = URL.create("duckdb", database="md:shop")
    assert duck.database_file(remote) is None
    assert not duck.locks_out_other_processes(remote)
    assert duck.locks_out_other_processes(URL.create("duckdb", database="/data/app.duckdb"))
    assert duck.single_writer_lane(remote) is None
