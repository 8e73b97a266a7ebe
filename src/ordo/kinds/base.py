"""The step-kind extension point: what every step type provides.

A kind owns one step ``type``: the model of its options (validated once, at the manifest edge,
see ``kinds.options``), the file extensions and the ``scripts/`` folder its files live in,
whether it may share a transaction on a given database, ``prepare`` (resolve files, render
templates; no side effects, so a dry run is safe) and ``execute`` (do the work on the connection
the runner hands it). Kinds know nothing about notifiers, the manifest file or retries: the
runner does those.

``Kind`` is generic in its options and prepared types, so an implementation states once what it
takes and gives, and never narrows with ``isinstance``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, TypedDict

from typing_extensions import TypeVar

from ordo._files import StagedFile
from ordo.errors import StepProblem
from ordo.kinds.options import StepOptions
from ordo.tabular import TabularResult

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from ordo.config import Settings
    from ordo.db.dialects import Dialect
    from ordo.kinds.templating import Renderer
    from ordo.masking import Masker
    from ordo.project import Project

__all__ = [
    "ExecutionContext",
    "Kind",
    "PrepareContext",
    "PreparedRestore",
    "PreparedStep",
    "ReadsAhead",
    "Restorable",
    "StepFields",
    "StepOutcome",
    "reader_ahead",
    "restorer",
]

# A prepared step's options type; covariant (the dataclass is frozen) and defaulting to
# StepOptions, so the runner can hold any kind's steps as plain ``PreparedStep``.
OptionsT_co = TypeVar("OptionsT_co", bound=StepOptions, default=StepOptions, covariant=True)
OptionsT = TypeVar("OptionsT", bound=StepOptions)
PreparedT = TypeVar("PreparedT", bound="PreparedStep[Any]")
PreparedT_contra = TypeVar("PreparedT_contra", bound="PreparedStep[Any]", contravariant=True)
OptionsT_contra = TypeVar("OptionsT_contra", bound=StepOptions, contravariant=True)


class StepFields(TypedDict, Generic[OptionsT]):
    """The six fields every prepared step carries: ``Prepared(**ctx.fields(...), ...)``."""

    name: str
    kind: str
    options: OptionsT
    connection: str | None
    group: str | None
    line: int


@dataclass(frozen=True)
class PrepareContext:
    """What ``prepare`` may look at: files and settings, never a database."""

    project: Project
    manifest_dir: Path
    settings: Settings
    params: Mapping[str, Any]
    renderer: Renderer
    dialect: Dialect | None
    connection: str | None
    group: str | None
    line: int

    def fields(self, kind: str, options: OptionsT) -> StepFields[OptionsT]:
        """The fields a prepared step shares with every other, from the step and this context."""
        return StepFields(
            name=options.name,
            kind=kind,
            options=options,
            connection=self.connection,
            group=self.group,
            line=self.line,
        )

    def require_connection(self) -> str:
        """The step's connection name, for a kind that declared ``uses_connection``."""
        if self.connection is None:  # the planner resolves one for every such kind
            raise RuntimeError("a kind that uses a connection was prepared without one")
        return self.connection

    def resolve_file(self, file: str, folder: str | None) -> Path:
        """``file`` under ``scripts/<folder>``, else beside the manifest; absolute as is."""
        path = Path(file)
        if path.is_absolute():
            candidates = [path]
        else:
            base = [self.project.scripts_dir / folder] if folder is not None else []
            candidates = [b / path for b in base] + [self.manifest_dir / path]
        for candidate in candidates:
            if candidate.is_file():
                return candidate.resolve()
        tried = ", ".join(str(c) for c in candidates)
        raise StepProblem(f"file '{file}' not found (looked in {tried})", key="file")


@dataclass(frozen=True, kw_only=True)
class PreparedStep(Generic[OptionsT_co]):
    """A step ready to run: its files read, its templates rendered."""

    name: str
    kind: str
    options: OptionsT_co
    connection: str | None
    group: str | None
    line: int
    summary: str = ""  # extra words for the plan line, e.g. "- Cleanup: ST_SALES"
    # runs outside any transaction, each statement committed on its own (``transaction: false``)
    autocommit: bool = False
    # what in the step commits the open transaction on its own (DDL on MySQL, MariaDB,
    # Oracle), each as a short text for messages: a group that holds one cannot roll back
    implicit_commits: tuple[str, ...] = ()
    # the tables the step fills, as written (``schema.table``): ``ordo status`` counts their rows
    writes: tuple[str, ...] = ()


