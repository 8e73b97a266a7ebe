"""What a run returns to its caller: the run's status and each step's outcome."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from ordo.events import RunStatus

if TYPE_CHECKING:
    from ordo.runner.summary import Seed002Result

__all__ = ["RunResult", "StepResult", "StepStatus"]


class StepStatus(StrEnum):
    SUCCESS = "success"
    FAILED = "failed"
    ROLLED_BACK = "rolled_back"  # ran, but its group failed later and was rolled back
    NOT_RUN = "not_run"
    SKIPPED = "skipped"  # will not run in this run: what it depends on failed, or the run stopped


@dataclass
class StepResult:
    name: str
    kind: str
    status: StepStatus = StepStatus.NOT_RUN
    duration: float = 0.0
    rows: int | None = None
    attempts: int = 0
    error: str | None = None
    output_file: Path | None = None


@dataclass
class RunResult:
    run_id: str
    pipeline: str
    status: RunStatus
    steps: list[StepResult] = field(default_factory=list)
    duration: float = 0.0
    error: str | None = None
    log_file: Path | None = None

    @property
    def exit_code(self) -> int:
        """The CLI's exit code for this result (DESIGN.md: 0 success, 1 failed, 3 not confirmed)."""
        return {RunStatus.SUCCESS: 0, RunStatus.ABORTED: 3}.get(self.status, 1)

    def step(self, name: str) -> StepResult:
        for result in self.steps:
            if result.name == name:
                return result
        raise KeyError(name)

    def as_seed002(self, *, at: datetime | None = None) -> Seed002Result:
        """The result as seed 002's dictionary: ``overall_status``, per-step results, timestamp."""
        from ordo.runner.summary import to_seed002_dict  # summary imports this module

        return to_seed002_dict(self, at=at)

    @property
    def failed_step(self) -> StepResult | None:
        return next((s for s in self.steps if s.status is StepStatus.FAILED), None)
