"""``sql`` sources: a query on a named connection, streamed batch by batch.

``connection`` names where the query runs (default: the step's own connection, inside its
transaction): a PostgreSQL to DuckDB copy is ``source: {type: sql, connection: warehouse,
query: ...}`` on a step whose connection is the DuckDB file. The rows are never fetched
whole: PostgreSQL through ADBC (libpq's binary COPY, straight into Arrow) when
adbc-driver-postgresql is installed, DuckDB through its own Arrow reader, everything else
through the driver's streaming cursor (server-side on PostgreSQL, unbuffered on MySQL,
``fetchmany`` on SQLite), ``batch_rows`` at a time.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Iterator
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field, model_validator

from ordo._files import NotUtf8, read_utf8
from ordo.errors import PermanentError
from ordo.extractors._arrow import Batcher
from ordo.extractors.base import BATCH_ROWS, ExtractorConfig

if TYPE_CHECKING:
    import pyarrow as pa
    from sqlalchemy import URL, Connection

    from ordo.data.plugins import DataContext, PlanContext
    from ordo.db.dialects import Dialect

__all__ = ["SqlConfig", "SqlExtractor"]


_ADBC_BATCH_BYTES = "adbc.postgresql.batch_size_hint_bytes"
# "NOT_FOUND: Failed to prepare query: ERROR:  relation ..." says the server's part last
_ADBC_PREFIX = re.compile(r"^(?:[A-Z_]+: )?(?:Failed to [^:]+: )?(?:ERROR:\s+)?")


class SqlConfig(ExtractorConfig):
    connection: str | None = None  # None: the step's own connection
    query: str | None = None
    file: str | None = None  # a file holding the query, under the project or the manifest
    batch_rows: int = Field(BATCH_ROWS, ge=1)
    # auto: ADBC on PostgreSQL when installed, else the driver; driver: always the driver
    reader: Literal["auto", "driver"] = "auto"

    @model_validator(mode="after")
    def _one_query(self) -> SqlConfig:
        if (self.query is None) == (self.file is None):
            raise ValueError("give exactly one of 'query' or 'file'")
        return self


class SqlExtractor:
    config_model: ClassVar[type[SqlConfig]] = SqlConfig
    requires: ClassVar[tuple[str, ...]] = ("pyarrow",)

    def __init__(self, config: SqlConfig, plan: PlanContext) -> None:
        self.config = config
        if config.connection is not None:
            plan.require_connection_name(config.connection)
        self.connection = config.connection
        if config.file is not None:
            path = plan.find_file(config.file, "file")
            try:
                self.query = read_utf8(path)
            except NotUtf8 as exc:
                raise plan.problem(str(exc), "file", hint=exc.hint) from None
        else:
            self.query = config.query or ""
        self.query = self.query.strip().rstrip(";")
        if not self.query:
            raise plan.problem("the query is empty", "query" if config.query else "file")

    def describe(self) -> str:
        where = f" on {self.connection}" if self.connection else ""
        what = self.config.file or "query"
        return f"sql {what}{where}"

    def batches(self, ctx: DataContext) -> Iterator[pa.RecordBatch]:
        with ExitStack() as stack:
            if self.connection is None:
                conn, dialect = ctx.database()
            else:
                if self._adbc(ctx):
                    yield from self._adbc_batches(ctx)
                    return
                conn, dialect = stack.enter_context(ctx.open_connection(self.connection))
            native = dialect.arrow_batches(conn, self.query, self.config.batch_rows)
            if native is not None:
                yield from native
            else:
                yield from self._driver_batches(conn, dialect)

    def _adbc(self, ctx: DataContext) -> bool:
        if self.config.reader != "auto" or self.connection is None:
            return False
        url = ctx.settings.connection(self.connection).url
        return (
            url.get_backend_name() == "postgresql"
            and importlib.util.find_spec("adbc_driver_postgresql") is not None
        )

    def _adbc_batches(self, ctx: DataContext) -> Iterator[pa.RecordBatch]:
        import adbc_driver_postgresql.dbapi as adbc

        assert self.connection is not None
        url: URL = ctx.settings.connection(self.connection).url
        uri = url.set(drivername="postgresql").render_as_string(hide_password=False)
        try:
            with adbc.connect(uri) as conn, conn.cursor() as cursor:
                # batches of about 4 MB (75,000 rows of four columns): the driver's default
                # of 16 MB costs memory and gains nothing measurable
                cursor.adbc_statement.set_options(**{_ADBC_BATCH_BYTES: str(4 << 20)})
                cursor.execute(self.query)
                schema: pa.Schema | None = None
                for batch in cursor.fetch_record_batch():
                    plain, schema = _plain_postgres(batch, schema)
                    yield plain
        except adbc.Error as exc:  # the driver's own errors: the server's words, masked
            text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            text = _ADBC_PREFIX.sub("", text)
            raise PermanentError(
                ctx.masker.mask(f"{self.describe()} failed: {text}"),
                hint="run the query in psql to see the whole error",
            ) from None

    def _driver_batches(self, conn: Connection, dialect: Dialect) -> Iterator[pa.RecordBatch]:
        size = self.config.batch_rows
        options = {"no_parameters": True, "stream_results": True, "yield_per": size}
        result = conn.exec_driver_sql(self.query, execution_options=options)
        try:
            names = list(result.keys())
            batcher = Batcher(
                what=f"the query of {self.describe()}",
                scales=_decimal_scales(names, result.cursor.description or ()),
            )
            empty = True
            for rows in result.partitions():
                empty = False
                yield batcher.from_columns(
                    names, [list(column) for column in zip(*rows, strict=True)]
                )
            if empty:
                yield batcher.from_columns(names, [[] for _ in names])
        finally:
            result.close()


def _decimal_scales(names: list[str], description: Any) -> dict[str, tuple[int, int]]:
    """(precision, scale) by column, where the driver's description gives them (psycopg does
    for ``numeric(p,s)``): only decimal columns use them."""
    scales = {}
    for name, column in zip(names, description, strict=False):
        precision, scale = (column[4], column[5]) if len(column) > 5 else (None, None)
        if isinstance(precision, int) and isinstance(scale, int) and 0 <= scale <= precision <= 38:
            scales[name] = (precision, scale)
    return scales


def _plain_postgres(
    batch: pa.RecordBatch, schema: pa.Schema | None
) -> tuple[pa.RecordBatch, pa.Schema]:
    """ADBC's batch with PostgreSQL's own types made plain Arrow: ``numeric(p,s)`` a decimal,
    unconstrained ``numeric`` and other types it passes as opaque text (uuid, json) text, and
    the driver's field metadata dropped."""
    import pyarrow as pa

    if schema is None:
        fields = []
        for field in batch.schema:
            kind = field.type
            if isinstance(kind, pa.BaseExtensionType):
                kind = kind.storage_type
                meta = field.metadata or {}
                typmod = int(meta.get(b"POSTGRESQL:typmod", b"-1"))
                if meta.get(b"POSTGRESQL:type") == b"numeric" and typmod >= 4:
                    precision, scale = (typmod - 4) >> 16, (typmod - 4) & 0xFFFF
                    if precision <= 38:
                        kind = pa.decimal128(precision, scale)
            fields.append(pa.field(field.name, kind))
        schema = pa.schema(fields)
    arrays = []
    for column, field in zip(batch.columns, schema, strict=True):
        plain = column.storage if isinstance(column.type, pa.BaseExtensionType) else column
        arrays.append(plain if plain.type == field.type else plain.cast(field.type))
    return pa.RecordBatch.from_arrays(arrays, schema=schema), schema
