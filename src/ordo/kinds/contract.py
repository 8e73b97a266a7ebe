"""The contract every step kind passes: ordo's own, the fake, and a plugin author's.

As with huey's storage tests, one suite, many implementations. Subclass ``KindContract`` in a
pytest module (the class name must start with ``Test``), set ``kind`` and describe one valid
step::

    class TestSeedKind(KindContract):
        kind = SeedKind()

        def step(self) -> dict[str, Any]:
            return {"file": "customers.csv"}

        def write_files(self, project: Path) -> None:
            (project / "scripts" / "seeds" / "customers.csv").write_text("id\\n1\\n")

Each test builds a project in pytest's ``tmp_path`` whose ``default`` connection is a SQLite
file there, so the suite needs no server. It checks that the kind declares its name, label,
extensions and folder; that its options model forbids unknown keys; that ``prepare`` has no
side effects (no file written, no connection opened: opening one would create the database
file); that a missing file is a ``StepProblem`` at the ``file`` key; that ``execute``
returns a ``StepOutcome``, inside a transaction when the kind says it may share one; for a
``Restorable`` kind, that ``restore`` after ``execute`` returns a ``StepOutcome`` too; and for a
``ReadsAhead`` kind, that reading ahead writes nothing and changes neither what ``prepare``
gives nor what ``execute`` does with it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pytest  # a test suite: imported by test modules only, never by ordo itself
from pydantic import ValidationError

from ordo.config import DEFAULT_CONNECTION, Settings
from ordo.db.dialects import dialect_for
from ordo.db.engines import EngineRegistry
from ordo.errors import StepProblem
from ordo.kinds.base import (
    ExecutionContext,
    Kind,
    PrepareContext,
    StepOutcome,
    reader_ahead,
    restorer,
)
from ordo.kinds.templating import Renderer
from ordo.masking import Masker
from ordo.project import Project

__all__ = ["KindContract"]

_DATABASE = "data/contract.db"


class KindContract:
    """The shared tests; a subclass sets ``kind`` and overrides ``step`` (and ``write_files``)."""

    kind: ClassVar[Kind[Any, Any]]

    def step(self) -> dict[str, Any]:
        """The keys of one valid step of this kind, besides ``name`` and ``type``."""
        raise NotImplementedError

    def write_files(self, project: Path) -> None:
        """Write the files ``step`` needs into the project folder (none by default)."""

    def missing_file_step(self) -> dict[str, Any]:
        """A step whose ``file`` does not exist; override if ``file`` is not the key."""
        return {**self.step(), "file": "no-such-file" + (self.kind.extensions or ("",))[0]}

    # -- building blocks -----------------------------------------------------------------

    def project(self, root: Path) -> Project:
        """A project at ``root`` with the kind's folder, its files, and a SQLite connection."""
        for folder in ("config", "queue", "data"):
            (root / folder).mkdir(parents=True, exist_ok=True)
        if self.kind.folder is not None:
            (root / "scripts" / self.kind.folder).mkdir(parents=True, exist_ok=True)
        (root / "config" / ".env").write_text(f"DATABASE_URL=sqlite:///{_DATABASE}\n")
        self.write_files(root)
        return Project(root.resolve())

    def options(self, values: dict[str, Any]) -> Any:
        return self.kind.options_model.model_validate(
            {"name": "contract", "type": self.kind.name, **values}
        )

    def prepare_context(self, project: Project) -> PrepareContext:
        settings = Settings.load(project.root, environ={})
        dialect = None
        if self.kind.uses_connection:
            dialect = dialect_for(settings.connection(DEFAULT_CONNECTION).url.drivername)
        return PrepareContext(
            project=project,
            manifest_dir=project.root / "queue",
            settings=settings,
            params={},
            renderer=Renderer(dialect),
            dialect=dialect,
            connection=DEFAULT_CONNECTION if self.kind.uses_connection else None,
            group=None,
            line=1,
        )

    # -- the contract ----------------------------------------------------------------------

    def test_declares_name_label_extensions_and_folder(self) -> None:
        kind = self.kind
        assert kind.name
        assert kind.name == kind.name.strip()
        assert kind.label
        assert kind.label == kind.label.upper()
        assert isinstance(kind.extensions, tuple)
        for extension in kind.extensions:
            assert extension.startswith("."), extension
            assert extension == extension.lower(), extension
        assert kind.folder is None or (kind.folder and "/" not in kind.folder)
        assert isinstance(kind.uses_connection, bool)
        assert isinstance(kind.transactional(None), bool)

    def test_options_model_forbids_unknown_keys(self) -> None:
        self.options(self.step())  # the valid step is valid
        with pytest.raises(ValidationError) as caught:
            self.options({**self.step(), "no_such_key": 1})
        assert [e["type"] for e in caught.value.errors()] == ["extra_forbidden"]

    def test_prepare_has_no_side_effects(self, tmp_path: Path) -> None:
        project = self.project(tmp_path / "project")
        before = _tree(project.root)
        step = self.kind.prepare(self.options(self.step()), self.prepare_context(project))
        assert step.name == "contract"
        assert step.kind == self.kind.name
        assert _tree(project.root) == before  # nothing written, no database file created
        assert not (project.root / _DATABASE).exists()

    def test_missing_file_is_a_problem_at_the_file_key(self, tmp_path: Path) -> None:
        if self.kind.folder is None:  # reads no file of its own, so it must not take one
            assert "file" not in self.kind.options_model.model_fields
            return
        project = self.project(tmp_path / "project")
        options = self.options(self.missing_file_step())
        with pytest.raises(StepProblem) as caught:
            self.kind.prepare(options, self.prepare_context(project))
        assert caught.value.key == "file"

    def execute(self, step: Any, project: Project, prepare: PrepareContext) -> StepOutcome:
        """``execute`` of a prepared step, in a transaction when the kind may share one."""
        ctx = ExecutionContext(
            run_id="contract",
            project=project,
            settings=prepare.settings,
            masker=Masker(),
            attempt=1,
        )
        if not self.kind.uses_connection or not self.kind.transactional(prepare.dialect):
            return self.kind.execute(step, ctx)
        with EngineRegistry() as engines:
            engine = engines.for_connection(prepare.settings.connection(DEFAULT_CONNECTION))
            with engine.connect() as conn, conn.begin():
                ctx.connection, ctx.dialect = conn, dialect_for(conn)
                return self.kind.execute(step, ctx)

    def test_execute_returns_a_step_outcome(self, tmp_path: Path) -> None:
        project = self.project(tmp_path / "project")
        prepare = self.prepare_context(project)
        step = self.kind.prepare(self.options(self.step()), prepare)
        outcome = self.execute(step, project, prepare)
        assert isinstance(outcome, StepOutcome)
        assert all(isinstance(key, str) for key in outcome.details)

    def test_read_ahead_changes_nothing_but_when_files_are_read(self, tmp_path: Path) -> None:
        reading = reader_ahead(self.kind)
        if reading is None:  # reads nothing big: ordo run starts nothing for it
            return
        project = self.project(tmp_path / "project")
        before = _tree(project.root)
        options = self.options(self.step())
        reading.read_ahead(options, project, project.root / "queue")
        prepare = self.prepare_context(project)
        ahead = self.kind.prepare(options, prepare)
        assert _tree(project.root) == before  # nothing written, no database file created
        assert not (project.root / _DATABASE).exists()
        assert ahead == self.kind.prepare(options, prepare)  # as prepared without it
        outcome = self.execute(ahead, project, prepare)
        again = self.execute(self.kind.prepare(options, prepare), project, prepare)
        assert (outcome.rows, outcome.details.keys()) == (again.rows, again.details.keys())

    def test_restore_after_execute_returns_a_step_outcome(self, tmp_path: Path) -> None:
        restoring = restorer(self.kind)
        if restoring is None:  # not Restorable: a restore rollback on it is refused at plan time
            return
        project = self.project(tmp_path / "project")
        prepare = self.prepare_context(project)
        step = self.kind.prepare(self.options(self.step()), prepare)
        ctx = ExecutionContext(
            run_id="contract",
            project=project,
            settings=prepare.settings,
            masker=Masker(),
            attempt=1,
        )
        if not self.kind.uses_connection:
            self.kind.execute(step, ctx)
        outcome = restoring.restore(step, ctx)
        assert isinstance(outcome, StepOutcome)
        assert all(isinstance(key, str) for key in outcome.details)


def _tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` with its content: what prepare must leave as it found it."""
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }
