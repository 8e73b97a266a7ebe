"""A step's details as the console and the review report show them: one line, cut when long."""

from __future__ import annotations

import io

from rich.console import Console

from ordo.events import StepSucceeded
from ordo.masking import Masker
from ordo.subscribers._details import details_line
from ordo.subscribers.console import ConsoleReporter


def test_scalars_as_they_are_nested_values_as_compact_json() -> None:
    line = details_line({"files": 2, "status": "ok", "rows": {"a.csv": 10}, "skipped": []})
    assert line == 'files=2 status=ok rows={"a.csv":10} skipped=[]'


def test_a_long_line_is_cut_with_an_ellipsis() -> None:
    line = details_line({"models": ["m" * 20] * 20}, limit=50)
    assert len(line) == 50
    assert line.endswith("…")


def test_the_console_prints_details_under_the_step_line_masked() -> None:
    out = io.StringIO()
    reporter = ConsoleReporter(Console(file=out, width=200), Masker(["s3cret"]))
    reporter.handle(
        StepSucceeded(
            "run", "load", "seed", 1, 0.25, 5, False, details={"file": "x.csv", "key": "s3cret"}
        )
    )
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("✓ load in 0.25s, 5 rows")
    assert lines[1] == "  file=x.csv key=***"


def test_no_details_no_extra_line() -> None:
    out = io.StringIO()
    ConsoleReporter(Console(file=out, width=200)).handle(
        StepSucceeded("run", "load", "sql", 1, 0.25, 5, False)
    )
    assert len(out.getvalue().splitlines()) == 1


def test_a_publishs_datasets_read_as_name_and_status() -> None:
    details = {
        "total": 2,
        "failed": 1,
        "datasets": [
            {"dataset": "productRecords", "status": "failed", "reason": "column 'qty' is text"},
            {"dataset": "machineInfo", "status": "unchanged", "version": "machineInfo_1"},
        ],
    }
    assert details_line(details) == (
        "total=2 failed=1 datasets=productRecords:failed,machineInfo:unchanged"
    )
