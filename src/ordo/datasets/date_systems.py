"""Which day a workbook's serial number 0 is: its date system.

A date cell is stored as a number of days, counted in the 1900 date system (day 0 is
1899-12-30) or, in workbooks made by Excel for the Mac before 2011 and in any workbook with
"Use 1904 date system" ticked, in the 1904 one (day 0 is 1904-01-01): the same number is a
date 1,462 days later in the first. calamine reads date-formatted cells in the right system
but does not say which it found, and a bare number in a date column (a date typed without
its format) must be counted in the same system, so this module reads the workbook's own
setting: ``date1904`` in an .xlsx's workbook part, the first flag of an .xlsb's workbook
properties record, the DATEMODE record of an .xls, an .ods's ``table:null-date``. Whatever
cannot be read says 1900, the system almost every workbook uses.
"""

from __future__ import annotations

import datetime as dt
import mmap
import re
import struct
import zipfile
from pathlib import Path

__all__ = ["DAY_ZERO_1900", "DAY_ZERO_1904", "day_zero"]

DAY_ZERO_1900 = dt.date(1899, 12, 30)
DAY_ZERO_1904 = dt.date(1904, 1, 1)

_DATE1904 = re.compile(rb"<(?:\w+:)?workbookPr\b[^>]*?\bdate1904\s*=\s*[\"'](?:1|true)[\"']")
_NULL_DATE = re.compile(rb"<table:null-date\b[^>]*?\btable:date-value\s*=\s*[\"'](\d{4}-\d\d-\d\d)")
_RELATIONSHIP = re.compile(rb"<(?:\w+:)?Relationship\b([^>]*)>")
_ATTRIBUTE = re.compile(rb"(\w+)\s*=\s*[\"']([^\"']*)[\"']")
_FIRST_TABLE = re.compile(rb"<table:table[\s>]")
_WB_PROP = 0x0099  # BrtWbProp (MS-XLSB 2.4.820): its first bit is f1904
_DATEMODE, _BIFF_EOF = 0x0022, 0x000A  # MS-XLS 2.4.77 Date1904, 2.4.103 EOF
_GLOBALS_READ = 1 << 16


def day_zero(path: Path) -> dt.date:
    """The date that serial number 0 stands for in the workbook at ``path``."""
    try:
        suffix = path.suffix.lower()
        if suffix in (".xlsx", ".xlsm", ".xlsb"):
            return DAY_ZERO_1904 if _zipped_1904(path) else DAY_ZERO_1900
        if suffix == ".xls":  # mapped, not read: only the sectors on the way are touched
            with (
                path.open("rb") as file,
                mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data,
            ):
                return DAY_ZERO_1904 if _xls_1904(data) else DAY_ZERO_1900
        if suffix == ".ods":
            return _ods_day_zero(path)
    except (OSError, zipfile.BadZipFile, KeyError, ValueError, struct.error, IndexError):
        pass  # not readable as its kind says: the reading of its cells says what is wrong
    return DAY_ZERO_1900


def _zipped_1904(path: Path) -> bool:
    with zipfile.ZipFile(path) as z:
        part = _main_part(z)
        data = z.read(part)
    if part.endswith(".bin"):
        return _xlsb_1904(data)
    return _DATE1904.search(data) is not None


def _main_part(z: zipfile.ZipFile) -> str:
    """The workbook part, as the package's relationships name it (``xl/workbook.xml`` or
    ``xl/workbook.bin`` as Excel writes them). Each relationship is one empty element of
    two attributes that matter: a pattern reads them (an XML parser costs more to import
    than the whole of this module)."""
    for element in _RELATIONSHIP.findall(z.read("_rels/.rels")):
        attributes: dict[bytes, bytes] = dict(_ATTRIBUTE.findall(element))
        if attributes.get(b"Type", b"").endswith(b"/officeDocument"):
            return attributes.get(b"Target", b"").decode().lstrip("/")
    names = set(z.namelist())
    return "xl/workbook.bin" if "xl/workbook.bin" in names else "xl/workbook.xml"


