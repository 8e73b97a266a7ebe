"""``json`` sources: a JSON document holding an array of records, at ``records`` if nested.

The document is streamed (ijson, on the yajl C parser): records are taken from the array one
at a time and go out in batches of ``batch_rows``, typed from their values as
``ordo.extractors._arrow.Batcher`` does, so a file of any size is read in bounded memory.
A path with a list index in it (``data.0.items``) cannot be streamed to, and such a document
is read whole. Numbers come out as ``json`` gives them: integers as integers, the rest as
floats.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, ClassVar

from pydantic import Field

from ordo.errors import PermanentError
from ordo.extractors._arrow import Batcher, ColumnTypes
from ordo.extractors._files import FileConfig, FileSource
from ordo.extractors.base import BATCH_ROWS

if TYPE_CHECKING:
    import pyarrow as pa


__all__ = ["JsonConfig", "JsonExtractor", "records_at"]


class JsonConfig(FileConfig):
    records: str | None = None  # dotted path to the array (``data.items``); None: the top
    column_types: ColumnTypes = Field(default_factory=dict)
    batch_rows: int = Field(BATCH_ROWS, ge=1)


def records_at(document: Any, path: str | None, what: str) -> list[dict[str, Any]]:
    """The array of objects at the dotted ``path`` of ``document``; ``PermanentError`` saying
    where it is not one."""
    found = document
    for part in path.split(".") if path else []:
        if isinstance(found, dict) and part in found:
            found = found[part]
        elif isinstance(found, list) and part.isdigit() and int(part) < len(found):
            found = found[int(part)]
        else:
            raise PermanentError(f"{what} has nothing at '{path}' (no '{part}')")
    if found is None:
        return []
    if not isinstance(found, list) or not all(isinstance(r, dict) for r in found):
        at = f" at '{path}'" if path else ""
        raise PermanentError(
            f"{what}: the value{at} is not an array of objects",
            hint="set records: to the dotted path of the array, e.g. records: data.items",
        )
    return found


class JsonExtractor(FileSource[JsonConfig]):
    config_model: ClassVar[type[JsonConfig]] = JsonConfig
    requires: ClassVar[tuple[str, ...]] = ("pyarrow", "ijson")
    kind = "json"

    def read(self, file: Path) -> Iterator[pa.RecordBatch]:
        shown = self.shown(file)
        path = self.config.records
        batcher = Batcher(self.config.column_types, what=shown)
        size = self.config.batch_rows
        if path and any(part.isdigit() for part in path.split(".")):
            records = records_at(_whole(file, shown), path, shown)
            for start in range(0, len(records), size):
                yield batcher.from_records(records[start : start + size])
            return
        with file.open("rb") as handle:
            _skip_bom(handle)
            stream = _records(handle, path, file, shown)
            while batch := list(islice(stream, size)):
                yield batcher.from_records(batch)
        if batcher.schema is None:  # no record at all: say why, if the path is not an array
            with file.open("rb") as handle:
                _skip_bom(handle)
                _check_array_at(handle, path, file, shown)
            yield batcher.from_records([])


def _records(handle: IO[bytes], path: str | None, file: Path, shown: str) -> Iterator[Any]:
    """The objects of the array at ``path``, one at a time."""
    import ijson

    prefix = f"{path}.item" if path else "item"
    try:
        for record in ijson.items(handle, prefix, use_float=True):
            if not isinstance(record, dict):
                raise _not_objects(path, shown)
            yield record
    except ijson.JSONError as exc:
        raise _invalid(file, shown, exc) from None


def _check_array_at(handle: IO[bytes], path: str | None, file: Path, shown: str) -> None:
    """Nothing came out of the array at ``path``: fine if it is an empty array or null;
    otherwise the error ``records_at`` gives for a whole document."""
    import ijson

    wanted = path or ""
    seen = {""}
    try:
        for prefix, event, _ in ijson.parse(handle, use_float=True):
            seen.add(prefix)
            if prefix == wanted and event not in ("map_key", "end_map", "end_array"):
                if event in ("start_array", "null"):
                    return
                raise _not_objects(path, shown)
    except ijson.JSONError as exc:
        raise _invalid(file, shown, exc) from None
    parts = wanted.split(".")
    missing = next((p for i, p in enumerate(parts) if ".".join(parts[: i + 1]) not in seen), wanted)
    raise PermanentError(f"{shown} has nothing at '{path}' (no '{missing}')")


def _not_objects(path: str | None, shown: str) -> PermanentError:
    at = f" at '{path}'" if path else ""
    return PermanentError(
        f"{shown}: the value{at} is not an array of objects",
        hint="set records: to the dotted path of the array, e.g. records: data.items",
    )


_EXACT_ERRORS_UP_TO = 64 << 20  # bytes: a smaller file is parsed again for the line and column


def _invalid(file: Path, shown: str, exc: Exception) -> PermanentError:
    """The parser's complaint as one line; for a file small enough to parse again, the
    line and column as the standard library tells them."""
    if file.stat().st_size <= _EXACT_ERRORS_UP_TO:
        try:
            _whole(file, shown)
        except PermanentError as exact:
            return exact
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return PermanentError(f"{shown} is not valid JSON: {first}")


def _whole(file: Path, shown: str) -> Any:
    try:
        with file.open("rb") as handle:
            return json.load(handle)
    except json.JSONDecodeError as exc:
        raise PermanentError(
            f"{shown} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None


def _skip_bom(handle: IO[bytes]) -> None:
    if handle.read(3) != b"\xef\xbb\xbf":
        handle.seek(0)
