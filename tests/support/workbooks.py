"""Workbooks of every format a collect step reads, written for tests: .xlsx, .xlsm, .xls,
.ods and .xlsb.

.xlsx and .xlsm come from openpyxl (dates as real date cells), .xls from xlwt. No Python
library writes .ods or .xlsb, so both are made here: an .ods is a zip holding ``content.xml``;
an .xlsb is a zip of BIFF12 record streams (each record a 7-bit varint type, a 7-bit varint
size, then its payload), with only the records a reader needs: a workbook listing the sheets
(BrtBeginBook, BrtBeginBundleShs, BrtBundleSh, BrtEndBundleShs, BrtEndBook) and each sheet's
cells (BrtBeginSheet, BrtWsDim, BrtBeginSheetData, BrtRowHdr, BrtCellReal, BrtCellSt,
BrtCellBool, BrtCellBlank, BrtEndSheetData, BrtEndSheet), and a styles part of three cell
formats (BrtBeginCellXFs, BrtXF, BrtEndCellXFs) so that a date is a serial number in a date
format, as Excel writes it; a float given as such stays a bare serial number.
"""

from __future__ import annotations

import datetime as dt
import struct
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

__all__ = ["Rows", "excel_serial", "write_workbook"]

Rows = Sequence[Sequence[object]]

_EXCEL_EPOCH = dt.datetime(1899, 12, 30)
_EPOCH_1904 = dt.datetime(1904, 1, 1)


def excel_serial(value: dt.date | dt.datetime, *, date1904: bool = False) -> float:
    """The number Excel stores for ``value`` (1900 date system, or the 1904 one)."""
    if not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day)
    return (value - (_EPOCH_1904 if date1904 else _EXCEL_EPOCH)) / dt.timedelta(days=1)


def write_workbook(
    path: Path, sheets: Mapping[str, Rows] | Rows, *, date1904: bool = False
) -> Path:
    """Write ``sheets`` (name: rows; or the rows of one sheet called ``Sheet1``) in the format
    ``path``'s suffix names. Values: str, int, float, bool, date, datetime or None.
    ``date1904``: the workbook counts dates in the 1904 date system (an .ods: its null date
    is 1904-01-01)."""
    named = {"Sheet1": sheets} if not isinstance(sheets, Mapping) else dict(sheets)
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        _write_openpyxl(path, named, date1904)
    elif suffix == ".xls":
        _write_xls(path, named, date1904)
    elif suffix == ".ods":
        _write_ods(path, named, date1904)
    elif suffix == ".xlsb":
        _write_xlsb(path, named, date1904)
    else:
        raise ValueError(f"no writer for {suffix}")
    return path


def _write_openpyxl(path: Path, sheets: Mapping[str, Rows], date1904: bool) -> None:
    from openpyxl import Workbook
    from openpyxl.utils.datetime import CALENDAR_MAC_1904

    workbook = Workbook()
    if date1904:
        workbook.epoch = CALENDAR_MAC_1904
    workbook.remove(workbook.active)  # type: ignore[arg-type]
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(list(row))
    workbook.save(path)


def _write_xls(path: Path, sheets: Mapping[str, Rows], date1904: bool) -> None:
    import xlwt  # type: ignore[import-untyped]

    workbook = xlwt.Workbook()
    workbook.dates_1904 = date1904
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    stamp_style = xlwt.easyxf(num_format_str="YYYY-MM-DD HH:MM:SS")
    for name, rows in sheets.items():
        sheet = workbook.add_sheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, dt.datetime):
                    sheet.write(r, c, value, stamp_style)
                elif isinstance(value, dt.date):
                    sheet.write(r, c, value, date_style)
                else:
                    sheet.write(r, c, value)
    workbook.save(str(path))


# -- .ods ------------------------------------------------------------------------------------

_ODS_MANIFEST = """<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"
 manifest:version="1.2">
 <manifest:file-entry manifest:full-path="/"
  manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>
 <manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>
</manifest:manifest>"""
_ODS_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"'
)


