"""``ordo.datasets.collecting.collect``: real workbooks of every format in tmp_path, read,
normalised, deduplicated, hashed and written (or left alone) as a Python user calls it."""

from __future__ import annotations

import datetime as dt
import logging
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ordo.datasets.collecting import collect, previous_path, restore_output, verify
from ordo.datasets.parquet_files import read_hash
from ordo.datasets.workbooks import BadWorkbook
from ordo.errors import PermanentError
from tests.support.workbooks import excel_serial, write_workbook

FORMATS = ("xlsx", "xlsm", "xls", "ods", "xlsb")
COLUMNS = {"recordDate": "date", "itemCode": "string", "quantity": "int", "price": "float"}


def rows(path: Path) -> list[dict[str, object]]:
    return pq.read_table(path).to_pylist()


def report(folder: Path, name: str, body: list[list[object]], **extra: object) -> Path:
    header: list[object] = ["Record Date", "itemCode", "Quantity", "price"]
    return write_workbook(folder / name, {"Data": [header, *body], **extra})  # type: ignore[dict-item]


@pytest.mark.parametrize("suffix", FORMATS)
def test_every_format_reads_to_the_same_rows(tmp_path: Path, suffix: str) -> None:
    source = report(
        tmp_path,
        f"may.{suffix}",
        [
            [dt.date(2024, 5, 1), "00123", 7, 1.5],
            [dt.date(2024, 5, 2), "A-9", 12, 2.25],
        ],
    )
    output = tmp_path / "out" / "records.parquet"
    result = collect([source], output, COLUMNS, rename={"record date": "recordDate"})
    assert result.changed
    assert result.rows_per_file == {str(source): 2}
    assert rows(output) == [
        {
            "recordDate": dt.date(2024, 5, 1),
            "itemCode": "00123",
            "quantity": 7,
            "price": 1.5,
            "source_file": str(source),
        },
        {
            "recordDate": dt.date(2024, 5, 2),
            "itemCode": "A-9",
            "quantity": 12,
            "price": 2.25,
            "source_file": str(source),
        },
    ]
    assert read_hash(output) == result.content_hash
    assert verify(output)


def test_the_xlsb_writer_is_read_back_by_python_calamine(tmp_path: Path) -> None:
    import python_calamine

    path = write_workbook(
        tmp_path / "r.xlsb",
        {
            "First": [
                ["a", "b", "c", "d"],
                [1, "ü text", True, dt.date(2024, 5, 1)],
                [2.5, None, False, dt.datetime(2024, 5, 2, 13, 45)],
                [None, "x", None, excel_serial(dt.date(2024, 5, 3))],
            ],
            "Second": [["x"]],
        },
    )
    workbook = python_calamine.CalamineWorkbook.from_path(str(path))
    assert workbook.sheet_names == ["First", "Second"]
    assert workbook.get_sheet_by_name("First").to_python() == [
        ["a", "b", "c", "d"],
        [1.0, "ü text", True, dt.date(2024, 5, 1)],
        [2.5, "", False, dt.datetime(2024, 5, 2, 13, 45)],
        ["", "x", "", 45415.0],  # a bare serial number stays a number
    ]
    assert workbook.get_sheet_by_name("Second").to_python() == [["x"]]


def test_serial_and_text_dates_become_dates_and_timestamps(tmp_path: Path) -> None:
    source = write_workbook(
        tmp_path / "dates.xlsb",  # no styles: dates are the serial numbers Excel stores
        [
            ["day", "at"],
            [excel_serial(dt.date(2024, 1, 31)), excel_serial(dt.datetime(2024, 1, 31, 6, 30))],
            ["03/02/2024", "2024-02-03 07:45:00"],
            ["2024-02-04", "04/02/2024"],
        ],
    )
    output = tmp_path / "d.parquet"
    collect(
        [source],
        output,
        {"day": "date", "at": "timestamp"},
        formats=["%d/%m/%Y"],
        lineage=False,
    )
    assert rows(output) == [
        {"day": dt.date(2024, 1, 31), "at": dt.datetime(2024, 1, 31, 6, 30)},
        {"day": dt.date(2024, 2, 3), "at": dt.datetime(2024, 2, 3, 7, 45)},
        {"day": dt.date(2024, 2, 4), "at": dt.datetime(2024, 2, 4)},
    ]


