"""What every backend shares: literals, running one statement, engines, file databases.

A ``Dialect`` wraps SQLAlchemy's dialect for one backend and adds the few things ordo needs
that SQLAlchemy does not decide for us: how a name a user typed in a manifest maps to the
object their unquoted ``CREATE TABLE`` made, how to drop it if it exists, how to render a
value as a literal in a SQL template, how to cancel a statement that runs too long, how to
tell a driver error worth retrying from one that is not, how to configure an engine, whether
the database is a local file (and which), and how its scripts are cut into statements.
Subclasses override only what their backend does differently; each lives in its own module
and is found through the ``ordo.dialects`` entry points, so no other module of ordo needs to
know a backend by name.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from sqlalchemy import (
    URL,
    Connection,
    CursorResult,
    Engine,
    Executable,
    String,
    TextClause,
    bindparam,
    event,
)
from sqlalchemy import text as sql_text
from sqlalchemy.engine import Dialect as SADialect

from ordo.db.dialects._timeout import cancel_after, check_seconds
from ordo.db.dialects.names import NamePart, TableName, parse_table_name
from ordo.db.dialects.scripts import ScriptSyntax
from ordo.errors import ErrorKind  # re-exported: dialects classify into it
from ordo.tabular import TableWriter

if TYPE_CHECKING:
    import pyarrow as pa

    from ordo.config.connections import ConnectionSettings

_FIRST_WORDS = re.compile(r"[A-Za-z_]+")
_TYPE_PUNCTUATION = re.compile(r" ?([(),]) ?")

__all__ = [
    "OUTPUT_BATCH",
    "ColumnTypeSpec",
    "CsvSource",
    "Dialect",
    "ErrorKind",
    "StatementResult",
    "batched",
    "catalog_query",
    "first_line",
    "mro_names",
    "pool_options",
    "run_on_connect",
]


OUTPUT_BATCH = 5000
"""Rows fetched and written at a time for an output file: memory stays bounded by it."""


@dataclass(frozen=True)
class StatementResult:
    """What one statement did: rows affected as the driver says, and rows if it returned any."""

    rowcount: int | None
    columns: tuple[str, ...] | None = None
    rows: list[tuple[Any, ...]] | None = None


class ColumnTypeSpec(Protocol):
    """What a dialect reads of a column type (``ordo.data.types.ColumnType``, whose layer
    sits above the database layer, so it is named here by its shape)."""

    @property
    def kind(self) -> str: ...  # a ``TypeKind``, a str enum
    @property
    def precision(self) -> int | None: ...
    @property
    def scale(self) -> int | None: ...
    @property
    def declared(self) -> str | None: ...


@dataclass(frozen=True)
class CsvSource:
    """A CSV file already read and checked, for a backend's own loader (``load_csv``).

    ``body`` is its decoded text after the header line, ``path`` the file itself (its first
    line the header), ``nulls`` the field texts that are NULL (quoted ones too), ``utf8``
    whether the file is UTF-8 (a loader reading the file itself may need it to be).
    ``typed`` makes, when called, its values as an Arrow table of the columns' types (None
    when a type has no Arrow form or a value does not cast), for a loader that takes typed
    values faster than text; None when pyarrow did not read the file.
    """

    path: Path
    body: str
    delimiter: str = ","
    quote: str = '"'
    nulls: frozenset[str] = frozenset({""})
    utf8: bool = True
    typed: Callable[[], pa.Table | None] | None = None

    def null_markers(self) -> list[str]:
        """The NULL markers; for a file with none, one that no field holds."""
        if self.nulls:
            return sorted(self.nulls)
        marker = r"\N"
        while marker in self.body:
            marker += "~"
        return [marker]


class Dialect:
    """One backend's rules. Get one with ``ordo.db.dialects.dialect_for``.

    The class attributes are what the registry and the rest of ordo read without a server;
    a backend module sets the ones that differ from these defaults.
    """

    backend: ClassVar[str] = "generic"
    names: ClassVar[tuple[str, ...]] = ()
    """Backend names this class serves, as SQLAlchemy names them and as users write them in
    ``dialect_for("...")`` (aliases included); the first is the canonical one."""
    driver_modules: ClassVar[tuple[str, ...]] = ()
    """Top-level modules of the drivers whose exceptions ``classify`` understands."""
    transactional_ddl: ClassVar[bool] = True
    ddl_commits_implicitly: ClassVar[bool] = False
    """A DDL statement commits the open transaction, before and after itself (MySQL, MariaDB,
    Oracle): what a transaction group did before it can no longer be rolled back."""
    implicit_commit_words: ClassVar[frozenset[str]] = frozenset(
        {"CREATE", "ALTER", "DROP", "TRUNCATE", "RENAME", "GRANT", "REVOKE"}
    )
    """First words of the statements that commit on their own, where DDL does."""
    supports_savepoints: ClassVar[bool] = True
    """``SAVEPOINT`` works inside a transaction (a rehearsal rolls each unit back to one)."""
    supports_autocommit: ClassVar[bool] = True
    """The driver has an autocommit mode (for ``-- ordo:no-transaction`` migrations)."""
    migration_lock: ClassVar[str] = "file"
    """How migrators exclude each other: ``file`` (an OS lock beside the database file) or
    the name of the backend's session lock (``pg_advisory_lock``, ``get_lock``,
    ``sp_getapplock``, ``dbms_lock``), which ``ordo.migrations.locks`` implements."""
    probe_query: ClassVar[str] = "SELECT 1"
    """The cheapest statement that proves the connection works (health checks)."""
    connect_timeout_arg: ClassVar[str | None] = None
    """The driver's argument that bounds how long a connect waits for the server."""
    read_only_sql: ClassVar[str | None] = None
    """The session setting that makes the server refuse writes, if the backend has one."""
    script_syntax: ClassVar[ScriptSyntax] = ScriptSyntax()

    def __init__(self, sa_dialect: SADialect) -> None:
        self.sa_dialect = sa_dialect

    @classmethod
    def offline_sa_dialect(cls, name: str) -> SADialect:
        """SQLAlchemy's dialect for ``name`` (one of ``names``), made without a server.

        For rendering SQL and for tests; imported here so that only the backend asked for is
        loaded.
        """
        raise NotImplementedError(f"{cls.__name__} cannot be made without a server")

    @property
    def name(self) -> str:
        """``postgresql``, ``mysql``, ``mariadb``, ``sqlite``, ``duckdb``, ``oracle``, ``mssql``."""
        return self.backend

    # -- engines --------------------------------------------------------------------------

    def engine_options(
        self, url: URL, settings: ConnectionSettings | None, *, busy_timeout: float
    ) -> dict[str, Any]:
        """Keyword arguments for ``create_engine(url, ...)``, ``connect_args`` included.

        A server database gets pre-ping (a pooled connection the server closed overnight is
        replaced, not used) and, for a named connection, a ``QueuePool`` of ``pool_size`` plus
        ``max_overflow`` that waits at most ``timeout`` seconds for a free connection or for
        the server to answer a connect. ``busy_timeout`` is for file databases that wait on
        a lock held by another connection.
        """
        connect_args: dict[str, Any] = {}
        options: dict[str, Any] = {"pool_pre_ping": True, "connect_args": connect_args}
        if settings is not None:
            options.update(pool_options(settings))
            if self.connect_timeout_arg is not None:
                connect_args[self.connect_timeout_arg] = max(1, int(settings.timeout))
        return options

    def install_events(self, engine: Engine, *, read_only: bool) -> None:
        """Attach what every new connection of ``engine`` needs (here: the read-only switch).

        Where the backend has no session switch (Oracle, SQL Server), a read-only connection
        relies on the database user's grants.
        """
        if read_only and self.read_only_sql is not None:
            event.listen(engine, "connect", run_on_connect(self.read_only_sql))

    def commits_implicitly(self, statement: str) -> bool:
        """Whether ``statement`` (one statement, leading comments left off, as
        ``split_statements`` gives it) commits the open transaction on its own."""
        if not self.ddl_commits_implicitly:
            return False
        words = _FIRST_WORDS.findall(statement[:200])[:2]
        return bool(words) and words[0].upper() in self.implicit_commit_words

    def begin_autocommit(self, conn: Connection) -> Callable[[], None]:
        """Each statement on ``conn`` commits on its own until the returned ``end`` is called.

        For ``transaction: false`` steps, whose statements refuse a transaction (``VACUUM``,
        ``CREATE INDEX CONCURRENTLY``). ``end`` gives the connection back the isolation
        level it had, as a later unit of the run may use it; after an error the caller gives
        the connection up instead. A backend without an autocommit mode (DuckDB) runs the
        statements in a transaction of their own, which ``end`` commits.
        """
        if not self.supports_autocommit:
            transaction = conn.begin()
            return transaction.commit
        level = conn.get_isolation_level()
        conn.execution_options(isolation_level="AUTOCOMMIT")

        def end() -> None:
            if conn.in_transaction():
                conn.commit()  # SQLAlchemy's autobegun transaction: nothing for the server
            conn.execution_options(isolation_level=level)

        return end

    def begin_for_ddl(self, conn: Connection) -> None:
        """Make DDL join the transaction ``conn`` just began; nothing to do on most backends."""

    # -- where the database lives ---------------------------------------------------------

    def is_in_memory(self, url: URL) -> bool:
        """The database lives in one process's memory (and closing its connection loses it)."""
        return False

    def database_file(self, url: URL) -> Path | None:
        """The local file holding the database; ``None`` for a server, in memory or remote."""
        return None

    def database_missing(self, url: URL) -> bool:
        """A file database whose file does not exist yet: connecting would create it."""
        path = self.database_file(url)
        return path is not None and not path.exists()

    def single_writer_lane(self, url: URL) -> str | None:
        """A key shared by every URL of one database that takes one writer at a time.

        The runner runs units on databases with the same key one at a time; ``None`` (servers)
        leaves the bound to the connection's pool.
        """
        return None

    def locks_out_other_processes(self, url: URL) -> bool:
        """True when no other process can open the database while this one holds it open.

        The runner then lets go of it before a step that works in its own process (a python
        script connecting to the same database). Servers and SQLite files share; see DuckDB.
        """
        return False

    def write_probe(self, conn: Connection) -> Callable[[], bool] | None:
        """Taken at the start of a transaction: a check of whether it has written since.

        ``None`` when the backend cannot tell cheaply; callers then assume it wrote. The ledger
        uses it to skip units that only read: they have no effect to protect, and a ledger row
        would turn a read-only commit into one that waits for the disk.
        """
        return None

    # -- names ----------------------------------------------------------------------------

    def fold(self, identifier: str) -> str:
        """Fold an unquoted identifier the way the database does; most keep it as written."""
        return identifier

    def parse_table_name(self, text: str) -> TableName:
        return parse_table_name(text)

    def quote_part(self, part: NamePart) -> str:
        value = part.text if part.quoted else self.fold(part.text)
        return str(self.sa_dialect.identifier_preparer.quote_identifier(value))

    def quote_table(self, table: TableName) -> str:
        """Render a table name for SQL: fold unquoted parts, then ALWAYS quote.

        A user who ran ``CREATE TABLE ST_SALES`` created ``st_sales`` on PostgreSQL,
        ``ST_SALES`` on Oracle and ``ST_SALES`` elsewhere, because each folds unquoted names
        its own way. Folding ``cleanup_target: ST_SALES`` the same way and then quoting the
        result names exactly that table on every backend, and quoting means no name, however
        odd (a reserved word, a ``$``), is ever read as SQL. A part the user quoted is kept
        exactly as written, for tables created with quoted mixed-case names.
        """
        quoted = self.quote_part(table.table)
        return f"{self.quote_part(table.schema)}.{quoted}" if table.schema else quoted

    def quote_name(self, text: str) -> str:
        """Parse and quote in one go: what the ``ident`` template filter does."""
        return self.quote_table(parse_table_name(text))

    def limit_rows(self, query: str, count: int) -> str:
        """``query`` cut to its first ``count`` rows (a check's sample), wrapped, not edited."""
        return f"SELECT * FROM ({query}) sample_rows LIMIT {int(count)}"

    # -- dropping tables ------------------------------------------------------------------

    def drop_table_sql(self, table: TableName) -> str:
        # Built from quote_table's output only, so nothing the user wrote reaches SQL raw.
        return f"DROP TABLE IF EXISTS {self.quote_table(table)}"

    def table_exists_query(self, table: TableName) -> Executable | None:
        """A query counting the table, for backends without ``DROP TABLE IF EXISTS``."""
        return None

    def drop_table_if_exists(self, conn: Connection, table: TableName) -> None:
        """Drop ``table`` if it exists, inside the caller's transaction.

        Where DDL is not transactional (MySQL/MariaDB, Oracle) the database commits implicitly
        around the ``DROP``; that is the backend's rule, not something ordo can change.
        """
        query = self.table_exists_query(table)
        if query is not None and not conn.execute(query).scalar():
            return
        self.execute(conn, self.drop_table_sql(table))

    # The catalog: tables, views and what depends on what

    knows_what_views_read: ClassVar[bool] = False
    """The catalog says which tables and views each view reads (PostgreSQL, SQL Server,
    Oracle). Elsewhere (MariaDB, SQLite, DuckDB) it keeps a view's text only, which ordo does
    not parse: a view's dependencies are unknown, and its database lets it be dropped, or
    what it reads be dropped under it, in any order."""

    def catalog_relations_query(self, schema: str | None) -> TextClause:
        """Rows ``(name, schema_name, is_view)``: the tables and views of ``schema`` (``None``:
        the connection's current one), names as stored. Views only as ``is_view``: a
        materialized view, a partition, a temporary table or the database's own are left out."""
        raise NotImplementedError(f"{self.name} cannot list its tables")

    def catalog_dependencies_query(self, schema: str | None) -> TextClause:
        """Rows ``(dependant_schema, dependant, dependant_is_view, dependency_schema,
        dependency, dependency_is_view, constraint_name)``: each foreign key whose table is in
        ``schema`` and, where ``knows_what_views_read``, each view reading a table or view
        there (its ``constraint_name`` NULL). The dependant may be in any schema."""
        raise NotImplementedError(f"{self.name} cannot list its foreign keys")

    def drop_relation_sql(self, table: TableName, *, view: bool) -> str:
        """``DROP TABLE`` or ``DROP VIEW`` of a relation the catalog listed (no ``IF
        EXISTS``: it was just seen, and a name gone meanwhile should fail, not pass)."""
        return f"DROP {'VIEW' if view else 'TABLE'} {self.quote_table(table)}"

    def drop_foreign_key_sql(self, table: TableName, constraint: str | None) -> str:
        """What takes foreign key ``constraint`` of ``table`` out of the way of a ``DROP``:
        how a cycle of foreign keys is broken before its tables are dropped."""
        name = self.quote_part(NamePart(constraint or "", quoted=True))
        return f"ALTER TABLE {self.quote_table(table)} DROP CONSTRAINT {name}"

    # -- literals -------------------------------------------------------------------------

    def quote_literal(self, value: object) -> str:
        """Render a Python value as a SQL literal (the ``literal`` template filter).

        Bind parameters are better wherever they can be used; this is for SQL templates.
        """
        if value is None:
            return "NULL"
        if isinstance(value, bool):
            return self.quote_bool(value)
        # int()/float() first: a subclass's own __str__ must not reach the SQL text.
        if isinstance(value, int):
            return str(int(value))
        if isinstance(value, float):
            if not math.isfinite(value):
                raise ValueError(f"cannot write {value!r} as a SQL literal")
            return repr(float(value))
        if isinstance(value, Decimal):
            if not value.is_finite():
                raise ValueError(f"cannot write {value!r} as a SQL literal")
            return format(value, "f")
        if isinstance(value, str):
            if "\x00" in value:
                raise ValueError("a SQL string literal cannot contain a NUL character")
            return self.quote_string(value)
        if isinstance(value, dt.datetime):
            return self.quote_datetime(value)
        if isinstance(value, dt.date):
            return self.quote_date(value)
        raise TypeError(f"cannot write a {type(value).__name__} as a SQL literal")

    def quote_string(self, value: str) -> str:
        return "'" + value.replace("'", "''") + "'"

    def quote_bool(self, value: bool) -> str:
        return "TRUE" if value else "FALSE"

    def quote_date(self, value: dt.date) -> str:
        return f"DATE '{value.isoformat()}'"

    def quote_datetime(self, value: dt.datetime) -> str:
        if value.tzinfo is not None:
            return f"TIMESTAMP WITH TIME ZONE '{value.isoformat(sep=' ')}'"
        return f"TIMESTAMP '{value.isoformat(sep=' ')}'"

    # -- running statements ---------------------------------------------------------------

    def execute(self, conn: Connection, sql: str, *, fetch: bool = True) -> StatementResult:
        """Run one statement text as written: not split, and with no parameters.

        ``no_parameters`` makes SQLAlchemy call ``cursor.execute(sql)`` on the connection's
        DBAPI cursor with no parameter argument at all, so drivers never read ``%`` or
        ``:name`` as placeholders and a whole ``DO $$ ... $$`` or ``BEGIN ... END;`` block
        goes through in one call. Going through ``exec_driver_sql`` rather than a bare
        ``conn.connection.cursor()`` keeps SQLAlchemy's bookkeeping: it begins the transaction
        (firing our SQLite ``BEGIN``), marks dead connections invalid so the pool drops them,
        and runs cursor events.
        """
        result = conn.exec_driver_sql(sql, execution_options={"no_parameters": True})
        return self._result(result, fetch=fetch, returns_rows=self.returns_data(result, sql))

    def run_statement(self, conn: Connection, sql: str, copy_data: str | None = None) -> None:
        """One statement of a script (a migration, a callback) as split: with ``copy_data``
        (a ``COPY ... FROM stdin`` with its rows inline) through the driver's COPY, else
        ``execute``. It takes the split statement's parts: ``ordo.db.statements`` imports
        the dialects, so they cannot import it."""
        if copy_data is not None:
            self.copy_in(conn, sql, copy_data)
        else:
            self.execute(conn, sql, fetch=False)

    def copy_in(self, conn: Connection, sql: str, data: str) -> None:
        """Run ``COPY ... FROM stdin`` (``sql``) with ``data`` as its rows, in the driver's COPY
        protocol: only backends whose ``script_syntax`` has ``copy_from_stdin`` get here."""
        raise NotImplementedError(f"{self.name} has no COPY ... FROM stdin")

    def write_result(
        self, conn: Connection, sql: str, writer: TableWriter, *, batch: int = OUTPUT_BATCH
    ) -> int | None:
        """Run one statement (as ``execute`` does) and stream its rows into ``writer``.

        The rows are fetched ``batch`` at a time (``stream_results``: a server-side or
        unbuffered cursor where the driver has one), so memory stays bounded whatever the
        row count. A statement that returns no data never starts the writer; for it the
        driver's row count is returned (as ``execute`` gives it), else ``None``.
        """
        options = {"no_parameters": True, "stream_results": True, "yield_per": batch}
        result = conn.exec_driver_sql(sql, execution_options=options)
        try:
            if not self.returns_data(result, sql):
                rowcount = result.rowcount
                return rowcount if rowcount is not None and rowcount >= 0 else None
            convert = self.output_converters(result.cursor.description or ())
            writer.start(tuple(result.keys()))
            for rows in result.partitions():
                writer.rows([_converted(row, convert) for row in rows] if convert else rows)
        finally:
            result.close()
        return None

    def output_converters(self, description: Sequence[Any]) -> dict[int, Callable[[Any], Any]]:
        """Per column index, what turns a driver's value into the one an output file shows,
        where the Python type alone cannot tell (a MySQL ``TIME`` comes as a ``timedelta``)."""
        return {}

    def returns_data(self, result: CursorResult[Any], statement: str) -> bool:
        """Whether ``result`` of ``statement`` holds data rows, not just a status."""
        return bool(result.returns_rows)

    @staticmethod
    def _result(result: CursorResult[Any], *, fetch: bool, returns_rows: bool) -> StatementResult:
        rowcount = result.rowcount  # read before fetching: some drivers reset it
        count = rowcount if rowcount is not None and rowcount >= 0 else None
        if not returns_rows:
            result.close()
            return StatementResult(count)
        columns = tuple(result.keys())
        if not fetch:
            result.close()
            return StatementResult(count, columns)
        return StatementResult(count, columns, [tuple(row) for row in result.fetchall()])

    @contextmanager
    def notices(self, conn: Connection, emit: Callable[[str], None]) -> Iterator[None]:
        """Pass the messages the server sends while statements run (PostgreSQL's ``RAISE
        NOTICE``) to ``emit``, one line each; a database that sends none this way does
        nothing."""
        yield

    @contextmanager
    def statement_timeout(self, conn: Connection, seconds: float | None) -> Iterator[None]:
        """Cancel statements run inside the block after ``seconds``; ``None`` means no limit.

        The default is a timer thread that calls ``cancel`` on the DBAPI connection; backends
        with a server-side limit override this. Catch the driver error outside the block and
        pass the same ``seconds`` to ``translate`` to get a ``StepTimeout``.
        """
        if seconds is None:
            yield
            return
        dbapi_connection = conn.connection.dbapi_connection
        with cancel_after(check_seconds(seconds), lambda: self.cancel(dbapi_connection)):
            yield

    def cancel(self, dbapi_connection: Any) -> None:
        """Interrupt the statement running on a DBAPI connection, from another thread."""
        raise NotImplementedError(f"{self.name} cannot cancel a running statement")

    # -- errors ---------------------------------------------------------------------------

    @classmethod
    def classify(cls, error: BaseException) -> ErrorKind:
        """Transient, permanent or timeout, from the driver's own error (not SQLAlchemy's)."""
        return ErrorKind.PERMANENT

    @classmethod
    def describe(cls, error: BaseException) -> str:
        """The driver's message, made readable: first line, with the error code."""
        return first_line(str(error))

    # Creating and filling tables (seeds, loads)

    type_names: ClassVar[Mapping[str, str]] = {
        "integer": "BIGINT",
        "decimal": "NUMERIC",
        "float": "DOUBLE PRECISION",
        "boolean": "BOOLEAN",
        "date": "DATE",
        "timestamp": "TIMESTAMP",
        "timestamptz": "TIMESTAMP WITH TIME ZONE",
        "time": "TIME",
        "text": "TEXT",
        "binary": "BLOB",
        "json": "TEXT",
    }
    """The type name for each ``TypeKind`` value; a decimal gets ``(precision,scale)`` added."""
    type_aliases: ClassVar[Mapping[str, str]] = {}
    """Spellings the catalog gives (normalised, see ``normal_type``) for the names above."""
    placeholder: ClassVar[str] = "?"
    """The DBAPI driver's parameter marker (``qmark`` or ``format`` style)."""
    insert_batch: ClassVar[int] = 10_000
    """Rows handed to the driver at a time: memory stays bounded whatever the source."""
    catalog_type_column: ClassVar[str] = "data_type"
    current_schema_sql: ClassVar[str] = "current_schema()"

    def column_type_sql(self, type: ColumnTypeSpec) -> str:
        """The SQL type of a column of ``type`` (an ``ordo.data.types.ColumnType``); a user's
        ``declared`` type is used verbatim."""
        if type.declared:
            return type.declared
        name = self.type_names[type.kind]
        if type.kind == "decimal" and type.precision is not None:
            return f"{name}({type.precision},{type.scale or 0})"
        return name

    def normal_type(self, sql: str) -> str:
        """A type's spelling made comparable: upper case, single spaces, aliases resolved."""
        text = " ".join(sql.upper().split())
        text = _TYPE_PUNCTUATION.sub(r"\1", text)
        return self.type_aliases.get(text, text)

    def same_column_type(self, found: str, wanted: ColumnTypeSpec) -> bool:
        """Whether a column the catalog spells ``found`` already has type ``wanted``."""
        return self.normal_type(found) == self.normal_type(self.column_type_sql(wanted))

    def table_columns(self, conn: Connection, table: TableName) -> list[tuple[str, str]] | None:
        """The table's columns as (name, type as the catalog spells it), in order; ``None``
        when no such table exists. ``information_schema`` here; backends without it override."""
        schema = self.stored_name(table.schema) if table.schema else None
        query = sql_text(
            f"SELECT column_name, {self.catalog_type_column} FROM information_schema.columns "
            f"WHERE table_schema = COALESCE(:schema, {self.current_schema_sql}) "
            "AND table_name = :table ORDER BY ordinal_position"
        )
        rows = conn.execute(query, {"schema": schema, "table": self.stored_name(table.table)})
        return [(str(name), str(kind)) for name, kind in rows.all()] or None

    def stored_name(self, part: NamePart) -> str:
        """A name part as the catalog stores it: folded unless quoted."""
        return part.text if part.quoted else self.fold(part.text)

    def bind_converter(self, type: ColumnTypeSpec) -> Callable[[Any], Any] | None:
        """What turns a Python value of a column of ``type`` into one the driver binds, where
        the driver cannot take it as it is (SQLite has no ``Decimal`` or date types)."""
        return None

    def empty_table(self, conn: Connection, table_sql: str) -> None:
        """Delete every row of ``table_sql`` in the caller's transaction (``DELETE``, which every
        backend rolls back and which a foreign key pointing at the table does not refuse)."""
        self.execute(conn, f"DELETE FROM {table_sql}", fetch=False)

    drop_cascade: ClassVar[str | None] = None
    """What ``DROP TABLE t`` takes to drop the objects that depend on ``t`` with it."""

    def drop_existing_table(self, conn: Connection, table_sql: str, *, cascade: bool) -> None:
        """Drop a table that exists; ``cascade`` also drops (or, where the backend cannot,
        lets go of) what depends on it. Without it the database refuses when something does."""
        suffix = f" {self.drop_cascade}" if cascade and self.drop_cascade else ""
        self.execute(conn, f"DROP TABLE {table_sql}{suffix}", fetch=False)

    def insert_sql(self, table_sql: str, columns_sql: Sequence[str]) -> str:
        """The ``INSERT`` of one row of ``columns_sql`` with the driver's parameter markers."""
        marks = ", ".join([self.placeholder] * len(columns_sql))
        return f"INSERT INTO {table_sql} ({', '.join(columns_sql)}) VALUES ({marks})"

    temporary_table: ClassVar[str] = "TEMP"  # CREATE TEMP TABLE (MySQL: TEMPORARY)
    upserts: ClassVar[bool] = True
    """Whether ``upsert_sql`` and ``temporary_table`` work here (a load's ``mode: merge``);
    SQL Server and Oracle would need ``MERGE`` and their own temporary tables, which ordo
    does not write yet: a merge is refused when the plan is made, not half done."""

    def key_column_type(self, type_sql: str) -> str:
        """A column's type where it is part of a primary key (MySQL cannot index a TEXT)."""
        return type_sql

    def upsert_sql(
        self, insert_select: str, names_sql: Sequence[str], key_sql: Sequence[str]
    ) -> str:
        """``insert_select`` (an ``INSERT ... SELECT``) made to update the rows whose key is
        there already: ``ON CONFLICT`` (PostgreSQL, SQLite, DuckDB)."""
        others = [name for name in names_sql if name not in key_sql]
        conflict = ", ".join(key_sql)
        # ``WHERE true``: SQLite would read ``ON CONFLICT`` after a bare ``FROM t`` as a join's ON
        if not others:
            return f"{insert_select} WHERE true ON CONFLICT ({conflict}) DO NOTHING"
        sets = ", ".join(f"{name} = excluded.{name}" for name in others)
        return f"{insert_select} WHERE true ON CONFLICT ({conflict}) DO UPDATE SET {sets}"

    def load_csv(
        self,
        conn: Connection,
        table_sql: str,
        columns_sql: Sequence[str],
        types_sql: Sequence[str],
        source: CsvSource,
    ) -> int | None:
        """Load a checked CSV file by the backend's own CSV loader, if it has one; ``None``
        when it has none (or cannot read this file's dialect), and the caller inserts rows.

        ``types_sql`` are the columns' types, for a loader that reads text and casts.
        """
        return None

    def load_arrow(
        self,
        conn: Connection,
        table_sql: str,
        columns_sql: Sequence[str],
        batches: Iterator[pa.RecordBatch],
    ) -> int | None:
        """Write Arrow record batches (flat columns, in the order of ``columns_sql``) into
        ``table_sql`` by the backend's own Arrow path, in the caller's transaction; returns the
        rows written, or ``None`` when the backend has no such path, before reading a batch
        (the caller then inserts rows)."""
        return None

    def arrow_batches(
        self, conn: Connection, query: str, batch_rows: int
    ) -> Iterator[pa.RecordBatch] | None:
        """The rows of ``query`` as Arrow record batches of about ``batch_rows``, read by the
        backend's own Arrow reader, streamed; ``None`` when it has none (the caller reads
        through the driver's cursor)."""
        return None

    def bulk_insert(
        self,
        conn: Connection,
        table_sql: str,
        columns_sql: Sequence[str],
        rows: Iterable[Sequence[Any]],
    ) -> int:
        """Insert ``rows`` (values already as the driver binds them) with one prepared
        statement through the DBAPI cursor's ``executemany``, ``insert_batch`` rows at a time;
        returns the number of rows. The caller's transaction holds it all."""
        sql = self.insert_sql(table_sql, columns_sql)
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        count = 0
        try:
            for batch in batched(rows, self.insert_batch):
                cursor.executemany(sql, batch)
                count += len(batch)
        finally:
            cursor.close()
        return count