def _write_ods(path: Path, sheets: Mapping[str, Rows], date1904: bool) -> None:
    tables = []
    for name, rows in sheets.items():
        body = "".join(
            "<table:table-row>" + "".join(_ods_cell(v) for v in row) + "</table:table-row>"
            for row in rows
        )
        tables.append(f"<table:table table:name={quoteattr(name)}>{body}</table:table>")
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {_ODS_NS}>'
        f"<office:body><office:spreadsheet>{_ODS_1904 if date1904 else ''}{''.join(tables)}"
        "</office:spreadsheet>"
        "</office:body></office:document-content>"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        mimetype = "application/vnd.oasis.opendocument.spreadsheet"
        z.writestr(zipfile.ZipInfo("mimetype"), mimetype, compress_type=zipfile.ZIP_STORED)
        z.writestr("META-INF/manifest.xml", _ODS_MANIFEST)
        z.writestr("content.xml", content)


_ODS_1904 = (
    "<table:calculation-settings>"
    '<table:null-date table:date-value="1904-01-01"/></table:calculation-settings>'
)


def _ods_cell(value: object) -> str:
    if value is None:
        return "<table:table-cell/>"
    if isinstance(value, bool):
        text = "true" if value else "false"
        return (
            f'<table:table-cell office:value-type="boolean" office:boolean-value="{text}">'
            f"<text:p>{text.upper()}</text:p></table:table-cell>"
        )
    if isinstance(value, int | float):
        return (
            f'<table:table-cell office:value-type="float" office:value="{value!r}">'
            f"<text:p>{value}</text:p></table:table-cell>"
        )
    if isinstance(value, dt.date):
        iso = value.isoformat()
        return (
            f'<table:table-cell office:value-type="date" office:date-value="{iso}">'
            f"<text:p>{iso}</text:p></table:table-cell>"
        )
    return (
        f'<table:table-cell office:value-type="string"><text:p>{escape(str(value))}</text:p>'
        "</table:table-cell>"
    )


# -- .xlsb (BIFF12) --------------------------------------------------------------------------

_XLSB_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.bin"
 ContentType="application/vnd.ms-excel.sheet.binary.macroEnabled.main"/>
{sheets}
</Types>"""
_XLSB_SHEET_TYPE = (
    '<Override PartName="/xl/worksheets/sheet{n}.bin" '
    'ContentType="application/vnd.ms-excel.worksheet"/>'
)
_XLSB_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Target="xl/workbook.bin"
 Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"/>
</Relationships>"""
_WORKSHEET_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"

# record types (MS-XLSB 2.3.2)
_BEGIN_CELL_XFS, _XF, _END_CELL_XFS = 0x0269, 0x002F, 0x026A
# cell formats: 0 General; 1 a date (built-in number format 14), 2 a date and time (22)
_STYLE_DATE, _STYLE_STAMP = 1, 2
_ROW_HDR, _CELL_BLANK, _CELL_BOOL, _CELL_REAL, _CELL_ST = 0x0000, 0x0001, 0x0004, 0x0005, 0x0006
_BEGIN_SHEET, _END_SHEET, _BEGIN_BOOK, _END_BOOK = 0x0081, 0x0082, 0x0083, 0x0084
_BEGIN_SHEET_DATA, _END_SHEET_DATA, _WS_DIM = 0x0091, 0x0092, 0x0094
_BUNDLE_SH, _BEGIN_BUNDLE_SHS, _END_BUNDLE_SHS = 0x009C, 0x008F, 0x0090
_WB_PROP = 0x0099


def _write_xlsb(path: Path, sheets: Mapping[str, Rows], date1904: bool) -> None:
    names = list(sheets)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        types = "\n".join(_XLSB_SHEET_TYPE.format(n=i) for i in range(1, len(names) + 1))
        z.writestr("[Content_Types].xml", _XLSB_TYPES.format(sheets=types))
        z.writestr("_rels/.rels", _XLSB_RELS)
        z.writestr("xl/workbook.bin", _workbook_bin(names, date1904))
        z.writestr("xl/styles.bin", _styles_bin())
        rels = "".join(
            f'<Relationship Id="rId{i}" Type="{_WORKSHEET_REL}" Target="worksheets/sheet{i}.bin"/>'
            for i in range(1, len(names) + 1)
        )
        z.writestr(
            "xl/_rels/workbook.bin.rels",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns='
            f'"http://schemas.openxmlformats.org/package/2006/relationships">{rels}</Relationships>',
        )
        for i, name in enumerate(names, 1):
            z.writestr(f"xl/worksheets/sheet{i}.bin", _sheet_bin(sheets[name], date1904))


