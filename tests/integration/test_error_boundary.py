"""The error boundary on real databases: bugs stay bugs, driver errors become ordo errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import URL, Connection, Engine

from ordo.db.dialects import dialect_for
from ordo.db.engines import EngineRegistry
from ordo.db.errors import database_errors
from ordo.errors import ErrorKind, PermanentError, TransientError
from ordo.events import RunStatus, StepFailed
from ordo.masking import Masker
from ordo.runner.result import StepStatus
from tests.support.events import EventRecorder
from tests.support.runs import make, run

MANIFEST = """\
name: boundary
steps:
  - name: only
    sql: SELECT 42 AS broken
"""


def test_a_bug_inside_a_kind_reaches_the_caller_as_itself(
    tmp_path: Path, sqlite_url: URL, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It used to come back as a failed step with a PermanentError's one line (exit 1)."""

    dialect = type(dialect_for("sqlite"))
    real = dialect.execute

    def broken(self: Any, conn: Connection, statement: str, **kwargs: Any) -> Any:
        if statement.strip() == "SELECT 42 AS broken":  # the step's; the state store's run
            raise AttributeError("'NoneType' object has no attribute 'execute'")
        return real(self, conn, statement, **kwargs)

    monkeypatch.setattr(dialect, "execute", broken)
    root = make(tmp_path, sqlite_url, MANIFEST)
    with pytest.raises(AttributeError, match="'NoneType' object has no attribute 'execute'"):
        run(root)


def test_a_real_driver_error_is_a_permanent_failure_of_the_step(
    tmp_path: Path, db_url: URL
) -> None:
    root = make(
        tmp_path,
        db_url,
        """\
        name: boundary
        steps:
          - name: missing
            sql: SELECT * FROM nope
        """,
    )
    recorder = EventRecorder()
    result = run(root, recorder)
    assert result.status is RunStatus.FAILED
    assert result.step("missing").status is StepStatus.FAILED
    (failed,) = [e for e in recorder.events if isinstance(e, StepFailed)]
    assert failed.error_kind is ErrorKind.PERMANENT
    assert not failed.transient
    assert "[SQL:" not in failed.error
    assert "sqlalche.me" not in failed.error


def test_a_driver_error_at_the_boundary_is_permanent(engine: Engine) -> None:
    with (
        engine.connect() as conn,
        pytest.raises(PermanentError) as raised,
        database_errors(masker=Masker()),
    ):
        conn.exec_driver_sql("SELECT * FROM nope")
    assert raised.value.__cause__ is not None
    assert "[SQL:" not in raised.value.message


def test_a_lost_connection_is_transient(postgres_url: URL, registry: EngineRegistry) -> None:
    engine = registry.get(postgres_url)
    with engine.connect() as victim, engine.connect() as killer:
        pid = victim.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        killer.exec_driver_sql(f"SELECT pg_terminate_backend({int(pid)})")
        killer.commit()
        with pytest.raises(TransientError) as raised, database_errors(masker=Masker()):
            victim.exec_driver_sql("SELECT 1")
    assert raised.value.__cause__ is not None
