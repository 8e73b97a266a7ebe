"""A subscriber that keeps every event of a run, with the time it arrived, for tests to read."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ordo.events import Event, RunFinished, StepStarted, UnitCommitted, UnitStarted


class EventRecorder:
    """Collects the run's events (and when each arrived) and the retry sleeps asked for.

    ``on_sleep`` runs before each recorded sleep; pass ``recorder.sleep`` as ``ordo.run``'s
    ``sleep`` so that retries wait for nothing.
    """

    def __init__(self, on_sleep: Callable[[float], None] | None = None) -> None:
        self.events: list[Event] = []
        self.arrivals: list[float] = []
        self.sleeps: list[float] = []
        self.on_sleep = on_sleep

    def handle(self, event: Event) -> None:
        self.arrivals.append(time.monotonic())
        self.events.append(event)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if self.on_sleep is not None:
            self.on_sleep(seconds)

    def started(self) -> list[str]:
        """The steps that started, in order."""
        return [e.step for e in self.events if isinstance(e, StepStarted)]

    def of(self, kind: type[Any]) -> list[Any]:
        """The events of one type, in order."""
        return [e for e in self.events if isinstance(e, kind)]

    def at(self, kind: type[Any], step: str) -> float:
        """When the first ``kind`` event about ``step`` arrived."""
        for when, event in zip(self.arrivals, self.events, strict=True):
            if isinstance(event, kind) and step in _steps_of(event):
                return when
        raise AssertionError(f"no {kind.__name__} for {step}")

    def span(self, step: str) -> tuple[float, float]:
        """From the unit's start to its commit."""
        return self.at(UnitStarted, step), self.at(UnitCommitted, step)

    def finished(self) -> RunFinished:
        [event] = self.of(RunFinished)
        return event


def _steps_of(event: Event) -> tuple[str, ...]:
    steps = getattr(event, "steps", None)
    return tuple(steps) if steps is not None else (getattr(event, "step", ""),)
