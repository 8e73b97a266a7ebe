"""DuckDB (duckdb-engine): interrupt() for timeouts, telling results from status rows, and
a database file that one process at a time may open.

DuckDB matches names case-insensitively even when quoted, so names are quoted as written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import URL, Connection, CursorResult, Engine, TextClause
from sqlalchemy.engine import Dialect as SADialect

from ordo.db.dialects.base import (
    ColumnTypeSpec,
    CsvSource,
    Dialect,
    ErrorKind,
    catalog_query,
    mro_names,
    pool_options,
)
from ordo.db.dialects.scripts import ScriptSyntax
from ordo.tabular import JsonText

if TYPE_CHECKING:
    import pyarrow as pa

    from ordo.config.connections import ConnectionSettings

__all__ = ["DuckDBDialect"]

# Statement types whose result is a status row ("Count", "Success"), not data.
_STATUS_ONLY = frozenset(
    {
        "CREATE",
        "DROP",
        "ALTER",
        "TRANSACTION",
        "SET",
        "VARIABLE_SET",
        "LOAD",
        "ATTACH",
        "DETACH",
        "CREATE_FUNC",
        "EXTENSION",
        "VACUUM",
        "ANALYZE",
        "EXPORT",
        "COPY",
        "COPY_DATABASE",
        "PREPARE",
    }
)
_DML = frozenset({"INSERT", "UPDATE", "DELETE", "MERGE_INTO"})

_WHERE = (
    "database_name = current_database() AND NOT temporary"
    " AND schema_name = COALESCE(CAST(:catalog_schema AS VARCHAR), current_schema())"
)
_RELATIONS = f"""
SELECT table_name AS name, schema_name, false AS is_view FROM duckdb_tables() WHERE {_WHERE}
UNION ALL
SELECT view_name, schema_name, true FROM duckdb_views() WHERE NOT internal AND {_WHERE}
ORDER BY name
"""
# A foreign key names the table it references as its CREATE TABLE wrote it, in its own schema:
# the stored name is the table of that name, compared without case as DuckDB resolves it.
_FOREIGN_KEYS = """
SELECT k.schema_name, k.table_name, false, t.schema_name, t.table_name, false, k.constraint_name
FROM duckdb_constraints() k
JOIN duckdb_tables() t ON t.database_name = k.database_name AND t.schema_name = k.schema_name
  AND lower(t.table_name) = lower(k.referenced_table)
WHERE k.constraint_type = 'FOREIGN KEY' AND k.database_name = current_database()
  AND k.schema_name = COALESCE(CAST(:catalog_schema AS VARCHAR), current_schema())
