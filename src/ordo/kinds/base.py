"""The step-kind extension point: what every step type provides.

A kind owns one step ``type``: the model of its options (validated once, at the manifest edge),
``prepare`` (resolve files, render templates; no side effects, so a dry run is safe) and
``execute`` (do the work on the connection the runner hands it). Kinds know nothing about
notifiers, the manifest file or retries: the runner does those.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ordo.errors import StepProblem
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
    "PreparedStep",
    "RetryPolicy",
    "StepOptions",
    "StepOutcome",
]

_TAG = re.compile(r"[\w][\w.-]*")


class RetryPolicy(BaseModel):
    """How a unit is retried after a transient failure: waits ``base * 2**(n-1)``, capped."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_retries: int = Field(3, ge=0, le=100)
    base: float = Field(2.0, ge=0)
    cap: float = Field(60.0, ge=0)

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry number ``retry`` (1-based): 2, 4, 8... by default."""
        return float(min(self.cap, self.base * 2 ** (retry - 1)))


class RollbackOptions(BaseModel):
    """What undoes a step that failed for good (seed 002): SQL inline or in a file, or a script."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["sql", "plsql", "python"] = "sql"
    sql: str | None = None
    file: str | None = None
    timeout: float | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _one_body(self) -> RollbackOptions:
        if self.type == "python" and (self.file is None or self.sql is not None):
            raise ValueError("a python rollback needs 'file' (and no 'sql')")
        if self.type != "python" and (self.file is None) == (self.sql is None):
            raise ValueError("give exactly one of 'file' or 'sql'")
        return self


class StepOptions(BaseModel):
    """The keys every step accepts; a kind's model adds its own."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    type: str
    enabled: bool = True
    connection: str | None = None
    transaction_group: int | str | None = None
    notify: bool = False
    params: dict[str, Any] = Field(default_factory=dict)
    retry: RetryPolicy | None = None
    timeout: float | None = Field(None, gt=0)
    # None: after the step before it in the file (seed 000's order); () : no dependencies
    depends_on: tuple[str, ...] | None = None
    tags: tuple[str, ...] = ()
    rollback: RollbackOptions | None = None
    continue_on_rollback: bool = False  # a successful rollback lets dependent steps run

    @field_validator("depends_on", "tags", mode="before")
    @classmethod
    def _one_name_is_a_list(cls, value: Any) -> Any:
        """``depends_on: load`` means ``[load]``, as a user would expect."""
        return [value] if isinstance(value, str) else value

    @field_validator("tags")
    @classmethod
    def _tag_names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for tag in value:
            if not _TAG.fullmatch(tag):
                raise ValueError(
                    f"tag {tag!r} must be letters, digits, '_', '.' or '-' "
                    "(it is selected as tag:NAME)"
                )
        return tuple(dict.fromkeys(value))


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

    def resolve_file(self, file: str, folder: Path) -> Path:
        """``file`` under the kind's scripts folder, else beside the manifest; absolute as is."""
        path = Path(file)
        candidates = [path] if path.is_absolute() else [folder / path, self.manifest_dir / path]
        for candidate in candidates:
            if candidate.is_file():
                return candidate.resolve()
        tried = ", ".join(str(c) for c in candidates)
        raise StepProblem(f"file '{file}' not found (looked in {tried})", key="file")


@dataclass(frozen=True)
class PreparedStep:
    """A step ready to run: its files read, its templates rendered."""

    name: str
    kind: str
    options: StepOptions
    connection: str | None
    group: str | None
    line: int
    summary: str = ""  # extra words for the plan line, e.g. "- Cleanup: ST_SALES"


@dataclass(frozen=True)
class StepOutcome:
    """What a step did. ``details`` is what a kind knows beyond a row count (rows per file,
    each check's outcome, each model's result): plain JSON values, shown by the console, the
    log, the run store and the review report."""

    rows: int | None = None
    output: TabularResult | None = None
    output_file: Path | None = None
    details: Mapping[str, Any] = field(default_factory=dict)


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
    log_line: Callable[[str], None] = field(default=lambda line: None)
    # A kind whose work runs outside the unit's connection (a subprocess) registers how to
    # stop it; the runner calls it from another thread when the run is aborted (Ctrl-C).
    on_cancel: Callable[[Callable[[], None]], None] = field(default=lambda cancel: None)


class Kind(Protocol):
    """One step type. Implementations are registered in the ``ordo.kinds`` entry-point group."""

    name: ClassVar[str]
    label: ClassVar[str]  # how the plan names it: "SQL", "PY"
    options_model: ClassVar[type[StepOptions]]
    transactional: ClassVar[bool]  # may share a transaction group
    uses_connection: ClassVar[bool]

    def prepare(self, options: StepOptions, ctx: PrepareContext) -> PreparedStep: ...

    def execute(self, step: PreparedStep, ctx: ExecutionContext) -> StepOutcome: ...
