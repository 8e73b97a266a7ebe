"""``type: collect`` steps run through ``ordo.run``: real workbooks in a project, the Parquet
file put in place only when the step succeeds, details and warnings as users see them, the
plan-time problems, ``restore``, and the review report of a failed collect."""

from __future__ import annotations

import datetime as dt
import logging
import os
import textwrap
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

import ordo
from ordo.datasets.collecting import collect
from ordo.errors import ExecutionError, ManifestInvalid
from ordo.events import StepFailed, StepSucceeded
from ordo.kinds import get_kind
from ordo.kinds.base import ExecutionContext
from ordo.kinds.collect import CollectKind, PreparedCollect
from ordo.kinds.contract import KindContract
from ordo.masking import Masker
from ordo.subscribers.report import ReportSubscriber
from tests.support.events import EventRecorder
from tests.support.project import make_project
from tests.support.runs import run
from tests.support.workbooks import write_workbook

HEADER = ["Record Date", "Working Shift", "itemCode", "qty"]
BASE = """
name: collect
steps:
  - name: collect product records
    type: collect
    sources: [reports/*.xlsb, reports/*.xlsx]
    output: database/productRecords.parquet
    columns: {recordDate: date, workingShift: string, itemCode: string, quantity: int}
"""
STEP = (
    BASE
    + """\
    rename: {Record Date: recordDate, Working Shift: workingShift, qty: quantity}
    dedupe: [recordDate, workingShift, itemCode]
    order_by: [recordDate, itemCode]
"""
)


class TestCollectKind(KindContract):
    kind = get_kind("collect")

    def step(self) -> dict[str, Any]:
        return {
            "sources": "reports/*.xlsx",
            "output": "database/out.parquet",
            "columns": {"a": "int", "b": "string"},
        }

    def write_files(self, project: Path) -> None:
        report = write_workbook(project / "reports" / "r.xlsx", [["a", "b"], [1, "x"]])
        # a good output from an earlier run: execute stages the new one, which the runner
        # (not the contract) puts in place, so restore finds this one intact
        collect([report], project / "database" / "out.parquet", {"a": "int", "b": "string"})


def project(tmp_path: Path, manifest: str = STEP, *extra: str) -> Path:
    root = make_project(tmp_path / "project", manifest + "".join(extra))
    write_workbook(
        root / "reports" / "2024-05.xlsb",
        [HEADER, [45413, "day", "A1", 3], [45413, "night", "A1", 4]],
    )
    write_workbook(
        root / "reports" / "2024-06.xlsx",
        [HEADER, [dt.date(2024, 6, 1), "day", "B2", 5], [dt.date(2024, 5, 1), "day", "A1", 30]],
    )
    return root


def rewrite(root: Path, manifest: str) -> None:
    """A run marks its steps done: the manifest afresh for another run."""
    (root / "queue" / "manifest.yaml").write_text(textwrap.dedent(manifest), encoding="utf-8")


def succeeded(recorder: EventRecorder, step: str) -> StepSucceeded:
    found = [e for e in recorder.of(StepSucceeded) if e.step == step]
    assert found, f"{step} did not succeed"
    event: StepSucceeded = found[-1]
    return event


def test_a_collect_step_writes_the_parquet_and_tells_what_it_read(tmp_path: Path) -> None:
    root = project(tmp_path)
    recorder = EventRecorder()
    result = run(root, recorder)
    assert result.status == "success", [s.error for s in result.steps]
    output = root / "database" / "productRecords.parquet"
    table = pq.read_table(output).to_pylist()
    assert [(r["recordDate"], r["workingShift"], r["itemCode"], r["quantity"]) for r in table] == [
        (dt.date(2024, 5, 1), "night", "A1", 4),
        (dt.date(2024, 5, 1), "day", "A1", 30),  # the later file's row is kept
        (dt.date(2024, 6, 1), "day", "B2", 5),
    ]
    assert {r["source_file"] for r in table} == {"reports/2024-05.xlsb", "reports/2024-06.xlsx"}
    event = succeeded(recorder, "collect product records")
    assert event.rows == 3
    assert event.output_file == output
    details = dict(event.details)
    assert details["status"] == "changed"
    assert details["rows"] == {"reports/2024-05.xlsb": 2, "reports/2024-06.xlsx": 2}
    assert details["duplicates"] == 1
    assert details["output"] == "database/productRecords.parquet"
    assert [p.name for p in output.parent.iterdir()] == ["productRecords.parquet"]


