"""The manifest as typed objects: pipeline settings and the steps in file order."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ordo.config import DEFAULT_CONNECTION
from ordo.errors import Problem
from ordo.kinds.options import RetryPolicy, StepOptions

if TYPE_CHECKING:
    from ordo.manifest.locate import StepLocation

__all__ = ["Manifest", "NotifyOptions", "PipelineOptions", "StepEntry"]


class NotifyOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    slow_step_seconds: float = Field(5.0, ge=0)
    report: bool = True  # the manual review report of a failed run, under notifications/


class PipelineOptions(BaseModel):
    """Pipeline-level keys; every one is optional."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str | None = None
    connection: str = DEFAULT_CONNECTION
    params: dict[str, Any] = Field(default_factory=dict)
    retry: RetryPolicy = Field(default_factory=RetryPolicy)
    notify: NotifyOptions = Field(default_factory=NotifyOptions)
    ledger: bool = True  # record committed units in ordo_ledger so a crash never redoes them
    # every transaction group may hold DDL where DDL commits on its own (MySQL, MariaDB,
    # Oracle); a step's own ``allow_implicit_commit`` says it for its group only
    allow_implicit_commit: bool = False
    # how many units may run at once; 1 runs them one after the other, as a folder of scripts runs
    max_parallel: int = Field(1, ge=1, le=256)
    # stop: nothing new starts after a unit fails for good; continue: what does not depend on
    # the failed unit still runs
    on_failure: Literal["stop", "continue"] = "stop"
    # end the console's output with every step, its outcome and its time (a setup workflow's
    # summary block); off by default, as a queue of a thousand steps would not want it
    summary: bool = False
    # false: no step is marked done, so every run runs every enabled step (a setup workflow,
    # a nightly rebuild that starts from a clear). There is then no ledger either: its rows
    # only make sense beside marks, which say a step's work needs no doing again.
    mark_done: bool = True

    @property
    def keeps_ledger(self) -> bool:
        """Whether committed units are recorded in ``ordo_ledger`` (see ``ledger``)."""
        return self.ledger and self.mark_done


@dataclass(frozen=True)
class StepEntry:
    """One step as written: validated options and where it stands in the file (1-based lines)."""

    index: int
    options: StepOptions
    line: int
    key_lines: dict[str, int]
    location: StepLocation

    @property
    def name(self) -> str:
        return self.options.name

    def line_of(self, key: str | None) -> int:
        return self.key_lines.get(key, self.line) if key else self.line


@dataclass(frozen=True)
class Manifest:
    path: Path
    text: str
    pipeline: PipelineOptions
    steps: tuple[StepEntry, ...]
    problems: tuple[Problem, ...] = ()

    @property
    def name(self) -> str:
        return self.pipeline.name or self.path.parent.parent.name or self.path.stem
