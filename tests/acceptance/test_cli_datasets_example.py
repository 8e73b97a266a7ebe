"""``ordo init --example datasets``: seed 002's layout, and its two collect steps run on it.

The example's manifest also publishes the collected files and rolls a failed collect back
with ``rollback: {type: restore}``; the whole pipeline is run end to end by its own test.
Here the collect steps run on their own, from the example's manifest, as a user would run
them with the reports of the example: every format, header habits and date forms at once.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pyarrow.parquet as pq
import yaml

from tests.support.cli import Runner

COLLECTS = ("collect product records", "collect purchase orders")


def collect_steps_only(root: Path) -> None:
    """The example's manifest with its collect steps only, as they are but for the rollback
    (the restore and what follows it belong to the whole pipeline's test)."""
    manifest = root / "queue" / "manifest.yaml"
    pipeline = yaml.safe_load(manifest.read_text(encoding="utf-8"))
    steps = [s for s in pipeline["steps"] if s["name"] in COLLECTS]
    assert [s["type"] for s in steps] == ["collect", "collect"]
    for step in steps:
        assert step.pop("rollback") == {"type": "restore"}
        assert step.pop("continue_on_rollback") is True
    pipeline["steps"] = steps
    (root / "queue" / "collect.yaml").write_text(yaml.safe_dump(pipeline), encoding="utf-8")


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
    collect_steps_only(root)

    first = ordo_process("run", "--yes", "queue/collect.yaml", cwd=root)

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

    again = ordo_process("run", "--yes", "queue/collect.yaml", cwd=root)

    said = again.stdout + again.stderr
    assert again.returncode == 0, said
    assert said.count("status=unchanged") == 2
    assert [os.stat(records).st_mtime_ns, os.stat(orders).st_mtime_ns] == before
