"""Parquet files that carry their content hash, written whole or not at all.

The hash (``hashing.content_hash``) goes into the file's key-value metadata under
``ordo.content_hash``, so a later run compares hashes by reading the footer only, never the
data. Files are written to a fsynced temp file beside the target and renamed over it
(``ordo._files``), with snappy compression, as the data collector's files are.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from ordo._files import StagedFile, arrow_sink, stage_writing

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["HASH_KEY", "read_hash", "stage_parquet", "write_parquet"]

HASH_KEY = b"ordo.content_hash"


def stage_parquet(path: Path, table: pa.Table, content_hash: str) -> StagedFile:
    """``table`` written (snappy) to a temp file beside ``path``, its hash in the metadata;
    ``replace()`` puts it in place, ``discard()`` drops it."""
    import pyarrow.parquet as pq

    metadata = dict(table.schema.metadata or {})
    metadata[HASH_KEY] = content_hash.encode()
    table = table.replace_schema_metadata(metadata)

    def write(out: BinaryIO) -> None:
        with arrow_sink(out) as sink:
            pq.write_table(table, sink, compression="snappy")

    return stage_writing(path, write, make_folders=True)


def write_parquet(path: Path, table: pa.Table, content_hash: str) -> None:
    """Replace ``path`` with ``table`` so that a crash leaves the old file or the new."""
    stage_parquet(path, table, content_hash).replace()


def read_hash(path: Path) -> str | None:
    """The content hash stored in ``path``'s footer; None when the file is missing, is not
    Parquet, or was not written by ordo."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        metadata = pq.read_metadata(path).metadata or {}
    except (FileNotFoundError, pa.ArrowInvalid, OSError):
        return None
    value = metadata.get(HASH_KEY)
    return value.decode() if value is not None else None
