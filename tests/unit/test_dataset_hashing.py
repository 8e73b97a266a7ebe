"""Content hashes: alike for the same values however the table was read, unlike otherwise."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from ordo.datasets.hashing import content_hash
from ordo.datasets.parquet_files import read_hash, write_parquet


def _table() -> pa.Table:
    return pa.table({"id": [3, 1, 2], "name": ["x", "y", None]})


def test_chunking_does_not_change_the_hash() -> None:
    table = _table()
    chunked = pa.concat_tables([table.slice(0, 1), table.slice(1)])
    assert content_hash(chunked) == content_hash(table)


def test_row_order_counts_unless_order_by_is_given() -> None:
    table, shuffled = _table(), _table().take([1, 0, 2])
    assert content_hash(shuffled) != content_hash(table)
    assert content_hash(shuffled, ["id"]) == content_hash(table, ["id"])


@pytest.mark.parametrize(
    "other",
    [
        pa.table({"id": [3, 1, 2], "name": ["x", "y", "z"]}),  # a value
        pa.table({"id": [3, 1, 2], "title": ["x", "y", None]}),  # a column name
        pa.table({"id": pa.array([3, 1, 2], pa.int32()), "name": ["x", "y", None]}),  # a type
        pa.table({"id": [3, 1], "name": ["x", "y"]}),  # a row fewer
    ],
)
def test_any_difference_changes_the_hash(other: pa.Table) -> None:
    assert content_hash(other) != content_hash(_table())


def test_parquet_file_carries_its_hash(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    table = _table()
    path = tmp_path / "out" / "data.parquet"
    write_parquet(path, table, content_hash(table))
    assert read_hash(path) == content_hash(table)
    assert content_hash(pq.read_table(path)) == content_hash(table)
    assert read_hash(tmp_path / "missing.parquet") is None
    (tmp_path / "text.parquet").write_text("not parquet")
    assert read_hash(tmp_path / "text.parquet") is None
