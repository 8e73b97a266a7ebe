"""``ordo init --example datasets``: seed 002's layout; its two collect steps on their own
(every format, header habits and date forms of its reports at once); and seed 002's decision
matrix: a broken report fails its collect step, the restore keeps the last good file,
``continue_on_rollback`` lets publish go on, and the run ends partly successful."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pyarrow.parquet as pq

from tests.support.cli import Runner

SELECT = ("--select", "collect product records", "--select", "collect purchase orders")


def test_the_datasets_example_has_seed_002s_layout(ordo_cli: Runner, tmp_path: Path) -> None:
    root = tmp_path / "datasets"
    made = ordo_cli("init", "--example", "datasets", str(root), cwd=tmp_path)
    assert made.returncode == 0, made.stdout + made.stderr
    database = root / "database"
    assert sorted(p.name for p in (database / "monthlyReports_history").iterdir()) == [
        "monthlyReports_202401.xlsx",
        "monthlyReports_202402.xlsb",
        "monthlyReports_202403.xlsb",
    ]
    assert len(list((database / "purchaseOrders_history").glob("*.xlsx"))) == 2
    assert (database / "staticDatabase" / "machineInfo.xlsx").is_file()
    assert (database / "databaseSchemas.json").is_file()
    assert (root / "config" / ".env").is_file()
    text = (root / "queue" / "manifest.yaml").read_text(encoding="utf-8")
    assert text.count("type: collect") == 2
    assert text.count("type: publish") == 1


def test_the_examples_collect_steps_run_then_find_nothing_changed(
    ordo_process: Runner, tmp_path: Path
) -> None:
    root = tmp_path / "datasets"
    assert ordo_process("init", "--example", "datasets", str(root), cwd=tmp_path).returncode == 0

    first = ordo_process("run", "--yes", *SELECT, cwd=root)

    said = first.stdout + first.stderr
    assert first.returncode == 0, said
    records = root / "database" / "dynamicDatabase" / "productRecords.parquet"
    orders = root / "database" / "dynamicDatabase" / "purchaseOrders.parquet"
    table = pq.read_table(records).to_pylist()
    assert len(table) == 27  # three months of nine rows
    march = [r for r in table if r["recordDate"].month == 3]
    assert march[0]["recordDate"] == dt.date(2024, 3, 3)  # typed as text: 03/03/2024
    assert {r["itemBadQuantity"] for r in march} == {None}  # March has no Bad Qty column
    february = [r for r in table if r["recordDate"].month == 2]
    assert {r["source_file"] for r in february} == {
        "database/monthlyReports_history/monthlyReports_202402.xlsb"
    }
    assert "Remarks" in said  # the column left out is named
    po = {r["poNo"]: r["itemQuantity"] for r in pq.read_table(orders).to_pylist()}
    assert po == {"IM20240103": 5000, "IM20240110": 3500, "IM20240203": 4200}
    assert "duplicates=1" in said
    before = [os.stat(records).st_mtime_ns, os.stat(orders).st_mtime_ns]

    again = ordo_process("run", "--yes", *SELECT, cwd=root)

    said = again.stdout + again.stderr
    assert again.returncode == 0, said
    assert said.count("status=unchanged") == 2
    assert [os.stat(records).st_mtime_ns, os.stat(orders).st_mtime_ns] == before


def test_a_broken_report_is_rolled_back_and_publish_goes_on(
    ordo_process: Runner, tmp_path: Path
) -> None:
    root = tmp_path / "datasets"
    assert ordo_process("init", "--example", "datasets", str(root), cwd=tmp_path).returncode == 0
    first = ordo_process("run", "--yes", cwd=root)
    assert first.returncode == 0, first.stdout + first.stderr
    records = root / "database" / "dynamicDatabase" / "productRecords.parquet"
    good = records.read_bytes()
    reports = root / "database" / "monthlyReports_history"
    (reports / "monthlyReports_202404.xlsx").write_bytes(b"saved half way")

    broken = ordo_process("run", "--yes", cwd=root)

    said = broken.stdout + broken.stderr
    assert broken.returncode == 1, said  # a step failed, though the rollback let publish run
    assert "collect product records failed after" in said
    assert (
        "database/monthlyReports_history/monthlyReports_202404.xlsx: is not a readable "
        ".xlsx workbook" in said
    )
    assert "productRecords.parquet is intact: it is the last good version" in said
    assert "↺ rollback of collect product records succeeded" in said
    assert "✓ publish datasets" in said
    assert "Run partial_success" in said
    assert records.read_bytes() == good
    assert "Traceback" not in said
    assert "calamine" not in said
