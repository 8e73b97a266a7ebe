"""Publishing datasets into a versioned root: real Parquet files and workbooks on disk."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ordo.datasets.publishing import DatasetSource, PublishResult, publish
from ordo.datasets.versions import UnknownDataset, open_root
from tests.support.published import (
    annotations,
    consistency_problems,
    files,
    products,
    write_schemas,
    write_table,
)
from tests.support.xlsx import write_xlsx


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write_schemas(tmp_path / "database" / "databaseSchemas.json")
    write_table(tmp_path / "database" / "dynamicDatabase" / "productRecords.parquet", products(3))
    (tmp_path / "database" / "staticDatabase").mkdir()
    write_xlsx(
        tmp_path / "database" / "staticDatabase" / "machineInfo.xlsx",
        {"Sheet1": [["code", "lines"], ["M1", 2], ["M2", 4]]},
    )
    return tmp_path


def sources(project: Path) -> dict[str, DatasetSource]:
    return {
        "productRecords": DatasetSource(
            parquet=project / "database" / "dynamicDatabase" / "productRecords.parquet"
        ),
        "machineInfo": DatasetSource(
            excel=project / "database" / "staticDatabase" / "machineInfo.xlsx", sheet=0
        ),
    }


def run(project: Path, keep: int | None = None) -> PublishResult:
    return publish(
        project / "shared",
        project / "database" / "databaseSchemas.json",
        sources(project),
        keep_versions=keep,
        base=project,
    )


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != ".ordo-datasets.lock"
    }


def test_the_first_publish_writes_every_dataset_as_newest(project: Path) -> None:
    result = publish(
        project / "shared", project / "database" / "databaseSchemas.json", sources(project)
    )
    assert result.ok
    assert result.counts() == {
        "total": 2,
        "successful": 2,
        "failed": 0,
        "warnings": 0,
        "changed_files": 2,
        "files_saved": 2,
    }
    listed = annotations(project / "shared")
    assert list(listed) == ["productRecords", "machineInfo"]
    for dataset, path in listed.items():
        assert Path(path).is_absolute()
        assert Path(path).parent == project / "shared" / "newest"
        assert Path(path).name.startswith(f"{dataset}_")
    machine = pq.read_table(listed["machineInfo"])
    assert machine.to_pydict() == {"code": ["M1", "M2"], "lines": [2, 4]}
    assert consistency_problems(project / "shared") == []


def test_unchanged_datasets_are_left_alone(project: Path) -> None:
    run(project)
    before = snapshot(project / "shared")
    result = run(project)
    assert [d.status for d in result.datasets] == ["unchanged", "unchanged"]
    assert result.counts()["files_saved"] == 0
    assert snapshot(project / "shared") == before  # same files, same bytes, same mtimes


def test_a_changed_dataset_moves_its_old_version_to_historical_db(project: Path) -> None:
    run(project)
    old = annotations(project / "shared")
    write_table(project / "database" / "dynamicDatabase" / "productRecords.parquet", products(5))
    result = run(project)
    assert [d.status for d in result.datasets] == ["changed", "unchanged"]
    new = annotations(project / "shared")
    assert new["machineInfo"] == old["machineInfo"]
    assert new["productRecords"] != old["productRecords"]
    assert pq.read_table(new["productRecords"]).num_rows == 5
    assert files(project / "shared") == {
        "newest": sorted(
            [
                Path(new["productRecords"]).name,
                Path(new["machineInfo"]).name,
                "path_annotations.json",
            ]
        ),
        "historical_db": [Path(old["productRecords"]).name],
    }
    assert consistency_problems(project / "shared") == []


def test_keep_versions_keeps_that_many_historical_versions(project: Path) -> None:
    for n in range(1, 6):
        write_table(
            project / "database" / "dynamicDatabase" / "productRecords.parquet", products(n)
        )
        run(project, keep=2)
    with open_root(project / "shared") as root:
        history = root.history("productRecords")
    assert [v.rows for v in history] == [5, 4, 3]
    assert [v.newest for v in history] == [True, False, False]
    assert len(files(project / "shared")["historical_db"]) == 2


def test_all_or_nothing_when_the_second_dataset_fails(project: Path) -> None:
    run(project)
    before = snapshot(project / "shared")
    write_table(project / "database" / "dynamicDatabase" / "productRecords.parquet", products(9))
    write_xlsx(
        project / "database" / "staticDatabase" / "machineInfo.xlsx",
        {"Sheet1": [["code", "lines", "colour"], ["M1", "two", "red"]]},
    )
    result = run(project)
    assert not result.ok
    by_name = {d.dataset: d for d in result.datasets}
    assert by_name["productRecords"].status == "changed"
    assert by_name["productRecords"].reason == "not published: another dataset failed"
    assert by_name["machineInfo"].status == "failed"
    assert by_name["machineInfo"].reason == (
        "dataset 'machineInfo' does not match its schema: column 'colour' not in the schema; "
        "column 'lines' is text, the schema says int"
    )
    assert result.counts() == {
        "total": 2,
        "successful": 1,
        "failed": 1,
        "warnings": 0,
        "changed_files": 1,
        "files_saved": 0,
    }
    assert snapshot(project / "shared") == before  # nothing listed changed, nothing left


def test_a_missing_source_fails_naming_the_file(project: Path) -> None:
    (project / "database" / "dynamicDatabase" / "productRecords.parquet").unlink()
    result = run(project)
    failed = [d for d in result.datasets if d.status == "failed"]
    assert failed[0].reason == (
        "database/dynamicDatabase/productRecords.parquet does not exist "
        "(the collect step before this one writes it)"
    )
    assert annotations(project / "shared") == {}


def test_rollback_restores_a_version_and_keeps_the_newest_in_history(project: Path) -> None:
    names = []
    for n in (1, 2, 3):
        write_table(
            project / "database" / "dynamicDatabase" / "productRecords.parquet", products(n)
        )
        run(project)
        names.append(Path(annotations(project / "shared")["productRecords"]).stem)
    with open_root(project / "shared") as root:
        back = root.rollback("productRecords")  # the one before the newest
        assert back.name == names[1]
        assert back.rows == 2
        back = root.rollback("productRecords", to=names[0])
        assert back.name == names[0]
        with pytest.raises(UnknownDataset) as caught:
            root.rollback("productRecords", to="productRecords_20000101T000000000000")
        assert names[2] in (caught.value.hint or "")
        with pytest.raises(UnknownDataset, match="no dataset 'nope'"):
            root.history("nope")
    assert Path(annotations(project / "shared")["productRecords"]).stem == names[0]
    assert sorted(Path(p).stem for p in files(project / "shared")["historical_db"]) == sorted(
        names[1:]
    )
    assert consistency_problems(project / "shared") == []
    # a publish after a rollback compares with the restored version
    write_table(project / "database" / "dynamicDatabase" / "productRecords.parquet", products(1))
    assert run(project).datasets[0].status == "unchanged"


def test_open_removes_what_a_crash_left_unlisted(project: Path) -> None:
    run(project)
    shared = project / "shared"
    listed = annotations(shared)
    newest_products = Path(listed["productRecords"])
    # a new file written but not committed, a link to history of a file still newest, temps
    leftover = shared / "newest" / "productRecords_20990101T000000000000.parquet"
    write_table(leftover, products(7))
    os.link(newest_products, shared / "historical_db" / newest_products.name)
    (shared / "newest" / ".path_annotations.json.ordo-tmp-abc").write_text("{")
    (shared / "historical_db" / ".x.parquet.ordo-tmp-copy").write_text("")
    (shared / "newest" / "notes.txt").write_text("a user's own file")
    with open_root(shared) as root:
        assert root.datasets() == ["productRecords", "machineInfo"]
    assert files(shared) == {
        "newest": sorted(
            [
                newest_products.name,
                Path(listed["machineInfo"]).name,
                "notes.txt",
                "path_annotations.json",
            ]
        ),
        "historical_db": [],
    }
    assert consistency_problems(shared) == []


def test_an_empty_dataset_is_a_warning(project: Path) -> None:
    write_table(
        project / "database" / "dynamicDatabase" / "productRecords.parquet",
        products(0),
    )
    result = run(project)
    assert result.ok
    assert result.warnings == (
        "dataset 'productRecords' has no rows (database/dynamicDatabase/productRecords.parquet)",
    )


def test_a_dataset_not_in_the_schema_file_fails(project: Path) -> None:
    extra = {**sources(project), "other": DatasetSource(parquet=project / "x.parquet")}
    write_table(project / "x.parquet", pa.table({"a": [1]}))
    result = publish(project / "shared", project / "database" / "databaseSchemas.json", extra)
    reason = next(d.reason for d in result.datasets if d.dataset == "other")
    assert reason is not None
    assert reason.startswith("dataset 'other' is not in ")
    assert reason.endswith("(it has productRecords, machineInfo)")


def test_static_workbooks_of_other_formats_with_date_cells(tmp_path: Path) -> None:
    import datetime as dt

    import openpyxl
    import xlwt

    write_schemas(
        tmp_path / "databaseSchemas.json",
        {"machines": {"code": "text", "installed": "date", "lines": "int"}},
    )
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Machines"
    sheet.append(["code", "installed", "lines"])
    sheet.append(["M1", dt.datetime(2024, 3, 1), 2])
    sheet.append(["M2", dt.datetime(2025, 7, 15), 4])
    book.save(tmp_path / "machines.xlsx")
    old = xlwt.Workbook()
    page = old.add_sheet("Machines")
    dated = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    for r, (code, day, lines) in enumerate(
        [
            ("code", "installed", "lines"),
            ("M1", dt.date(2024, 3, 1), 2),
            ("M2", dt.date(2025, 7, 15), 4),
        ]
    ):
        page.write(r, 0, code)
        page.write(r, 1, day, dated if r else xlwt.Style.default_style)
        page.write(r, 2, lines)
    old.save(str(tmp_path / "machines.xls"))
    expected = {
        "code": ["M1", "M2"],
        "installed": [dt.date(2024, 3, 1), dt.date(2025, 7, 15)],
        "lines": [2, 4],
    }
    hashes = []
    for name in ("machines.xlsx", "machines.xls"):
        result = publish(
            tmp_path / name.replace(".", "_"),
            tmp_path / "databaseSchemas.json",
            {"machines": DatasetSource(excel=tmp_path / name, sheet="Machines")},
        )
        assert result.ok, result.datasets
        [machines] = result.datasets
        listed = annotations(tmp_path / name.replace(".", "_"))["machines"]
        assert pq.read_table(listed).to_pydict() == expected
        hashes.append(machines.hash)
    assert hashes[0] == hashes[1]  # the same values, whichever format held them


def test_a_missing_sheet_names_the_sheets_there_are(project: Path) -> None:
    given = {
        "machineInfo": DatasetSource(
            excel=project / "database" / "staticDatabase" / "machineInfo.xlsx", sheet="Machines"
        )
    }
    result = publish(
        project / "shared", project / "database" / "databaseSchemas.json", given, base=project
    )
    [machines] = result.datasets
    assert machines.status == "failed"
    assert machines.reason is not None
    assert "database/staticDatabase/machineInfo.xlsx has no sheet 'Machines'" in machines.reason
    assert "its sheets: Sheet1" in machines.reason


def test_a_root_an_earlier_program_made_is_taken_over_as_it_is(project: Path) -> None:
    shared = project / "shared"
    (shared / "newest").mkdir(parents=True)
    (shared / "historical_db").mkdir()
    older = write_table(shared / "historical_db" / "productRecords_2024-12-01.parquet", products(1))
    first = write_table(shared / "newest" / "productRecords_2025-01-01.parquet", products(2))
    (shared / "newest" / "path_annotations.json").write_text(
        '{"productRecords": "agents/shared_db/newest/productRecords_2025-01-01.parquet"}'
    )
    result = run(project)
    assert result.ok
    assert [d.previous for d in result.datasets] == ["productRecords_2025-01-01", None]
    with open_root(shared) as root:
        history = root.history("productRecords")
    assert [(v.name, v.rows, v.time is None) for v in history[1:]] == [
        ("productRecords_2025-01-01", 2, True),
        ("productRecords_2024-12-01", 1, True),
    ]
    assert not first.exists()
    assert (shared / "historical_db" / first.name).is_file()
    assert older.is_file()
    with open_root(shared) as root:
        assert root.rollback("productRecords").name == "productRecords_2025-01-01"
    assert Path(annotations(shared)["productRecords"]) == first