def test_headers_are_trimmed_matched_in_any_case_and_renamed(tmp_path: Path) -> None:
    source = write_workbook(
        tmp_path / "r.xlsx",
        [["  RECORD date ", "ITEMCODE", "qty", "Remarks", "price"], [45000, "x", 3, "hi", 1]],
    )
    output = tmp_path / "r.parquet"
    result = collect(
        [source],
        output,
        COLUMNS,
        rename={"Record Date": "recordDate", "QTY": "quantity"},
        lineage=False,
    )
    assert rows(output) == [
        {"recordDate": dt.date(2023, 3, 15), "itemCode": "x", "quantity": 3, "price": 1.0}
    ]
    assert result.ignored == {str(source): ("Remarks",)}
    assert result.details()["ignored_columns"] == {str(source): ["Remarks"]}


def test_missing_columns_are_nulls_and_said(tmp_path: Path) -> None:
    source = write_workbook(tmp_path / "r.ods", [["itemCode"], ["a"], ["b"]])
    output = tmp_path / "r.parquet"
    result = collect([source], output, COLUMNS, lineage=False)
    assert rows(output) == [
        {"recordDate": None, "itemCode": "a", "quantity": None, "price": None},
        {"recordDate": None, "itemCode": "b", "quantity": None, "price": None},
    ]
    assert result.missing == {str(source): ("recordDate", "quantity", "price")}
    table = pq.read_table(output)
    assert [str(t) for t in table.schema.types] == ["date32[day]", "string", "int64", "double"]


def test_blank_rows_are_left_out_and_header_row_is_honoured(tmp_path: Path) -> None:
    source = write_workbook(
        tmp_path / "r.xlsx",
        [["Monthly report"], [], ["itemCode", "quantity"], ["a", 1], [None, None], ["b", 2]],
    )
    output = tmp_path / "r.parquet"
    collect([source], output, {"itemCode": "string", "quantity": "int"}, header_row=3)
    assert [r["itemCode"] for r in rows(output)] == ["a", "b"]


def test_dedupe_by_keys_keeps_the_last_by_file_order_and_counts(tmp_path: Path) -> None:
    day = dt.date(2024, 5, 1)
    first = report(tmp_path, "2024-05.xlsx", [[day, "a", 1, 1.0], [day, "b", 2, 1.0]])
    second = report(tmp_path, "2024-06.xlsx", [[day, "a", 10, 1.0], [day, "c", 3, 1.0]])
    output = tmp_path / "r.parquet"
    result = collect(
        [second, first],  # given out of order: read in sorted path order all the same
        output,
        COLUMNS,
        rename={"Record Date": "recordDate"},
        dedupe=["recordDate", "itemCode"],
    )
    assert result.files == (str(first), str(second))
    assert result.duplicates == 1
    got = {(r["itemCode"], r["quantity"], r["source_file"]) for r in rows(output)}
    assert got == {("b", 2, str(first)), ("a", 10, str(second)), ("c", 3, str(second))}


def test_dedupe_true_removes_whole_rows_whatever_file_they_came_from(tmp_path: Path) -> None:
    day = dt.date(2024, 5, 1)
    first = report(tmp_path, "a.xlsx", [[day, "a", 1, 1.0], [day, "a", 1, 1.0]])
    second = report(tmp_path, "b.xlsb", [[day, "a", 1, 1.0], [day, "a", 2, 1.0]])
    output = tmp_path / "r.parquet"
    result = collect(
        [first, second], output, COLUMNS, rename={"Record Date": "recordDate"}, dedupe=True
    )
    assert result.duplicates == 2
    assert sorted(r["quantity"] for r in rows(output)) == [1, 2]  # type: ignore[type-var]


def test_an_unchanged_collect_leaves_the_file_alone(tmp_path: Path) -> None:
    source = report(tmp_path, "r.xlsx", [[dt.date(2024, 5, 1), "a", 1, 1.0]])
    output = tmp_path / "r.parquet"
    first = collect([source], output, COLUMNS, rename={"Record Date": "recordDate"})
    before = os.stat(output)
    second = collect([source], output, COLUMNS, rename={"Record Date": "recordDate"})
    after = os.stat(output)
    assert first.changed
    assert not second.changed
    assert second.details()["status"] == "unchanged"
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert not previous_path(output).exists()  # nothing replaced, so nothing kept


