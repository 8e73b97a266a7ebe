"""What a run returns to its caller: the run's status and each step's outcome.

``as_pipeline_dict`` gives the same result as the DataPipelineOrchestrator's result dictionary
(the orchestrator returns ``{'overall_status', 'collector_result', 'loader_result',
'timestamp'}``; ordo has steps instead of two fixed phases, so the phase results become one
entry per step, in plan order). Everything in it is a plain JSON value, so it can go straight to
``json.dumps``, a REST response or a notifier. Errors are already masked: the runner masks them
before they reach a ``StepResult``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TypedDict

from ordo.events import RunStatus

__all__ = [
    "PipelineResultDict",
    "PipelineStepDict",
    "RunResult",
    "StepResult",
    "StepStatus",
    "to_pipeline_dict",
]


class StepStatus(StrEnum):
    SUCCESS = "success"
    FAILED = "failed"
    ROLLED_BACK = "rolled_back"  # ran, but its group failed later and was rolled back
    # ran, then a DDL statement of its group failed, which may have committed it first
    # (MySQL, MariaDB, Oracle): neither done nor surely undone
    UNCERTAIN = "uncertain"
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

    def as_pipeline_dict(self, *, at: datetime | None = None) -> PipelineResultDict:
        """The DataPipelineOrchestrator's result dictionary: status, each step, a timestamp."""
        return to_pipeline_dict(self, at=at)

    @property
    def failed_step(self) -> StepResult | None:
        return next((s for s in self.steps if s.status is StepStatus.FAILED), None)


class PipelineStepDict(TypedDict):
    name: str
    kind: str
    status: str  # success | failed | rolled_back | uncertain | not_run | skipped
    duration: float
    rows: int | None
    attempts: int
    error: str | None


class PipelineResultDict(TypedDict):
    overall_status: str  # success | partial_success | failed | aborted
    run_id: str
    pipeline: str
    duration: float
    error: str | None
    steps: list[PipelineStepDict]
    timestamp: str  # ISO 8601, with the UTC offset


def _step(result: StepResult) -> PipelineStepDict:
    return PipelineStepDict(
        name=result.name,
        kind=result.kind,
        status=result.status.value,
        duration=result.duration,
        rows=result.rows,
        attempts=result.attempts,
        error=result.error,
    )


def to_pipeline_dict(result: RunResult, *, at: datetime | None = None) -> PipelineResultDict:
    """Render ``result`` as the DataPipelineOrchestrator's result dictionary.

    ``timestamp`` is when the dictionary was made (as the orchestrator stamps its result when
    it returns), in local time with its offset so it is unambiguous; pass
    ``at`` to stamp another moment, such as when the run finished, or to make tests exact.
    A naive ``at`` is taken as local time.
    """
    stamp = at or datetime.now()
    if stamp.tzinfo is None:
        stamp = stamp.astimezone()  # local time, now with its offset
    return PipelineResultDict(
        overall_status=result.status.value,
        run_id=result.run_id,
        pipeline=result.pipeline,
        duration=result.duration,
        error=result.error,
        steps=[_step(step) for step in result.steps],
        timestamp=stamp.isoformat(),
    )
