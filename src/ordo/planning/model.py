"""What planning produces: a ``Plan`` of ``Unit``s, ready to print or to run."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from ordo.kinds import get_kind
from ordo.kinds.base import PreparedStep
from ordo.kinds.options import RetryPolicy

if TYPE_CHECKING:
    from ordo.config import Settings
    from ordo.manifest.model import Manifest
    from ordo.project import Project

__all__ = ["Plan", "Unit"]


@dataclass(frozen=True)
class Unit:
    """What the runner schedules and retries: one step, or a whole transaction group."""

    steps: tuple[PreparedStep, ...]
    group: str | None
    connection: str | None
    transactional: bool
    retry: RetryPolicy
    autocommit: bool = False  # a ``transaction: false`` step: on a connection, no transaction
    depends_on: tuple[int, ...] = ()  # indices in ``Plan.units`` of the units it waits for

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(step.name for step in self.steps)


@dataclass(frozen=True)
class Plan:
    manifest: Manifest
    project: Project
    settings: Settings
    units: tuple[Unit, ...]
    disabled: tuple[str, ...] = field(default_factory=tuple)
    unselected: tuple[str, ...] = field(default_factory=tuple)  # left out by select/exclude
    # what each planned step waits for, among the planned steps (``ordo.graph``)
    after: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # the prepared ``rollback:`` of each step that declares one (``ordo.rollback``)
    rollbacks: Mapping[str, PreparedStep] = field(default_factory=dict)
    # --param names that no planned step uses, each with a hint (a did-you-mean)
    unused_params: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    # what fails a step: an error only, or its warnings too (``--fail-on warn``)
    fail_on: Literal["error", "warn"] = "error"

    @property
    def steps(self) -> list[PreparedStep]:
        return [step for unit in self.units for step in unit.steps]

    @property
    def name(self) -> str:
        return self.manifest.name

    def lines(self) -> list[str]:
        """The classic plan lines: ``[1] SQL: Create Table (Group 1) - Cleanup: ST_SALES``.

        A step that waits for something else than the line before it says so:
        ``(after: a, b)``, or ``(independent)`` when it waits for nothing.
        """
        out = []
        previous: tuple[str, ...] = ()
        for number, step in enumerate(self.steps, start=1):
            label = get_kind(step.kind).label + ":"
            line = f"[{number}] {label:<4} {step.name}"
            if step.group is not None:
                line += f" (Group {step.group})"
            after = tuple(self.after.get(step.name, ()))
            if after != previous:
                line += f" (after: {', '.join(after)})" if after else " (independent)"
            previous = (step.name,)
            if step.connection and step.connection != self.manifest.pipeline.connection:
                line += f" [{step.connection}]"
            if step.summary:
                line += f" {step.summary}"
            if step.options.params:
                shown = ", ".join(f"{k}={v}" for k, v in step.options.params.items())
                line += f" - Params: {shown}"
            out.append(line)
        return out