def test_a_changed_report_rewrites_and_keeps_the_previous_version(tmp_path: Path) -> None:
    source = report(tmp_path, "r.xlsx", [[dt.date(2024, 5, 1), "a", 1, 1.0]])
    output = tmp_path / "r.parquet"
    first = collect([source], output, COLUMNS, rename={"Record Date": "recordDate"})
    report(tmp_path, "r.xlsx", [[dt.date(2024, 5, 1), "a", 2, 1.0]])
    second = collect([source], output, COLUMNS, rename={"Record Date": "recordDate"})
    assert second.changed
    assert second.content_hash != first.content_hash
    assert [r["quantity"] for r in rows(output)] == [2]
    assert read_hash(previous_path(output)) == first.content_hash
    assert [r["quantity"] for r in rows(previous_path(output))] == [1]


def test_order_by_makes_the_hash_stable_across_row_order(tmp_path: Path) -> None:
    body = [[dt.date(2024, 5, d), f"i{d}", d, 1.0] for d in range(1, 6)]
    one = report(tmp_path / "one", "r.xlsx", body)
    other = report(tmp_path / "other", "r.xlsx", list(reversed(body)))
    kwargs = {"rename": {"Record Date": "recordDate"}, "lineage": False}
    ordered = [
        collect([f], tmp_path / f"{i}.parquet", COLUMNS, order_by=["recordDate"], **kwargs)
        for i, f in enumerate((one, other))
    ]
    unordered = [
        collect([f], tmp_path / f"u{i}.parquet", COLUMNS, **kwargs)
        for i, f in enumerate((one, other))
    ]
    assert ordered[0].content_hash == ordered[1].content_hash
    assert unordered[0].content_hash != unordered[1].content_hash
    assert [r["quantity"] for r in rows(tmp_path / "1.parquet")] == [1, 2, 3, 4, 5]


def test_a_value_that_does_not_cast_names_file_sheet_row_and_column(tmp_path: Path) -> None:
    source = report(
        tmp_path,
        "june.xlsb",
        [[45000, "a", 1, 1.0], [None, None, None, None], [45001, "b", "lots", 2.0]],
    )
    output = tmp_path / "r.parquet"
    with pytest.raises(BadWorkbook) as caught:
        collect([source], output, COLUMNS, rename={"Record Date": "recordDate"})
    message = caught.value.message
    assert (
        message == f"{source}, sheet 'Data', row 4, column 'Quantity': 'lots' is not a whole number"
    )
    assert caught.value.hint is not None
    assert "declare quantity as string in columns:" in caught.value.hint  # the key, not the header
    assert not output.exists()
    assert list(tmp_path.iterdir()) == [source]  # no temp file, no folder


def test_a_text_date_in_no_known_format_is_a_bad_value(tmp_path: Path) -> None:
    source = report(tmp_path, "r.xlsx", [["31.01.2024", "a", 1, 1.0]])
    with pytest.raises(BadWorkbook) as caught:
        collect([source], tmp_path / "r.parquet", COLUMNS, rename={"Record Date": "recordDate"})
    assert "row 2, column 'Record Date': '31.01.2024' is not a date" in caught.value.message
    assert caught.value.hint is not None
    assert "formats:" in caught.value.hint


def test_a_missing_sheet_names_the_sheets_there_are(tmp_path: Path) -> None:
    source = report(tmp_path, "r.xlsx", [[45000, "a", 1, 1.0]])
    with pytest.raises(BadWorkbook) as caught:
        collect([source], tmp_path / "r.parquet", COLUMNS, sheet="Summary")
    assert caught.value.message == f"{source}: has no sheet 'Summary' (it has 1: 'Data')"
    with pytest.raises(BadWorkbook, match="has no sheet number 3"):
        collect([source], tmp_path / "r.parquet", COLUMNS, sheet=3)


def test_a_corrupt_or_encrypted_file_is_a_bad_workbook(tmp_path: Path) -> None:
    corrupt = tmp_path / "broken.xlsx"
    corrupt.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(BadWorkbook) as caught:
        collect([corrupt], tmp_path / "r.parquet", COLUMNS)
    assert caught.value.message.startswith(f"{corrupt}: is not a readable .xlsx workbook")
    # An encrypted .xlsx is an OLE compound file holding the encrypted package
    encrypted = tmp_path / "locked.xlsx"
    encrypted.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504)
    with pytest.raises(BadWorkbook) as caught:
        collect([encrypted], tmp_path / "r.parquet", COLUMNS)
    assert "is password-protected" in caught.value.message
    assert not (tmp_path / "r.parquet").exists()


