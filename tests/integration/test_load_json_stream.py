"""``json`` sources are streamed: records come out of the array one at a time, and what is
wrong with a document is said as before (nothing at the path, not an array of objects,
invalid JSON with its line and column)."""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

import ordo
from ordo.loaders import registered as target_registered
from ordo.loaders.testing import MemoryLoader
from tests.support.project import make_project


@pytest.fixture(autouse=True)
def memory_target() -> Iterator[None]:
    with target_registered("memory", MemoryLoader):
        MemoryLoader.received.clear()
        yield


def load(tmp_path: Path, document: str | bytes, records: str | None = None) -> ordo.RunResult:
    at = f", records: {records}" if records else ""
    manifest = f"""\
        steps:
          - name: load
            type: load
            source: {{type: json, path: in.json, batch_rows: 2{at}}}
            target: {{type: memory, name: out}}
        """
    root = make_project(tmp_path / "p", manifest)
    data = document if isinstance(document, bytes) else document.encode()
    (root / "in.json").write_bytes(data)
    return ordo.run(project=root, environ={}, options=ordo.RunOptions(notify=False))


@pytest.mark.parametrize(
    ("document", "records", "expected"),
    [
        ('[{"a": 1, "b": 1.5}, {"a": 2, "b": null}, {"a": 3}]', None, 3),
        ('{"data": {"items": []}}', "data.items", 0),
        ('{"data": {"items": null}}', "data.items", 0),
        ('{"data": [{"items": [{"a": 1}]}]}', "data.0.items", 1),  # an index: read whole
        (b'\xef\xbb\xbf[{"a": 1}]', None, 1),  # a byte order mark
    ],
)
def test_records_are_read(
    tmp_path: Path, document: str | bytes, records: str | None, expected: int
) -> None:
    result = load(tmp_path, document, records)
    assert result.status == "success", result.step("load").error
    assert len(MemoryLoader.received["out"]) == expected


def test_values_are_as_the_standard_library_reads_them(tmp_path: Path) -> None:
    rows = [{"id": 1, "zip": "007", "x": 0.1, "tags": ["a"]}, {"id": 2, "zip": None, "x": 2.5}]
    assert load(tmp_path, json.dumps({"d": rows}), "d").status == "success"
    assert MemoryLoader.received["out"] == [
        {"id": 1, "zip": "007", "x": 0.1, "tags": ["a"]},
        {"id": 2, "zip": None, "x": 2.5, "tags": None},
    ]


@pytest.mark.parametrize(
    ("document", "records", "message"),
    [
        ('{"a": 1}', "data", "in.json has nothing at 'data' (no 'data')"),
        ('{"data": {"x": 1}}', "data.items", "in.json has nothing at 'data.items' (no 'items')"),
        ('{"data": {"a": 1}}', "data", "in.json: the value at 'data' is not an array of objects"),
        ("[1, 2]", None, "in.json: the value is not an array of objects"),
        ('[{"a": 1},\n {"a": 2,,}]', None, "in.json is not valid JSON: Expecting property name"),
    ],
)
def test_what_is_wrong_is_said(
    tmp_path: Path, document: str, records: str | None, message: str
) -> None:
    result = load(tmp_path, document, records)
    assert result.status == "failed"
    assert message in (result.step("load").error or "")


def test_invalid_json_names_the_line_and_column(tmp_path: Path) -> None:
    result = load(tmp_path, '[{"a": 1},\n {"a": 2,,}]')
    assert "(line 2, column 10)" in (result.step("load").error or "")


def test_a_large_document_is_never_held_whole(tmp_path: Path) -> None:
    """100,000 records (about 6 MB of JSON, several times that as Python objects) read in
    batches of 1,000: the Python memory at its peak stays a small part of the document."""
    from ordo.extractors.json import JsonConfig, JsonExtractor

    path = tmp_path / "big.json"
    with path.open("w") as out:
        out.write('{"meta": {"n": 100000}, "data": [')
        out.write(",".join(json.dumps({"id": i, "name": f"row {i}"}) for i in range(100_000)))
        out.write("]}")

    class Plan:  # what a file source asks of the plan
        root = tmp_path

        def find_files(self, pattern: str) -> list[Path]:
            return [path]

    config = JsonConfig(path=str(path), records="data", batch_rows=1_000)
    extractor = JsonExtractor(config, Plan())  # type: ignore[arg-type]
    tracemalloc.start()
    try:
        rows = sum(batch.num_rows for batch in extractor.read(path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert rows == 100_000
    assert peak < path.stat().st_size / 2, peak