def test_a_second_run_reports_unchanged_and_rewrites_nothing(tmp_path: Path) -> None:
    root = project(tmp_path)
    assert run(root).status == "success"
    output = root / "database" / "productRecords.parquet"
    before = os.stat(output)
    rewrite(root, STEP)
    recorder = EventRecorder()
    assert run(root, recorder).status == "success"
    after = os.stat(output)
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    event = succeeded(recorder, "collect product records")
    assert event.details["status"] == "unchanged"
    assert event.output_file is None
    log = result_log(root)
    assert "database/productRecords.parquet unchanged (3 rows): not rewritten" in log


def result_log(root: Path) -> str:
    """The newest run log's text."""
    logs = sorted((root / "logs").rglob("*.log"), key=lambda p: p.stat().st_mtime_ns)
    return logs[-1].read_text(encoding="utf-8")


def test_a_changed_report_makes_a_new_file_and_keeps_the_previous(tmp_path: Path) -> None:
    root = project(tmp_path)
    assert run(root).status == "success"
    output = root / "database" / "productRecords.parquet"
    first = pq.read_table(output)
    write_workbook(root / "reports" / "2024-07.xlsx", [HEADER, [45474, "day", "C3", 1]])
    rewrite(root, STEP)
    recorder = EventRecorder()
    assert run(root, recorder).status == "success"
    assert succeeded(recorder, "collect product records").details["status"] == "changed"
    assert pq.read_table(output).num_rows == 4
    kept = pq.read_table(output.parent / ".ordo-previous" / output.name)
    assert kept.equals(first)


def test_a_bad_value_fails_the_step_and_leaves_the_old_file(tmp_path: Path) -> None:
    root = project(tmp_path)
    assert run(root).status == "success"
    output = root / "database" / "productRecords.parquet"
    before = output.read_bytes()
    write_workbook(root / "reports" / "2024-07.xlsx", [HEADER, [45474, "day", "C3", "three"]])
    rewrite(root, STEP)
    recorder = EventRecorder()
    result = run(root, recorder)
    assert result.status == "failed"
    step = result.step("collect product records")
    assert step.error is not None
    assert step.error.startswith(
        "reports/2024-07.xlsx, sheet 'Sheet1', row 2, column 'qty': 'three' is not a whole number"
    )
    failed = recorder.of(StepFailed)[0]
    assert failed.details == {
        "file": "reports/2024-07.xlsx",
        "sheet": "Sheet1",
        "row": 2,
        "column": "qty",
    }
    assert output.read_bytes() == before
    assert [p.name for p in output.parent.iterdir()] == ["productRecords.parquet"]


def test_on_bad_file_skip_warns_and_collects_the_rest(tmp_path: Path) -> None:
    manifest = STEP + "    on_bad_file: skip\n"
    root = project(tmp_path, manifest)
    (root / "reports" / "2024-07.xlsx").write_bytes(b"not a workbook")
    recorder = EventRecorder()
    result = run(root, recorder)
    assert result.status == "success", [s.error for s in result.steps]
    event = succeeded(recorder, "collect product records")
    assert list(event.details["skipped"]) == ["reports/2024-07.xlsx"]
    assert len(event.warnings) == 1
    assert event.warnings[0].startswith("reports/2024-07.xlsx skipped: is not a readable .xlsx")
    assert event.rows == 3


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ("    sheet: 0\n", None),
        ("    dedupe: [nope]\n", "dedupe: 'nope' not in columns:"),
        ("    order_by: [itemcode]\n", "order_by: 'itemcode' not in columns:"),
        ("    rename: {x: y}\n", "'y', which is not in columns:"),
    ],
)
def test_options_are_checked_when_the_plan_is_made(
    tmp_path: Path, extra: str, words: str | None
) -> None:
    root = project(tmp_path, BASE, extra)
    if words is None:
        ordo.plan(project=root, environ={})
        return
    with pytest.raises(ManifestInvalid) as caught:
        ordo.plan(project=root, environ={})
    assert words in str(caught.value)


