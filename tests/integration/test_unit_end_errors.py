"""A failure at the end of a unit says what failed: the ledger row, not "could not commit"."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import URL, create_engine, inspect

from ordo.events import RunStatus, StepFailed
from ordo.runner.ledger import Ledger
from ordo.runner.result import StepStatus
from tests.support.events import EventRecorder
from tests.support.runs import DONE, make, manifest_path, run


def test_a_failing_ledger_write_is_named_as_such_and_rolls_the_unit_back(
    tmp_path: Path, sqlite_url: URL
) -> None:
    engine = create_engine(sqlite_url)
    Ledger("any").table.create(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TRIGGER no_rows BEFORE INSERT ON ordo_ledger "
            "BEGIN SELECT RAISE(ABORT, 'no ledger rows today'); END"
        )
    engine.dispose()
    root = make(
        tmp_path,
        sqlite_url,
        """\
        name: ledger
        steps:
          - name: writes
            sql: CREATE TABLE made (x INTEGER)
        """,
    )
    recorder = EventRecorder()
    result = run(root, recorder)

    assert result.status is RunStatus.FAILED
    step = result.step("writes")
    assert step.status is StepStatus.FAILED
    assert step.error is not None
    assert step.error.startswith("could not record the unit in ordo_ledger: ")
    assert "no ledger rows today" in step.error
    assert "could not commit" not in step.error
    (failed,) = [e for e in recorder.events if isinstance(e, StepFailed)]
    assert failed.step == "writes"
    assert not failed.transient
    engine = create_engine(sqlite_url)
    assert not inspect(engine).has_table("made")  # rolled back with the ledger row
    engine.dispose()
    assert not DONE.search(manifest_path(root).read_text(encoding="utf-8"))
