"""A run's result as seed 002's dictionary, for callers that expect its shape.

Seed 002's orchestrator returns ``{'overall_status', 'collector_result', 'loader_result',
'timestamp'}``; ordo has steps instead of two fixed phases, so the phase results become one
entry per step, in plan order. Everything in it is a plain JSON value (str, int, float, None),
so it can go straight to ``json.dumps``, a REST response or a notifier. Errors are already
masked: the runner masks them before they reach a ``StepResult``.
"""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict

from ordo.runner.result import RunResult, StepResult

__all__ = ["Seed002Result", "Seed002Step", "to_seed002_dict"]


class Seed002Step(TypedDict):
    name: str
    kind: str
    status: str  # success | failed | rolled_back | not_run
    duration: float
    rows: int | None
    attempts: int
    error: str | None


class Seed002Result(TypedDict):
    overall_status: str  # success | partial_success | failed | aborted
    run_id: str
    pipeline: str
    duration: float
    error: str | None
    steps: list[Seed002Step]
    timestamp: str  # ISO 8601, with the UTC offset


def _step(result: StepResult) -> Seed002Step:
    return Seed002Step(
        name=result.name,
        kind=result.kind,
        status=result.status.value,
        duration=result.duration,
        rows=result.rows,
        attempts=result.attempts,
        error=result.error,
    )


def to_seed002_dict(result: RunResult, *, at: datetime | None = None) -> Seed002Result:
    """Render ``result`` as seed 002's dictionary.

    ``timestamp`` is when the dictionary was made (as in seed 002, whose orchestrator stamps
    its result when it returns), in local time with its offset so it is unambiguous; pass
    ``at`` to stamp another moment, such as when the run finished, or to make tests exact.
    A naive ``at`` is taken as local time.
    """
    stamp = at or datetime.now()
    if stamp.tzinfo is None:
        stamp = stamp.astimezone()  # local time, now with its offset
    return Seed002Result(
        overall_status=result.status.value,
        run_id=result.run_id,
        pipeline=result.pipeline,
        duration=result.duration,
        error=result.error,
        steps=[_step(step) for step in result.steps],
        timestamp=stamp.isoformat(),
    )
