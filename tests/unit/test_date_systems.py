"""A workbook's date system (``ordo.datasets.date_systems``), read from every format's own
setting, and a collect step counting bare serial numbers in it."""

from __future__ import annotations

import datetime as dt
import struct
import zipfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from ordo.datasets.collecting import collect
from ordo.datasets.date_systems import DAY_ZERO_1900, DAY_ZERO_1904, day_zero
from tests.support.workbooks import excel_serial, write_workbook

FORMATS = ("xlsx", "xlsm", "xlsb", "xls", "ods")
MARCH_15 = dt.date(2024, 3, 15)


@pytest.mark.parametrize("suffix", FORMATS)
@pytest.mark.parametrize("date1904", [False, True], ids=["1900", "1904"])
def test_each_format_says_its_date_system(tmp_path: Path, suffix: str, date1904: bool) -> None:
    path = write_workbook(tmp_path / f"w.{suffix}", [["day"], [MARCH_15]], date1904=date1904)
    assert day_zero(path) == (DAY_ZERO_1904 if date1904 else DAY_ZERO_1900)


@pytest.mark.parametrize("suffix", FORMATS)
def test_a_1904_workbook_counts_bare_serial_numbers_from_1904(tmp_path: Path, suffix: str) -> None:
    """A date cell and a date typed as a bare number (no date format), side by side: both
    are the 15th of March 2024, where the 1900 system would make the number 2028."""
    source = write_workbook(
        tmp_path / f"mac.{suffix}",
        [
            ["day", "at"],
            [MARCH_15, excel_serial(dt.datetime(2024, 3, 15, 6, 30), date1904=True)],
            [excel_serial(MARCH_15, date1904=True), "2024-03-15 07:45:00"],
            [0, "2024-03-15 08:00:00"],  # day 0 of the 1904 system is a date: 1904-01-01
        ],
        date1904=True,
    )
    output = tmp_path / "d.parquet"
    collect([source], output, {"day": "date", "at": "timestamp"}, lineage=False)
    assert pq.read_table(output).to_pylist() == [
        {"day": MARCH_15, "at": dt.datetime(2024, 3, 15, 6, 30)},
        {"day": MARCH_15, "at": dt.datetime(2024, 3, 15, 7, 45)},
        {"day": dt.date(1904, 1, 1), "at": dt.datetime(2024, 3, 15, 8)},
    ]


def test_the_workbook_part_is_found_by_its_relationship(tmp_path: Path) -> None:
    """Whatever the part is called and whatever relationships come before it (their types
    say officeDocument too, as the package's namespace)."""
    rels = (
        '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
        'package/2006/relationships"><Relationship Id="rId2" Type="http://schemas.openxml'
        'formats.org/officeDocument/2006/relationships/extended-properties" Target="docProps/'
        "app.xml\"/><Relationship Target='/book/main.xml' Id='rId1' Type='http://purl.oclc.org"
        "/ooxml/officeDocument/relationships/officeDocument'/></Relationships>"
    )
    path = tmp_path / "renamed.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("_rels/.rels", rels)
        z.writestr("docProps/app.xml", "<Properties/>")
        z.writestr("book/main.xml", '<x:workbook><x:workbookPr date1904="true"/></x:workbook>')
    assert day_zero(path) == DAY_ZERO_1904


def test_an_ods_null_date_of_its_own_is_day_zero(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "w.ods", [["day"], [1.0]])
    with zipfile.ZipFile(path) as z:
        parts = {name: z.read(name) for name in z.namelist()}
    parts["content.xml"] = parts["content.xml"].replace(
        b"<office:spreadsheet>",
        b"<office:spreadsheet><table:calculation-settings><table:null-date "
        b'table:date-value="1899-12-31"/></table:calculation-settings>',
    )
    with zipfile.ZipFile(path, "w") as z:
        for name, data in parts.items():
            z.writestr(name, data)
    assert day_zero(path) == dt.date(1899, 12, 31)


def test_an_xls_whose_workbook_stream_is_in_the_mini_stream(tmp_path: Path) -> None:
    """A workbook stream under 4,096 bytes lives in the Compound File's mini stream."""
    biff = (
        struct.pack("<HH", 0x0809, 16) + b"\0" * 16  # BOF
        + struct.pack("<HHH", 0x0022, 2, 1)  # DATEMODE: 1904
        + struct.pack("<HH", 0x000A, 0)  # EOF
    )  # fmt: skip
    path = tmp_path / "tiny.xls"
    path.write_bytes(_compound_file(biff))
    assert day_zero(path) == DAY_ZERO_1904
    path.write_bytes(_compound_file(biff.replace(struct.pack("<HHH", 0x0022, 2, 1), b"")))
    assert day_zero(path) == DAY_ZERO_1900


@pytest.mark.parametrize("suffix", FORMATS)
def test_a_file_that_is_not_its_format_says_1900(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"bad.{suffix}"
    path.write_bytes(b"not a workbook at all")
    assert day_zero(path) == DAY_ZERO_1900
    assert day_zero(tmp_path / f"missing.{suffix}") == DAY_ZERO_1900


def _compound_file(stream: bytes) -> bytes:
    """A version 3 Compound File (512-byte sectors): sector 0 the FAT, 1 the directory,
    2 the mini FAT, 3 the mini stream holding ``stream`` (64-byte mini sectors)."""
    end, free, fat_sector = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD
    minis = (len(stream) + 63) // 64
    header = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 16
        + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + b"\0" * 6
        + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, 2, 1, end, 0)
        + struct.pack("<109I", 0, *[free] * 108)
    )  # fmt: skip
    fat = struct.pack("<128I", fat_sector, end, end, end, *[free] * 124)
    mini_fat = struct.pack("<128I", *range(1, minis), end, *[free] * (128 - minis))

    def entry(name: str, kind: int, start: int, size: int, child: int = free) -> bytes:
        encoded = (name + "\0").encode("utf-16-le")
        return (
            encoded.ljust(64, b"\0") + struct.pack("<HBB", len(encoded), kind, 1)
            + struct.pack("<III", free, free, child) + b"\0" * 36
            + struct.pack("<IQ", start, size)
        )  # fmt: skip

    directory = (
        entry("Root Entry", 5, 3, minis * 64, child=1) + entry("Workbook", 2, 0, len(stream))
    ).ljust(512, b"\0")
    mini_stream = stream.ljust(512, b"\0")
    return header + fat + directory + mini_fat + mini_stream