def _record(kind: int, payload: bytes = b"") -> bytes:
    """One BIFF12 record: type and size as 7-bit varints (type at most 2 bytes), payload."""
    head = bytearray()
    if kind < 0x80:
        head.append(kind)
    else:
        head += bytes([(kind & 0x7F) | 0x80, kind >> 7])
    size = len(payload)
    while True:
        byte = size & 0x7F
        size >>= 7
        head.append(byte | (0x80 if size else 0))
        if not size:
            break
    return bytes(head) + payload


def _wide(text: str) -> bytes:
    """An XLWideString: a character count, then UTF-16LE."""
    data = text.encode("utf-16-le")
    return struct.pack("<I", len(data) // 2) + data


def _workbook_bin(names: list[str], date1904: bool) -> bytes:
    # BrtWbProp: its flags (f1904 the first bit), the default theme version, the code name
    properties = struct.pack("<II", int(date1904), 0) + _wide("")
    out = [_record(_BEGIN_BOOK), _record(_WB_PROP, properties), _record(_BEGIN_BUNDLE_SHS)]
    for i, name in enumerate(names, 1):
        # hsState (visible), iTabID, strRelID, strName
        payload = struct.pack("<II", 0, i) + _wide(f"rId{i}") + _wide(name)
        out.append(_record(_BUNDLE_SH, payload))
    out += [_record(_END_BUNDLE_SHS), _record(_END_BOOK)]
    return b"".join(out)


def _styles_bin() -> bytes:
    """The cell formats the sheets use: General, a date, a date and time (BrtXF: the parent
    format, then the number format's id, then fonts, fills and flags left at zero)."""
    out = [_record(_BEGIN_CELL_XFS, struct.pack("<I", 3))]
    for number_format in (0, 14, 22):
        out.append(_record(_XF, struct.pack("<HH", 0xFFFF, number_format) + b"\0" * 12))
    out.append(_record(_END_CELL_XFS))
    return b"".join(out)


def _sheet_bin(rows: Rows, date1904: bool) -> bytes:
    width = max((len(row) for row in rows), default=1)
    last_row = max(len(rows) - 1, 0)
    out = [
        _record(_BEGIN_SHEET),
        _record(_WS_DIM, struct.pack("<IIII", 0, last_row, 0, max(width - 1, 0))),
        _record(_BEGIN_SHEET_DATA),
    ]
    for r, row in enumerate(rows):
        # rw, ixfe, miyRw (height in twips), flags (3 bytes), ccolspan = 0
        out.append(_record(_ROW_HDR, struct.pack("<IIH", r, 0, 300) + b"\x00\x00\x00" + b"\0" * 4))
        for c, value in enumerate(row):
            cell = struct.pack("<II", c, 0)  # column, style 0 and no flags
            if value is None:
                out.append(_record(_CELL_BLANK, cell))
            elif isinstance(value, bool):
                out.append(_record(_CELL_BOOL, cell + bytes([int(value)])))
            elif isinstance(value, int | float):
                out.append(_record(_CELL_REAL, cell + struct.pack("<d", float(value))))
            elif isinstance(value, dt.date):  # a number in a date format, as Excel keeps it
                style = _STYLE_STAMP if isinstance(value, dt.datetime) else _STYLE_DATE
                dated = struct.pack("<II", c, style)
                out.append(
                    _record(
                        _CELL_REAL,
                        dated + struct.pack("<d", excel_serial(value, date1904=date1904)),
                    )
                )
            else:
                out.append(_record(_CELL_ST, cell + _wide(str(value))))
    out += [_record(_END_SHEET_DATA), _record(_END_SHEET)]
    return b"".join(out)