def _xlsb_1904(data: bytes) -> bool:
    """Walk the BIFF12 records (a 7-bit varint type of at most 2 bytes, a 7-bit varint
    size) to the workbook properties."""
    at = 0
    while at < len(data):
        kind = data[at] & 0x7F
        if data[at] & 0x80:
            at += 1
            kind |= (data[at] & 0x7F) << 7
        at += 1
        size = shift = 0
        for _ in range(4):
            byte = data[at]
            at += 1
            size |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        if kind == _WB_PROP:
            return bool(struct.unpack_from("<I", data, at)[0] & 1)
        at += size
    return False


def _xls_1904(data: bytes | mmap.mmap) -> bool:
    """The DATEMODE record of the workbook globals, in the ``Workbook`` stream of the
    Compound File (MS-CFB): header, FAT, directory, then the stream's sector chain. The
    record comes early in the globals, before the fonts and formats: the stream's first
    64 KB are read, not the whole (the sheets' cells follow)."""
    stream = _cfb_stream(data, ("Workbook", "Book"), _GLOBALS_READ)
    at = 0
    while at + 4 <= len(stream):
        kind, size = struct.unpack_from("<HH", stream, at)
        if kind == _DATEMODE:
            return bool(struct.unpack_from("<H", stream, at + 4)[0] == 1)
        if kind == _BIFF_EOF:
            return False
        at += 4 + size
    return False


def _cfb_stream(data: bytes | mmap.mmap, names: tuple[str, ...], limit: int) -> bytes:
    """Up to ``limit`` bytes from the start of the first stream called one of ``names``."""
    sector = 1 << int(struct.unpack_from("<H", data, 30)[0])
    mini_sector = 1 << int(struct.unpack_from("<H", data, 32)[0])
    (directory_start,) = struct.unpack_from("<I", data, 48)
    cutoff, mini_fat_start, _, difat_start, difat_count = struct.unpack_from("<IIIII", data, 56)

    def at(index: int) -> int:
        return (index + 1) * sector

    fat_sectors = [s for s in struct.unpack_from("<109I", data, 76) if s < 0xFFFFFFFA]
    for _ in range(difat_count):  # DIFAT sectors: more FAT sector numbers, then the next one
        listed = struct.unpack_from(f"<{sector // 4}I", data, at(difat_start))
        fat_sectors += [s for s in listed[:-1] if s < 0xFFFFFFFA]
        difat_start = listed[-1]
    fat: list[int] = []
    for s in fat_sectors:
        fat += struct.unpack_from(f"<{sector // 4}I", data, at(s))

    def chain(start: int, table: list[int], most: int | None = None) -> list[int]:
        """The sectors from ``start`` (at most ``most``); a loop in a damaged file ends."""
        out: list[int] = []
        while start < 0xFFFFFFFA and len(out) <= len(table) and len(out) != most:
            out.append(start)
            start = table[start]
        return out

    directory = b"".join(data[at(s) : at(s) + sector] for s in chain(directory_start, fat))
    entries = [directory[i : i + 128] for i in range(0, len(directory), 128)]
    (root_start,) = struct.unpack_from("<I", entries[0], 116)
    for entry in entries:
        (length,) = struct.unpack_from("<H", entry, 64)
        name = entry[: max(length - 2, 0)].decode("utf-16-le", "replace")
        if name not in names:
            continue
        start, size = struct.unpack_from("<II", entry, 116)
        if size >= cutoff:
            sectors = chain(start, fat, -(-limit // sector))
            return b"".join(data[at(s) : at(s) + sector] for s in sectors)[: min(size, limit)]
        mini_fat: list[int] = []
        for s in chain(mini_fat_start, fat):
            mini_fat += struct.unpack_from(f"<{sector // 4}I", data, at(s))
        mini = b"".join(data[at(s) : at(s) + sector] for s in chain(root_start, fat))
        body = b"".join(
            mini[s * mini_sector : (s + 1) * mini_sector] for s in chain(start, mini_fat)
        )
        return body[:size]
    return b""


def _ods_day_zero(path: Path) -> dt.date:
    """``table:null-date`` sits in the calculation settings, before the first table: the
    content is read up to there, not whole (it holds every cell)."""
    seen = b""
    with zipfile.ZipFile(path) as z, z.open("content.xml") as content:
        while chunk := content.read(1 << 16):
            seen += chunk
            found = _NULL_DATE.search(seen)
            if found:
                return dt.date.fromisoformat(found.group(1).decode())
            if _FIRST_TABLE.search(seen):
                break
    return DAY_ZERO_1900
