"""The content hash of a table: what "unchanged" means for collect and publish steps.

Two tables hash alike when they hold the same columns (names and Arrow types, in order) and the
same values row by row. How the table was read plays no part: the chunks are combined and each
column is written in Arrow's IPC form, whose bytes depend only on the values (offsets start at
zero after ``combine_chunks``). xxh3-128 reads several GB a second, so hashing costs little next
to reading a workbook. The hash is stored in the Parquet file's own metadata
(``parquet_files``), so a file carries the proof of what it holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa
    import xxhash

__all__ = ["HASH_ALGORITHM", "content_hash"]

HASH_ALGORITHM = "xxh3_128"


def content_hash(table: pa.Table, order_by: Sequence[str] = ()) -> str:
    """``xxh3_128:<hex>`` of ``table``; with ``order_by``, of the table sorted by those columns,
    so the same rows in another order hash alike."""
    import pyarrow as pa
    import xxhash

    if order_by:
        table = table.sort_by([(name, "ascending") for name in order_by])
    table = table.combine_chunks()
    digest = xxhash.xxh3_128()
    digest.update(str(table.num_rows).encode())
    schema = pa.schema([field.remove_metadata() for field in table.schema])
    # The stream goes straight into the hash, a buffer at a time: gathered into one Arrow
    # buffer first, a 10 MB table cost 60 ms of growing it (the allocator's first large
    # block), ten times the hashing itself.
    with pa.ipc.new_stream(pa.PythonFile(_Hashing(digest), mode="w"), schema) as writer:
        for batch in table.to_batches():
            writer.write_batch(batch)
    return f"{HASH_ALGORITHM}:{digest.hexdigest()}"


class _Hashing:
    """A file that hashes what is written to it, for ``pa.PythonFile``."""

    closed = False

    def __init__(self, digest: xxhash.xxh3_128) -> None:
        self.digest = digest

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True
