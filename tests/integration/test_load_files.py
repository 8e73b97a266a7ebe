"""``load`` steps from files (CSV) into the fake target, through the real runner."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import ordo
from ordo.extractors import registered as source_registered
from ordo.extractors.testing import RowsExtractor
from ordo.loaders import registered as target_registered
from ordo.loaders.testing import MemoryLoader
from tests.support.project import make_project


@pytest.fixture(autouse=True)
def fakes() -> Iterator[None]:
    with source_registered("rows", RowsExtractor), target_registered("memory", MemoryLoader):
        MemoryLoader.received.clear()
        yield


def run(root: Path) -> ordo.RunResult:
    return ordo.run(project=root, environ={}, options=ordo.RunOptions(notify=False))


def load_project(tmp_path: Path, source: str, files: dict[str, str | bytes]) -> Path:
    manifest = f"""\
        steps:
          - name: load
            type: load
            source: {source}
            target: {{type: memory, name: out}}
        """
    root = make_project(tmp_path / "p", manifest)
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def test_csv_keeps_text_as_written_and_reads_globs(tmp_path: Path) -> None:
    root = load_project(
        tmp_path,
        "{type: csv, path: 'data/*.csv', column_types: {amount: 'decimal(10,2)'}}",
        {
            "data/a.csv": '\ufeffzip,name,amount\n00123,"a, b",1.50\n,"",2\n',
            "data/b.csv": "zip,name,amount\n9,Ä,\n",
        },
    )
    result = run(root)
    assert result.status == "success", result
    from decimal import Decimal

    assert MemoryLoader.received["out"] == [
        {"zip": "00123", "name": "a, b", "amount": Decimal("1.50")},
        {"zip": None, "name": "", "amount": Decimal("2.00")},
        {"zip": "9", "name": "Ä", "amount": None},
    ]
    assert result.step("load").rows == 3


def test_excel_reads_a_sheet_by_name_with_typed_columns(tmp_path: Path) -> None:
    from tests.support.xlsx import write_xlsx

    root = load_project(tmp_path, "{type: excel, path: data/book.xlsx, sheet: Orders}", {})
    write_xlsx(
        root / "data" / "book.xlsx",
        {
            "Other": [["x"], [1]],
            "Orders": [
                ["id", "code", "price", "paid"],
                [1, "00123", 9.5, True],
                [2, 7, 10, False],
                [None, None, None, None],
                [3, "A-1", None, None],
            ],
        },
    )
    assert run(root).status == "success"
    assert MemoryLoader.received["out"] == [
        {"id": 1, "code": "00123", "price": 9.5, "paid": True},
        {"id": 2, "code": "7", "price": 10.0, "paid": False},
        {"id": 3, "code": "A-1", "price": None, "paid": None},
    ]


def test_an_unknown_sheet_fails_naming_the_sheets(tmp_path: Path) -> None:
    from tests.support.xlsx import write_xlsx

    root = load_project(tmp_path, "{type: excel, path: data/book.xlsx, sheet: Nope}", {})
    write_xlsx(root / "data" / "book.xlsx", {"Orders": [["id"], [1]]})
    result = run(root)
    assert result.status == "failed"
    error = result.step("load").error or ""
    assert "data/book.xlsx has no sheet 'Nope'" in error


def test_json_records_at_a_path_in_batches(tmp_path: Path) -> None:
    document = (
        '{"data": {"items": [{"id": 1, "zip": "007", "tags": ["a"]}, '
        '{"id": 2, "zip": null, "tags": []}, {"id": 3, "zip": "9", "tags": null}]}}'
    )
    source = "{type: json, path: data/in.json, records: data.items, batch_rows: 2}"
    root = load_project(tmp_path, source, {"data/in.json": document})
    assert run(root).status == "success"
    assert MemoryLoader.received["out"] == [
        {"id": 1, "zip": "007", "tags": ["a"]},
        {"id": 2, "zip": None, "tags": []},
        {"id": 3, "zip": "9", "tags": None},
    ]


def test_json_without_an_array_at_the_path_says_so(tmp_path: Path) -> None:
    root = load_project(
        tmp_path, "{type: json, path: data/in.json, records: data}", {"data/in.json": '{"a": 1}'}
    )
    result = run(root)
    assert "data/in.json has nothing at 'data'" in (result.step("load").error or "")


def test_files_written_by_one_load_read_back_by_the_next(tmp_path: Path) -> None:
    """csv -> parquet -> ndjson -> csv files, each read back, values unchanged. A source's
    files are found when the plan is made, so each file is read by a later run."""
    root = make_project(tmp_path / "p", "steps: []\n")
    (root / "in.csv").write_text("n,z,d,p\n1,007,2024-02-29,1.50\n2,,2024-03-01,\n")
    chain = [
        (
            "{type: csv, path: in.csv, column_types: {n: int, d: date, p: 'decimal(8,2)'}}",
            "{type: parquet, path: out/t.parquet}",
        ),
        ("{type: parquet, path: out/t.parquet}", "{type: ndjson, path: out/t.ndjson}"),
        ("{type: parquet, path: out/t.parquet}", "{type: memory, name: parquet}"),
        (
            "{type: ndjson, path: out/t.ndjson, column_types: {z: string}}",
            "{type: csv, path: out/t.csv}",
        ),
        ("{type: csv, path: out/t.csv}", "{type: memory, name: back}"),
    ]
    for source, target in chain:
        (root / "queue" / "manifest.yaml").write_text(
            f"steps:\n  - {{name: copy, type: load, source: {source}, target: {target}}}\n"
        )
        result = run(root)
        assert result.status == "success", [s.error for s in result.steps]
    import datetime as dt
    from decimal import Decimal

    assert MemoryLoader.received["parquet"] == [
        {"n": 1, "z": "007", "d": dt.date(2024, 2, 29), "p": Decimal("1.50")},
        {"n": 2, "z": None, "d": dt.date(2024, 3, 1), "p": None},
    ]
    lines = (root / "out" / "t.ndjson").read_text().splitlines()
    assert lines[0] == '{"n": 1, "z": "007", "d": "2024-02-29", "p": "1.50"}'
    assert MemoryLoader.received["back"] == [
        {"n": "1", "z": "007", "d": "2024-02-29", "p": "1.50"},
        {"n": "2", "z": None, "d": "2024-03-01", "p": None},
    ]
    assert not list((root / "out").glob(".*ordo-tmp*"))


def test_a_failed_load_leaves_the_old_file_as_it_was(tmp_path: Path) -> None:
    manifest = """\
        steps:
          - name: load
            type: load
            source: {type: rows, rows: [{a: 1}, {a: 2}], batch_rows: 1, fail_after: 1}
            target: {type: parquet, path: out.parquet}
        """
    root = make_project(tmp_path / "p", manifest)
    (root / "out.parquet").write_bytes(b"old")
    result = run(root)
    assert result.status == "failed"
    assert "told to fail" in (result.step("load").error or "")
    assert (root / "out.parquet").read_bytes() == b"old"
    assert [p.name for p in root.iterdir() if "ordo-tmp" in p.name] == []


def test_a_target_path_outside_the_project_is_a_plan_problem(tmp_path: Path) -> None:
    root = load_project(tmp_path, "{type: rows, rows: [{a: 1}]}", {})
    manifest = root / "queue" / "manifest.yaml"
    manifest.write_text(
        manifest.read_text().replace("{type: memory, name: out}", "{type: csv, path: ../x.csv}")
    )
    with pytest.raises(ordo.ManifestInvalid, match=r"target.path: '../x.csv' is outside"):
        ordo.plan(project=root, environ={})


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('a,b\n1,2\n"x\ny",3\n4\n', "data/in.csv, line 5: 1 fields, but the header has 2"),
        ("a,b\n1,2\nx,3\n", "data/in.csv, line 3: column 'a' holds 'x', which is not an integer"),
        ("a,a\n1,2\n", "data/in.csv: the header names a more than once"),
    ],
)
def test_a_bad_csv_says_the_line_and_the_column(tmp_path: Path, content: str, message: str) -> None:
    source = "{type: csv, path: data/in.csv, column_types: {a: int}}"
    root = load_project(tmp_path, source, {"data/in.csv": content})
    result = run(root)
    assert result.status == "failed"
    assert (result.step("load").error or "").startswith(message)
