"""The workbooks of ``ordo init --example datasets``, made by the test writers.

They ship in ``src/ordo/project/datasets_example/database``; run this module to make them
again after a change (``uv run python -m tests.support.datasets_example``). They differ the
way people's reports do: one month in .xlsx with real date cells, two in .xlsb with Excel
serial numbers, one with text dates, headers in other cases, a column missing, one extra,
and a purchase order revised in a later file.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tests.support.workbooks import excel_serial, write_workbook

EXAMPLE = Path(__file__).resolve().parents[2] / "src" / "ordo" / "project" / "datasets_example"

REPORT_HEADER = [
    "Record Date",
    "Working Shift",
    "Machine No",
    "PO No",
    "Item Code",
    "Item Name",
    "Good Qty",
    "Bad Qty",
    "Resin Code",
]
ITEMS = [("10236M", "CT-CA-BASE-NL", "PP-0102"), ("24720326M", "AB-TP-BODY", "ABS-0021")]
MACHINES = ["NO.01", "NO.02", "NO.03"]


def report_rows(year: int, month: int, *, date_as: str) -> list[list[object]]:
    rows: list[list[object]] = []
    for day in (3, 10, 17):
        when = dt.date(year, month, day)
        for shift, machine, (code, name, resin) in zip(
            ("1", "2", "3"), MACHINES, ITEMS * 2, strict=False
        ):
            date: object = when
            if date_as == "serial":
                date = excel_serial(when)
            elif date_as == "text":
                date = when.strftime("%d/%m/%Y")
            good = 400 + day * 3 + int(shift) * 7
            rows.append([date, shift, machine, f"IM{year}{month:02d}{day:02d}", code, name, good,
                         day % 4, resin])  # fmt: skip
    return rows


def write_reports(database: Path) -> None:
    reports = database / "monthlyReports_history"
    write_workbook(
        reports / "monthlyReports_202401.xlsx",
        {"Data": [REPORT_HEADER, *report_rows(2024, 1, date_as="date")]},
    )
    lower = [name.lower() for name in REPORT_HEADER]  # another clerk, other habits
    write_workbook(
        reports / "monthlyReports_202402.xlsb",
        {"Data": [lower, *report_rows(2024, 2, date_as="serial")]},
    )
    # March: no "Bad Qty" column, a "Remarks" column, dates typed as text
    march = [row[:7] + row[8:] + ["checked"] for row in report_rows(2024, 3, date_as="text")]
    header = [*REPORT_HEADER[:7], REPORT_HEADER[8], "Remarks"]
    write_workbook(reports / "monthlyReports_202403.xlsb", {"Data": [header, *march]})

    orders = database / "purchaseOrders_history"
    po_header = ["PO Received Date", "PO No", "Item Code", "Item Name", "Quantity", "PO ETA"]
    write_workbook(
        orders / "purchaseOrders_202401.xlsx",
        {
            "Orders": [
                po_header,
                [dt.date(2024, 1, 2), "IM20240103", "10236M", "CT-CA-BASE-NL", 5000,
                 dt.date(2024, 1, 20)],
                [dt.date(2024, 1, 5), "IM20240110", "24720326M", "AB-TP-BODY", 3000,
                 dt.date(2024, 1, 25)],
            ]
        },
    )  # fmt: skip
    write_workbook(
        orders / "purchaseOrders_202402.xlsx",
        {
            "Orders": [
                po_header,
                # IM20240110 revised: more pieces, a later ETA (the last file wins)
                [dt.date(2024, 1, 5), "IM20240110", "24720326M", "AB-TP-BODY", 3500,
                 dt.date(2024, 2, 2)],
                [dt.date(2024, 2, 1), "IM20240203", "10236M", "CT-CA-BASE-NL", 4200,
                 dt.date(2024, 2, 18)],
            ]
        },
    )  # fmt: skip

    write_workbook(
        database / "staticDatabase" / "machineInfo.xlsx",
        {
            "Machines": [
                ["machineNo", "machineName", "manufacturerName", "machineTonnage"],
                ["NO.01", "MD50S-000", "Toshiba", 50],
                ["NO.02", "MD100S-001", "Toshiba", 100],
                ["NO.03", "EC180SXII", "Shibaura", 180],
            ]
        },
    )


if __name__ == "__main__":
    write_reports(EXAMPLE / "database")