"""


class DuckDBDialect(Dialect):
    backend = "duckdb"
    names = ("duckdb",)
    driver_modules = ("duckdb", "_duckdb")
    transactional_ddl = True
    supports_savepoints = False  # DuckDB has no SAVEPOINT
    supports_autocommit = False  # duckdb-engine has no AUTOCOMMIT isolation level
    script_syntax = ScriptSyntax(escape_strings=True, dollar_quotes=True)

    @classmethod
    def offline_sa_dialect(cls, name: str) -> SADialect:
        # A function-level import: duckdb-engine is an extra, loaded only when asked for.
        from ordo.config.url import require_driver

        require_driver(URL.create("duckdb"))
        import duckdb_engine  # deferred: an extra, only when DuckDB is used

        sa_duckdb: SADialect = duckdb_engine.Dialect()
        return sa_duckdb

    def engine_options(
        self, url: URL, settings: ConnectionSettings | None, *, busy_timeout: float
    ) -> dict[str, Any]:
        """``read_only`` is DuckDB's own connect argument; a file gets a sized ``QueuePool``.

        ":memory:" keeps duckdb-engine's ``SingletonThreadPool`` (the database lives in that
        connection). Nothing to pre-ping: the database is in this process.
        """
        connect_args: dict[str, Any] = {}
        if settings is not None and settings.read_only:
            connect_args["read_only"] = True
        options: dict[str, Any] = {"connect_args": connect_args}
        if settings is not None and (url.database or ":memory:") != ":memory:":
            options.update(pool_options(settings))
        return options

    def install_events(self, engine: Engine, *, read_only: bool) -> None:
        """Nothing: read-only is a connect argument (see ``engine_options``)."""

    def is_in_memory(self, url: URL) -> bool:
        database = url.database or ""
        return not database or ":memory:" in database

    def database_file(self, url: URL) -> Path | None:
        """``None`` in memory and for remote databases (``md:`` and other ``scheme:`` names)."""
        database = url.database or ""
        if self.is_in_memory(url) or ":" in database.split("/", 1)[0]:
            return None
        return Path(database)

    def locks_out_other_processes(self, url: URL) -> bool:
        """A DuckDB file opened by one process cannot be opened by another, even to read.

        In-memory databases (which closing would lose) and remote ones (``md:``) are not files.
        """
        return self.database_file(url) is not None

    # The catalog: tables, views and what depends on what
    # (DuckDB keeps a view's text, not what it reads, and drops a table a view reads)

    def catalog_relations_query(self, schema: str | None) -> TextClause:
        return catalog_query(_RELATIONS, schema)

    def catalog_dependencies_query(self, schema: str | None) -> TextClause:
        return catalog_query(_FOREIGN_KEYS, schema)

    def quote_datetime(self, value: dt.datetime) -> str:
        if value.tzinfo is not None:
            return f"TIMESTAMPTZ '{value.isoformat(sep=' ')}'"
        return f"TIMESTAMP '{value.isoformat(sep=' ')}'"

    def returns_data(self, result: CursorResult[Any], statement: str) -> bool:
        """Whether the result is data: DuckDB's status rows are not.

        DuckDB answers every statement with a result set: ``INSERT`` returns ``Count``,
        ``CREATE`` returns ``Success`` or an empty ``Count``. The parser's statement type
        says which results are data; DML counts as data only with ``RETURNING`` (then DuckDB
        reports rowcount -1). The statement read is the one sent (with ``:name`` already
        turned into DuckDB's own placeholders) when the result still knows it.
        """
        if not result.returns_rows:
            return False
        sent = getattr(result.context, "statement", None) or statement
        kind = _last_statement_type(sent)
        return not (kind in _STATUS_ONLY or (kind in _DML and result.rowcount >= 0))

    def output_converters(self, description: Sequence[Any]) -> dict[int, Callable[[Any], Any]]:
        """DuckDB's ``JSON`` comes as text: it is JSON in an output file."""
        return {i: JsonText.of for i, column in enumerate(description) if str(column[1]) == "JSON"}

    def cancel(self, dbapi_connection: Any) -> None:
        # duckdb-engine's wrapper forwards to DuckDBPyConnection.interrupt(), thread-safe.
        dbapi_connection.interrupt()

    @classmethod
    def classify(cls, error: BaseException) -> ErrorKind:
        names = mro_names(error)
        message = str(error).lower()
        if "InterruptException" in names:
            return ErrorKind.TIMEOUT
        if "TransactionException" in names and "conflict" in message:
            return ErrorKind.TRANSIENT  # write-write conflict between transactions
        if "ConnectionException" in names:
            return ErrorKind.TRANSIENT
        if "IOException" in names and "lock" in message:
            return ErrorKind.TRANSIENT  # another process holds the database file
        return ErrorKind.PERMANENT

    @classmethod
    def describe(cls, error: BaseException) -> str:
        """The message up to the blank line before DuckDB's ``LINE n:`` pointer, on one line.

        A Python module DuckDB needed and could not import comes with that import's whole
        traceback inside the message: only the module's name and the reason are kept."""
        text = str(error).strip()
        text, _, after = text.partition(", due to the following Python exception:")
        kept: list[str] = []
        for line in text.splitlines():
            if not line.strip() or line.startswith("LINE "):
                break
            kept.append(line.strip())
        said = " ".join(kept) or text
        reason = after.strip().splitlines()[-1].strip() if after.strip() else ""
        return f"{said} ({reason})" if reason else said

    # Creating and filling tables (seeds, loads)

    type_names = {
        "integer": "BIGINT",
        "decimal": "DECIMAL",
        "float": "DOUBLE",
        "boolean": "BOOLEAN",
        "date": "DATE",
        "timestamp": "TIMESTAMP",
        "timestamptz": "TIMESTAMPTZ",
        "time": "TIME",
        "text": "VARCHAR",
        "binary": "BLOB",
        "json": "JSON",
    }
    type_aliases = {  # information_schema's spellings
        "TIMESTAMP WITH TIME ZONE": "TIMESTAMPTZ",
        "TEXT": "VARCHAR",
        "INT8": "BIGINT",
        "BOOL": "BOOLEAN",
    }
    drop_cascade = "CASCADE"

    def load_csv(
        self,
        conn: Connection,
        table_sql: str,
        columns_sql: Sequence[str],
        types_sql: Sequence[str],
        source: CsvSource,
    ) -> int | None:
        """DuckDB's own ``read_csv`` on the file, every column read as ``VARCHAR`` and cast
        to its type in an ``INSERT ... SELECT``: values are taken exactly as written, never
        re-guessed by DuckDB's sniffer."""
        if not source.utf8:
            return None
        names = [f"c{i}" for i in range(len(columns_sql))]
        markers = source.null_markers()
        q = self.quote_string
        columns = ", ".join(f"{q(name)}: 'VARCHAR'" for name in names)
        read = (
            f"read_csv({q(str(source.path))}, header = true, auto_detect = false, "
            f"columns = {{{columns}}}, delim = {q(source.delimiter)}, "
            f"quote = {q(source.quote)}, escape = {q(source.quote)}, "
            f"nullstr = [{', '.join(map(q, markers))}])"
        )
        casts = ", ".join(f"CAST({n} AS {t})" for n, t in zip(names, types_sql, strict=True))
        sql = f"INSERT INTO {table_sql} ({', '.join(columns_sql)}) SELECT {casts} FROM {read}"
        return int(conn.exec_driver_sql(sql).scalar_one())

    def load_arrow(
        self,
        conn: Connection,
        table_sql: str,
        columns_sql: Sequence[str],
        batches: Iterator[pa.RecordBatch],
    ) -> int:
        from ordo.db.dialects import _duckdb_arrow

        return _duckdb_arrow.load_arrow(conn, table_sql, columns_sql, batches)

    def arrow_batches(
        self, conn: Connection, query: str, batch_rows: int
    ) -> Iterator[pa.RecordBatch]:
        from ordo.db.dialects import _duckdb_arrow

        return _duckdb_arrow.arrow_batches(conn, query, batch_rows)

    def bind_converter(self, type: ColumnTypeSpec) -> Callable[[Any], Any] | None:
        """A zoned timestamp as ISO text with its offset, which DuckDB casts exactly: its
        client binds an aware ``datetime`` only with pytz installed."""
        return _zoned_text if type.kind == "timestamptz" else None


def _zoned_text(value: Any) -> Any:
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.isoformat(sep=" ")
    return value


def _last_statement_type(sql: str) -> str | None:
    import duckdb  # deferred: an extra, only when DuckDB is used

    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error:
        return None  # executing it already raised or will raise the real error
    return statements[-1].type.name if statements else None
