"""Where a ready unit runs: the executor seam DESIGN.md names.

The scheduler decides *when* a unit may start; an executor decides *where* it runs and hands
back how it ended through the scheduler's queue. ``InlineExecutor`` runs it on the calling
thread (``max_parallel: 1``, so Ctrl-C lands in the unit); ``ThreadExecutor``
gives each running unit a thread of its own. A distributed engine (workers on other machines) can be
another executor: it needs only to put ``(index, outcome)`` on the queue when the unit ends.
"""

from __future__ import annotations

import contextvars
import queue
import threading
from collections.abc import Callable
from typing import Protocol

from ordo.events import UnitFailed

__all__ = ["Executor", "Finished", "InlineExecutor", "Outcome", "ThreadExecutor", "executor_for"]

Outcome = UnitFailed | BaseException | None  # None: committed
Finished = queue.Queue[tuple[int, Outcome]]


class Executor(Protocol):
    def submit(self, index: int, work: Callable[[], UnitFailed | None], done: Finished) -> None:
        """Run ``work`` (one unit) and put ``(index, outcome)`` on ``done`` when it ends."""
        ...


class InlineExecutor:
    """On the calling thread: ``submit`` returns once the unit has ended.

    Whatever the unit raises (Ctrl-C, a bug) is raised from ``submit`` itself, at once.
    """

    def submit(self, index: int, work: Callable[[], UnitFailed | None], done: Finished) -> None:
        done.put((index, work()))


class ThreadExecutor:
    """A daemon thread per unit; what ended it, an exception included, goes on the queue.

    Daemon: a second Ctrl-C abandons what still runs (documented in ``runner.scheduler``).
    """

    def submit(self, index: int, work: Callable[[], UnitFailed | None], done: Finished) -> None:
        def run() -> None:
            outcome: Outcome
            try:
                outcome = work()
            except BaseException as exc:  # an abort, or a subscriber that must stop the run
                outcome = exc
            done.put((index, outcome))

        # In a copy of the scheduler's context: the run id that routes log records to the
        # run's own log (``subscribers.log.run_context``) holds in the unit's thread too.
        threading.Thread(
            target=contextvars.copy_context().run,
            args=(run,),
            name=f"ordo-unit-{index + 1}",
            daemon=True,
        ).start()


def executor_for(parallelism: int) -> Executor:
    """Inline for one unit at a time, threads for more."""
    return InlineExecutor() if parallelism == 1 else ThreadExecutor()