def test_on_bad_file_skip_leaves_the_file_out_and_lists_it(tmp_path: Path) -> None:
    good = report(tmp_path, "a.xlsx", [[45000, "a", 1, 1.0]])
    bad = report(tmp_path, "b.xlsx", [[45000, "b", "many", 1.0]])
    broken = tmp_path / "c.xls"
    broken.write_bytes(b"nonsense")
    output = tmp_path / "r.parquet"
    result = collect(
        [good, bad, broken],
        output,
        COLUMNS,
        rename={"Record Date": "recordDate"},
        on_bad_file="skip",
    )
    assert result.files == (str(good),)
    assert [s.file for s in result.skipped] == [str(bad), str(broken)]
    assert "row 2, column 'Quantity': 'many' is not a whole number" in result.skipped[0].reason
    assert set(result.details()["skipped"]) == {str(bad), str(broken)}
    assert [r["itemCode"] for r in rows(output)] == ["a"]


def test_when_every_file_is_bad_nothing_replaces_the_output(tmp_path: Path) -> None:
    good = report(tmp_path, "a.xlsx", [[45000, "a", 1, 1.0]])
    output = tmp_path / "r.parquet"
    collect([good], output, COLUMNS, rename={"Record Date": "recordDate"})
    before = output.read_bytes()
    report(tmp_path, "a.xlsx", [[45000, "a", "x", 1.0]])
    with pytest.raises(PermanentError, match="every file was bad"):
        collect([good], output, COLUMNS, rename={"Record Date": "recordDate"}, on_bad_file="skip")
    assert output.read_bytes() == before


def test_restore_says_an_intact_output_is_the_last_good_version(tmp_path: Path) -> None:
    source = report(tmp_path, "r.xlsx", [[45000, "a", 1, 1.0]])
    output = tmp_path / "r.parquet"
    collect([source], output, COLUMNS)
    before = output.read_bytes()
    assert "is intact" in restore_output(output)
    assert output.read_bytes() == before


def test_restore_puts_back_the_previous_version_of_a_damaged_or_missing_output(
    tmp_path: Path,
) -> None:
    source = report(tmp_path, "r.xlsx", [[45000, "a", 1, 1.0]])
    output = tmp_path / "r.parquet"
    first = collect([source], output, COLUMNS)
    report(tmp_path, "r.xlsx", [[45000, "a", 2, 1.0]])
    collect([source], output, COLUMNS)
    # other values under the footer's hash: the content no longer matches it
    table = pq.read_table(output)
    other = table.set_column(2, "quantity", pa.array([99], pa.int64()))
    pq.write_table(other.replace_schema_metadata(table.schema.metadata), output)
    assert read_hash(output) is not None
    assert not verify(output)
    assert "was damaged" in restore_output(output)
    assert read_hash(output) == first.content_hash
    assert verify(output)
    output.write_bytes(output.read_bytes()[:100])  # cut short: no footer at all
    assert "was damaged" in restore_output(output)
    output.unlink()
    assert "was missing" in restore_output(output)
    assert verify(output)


def test_restore_without_any_good_version_fails(tmp_path: Path) -> None:
    output = tmp_path / "r.parquet"
    with pytest.raises(PermanentError, match="no good version of"):
        restore_output(output)
    output.write_bytes(b"PAR1 damaged")
    with pytest.raises(PermanentError, match="it is damaged"):
        restore_output(output)


def test_every_column_type_casts_from_what_cells_hold(tmp_path: Path) -> None:
    from decimal import Decimal

    source = write_workbook(
        tmp_path / "types.xlsx",
        [
            ["flag", "amount", "at", "when", "code", "big", "ok"],
            ["yes", 1.005, dt.datetime(2024, 1, 1, 6, 30), "2024-01-01 10:00:00", 123, 7, True],
            ["N", "2.5", 0.25, dt.datetime(2024, 1, 2), "00123", "12", False],
        ],
    )
    output = tmp_path / "t.parquet"
    columns = {
        "flag": "bool",
        "amount": "decimal(10,2)",
        "at": "time",
        "when": "timestamptz",
        "code": "string",
        "big": "bigint",
        "ok": "boolean",
    }
    collect([source], output, columns, lineage=False)
    got = rows(output)
    assert [r["flag"] for r in got] == [True, False]
    assert [r["amount"] for r in got] == [Decimal("1.00"), Decimal("2.50")]  # half-even
    assert [r["at"] for r in got] == [dt.time(6, 30), dt.time(6, 0)]  # 0.25 of a day
    assert [r["when"] for r in got] == [
        dt.datetime(2024, 1, 1, 10, tzinfo=dt.UTC),
        dt.datetime(2024, 1, 2, tzinfo=dt.UTC),
    ]
    assert [r["code"] for r in got] == ["123", "00123"]  # a number as a spreadsheet shows it
    assert [r["big"] for r in got] == [7, 12]
    assert [r["ok"] for r in got] == [True, False]