def test_an_unknown_column_type_and_an_empty_glob_stop_the_plan(tmp_path: Path) -> None:
    root = project(tmp_path, STEP.replace("quantity: int}", "quantity: integr}"))
    with pytest.raises(ManifestInvalid) as caught:
        ordo.plan(project=root, environ={})
    assert "column 'quantity': unknown column type 'integr'" in str(caught.value)
    root = project(tmp_path / "other", STEP.replace("reports/*.xlsb", "monthly/*.xlsb"))
    with pytest.raises(ManifestInvalid) as caught:
        ordo.plan(project=root, environ={})
    assert "no file matches 'monthly/*.xlsb'" in str(caught.value)


def test_restore_of_a_collect_step_puts_back_the_last_good_file(tmp_path: Path) -> None:
    root = project(tmp_path)
    assert run(root).status == "success"
    write_workbook(root / "reports" / "2024-07.xlsx", [HEADER, [45474, "day", "C3", 1]])
    rewrite(root, STEP)
    assert run(root).status == "success"
    output = root / "database" / "productRecords.parquet"
    rewrite(root, STEP)
    plan = ordo.plan(project=root, environ={})
    step = plan.steps[0]
    ctx = ExecutionContext(
        run_id="r", project=plan.project, settings=plan.settings, masker=Masker(), attempt=1
    )
    kind = CollectKind()
    assert isinstance(step, PreparedCollect)
    assert "is intact" in kind.restore(step, ctx).details["restore"]
    output.write_bytes(b"garbage")
    done = kind.restore(step, ctx).details["restore"]
    assert "was damaged: put back its previous version" in done
    assert pq.read_table(output).num_rows == 3  # the version before the last run's
    (output.parent / ".ordo-previous" / output.name).unlink()
    output.write_bytes(b"garbage")
    with pytest.raises(ExecutionError, match="no good version"):
        kind.restore(step, ctx)


def test_the_review_report_of_a_failed_collect_names_the_cell(tmp_path: Path) -> None:
    root = project(tmp_path)
    write_workbook(root / "reports" / "2024-07.xlsx", [HEADER, ["someday", "day", "C3", 1]])
    report = ReportSubscriber(root, "collect", masker=Masker(), logger=logging.getLogger("ordo"))
    result = ordo.run(
        project=root, environ={}, options=ordo.RunOptions(notify=False, subscribers=[report])
    )
    assert result.status == "failed"
    assert report.path is not None
    text = report.path.read_text(encoding="utf-8")
    assert "Step           : collect product records" in text
    assert "Data Type      : collect" in text
    assert (
        "reports/2024-07.xlsx, sheet 'Sheet1', row 2, column 'Record Date': 'someday' is not a date"
        in text
    )


def test_absolute_sources_are_read_as_they_are(tmp_path: Path) -> None:
    elsewhere = tmp_path / "shared drive"
    write_workbook(elsewhere / "2024-08.xlsx", [HEADER, [45505, "day", "D4", 2]])
    write_workbook(elsewhere / "~$2024-08.xlsx", [["Excel's lock file"]])
    manifest = STEP.replace("[reports/*.xlsb, reports/*.xlsx]", f"'{elsewhere}/*.xlsx'")
    root = project(tmp_path, manifest)
    recorder = EventRecorder()
    assert run(root, recorder).status == "success"
    event = succeeded(recorder, "collect product records")
    assert event.details["rows"] == {str(elsewhere / "2024-08.xlsx"): 1}
