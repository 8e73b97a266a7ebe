"""``table`` targets: the batches into a table on the step's connection.

The table is created from the first batch's Arrow schema when it is missing (types as
``ordo.loaders._columns`` maps them). ``mode``:

- ``replace`` (default): the table holds only the loaded rows; remade when its columns
  changed, refused when something depends on it unless ``cascade: true``;
- ``append``: the rows are added; a table whose columns differ is refused;
- ``merge``: an upsert on ``key: [columns]``: the rows go to a temporary staging table, then
  one ``INSERT ... SELECT`` from it updates the rows whose key exists and inserts the others
  (``ON CONFLICT`` on PostgreSQL, SQLite and DuckDB, ``ON DUPLICATE KEY UPDATE`` on MySQL and
  MariaDB). A table it creates gets the key as its primary key; an existing one needs a
  primary key or unique index on exactly those columns. Where the dialect cannot upsert
  (``Dialect.upserts``: SQL Server, Oracle), the plan refuses a merge.

Everything runs in the unit's transaction, so a load that fails part-way leaves the table as
it was where the database's DDL is transactional (PostgreSQL, SQLite, DuckDB).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from itertools import chain
from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import Field, model_validator

from ordo.data.tables import Target, prepare_table, table_sql
from ordo.db.dialects import TableName, parse_table_name
from ordo.errors import PermanentError
from ordo.loaders._bulk import write_batches
from ordo.loaders._columns import arrow_columns
from ordo.loaders.base import LoaderConfig

if TYPE_CHECKING:
    import pyarrow as pa
    from sqlalchemy import Connection

    from ordo.data.plugins import DataContext, PlanContext
    from ordo.data.types import Column
    from ordo.db.dialects import Dialect

__all__ = ["TableConfig", "TableLoader"]


class TableConfig(LoaderConfig):
    table: str = Field(min_length=1)  # [schema.]table, folded as the database folds names
    schema_: str | None = Field(None, alias="schema")
    mode: Literal["replace", "append", "merge"] = "replace"
    key: tuple[str, ...] = ()  # merge: the columns that identify a row
    cascade: bool = False  # replace: drop what depends on a table whose columns changed

    @model_validator(mode="after")
    def _key_for_merge(self) -> TableConfig:
        if self.mode == "merge" and not self.key:
            raise ValueError("mode merge needs 'key': the columns that identify a row")
        if self.key and self.mode != "merge":
            raise ValueError("'key' is for mode merge")
        return self


class TableLoader:
    config_model: ClassVar[type[TableConfig]] = TableConfig
    requires: ClassVar[tuple[str, ...]] = ("pyarrow",)

    def __init__(self, config: TableConfig, plan: PlanContext) -> None:
        self.config = config
        text = f"{config.schema_}.{config.table}" if config.schema_ else config.table
        try:
            name = plan.dialect.parse_table_name(text) if plan.dialect else parse_table_name(text)
        except ValueError as exc:
            raise plan.problem(
                f"'{text}' is not a valid [schema.]table name: {exc}",
                "table",
                hint='use letters, digits, _ and $, or "Quoted Name" for an exact name',
            ) from None
        self.name = name
        self.text = text
        if config.mode == "merge" and plan.dialect is not None and not plan.dialect.upserts:
            raise plan.problem(
                f"mode merge is not available on {_named(plan.dialect.backend)} yet",
                "mode",
                hint="load with mode: replace into a table of its own, then MERGE it into "
                "the target in a sql step of the same transaction_group",
            )

    def describe(self) -> str:
        how = f"merge on {', '.join(self.config.key)}" if self.config.key else self.config.mode
        return f"table {self.text} ({how})"

    def implicit_commits(self, dialect: Dialect | None) -> tuple[str, ...]:
        if dialect is None or not dialect.ddl_commits_implicitly:
            return ()
        return (f"CREATE, DROP or TRUNCATE TABLE {self.text} (the load's target)",)

    def load(self, batches: Iterator[pa.RecordBatch], ctx: DataContext) -> int:
        conn, dialect = ctx.database()
        first = next(batches, None)
        if first is None or first.num_columns == 0:  # nothing at all, not even columns
            ctx.log_line(f"the source gave no data: table {self.text} left as it was")
            return 0
        columns = arrow_columns(first.schema)
        target = _target(dialect, self.name)
        everything = chain([first], batches)
        if self.config.mode != "merge":
            prepare_table(
                conn, dialect, target, columns, self.config.mode, cascade=self.config.cascade
            )
            return write_batches(conn, dialect, target, columns, everything)
        return self._merge(conn, dialect, target, columns, everything)

    def _merge(
        self,
        conn: Connection,
        dialect: Dialect,
        target: Target,
        columns: list[Column],
        batches: Iterator[pa.RecordBatch],
    ) -> int:
        from ordo.loaders._merge import create_with_key, merge_sql, staging_sql

        names = [c.name for c in columns]
        missing = [k for k in self.config.key if k not in names]
        if missing:
            raise PermanentError(
                f"table {self.text}: the key column {', '.join(missing)} is not in the data "
                f"(its columns: {', '.join(names)})",
                hint="key: names columns of the source, as written",
            )
        if dialect.table_columns(conn, self.name) is None:
            create_with_key(conn, dialect, target, columns, self.config.key)
        else:
            prepare_table(conn, dialect, target, columns, "append")
        stage = Target(f"ordo_stage_{secrets.token_hex(4)}")
        dialect.execute(conn, staging_sql(dialect, stage, columns), fetch=False)
        rows = write_batches(conn, dialect, stage, columns, batches)
        dialect.execute(
            conn, merge_sql(dialect, target, stage, names, self.config.key), fetch=False
        )
        # After a failure the unit rolls back (or, on MySQL, gives up the session): the
        # temporary table goes with it.
        dialect.execute(conn, f"DROP TABLE {table_sql(dialect, stage)}", fetch=False)
        return rows


def _named(backend: str) -> str:
    return {"mssql": "SQL Server", "oracle": "Oracle"}.get(backend, backend)


def _target(dialect: Dialect, name: TableName) -> Target:
    """The table as stored: each part folded as the database folds an unquoted name."""
    schema = dialect.stored_name(name.schema) if name.schema else None
    return Target(dialect.stored_name(name.table), schema)