def test_a_fraction_in_an_int_column_is_a_bad_value(tmp_path: Path) -> None:
    source = write_workbook(tmp_path / "r.ods", [["quantity"], [1], [2.5]])
    with pytest.raises(BadWorkbook) as caught:
        collect([source], tmp_path / "r.parquet", {"quantity": "int"})
    assert caught.value.message.endswith("row 3, column 'quantity': 2.5 is not a whole number")


def test_a_damaged_output_is_written_again_even_when_the_reports_did_not_change(
    tmp_path: Path,
) -> None:
    source = report(tmp_path, "r.xlsx", [[45000, "a", 1, 1.0]])
    output = tmp_path / "r.parquet"
    first = collect([source], output, COLUMNS)
    table = pq.read_table(output)
    other = table.set_column(2, "quantity", pa.array([99], pa.int64()))
    pq.write_table(other.replace_schema_metadata(table.schema.metadata), output)
    again = collect([source], output, COLUMNS)
    assert again.changed
    assert again.content_hash == first.content_hash
    assert verify(output)
    assert [r["quantity"] for r in rows(output)] == [1]


def test_a_workbook_as_people_make_them(tmp_path: Path) -> None:
    """A title merged over the columns, the header on row 3, number and date formats, a
    formatted total row below a gap, styled empty rows at the end, a hidden sheet first."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    workbook = Workbook()
    hidden = workbook.active
    assert hidden is not None
    hidden.title = "lookup"
    hidden.sheet_state = "hidden"
    hidden.append(["code", "name"])
    sheet = workbook.create_sheet("Report")
    sheet["A1"] = "Production report, May 2024"
    sheet.merge_cells("A1:D1")
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append([])
    sheet.append(["Record Date", "Item Code", "Good Qty", "Price"])
    for day, code, qty, price in [(1, "A1", 120, 1.5), (2, "B2", 80, 2.25)]:
        sheet.append([dt.datetime(2024, 5, day), code, qty, price])
        sheet.cell(sheet.max_row, 1).number_format = "dd/mm/yyyy"
        sheet.cell(sheet.max_row, 4).number_format = "#,##0.00"
    for row in range(sheet.max_row + 1, sheet.max_row + 20):  # formatted, never filled
        sheet.cell(row, 1).fill = PatternFill("solid", fgColor="FFFF00")
    path = tmp_path / "may.xlsx"
    workbook.save(path)

    output = tmp_path / "r.parquet"
    result = collect(
        [path],
        output,
        COLUMNS,
        sheet="report",
        header_row=3,
        rename={"Record Date": "recordDate", "Item Code": "itemCode", "Good Qty": "quantity"},
        lineage=False,
    )
    assert result.rows == 2
    assert not result.ignored
    assert not result.missing
    assert rows(output) == [
        {"recordDate": dt.date(2024, 5, 1), "itemCode": "A1", "quantity": 120, "price": 1.5},
        {"recordDate": dt.date(2024, 5, 2), "itemCode": "B2", "quantity": 80, "price": 2.25},
    ]


def test_an_empty_column_or_sheet_is_nulls_and_no_rows_without_library_words(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    filled = write_workbook(tmp_path / "a.xlsb", [["itemCode", "price"], ["a", None], ["b", None]])
    empty = write_workbook(tmp_path / "b.xlsx", [["itemCode", "price"]])
    output = tmp_path / "r.parquet"
    with caplog.at_level(logging.DEBUG):
        result = collect([filled, empty], output, COLUMNS, lineage=False)
    assert result.rows_per_file == {str(filled): 2, str(empty): 0}
    assert [(r["itemCode"], r["price"]) for r in rows(output)] == [("a", None), ("b", None)]
    assert not [r for r in caplog.records if r.name.startswith("fastexcel")]
