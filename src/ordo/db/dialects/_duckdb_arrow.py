"""DuckDB's own Arrow paths: it reads record batches itself, and hands query results back as
a stream of them, so no Python value is made per row on either side."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator, Sequence
from itertools import chain
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa
    from sqlalchemy import Connection

__all__ = ["arrow_batches", "load_arrow"]


def load_arrow(
    conn: Connection, table_sql: str, columns_sql: Sequence[str], batches: Iterator[pa.RecordBatch]
) -> int:
    """The stream registered as one view (an Arrow ``RecordBatchReader``) and pulled through
    by one ``INSERT ... SELECT``: DuckDB holds a batch at a time."""
    import pyarrow as pa

    first = next(batches, None)
    if first is None:
        return 0
    counted = _Pulled(chain([first], batches))
    reader = pa.RecordBatchReader.from_batches(first.schema, iter(counted))
    duck: Any = conn.connection.driver_connection
    view = f"ordo_batches_{secrets.token_hex(4)}"
    names = ", ".join(columns_sql)
    duck.register(view, reader)
    try:
        duck.execute(f"INSERT INTO {table_sql} ({names}) SELECT {names} FROM {view}")
    except Exception:
        with contextlib.suppress(Exception):  # the transaction is aborted: this may fail too
            duck.unregister(view)
        if counted.error is not None:  # the source failed while DuckDB read it: that error
            raise counted.error from None
        raise
    duck.unregister(view)
    return counted.rows


def arrow_batches(conn: Connection, query: str, batch_rows: int) -> Iterator[pa.RecordBatch]:
    duck: Any = conn.connection.driver_connection
    relation = duck.sql(query)  # a relation streams; a DB-API result copies
    # ``to_arrow_reader`` since DuckDB 2.0, ``fetch_arrow_reader`` before it
    reader = getattr(relation, "to_arrow_reader", None) or relation.fetch_arrow_reader
    yield from reader(batch_rows)


class _Pulled:
    """The batches as DuckDB pulls them: counted, and the source's own error kept (DuckDB
    would hand it back as its own, losing what kind of failure it was)."""

    def __init__(self, batches: Iterator[pa.RecordBatch]) -> None:
        self._batches = batches
        self.rows = 0
        self.error: BaseException | None = None

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        try:
            for batch in self._batches:
                self.rows += batch.num_rows
                yield batch
        except Exception as exc:
            self.error = exc
            raise