@dataclass(frozen=True)
class StepOutcome:
    """What a step did. ``details`` is what a kind knows beyond a row count (rows per file,
    each check's outcome, each model's result): plain JSON values, shown by the console, the
    log, the run store and the review report. An output file comes either as ``output``
    (rows in memory, written by the runner) or already ``staged`` (streamed by the kind to a
    temp file beside ``output_file``); either way the runner puts it in place after the
    commit."""

    rows: int | None = None
    output: TabularResult | None = None
    output_file: Path | None = None
    staged: StagedFile | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    # What the step found worth a person's attention without failing (a check at severity
    # warn): shown, logged, recorded and sent as a notice; ``--fail-on warn`` fails the step.
    warnings: tuple[str, ...] = ()


@dataclass
class ExecutionContext:
    """What ``execute`` gets: a connection inside the unit's transaction, and ways to report."""

    run_id: str
    project: Project
    settings: Settings
    masker: Masker
    attempt: int
    connection: Connection | None = None
    dialect: Dialect | None = None
    # What the step says: a line, or a block of lines joined by "\n" (a process's output).
    log_line: Callable[[str], None] = field(default=lambda line: None)
    # A message the database sent (``RAISE NOTICE``): in the log, on the console with -v.
    log_notice: Callable[[str], None] = field(default=lambda line: None)
    # A kind whose work runs outside the unit's connection (a subprocess) registers how to
    # stop it; the runner calls it from another thread when the run is aborted (Ctrl-C).
    on_cancel: Callable[[Callable[[], None]], None] = field(default=lambda cancel: None)

    def database(self) -> tuple[Connection, Dialect]:
        """The unit's connection and its dialect, for a kind that runs in the transaction."""
        if self.connection is None or self.dialect is None:  # a runner bug, not a user's
            raise RuntimeError("a transactional step was executed without a connection")
        return self.connection, self.dialect


class Kind(Protocol[OptionsT, PreparedT]):
    """One step type. Implementations are registered in the ``ordo.kinds`` entry-point group.

    ``extensions`` (lower case, with the dot) say which ``file:`` a step without ``type:``
    belongs to; ``folder`` is where its files live under ``scripts/`` (``None``: it reads none).
    """

    name: ClassVar[str]
    label: ClassVar[str]  # how the plan names it: "SQL", "PY"
    extensions: ClassVar[tuple[str, ...]]
    folder: ClassVar[str | None]
    uses_connection: ClassVar[bool]

    @property
    def options_model(self) -> type[OptionsT]: ...

    def transactional(self, dialect: Dialect | None) -> bool:
        """Whether its steps may share the unit's transaction (a group) on ``dialect``."""
        ...

    def prepare(self, options: OptionsT, ctx: PrepareContext) -> PreparedT: ...

    def execute(self, step: PreparedT, ctx: ExecutionContext) -> StepOutcome: ...


class Restorable(Protocol[PreparedT_contra]):
    """A kind whose steps write files it keeps earlier versions of (``collect``, ``publish``):
    ``rollback: {type: restore}`` on such a step calls ``restore`` after the step failed for
    good, to put back the last good version of everything the step writes. It returns what
    it put back in ``details``; it raises ``ExecutionError`` when nothing good is left."""

    def restore(self, step: PreparedT_contra, ctx: ExecutionContext) -> StepOutcome: ...


class ReadsAhead(Protocol[OptionsT_contra]):
    """A kind whose steps read big input files (``seed``, ``collect``): ``read_ahead`` starts
    reading them in the background (``ordo._read_ahead``) as soon as the manifest is read, while
    ``ordo run`` is still starting up, and ``prepare`` or ``execute`` takes what it read. It
    raises nothing the run would not raise anyway: a file it cannot find is simply not read
    ahead, and the step says what is wrong when it gets there.

    A kind whose ``execute`` (not ``prepare``) takes the reading sets ``read_for_plan =
    False``: a dry run, which only plans, then does not read its files for nothing."""

    def read_ahead(
        self, options: OptionsT_contra, project: Project, manifest_dir: Path
    ) -> None: ...


def reader_ahead(kind: object, *, plan_only: bool = False) -> ReadsAhead[Any] | None:
    """``kind`` as a ``ReadsAhead`` when it has ``read_ahead`` (and, for a run that only
    plans, when its plan takes what it reads); None otherwise."""
    read_ahead = getattr(kind, "read_ahead", None)
    if plan_only and not getattr(kind, "read_for_plan", True):
        return None
    return kind if callable(read_ahead) else None  # type: ignore[return-value]


@dataclass(frozen=True, kw_only=True)
class PreparedRestore(PreparedStep[StepOptions]):
    """A ``rollback: {type: restore}``, prepared: ``step`` is the step it restores, as
    prepared; the runner hands it to that step's kind's ``restore``."""

    step: PreparedStep


def restorer(kind: object) -> Restorable[Any] | None:
    """``kind`` as a ``Restorable`` when it has ``restore``; None otherwise."""
    restore = getattr(kind, "restore", None)
    return kind if callable(restore) else None  # type: ignore[return-value]
