"""Projects on a test database and runs of them through ``ordo.run`` (the library, in process).

Used by the runner's integration tests on every backend (``db_url``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Engine

import ordo
from ordo.runner.result import RunResult
from tests.support.events import EventRecorder
from tests.support.project import make_project

DONE = re.compile(r"enabled: false  # Done: \d{4}-\d{2}-\d{2}")


def backend_of(url: URL) -> str:
    """The fixture id of a URL's backend: sqlite, duckdb, postgresql or mariadb."""
    name = url.get_backend_name()
    return "mariadb" if name == "mysql" else name


def make(
    tmp_path: Path,
    url: URL,
    manifest: str,
    *,
    sql: dict[str, str] | None = None,
    python: dict[str, str] | None = None,
) -> Path:
    """A project whose ``config/.env`` points ``DATABASE_URL`` at ``url``."""
    env = f"DATABASE_URL='{url.render_as_string(hide_password=False)}'\n"
    return make_project(tmp_path / "project", manifest, sql=sql, python=python, env=env)


def run(root: Path, recorder: EventRecorder | None = None, **kwargs: Any) -> RunResult:
    """``ordo.run`` of a project: no real environment, no notices, ``recorder`` subscribed and
    standing in for the retry sleeps."""
    recorder = recorder or EventRecorder()
    return ordo.run(
        project=root,
        environ={},
        options=ordo.RunOptions(
            notify=False, subscribers=[recorder], sleep=recorder.sleep, **kwargs
        ),
    )


def manifest_path(root: Path) -> Path:
    return root / "queue" / "manifest.yaml"


def step_lines(text: str, step: str) -> list[str]:
    """The lines of one step's block in a manifest (from ``- name: step`` to the next item)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == f"- name: {step}")
    end = next(
        (i for i in range(start + 1, len(lines)) if lines[i].lstrip().startswith("- ")),
        len(lines),
    )
    return lines[start:end]


def execute(engine: Engine, *statements: str) -> None:
    """Run statements from a connection of the test's own, and commit."""
    with engine.begin() as conn:
        for statement in statements:
            conn.exec_driver_sql(statement)
    engine.dispose()  # DuckDB: a pooled connection would keep the file locked for others


def query(engine: Engine, statement: str) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        rows = [tuple(row) for row in conn.exec_driver_sql(statement)]
    engine.dispose()
    return rows


def table_exists(engine: Engine, name: str) -> bool:
    from sqlalchemy import inspect

    exists = inspect(engine).has_table(name)
    engine.dispose()
    return exists


def create_t(engine: Engine) -> None:
    """Table ``t`` with rows (0, 0) and (1, 0), committed."""
    execute(
        engine,
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER NOT NULL)",
        "INSERT INTO t (id, v) VALUES (0, 0)",
        "INSERT INTO t (id, v) VALUES (1, 0)",
    )


def run_with(root: Path, recorder: EventRecorder, *also: Any, **kwargs: Any) -> RunResult:
    """``ordo.run`` with ``recorder`` and ``also`` subscribed, and the real sleep between
    retries (the parallel runner's tests time real work)."""
    return ordo.run(
        project=root,
        environ={},
        options=ordo.RunOptions(notify=False, subscribers=[recorder, *also], **kwargs),
    )
