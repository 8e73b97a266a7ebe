"""The manual review report of real runs (``ordo.run`` on SQLite, a real python subprocess).

The unit tests pin the layout with synthetic events; these check that the events a real run
emits make a true report: the right file, the database's own error text with the secret
masked, the counts, and metrics read from this machine.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from pathlib import Path

import pytest

import ordo
from ordo.events import RunStatus
from ordo.runner.result import RunResult
from ordo.subscribers.report import Probes, ReportSubscriber
from tests.support.cli import WITHOUT_ORDO, clean_env
from tests.support.project import make_project

# Shaped like nothing a masker could recognise: only knowing it as DB_PASSWORD can hide it.
SECRET = "Wh1sperQuietly9"
ENV_FILE = f"DATABASE_URL=sqlite:///data/test.db\nDB_PASSWORD={SECRET}\n"
LINUX = sys.platform.startswith("linux")


def clean_environ() -> dict[str, str]:
    return clean_env(drop=WITHOUT_ORDO)


def run_with_report(root: Path) -> tuple[RunResult, ReportSubscriber]:
    environ = clean_environ()
    masker = ordo.plan(project=root, environ=environ).settings.masker()
    report = ReportSubscriber(
        root, "nightly sales", masker=masker, logger=logging.getLogger("ordo")
    )
    result = ordo.run(
        project=root, environ=environ, options=ordo.RunOptions(notify=False, subscribers=[report])
    )
    return result, report


def metric(text: str, label: str) -> str:
    match = re.search(rf"^{re.escape(label)}\s*: (.*)$", text, re.MULTILINE)
    assert match is not None, label
    return match.group(1)


def test_failed_sql_run_writes_the_report(tmp_path: Path) -> None:
    root = make_project(
        tmp_path / "p",
        f"""\
        name: nightly sales
        steps:
          - name: create
            sql: CREATE TABLE t (x INTEGER)
          - name: load
            sql: INSERT INTO {SECRET} VALUES (1)
          - name: never
            sql: INSERT INTO t VALUES (2)
        """,
        env=ENV_FILE,
    )
    result, report = run_with_report(root)

    assert result.status is RunStatus.FAILED
    assert report.path is not None
    assert report.path.parent == root / "notifications"
    assert re.fullmatch(
        rf"manual_review_nightly_sales_\d{{8}}_\d{{6}}_{result.run_id[:8]}\.txt", report.path.name
    )
    text = report.path.read_text(encoding="utf-8")
    assert SECRET not in text
    assert f"Agent ID     : {result.run_id}\n" in text
    assert "Status       : FAILED\n" in text
    assert "  Step           : load\n" in text
    assert "  Data Type      : sql\n" in text
    assert "  Error Type     : permanent\n" in text
    assert "no such table: ***" in text
    assert "    (no rollback declared) → dependents skipped\n" in text
    assert metric(text, "Total Steps") == "3"
    assert metric(text, "Successful") == "1"
    assert metric(text, "Failed") == "1"
    assert metric(text, "Skipped / Not Run") == "1"
    assert metric(text, "Duration (s)") == f"{result.duration:.2f}"
    assert float(metric(text, "Disk Free Space (MB)")) > 0
    # The run's log says where the report went (and, like the report, masks the secret).
    assert result.log_file is not None
    assert f"manual review report written: {report.path}" in result.log_file.read_text()


def test_failed_python_step_reports_its_kind_and_the_machine_metrics(tmp_path: Path) -> None:
    root = make_project(
        tmp_path / "p",
        """\
        name: nightly sales
        steps:
          - name: export
            type: python
            file: export.py
        """,
        python={
            "export.py": """\
                import os, sys
                with open("export.bin", "wb") as out:
                    out.write(b"x" * (2 * 1024 * 1024))
                    out.flush()
                    os.fsync(out.fileno())
                sys.exit("export failed: disk quota")
                """
        },
        env=ENV_FILE,
    )
    result, report = run_with_report(root)

    assert result.status is RunStatus.FAILED
    assert report.path is not None
    text = report.path.read_text(encoding="utf-8")
    assert "  Data Type      : python\n" in text
    assert "export failed: disk quota" in text
    memory = metric(text, "Peak Memory (MB)")
    step_memory = metric(text, "Peak Step Mem (MB)")
    written = metric(text, "Disk Written (MB)")
    if LINUX:
        assert float(memory.split()[0]) > 0
        assert float(step_memory.split()[0]) > 0  # the script's own interpreter
        assert re.fullmatch(r"\d+\.\d \(ordo and its step subprocesses\)", written)
    else:  # pragma: no cover - other systems
        assert written == "n/a"


def test_successful_run_writes_no_report(tmp_path: Path) -> None:
    root = make_project(
        tmp_path / "p",
        """\
        name: nightly sales
        steps:
          - name: create
            sql: CREATE TABLE t (x INTEGER)
        """,
        env=ENV_FILE,
    )
    result, report = run_with_report(root)
    assert result.status is RunStatus.SUCCESS, result.error
    assert report.path is None
    assert not (root / "notifications").exists()


@pytest.mark.skipif(not LINUX, reason="/proc/self/io is Linux only")
def test_default_probes_read_this_machine(tmp_path: Path) -> None:
    probes = Probes()
    own, children = probes.peak_memory_mb()
    assert own is not None
    assert own > 1  # a Python interpreter is more than a megabyte
    assert children is not None
    before = probes.bytes_written()
    assert before is not None
    data = tmp_path / "data.bin"
    with data.open("wb") as out:
        out.write(b"x" * 1024 * 1024)
        out.flush()
        os.fsync(out.fileno())
    after = probes.bytes_written()
    assert after is not None
    assert after >= before
    free = probes.disk_free(tmp_path)
    assert free is not None
    assert free > 0
