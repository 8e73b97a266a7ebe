"""Where ``DatabaseManager`` gets its settings and its engines from.

It reads no environment of its own: ``ORDO_PROJECT`` (set for python steps, so a script's
``DatabaseManager()`` finds the step's project) is read by ``Settings.load`` from the
environment it is given. Engines come from the process-wide registry unless the caller
injects its own, which then owns them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import ordo
from ordo.api.database_manager import DatabaseManager
from ordo.config import Settings
from ordo.db.engines import EngineRegistry
from ordo.errors import ConfigError


def _project(root: Path, table: str) -> Path:
    (root / "config").mkdir(parents=True)
    (root / "config" / ".env").write_text(f"DATABASE_URL=sqlite:///{root / 'app.db'}\n")
    with DatabaseManager(project=root, environ={}) as db:
        db.execute_query(f"CREATE TABLE {table} (x INT)")
    return root


def _tables(db: DatabaseManager) -> list[str]:
    rows = db.execute_query("SELECT name FROM sqlite_master WHERE type = 'table'")
    return [row["name"] for row in rows]


def test_ordo_project_comes_from_the_environment_it_is_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    given = _project(tmp_path / "given", "given_table")
    real = _project(tmp_path / "real", "real_table")
    monkeypatch.setenv("ORDO_PROJECT", str(real))  # the process's own: not read
    monkeypatch.chdir(tmp_path)
    with DatabaseManager(environ={"ORDO_PROJECT": str(given)}) as db:
        assert _tables(db) == ["given_table"]


def test_ordo_project_of_the_real_environment_still_finds_a_python_steps_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    step_project = _project(tmp_path / "step", "step_table")
    monkeypatch.setenv("ORDO_PROJECT", str(step_project))
    monkeypatch.chdir(tmp_path)
    with ordo.DatabaseManager() as db:
        assert _tables(db) == ["step_table"]


def test_an_explicit_project_wins_over_ordo_project(tmp_path: Path) -> None:
    named = _project(tmp_path / "named", "named_table")
    other = _project(tmp_path / "other", "other_table")
    with DatabaseManager(project=named, environ={"ORDO_PROJECT": str(other)}) as db:
        assert _tables(db) == ["named_table"]


def test_settings_load_without_a_root_reads_ordo_project(tmp_path: Path) -> None:
    assert Settings.load(environ={"ORDO_PROJECT": str(tmp_path)}).root == tmp_path.resolve()
    with pytest.raises(ConfigError, match="ORDO_PROJECT"):
        Settings.load(environ={"ORDO_PROJECT": str(tmp_path / "missing")})


def test_an_injected_registry_gives_the_engine_and_keeps_it_after_close(tmp_path: Path) -> None:
    root = _project(tmp_path / "p", "t")
    settings = Settings.load(root, environ={})
    with EngineRegistry() as engines:
        with DatabaseManager(settings=settings, engines=engines) as db:
            engine = db.engine
            assert engine is engines.for_connection(settings.connection())
            db.execute_query("SELECT 1")
        with DatabaseManager(settings=settings) as shared:
            assert shared.engine is not engine  # the process-wide registry is another one
        assert engine.pool.checkedin() == 1  # closing the manager left the pool to its owner
        with DatabaseManager(settings=settings, engines=engines) as again:
            assert again.engine is engine


def test_a_python_steps_database_manager_finds_the_steps_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.support.project import make_project

    root = make_project(
        tmp_path / "p",
        "name: p\nsteps:\n  - name: script\n    file: write.py\n",
        python={
            "write.py": """\
                from ordo import DatabaseManager

                with DatabaseManager() as db:
                    db.execute_query("CREATE TABLE from_step (x INT)")
            """
        },
    )
    monkeypatch.chdir(tmp_path)  # the step runs in the project folder; this process does not
    assert (
        ordo.run(project=root, environ={}, options=ordo.RunOptions(notify=False)).status
        == "success"
    )
    with DatabaseManager(project=root, environ={}) as db:
        assert "from_step" in _tables(db)