def _converted(row: Sequence[Any], convert: dict[int, Callable[[Any], Any]]) -> tuple[Any, ...]:
    values = list(row)
    for i, change in convert.items():
        if values[i] is not None:
            values[i] = change(values[i])
    return tuple(values)


def catalog_query(sql: str, schema: str | None) -> TextClause:
    """A dialect's catalog query with ``:catalog_schema`` bound to ``schema`` (``None``: the
    query's own default, the connection's current schema), always as a string."""
    return sql_text(sql).bindparams(bindparam("catalog_schema", schema, type_=String()))


def batched(rows: Iterable[Sequence[Any]], size: int) -> Iterator[list[Sequence[Any]]]:
    """``rows`` in lists of at most ``size`` (``itertools.batched`` is Python 3.12+)."""
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def first_line(text: str) -> str:
    for line in text.strip().splitlines():
        if line.strip():
            return line.strip()
    return text.strip() or "unknown database error"


def mro_names(error: BaseException) -> set[str]:
    """Class names in the error's hierarchy, so drivers can be recognised without importing."""
    return {klass.__name__ for klass in type(error).__mro__}


def pool_options(settings: ConnectionSettings) -> dict[str, Any]:
    """The ``create_engine`` pool arguments of a named connection's settings."""
    return {
        "pool_size": settings.pool_size,
        "max_overflow": settings.max_overflow,
        "pool_timeout": settings.timeout,
    }


def run_on_connect(statement: str) -> Callable[[Any, Any], None]:
    """A ``connect`` listener running ``statement`` on each new DBAPI connection."""

    def on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(statement)
        finally:
            cursor.close()
        if hasattr(dbapi_connection, "commit") and statement.startswith("SET"):
            dbapi_connection.commit()

    return on_connect
