"""An ``output_file`` that cannot be written fails its step, and its unit rolls back.

It used to be written after the commit: a folder where the file should go printed a traceback
with the work already committed, and on DuckDB (every unit writes a ledger row) the next run
found the step in the ledger and marked it done without ever writing the file.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import URL, Engine, create_engine, inspect, text

from ordo.errors import ErrorKind
from ordo.events import RunStatus, StepFailed
from ordo.runner.ledger import DEFAULT_TABLE
from ordo.runner.result import StepStatus
from tests.support.events import EventRecorder
from tests.support.runs import DONE, make, manifest_path, run

MANIFEST = """\
name: output
steps:
  - name: make
    sql: CREATE TABLE made (x INTEGER)
    transaction_group: g
  - name: answer
    sql: SELECT 42 AS answer
    output_file: results/out.csv
    transaction_group: g
"""


@pytest.fixture(params=["sqlite", "duckdb"])
def file_url(request: pytest.FixtureRequest) -> URL:
    url: URL = request.getfixturevalue(f"{request.param}_url")
    return url


def _engine(url: URL) -> Engine:
    return create_engine(url)


def _has_table(url: URL, name: str) -> bool:
    engine = _engine(url)
    try:
        return inspect(engine).has_table(name)
    finally:
        engine.dispose()


def _ledger_rows(url: URL) -> int:
    if not _has_table(url, DEFAULT_TABLE):
        return 0
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(f"SELECT count(*) FROM {DEFAULT_TABLE}")).scalar_one())
    finally:
        engine.dispose()


def test_an_unwritable_output_file_fails_the_step_and_rolls_its_unit_back(
    tmp_path: Path, file_url: URL
) -> None:
    root = make(tmp_path, file_url, MANIFEST)
    (root / "results" / "out.csv").mkdir(parents=True)  # a folder where the file should go

    recorder = EventRecorder()
    result = run(root, recorder)

    assert result.status is RunStatus.FAILED
    assert result.step("answer").status is StepStatus.FAILED
    assert result.step("make").status is StepStatus.ROLLED_BACK
    error = result.step("answer").error or ""
    assert "out.csv" in error
    assert "\n" not in error
    (failed,) = [e for e in recorder.events if isinstance(e, StepFailed)]
    assert failed.step == "answer"
    assert failed.error_kind is ErrorKind.PERMANENT
    assert not _has_table(file_url, "made")  # the unit rolled back
    assert _ledger_rows(file_url) == 0  # nothing recorded: the next run runs it again
    assert not DONE.search(manifest_path(root).read_text(encoding="utf-8"))
    assert list(root.rglob("*ordo-tmp*")) == []

    (root / "results" / "out.csv").rmdir()
    again = run(root)

    assert again.status is RunStatus.SUCCESS
    assert (root / "results" / "out.csv").read_text(encoding="utf-8") == "answer\n42\n"
    assert len(DONE.findall(manifest_path(root).read_text(encoding="utf-8"))) == 2
    assert _has_table(file_url, "made")


def test_the_output_file_is_in_place_once_the_step_is_done(tmp_path: Path, file_url: URL) -> None:
    root = make(tmp_path, file_url, MANIFEST)
    result = run(root)
    assert result.status is RunStatus.SUCCESS
    assert (root / "results" / "out.csv").read_text(encoding="utf-8") == "answer\n42\n"
    assert list(root.rglob("*ordo-tmp*")) == []
